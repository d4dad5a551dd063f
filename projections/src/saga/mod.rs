//! Cross-tenant sagas (SPEC §7): the `sagas` projection records in the saga outbox the steps
//! that events imply for other tenants ([`engine::domain::saga`]), and every node's
//! [`SagaDispatcher`] executes the steps whose target tenant it serves.
//!
//! ```text
//!  tenant P's event ──tail──▶ `sagas` projection ──(same tx as its checkpoint)──▶ saga_steps
//!                                                                                    │
//!  node serving tenant T ◀── SagaDispatcher: cause re-read, step rebuilt, executed ──┘
//! ```
//! A step is recorded exactly once (the projection's rows commit with its checkpoint; a
//! recorded request id is never recorded again, so a rebuild re-records nothing) and executed
//! at least once, with the request id `saga/<cause position>/<step>` — a retry is answered
//! from the target's idempotency window, and the domain refuses a step whose effect is already
//! there (which [`on_refused`](engine::domain::saga::on_refused) counts as done). A row holds
//! no command, only its cause: the dispatcher re-reads the causing event (its personal values
//! opened with the node's vault) and derives the step again, so the outbox never holds
//! personal data. Only compensations, which carry none, store their command.

mod dispatcher;
mod outbox;

pub use dispatcher::{DispatcherConfig, SagaDispatcher};
pub use outbox::{OutboxStatus, SagaStepRow, all_steps, outbox_status, pending_steps};

use async_trait::async_trait;
use engine::domain::{StreamKind, saga};

use crate::{Envelope, Projection, Result, store::Tx};

/// Name of the saga projection (and of its checkpoint).
pub const SAGAS: &str = "sagas";

/// Records the steps of every cross-tenant saga in the outbox.
#[derive(Clone, Copy, Debug, Default)]
pub struct SagasProjection;

#[async_trait]
impl Projection for SagasProjection {
    fn name(&self) -> &str {
        SAGAS
    }

    fn wants(&self, kind: StreamKind) -> bool {
        kind == StreamKind::Client
    }

    async fn apply(&self, tx: &mut Tx<'_>, events: &[Envelope]) -> Result<()> {
        let mut rows = Vec::new();
        for envelope in events {
            let r = &envelope.recorded;
            for (index, step) in saga::steps_for(r.tenant_id, &envelope.event)
                .into_iter()
                .enumerate()
            {
                rows.push(outbox::NewStep::caused_by(r, index, step.target));
            }
        }
        outbox::record(tx, rows).await
    }

    /// Keeps the outbox: its rows are the sagas' memory of what was already sent, so a
    /// rebuild re-reads every event and records nothing twice.
    async fn reset(&self, _tx: &mut Tx<'_>) -> Result<()> {
        Ok(())
    }
}
