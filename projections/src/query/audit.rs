//! The audit trail (SPEC §4, §5.3): the journal itself, newest first, per entity, per actor
//! or per tenant, within an optional time range.

use chrono::DateTime;
use engine::{
    domain::TenantId,
    journal::{CommitToken, RecordedEvent},
};

use super::statements;
use super::{
    Page, PageRequest, ReadModels,
    page::{Cursor, fingerprint},
    params::{AuditParams, AuditScope},
    types::{AuditFilter, AuditSelection},
};
use crate::{Error, Result, names, runner::ORIGIN};

impl ReadModels {
    /// A page of a tenant's audit trail, newest first (by `recorded_at`, then position).
    ///
    /// The events come from the journal. A tenant's or an actor's are found through the
    /// `audit` read model up to its checkpoint, read first, and among the journal's events
    /// past that checkpoint (see `sql/audit_trail.sql`); an entity's through its stream.
    /// Either way an acknowledged write is listed at once, so a consistency token is satisfied
    /// already (it is accepted for uniformity).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an empty actor or `from` after `to`;
    /// [`Error::InvalidPageToken`]; [`Error::Unavailable`] when the store is down.
    pub async fn audit_trail(
        &self,
        tenant_id: TenantId,
        filter: &AuditFilter,
        page: &PageRequest,
        _consistency: Option<CommitToken>,
    ) -> Result<Page<RecordedEvent>> {
        if let (Some(from), Some(to)) = (filter.from, filter.to)
            && from > to
        {
            return Err(Error::InvalidArgument("`from` is after `to`".into()));
        }
        let scope = match &filter.selection {
            AuditSelection::Tenant => AuditScope::Tenant,
            AuditSelection::Entity(stream) => AuditScope::Stream(stream.id),
            AuditSelection::Actor(subject) if subject.trim().is_empty() => {
                return Err(Error::InvalidArgument("the actor subject is empty".into()));
            }
            AuditSelection::Actor(subject) => AuditScope::Actor(subject.clone()),
        };
        let cursor = Cursor::new(page, fingerprint("audit", &(tenant_id, filter)), 2)?;
        let after = match (cursor.key(0), cursor.key(1)) {
            (Some(micros), Some(position)) => {
                let bad = || Error::InvalidPageToken("malformed token".into());
                let micros: i64 = micros.parse().map_err(|_| bad())?;
                let position: i64 = position.parse().map_err(|_| bad())?;
                Some((
                    DateTime::from_timestamp_micros(micros).ok_or_else(bad)?,
                    position,
                ))
            }
            _ => None,
        };
        let applied_up_to = match &scope {
            AuditScope::Stream(_) => ORIGIN,
            _ => self.store.checkpoint(names::AUDIT).await?.unwrap_or(ORIGIN),
        };
        let params = AuditParams {
            tenant_id: tenant_id.0,
            scope,
            from: filter.from,
            to: filter.to,
            after,
            limit: cursor.limit(),
            applied_up_to,
        };
        let rows = statements::audit_trail(&self.store, &params).await?;
        Ok(cursor.page(rows, |e| {
            vec![
                e.recorded_at.timestamp_micros().to_string(),
                e.position.to_string(),
            ]
        }))
    }
}
