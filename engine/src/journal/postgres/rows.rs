//! Decoding and validating rows read from PostgreSQL. Anything unexpected is
//! [`JournalError::Corrupt`], never a panic.

use chrono::{DateTime, Utc};
use sqlx::{Row, postgres::PgRow};
use uuid::Uuid;

use crate::{
    domain::{StreamId, TenantId},
    journal::{
        DueTimer, JournalError, MasterKeyRecord, RecordedEvent, Result, Snapshot, StoredKey,
        UniqueClaim, store_support as s,
    },
};

/// One column, or a [`JournalError::Corrupt`] naming it.
fn get<'r, T>(row: &'r PgRow, table: &str, column: &str) -> Result<T>
where
    T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    row.try_get(column)
        .map_err(|e| JournalError::Corrupt(format!("cannot read {table}.{column}: {e}")))
}

/// An `events` row as selected by the read queries.
pub(super) fn event(row: &PgRow) -> Result<RecordedEvent> {
    let position = s::position(get(row, "events", "global_position")?)?;
    let stream_type: String = get(row, "events", "stream_type")?;
    let stream_id: Uuid = get(row, "events", "stream_id")?;
    Ok(RecordedEvent {
        position,
        transaction_id: s::transaction_id(get(row, "events", "transaction_id")?)?,
        tenant_id: TenantId(get(row, "events", "tenant_id")?),
        stream: StreamId::new(s::stream_kind(&stream_type, position)?, stream_id),
        sequence: s::sequence(get(row, "events", "sequence")?, position)?,
        event_type: get(row, "events", "event_type")?,
        schema_version: get(row, "events", "schema_version")?,
        payload: get(row, "events", "payload")?,
        metadata: s::decode_metadata(get(row, "events", "metadata")?, position)?,
        recorded_at: get(row, "events", "recorded_at")?,
    })
}

/// A `unique_keys` row.
pub(super) fn claim(row: &PgRow) -> Result<UniqueClaim> {
    Ok(UniqueClaim {
        namespace: get(row, "unique_keys", "namespace")?,
        key: get(row, "unique_keys", "key")?,
        owner: get(row, "unique_keys", "owner_id")?,
        request_id: get(row, "unique_keys", "request_id")?,
    })
}

/// A `snapshots` row.
pub(super) fn snapshot(row: &PgRow) -> Result<Snapshot> {
    Ok(Snapshot {
        aggregate_id: get(row, "snapshots", "aggregate_id")?,
        aggregate_kind: get(row, "snapshots", "aggregate_kind")?,
        schema_version: get(row, "snapshots", "schema_version")?,
        last_position: s::snapshot_position(get(row, "snapshots", "last_position")?)?,
        state: get(row, "snapshots", "state")?,
        taken_at: get(row, "snapshots", "taken_at")?,
    })
}

/// A `timers` row.
pub(super) fn timer(row: &PgRow) -> Result<DueTimer> {
    let due_at: DateTime<Utc> = get(row, "timers", "due_at")?;
    Ok(DueTimer {
        tenant_id: TenantId(get(row, "timers", "tenant_id")?),
        kind: get(row, "timers", "kind")?,
        due_at,
    })
}

/// A `personal_keys` row (validated: see [`s::stored_key`]).
pub(super) fn key(row: &PgRow) -> Result<StoredKey> {
    const TABLE: &str = "personal_keys";
    s::stored_key(s::KeyRow {
        tenant_id: get(row, TABLE, "tenant_id")?,
        subject_id: get(row, TABLE, "subject_id")?,
        purpose: get(row, TABLE, "purpose")?,
        version: i64::from(get::<i32>(row, TABLE, "version")?),
        wrapped: get(row, TABLE, "wrapped")?,
        master_key_id: get(row, TABLE, "master_key_id")?,
        created_at: get(row, TABLE, "created_at")?,
        shredded_at: get(row, TABLE, "shredded_at")?,
    })
}

/// A `master_keys` row.
pub(super) fn master_key(row: &PgRow) -> Result<MasterKeyRecord> {
    s::master_key(MasterKeyRecord {
        id: get(row, "master_keys", "id")?,
        registered_at: get(row, "master_keys", "registered_at")?,
        retired_at: get(row, "master_keys", "retired_at")?,
    })
}
