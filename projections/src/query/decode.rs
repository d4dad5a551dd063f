//! Backend-neutral parts of decoding query rows.

use chrono::{DateTime, Utc};
use engine::{
    domain::{OrganizationId, Scope, StreamId, StreamKind, TeamId, TenantId},
    journal::{EventMetadata, RecordedEvent},
};
use uuid::Uuid;

use crate::{Error, Result};

/// The ids of a stored organization path.
pub(crate) fn organization_path(path: &str) -> Result<Vec<OrganizationId>> {
    path.split('/')
        .map(|part| {
            Uuid::parse_str(part)
                .map(OrganizationId)
                .map_err(|_| Error::Corrupt(format!("organization path {path:?} is malformed")))
        })
        .collect()
}

/// A scope from its stored `(scope_kind, scope_id)`.
pub(crate) fn scope(kind: &str, id: Uuid) -> Result<Scope> {
    match kind {
        "tenant" => Ok(Scope::Tenant),
        "organization" => Ok(Scope::Organization(OrganizationId(id))),
        "team" => Ok(Scope::Team(TeamId(id))),
        other => Err(Error::Corrupt(format!("unknown scope kind {other:?}"))),
    }
}

/// The columns of an `events` row.
pub(crate) struct EventColumns {
    pub position: i64,
    pub transaction_id: i64,
    pub tenant_id: Uuid,
    pub stream_type: String,
    pub stream_id: Uuid,
    pub sequence: i64,
    pub event_type: String,
    pub schema_version: i32,
    pub payload: serde_json::Value,
    pub metadata: serde_json::Value,
    pub recorded_at: DateTime<Utc>,
}

/// An event of the journal, validated.
pub(crate) fn event(c: EventColumns) -> Result<RecordedEvent> {
    let kind = StreamKind::parse(&c.stream_type).ok_or_else(|| {
        Error::Corrupt(format!(
            "event {} has unknown stream type {:?}",
            c.position, c.stream_type
        ))
    })?;
    let metadata: EventMetadata = serde_json::from_value(c.metadata)
        .map_err(|e| Error::Corrupt(format!("metadata of event {} is invalid: {e}", c.position)))?;
    Ok(RecordedEvent {
        position: c.position,
        transaction_id: u64::try_from(c.transaction_id).map_err(|_| {
            Error::Corrupt(format!(
                "event {} has a negative transaction id",
                c.position
            ))
        })?,
        tenant_id: TenantId(c.tenant_id),
        stream: StreamId::new(kind, c.stream_id),
        sequence: c.sequence,
        event_type: c.event_type,
        schema_version: c.schema_version,
        payload: c.payload,
        metadata,
        recorded_at: c.recorded_at,
    })
}
