//! Projection `audit`: the audit trail's two orderings, per tenant and per tenant and actor,
//! newest first (SPEC §4, §5.3). One row per event of the journal, any stream: its tenant,
//! the subject who caused it, its time and position; the event itself stays in the journal.
//!
//! The orderings used to be indexes on `events`, which every append paid for inside the
//! journal's flushed commit (BENCHMARKS.md, "The audit indexes"). Here they are written with
//! the other read models, after the commit, in the shared batch. The trail is not made less
//! complete by that: [`crate::ReadModels::audit_trail`] reads these rows up to this
//! projection's checkpoint and the journal's events past it, so an acknowledged event is listed
//! whether or not it was applied here yet.
//!
//! **Cost per batch**: one `INSERT` of one row per event (split past 30,000 values).

use async_trait::async_trait;
use engine::domain::StreamKind;

use super::names;
use crate::{
    Envelope, Projection, Result,
    sql::{Statement, insert_rows},
    store::Tx,
};

const ENTRIES_INSERT: &str =
    "audit_entries (tenant_id, actor_subject, recorded_at, global_position)";

/// Keeps `audit_entries` (every event).
#[derive(Clone, Copy, Debug, Default)]
pub struct AuditProjection;

#[async_trait]
impl Projection for AuditProjection {
    fn name(&self) -> &str {
        names::AUDIT
    }

    fn wants(&self, _kind: StreamKind) -> bool {
        true
    }

    async fn apply(&self, tx: &mut Tx<'_>, events: &[Envelope]) -> Result<()> {
        let rows = events
            .iter()
            .map(|e| {
                let event = &e.recorded;
                vec![
                    event.tenant_id.0.into(),
                    event.metadata.actor.subject.as_str().into(),
                    event.recorded_at.into(),
                    event.position.into(),
                ]
            })
            .collect();
        tx.run_all(&insert_rows(ENTRIES_INSERT, "", rows)).await?;
        Ok(())
    }

    async fn reset(&self, tx: &mut Tx<'_>) -> Result<()> {
        tx.run(&Statement::new("DELETE FROM audit_entries", vec![]))
            .await?;
        Ok(())
    }
}
