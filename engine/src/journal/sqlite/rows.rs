//! Decoding and validating rows read from SQLite. Anything unexpected is
//! [`JournalError::Corrupt`], never a panic.

use chrono::{DateTime, Utc};
use sqlx::{Row, sqlite::SqliteRow};
use uuid::{Uuid, fmt::Hyphenated};

use crate::{
    domain::{StreamId, TenantId},
    journal::{
        DueTimer, JournalError, MasterKeyRecord, RecordedEvent, Result, Snapshot, StoredKey,
        UniqueClaim, store_support as s,
    },
};

/// A timestamp as stored: microseconds since the Unix epoch.
pub(super) fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

/// One column, or a [`JournalError::Corrupt`] naming it.
fn get<'r, T>(row: &'r SqliteRow, table: &str, column: &str) -> Result<T>
where
    T: sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
{
    row.try_get(column)
        .map_err(|e| JournalError::Corrupt(format!("cannot read {table}.{column}: {e}")))
}

/// A UUID column (hyphenated text).
fn uuid(row: &SqliteRow, table: &str, column: &str) -> Result<Uuid> {
    get::<Hyphenated>(row, table, column).map(Hyphenated::into_uuid)
}

/// A timestamp column (integer microseconds).
fn timestamp(row: &SqliteRow, table: &str, column: &str) -> Result<DateTime<Utc>> {
    let stored: i64 = get(row, table, column)?;
    DateTime::from_timestamp_micros(stored)
        .ok_or_else(|| s::corrupt(format!("{table}.{column} is out of range: {stored}")))
}

/// A nullable timestamp column (integer microseconds or NULL).
fn optional_timestamp(row: &SqliteRow, table: &str, column: &str) -> Result<Option<DateTime<Utc>>> {
    get::<Option<i64>>(row, table, column)?
        .map(|stored| {
            DateTime::from_timestamp_micros(stored)
                .ok_or_else(|| s::corrupt(format!("{table}.{column} is out of range: {stored}")))
        })
        .transpose()
}

/// A JSON column (text).
fn json(row: &SqliteRow, table: &str, column: &str) -> Result<serde_json::Value> {
    let stored: String = get(row, table, column)?;
    serde_json::from_str(&stored)
        .map_err(|e| s::corrupt(format!("{table}.{column} is not JSON: {e}")))
}

/// An `events` row as selected by the read queries.
pub(super) fn event(row: &SqliteRow) -> Result<RecordedEvent> {
    let position = s::position(get(row, "events", "global_position")?)?;
    let stream_type: String = get(row, "events", "stream_type")?;
    Ok(RecordedEvent {
        position,
        transaction_id: s::transaction_id(get(row, "events", "transaction_id")?)?,
        tenant_id: TenantId(uuid(row, "events", "tenant_id")?),
        stream: StreamId::new(
            s::stream_kind(&stream_type, position)?,
            uuid(row, "events", "stream_id")?,
        ),
        sequence: s::sequence(get(row, "events", "sequence")?, position)?,
        event_type: get(row, "events", "event_type")?,
        schema_version: get(row, "events", "schema_version")?,
        payload: json(row, "events", "payload")?,
        metadata: s::decode_metadata(json(row, "events", "metadata")?, position)?,
        recorded_at: timestamp(row, "events", "recorded_at")?,
    })
}

/// A `unique_keys` row.
pub(super) fn claim(row: &SqliteRow) -> Result<UniqueClaim> {
    Ok(UniqueClaim {
        namespace: get(row, "unique_keys", "namespace")?,
        key: get(row, "unique_keys", "key")?,
        owner: uuid(row, "unique_keys", "owner_id")?,
        request_id: get(row, "unique_keys", "request_id")?,
    })
}

/// A `snapshots` row.
pub(super) fn snapshot(row: &SqliteRow) -> Result<Snapshot> {
    Ok(Snapshot {
        aggregate_id: uuid(row, "snapshots", "aggregate_id")?,
        aggregate_kind: get(row, "snapshots", "aggregate_kind")?,
        schema_version: get(row, "snapshots", "schema_version")?,
        last_position: s::snapshot_position(get(row, "snapshots", "last_position")?)?,
        state: get(row, "snapshots", "state")?,
        taken_at: timestamp(row, "snapshots", "taken_at")?,
    })
}

/// A `timers` row.
pub(super) fn timer(row: &SqliteRow) -> Result<DueTimer> {
    Ok(DueTimer {
        tenant_id: TenantId(uuid(row, "timers", "tenant_id")?),
        kind: get(row, "timers", "kind")?,
        due_at: timestamp(row, "timers", "due_at")?,
    })
}

/// A `personal_keys` row (validated: see [`s::stored_key`]).
pub(super) fn key(row: &SqliteRow) -> Result<StoredKey> {
    const TABLE: &str = "personal_keys";
    s::stored_key(s::KeyRow {
        tenant_id: uuid(row, TABLE, "tenant_id")?,
        subject_id: uuid(row, TABLE, "subject_id")?,
        purpose: get(row, TABLE, "purpose")?,
        version: get(row, TABLE, "version")?,
        wrapped: get(row, TABLE, "wrapped")?,
        master_key_id: get(row, TABLE, "master_key_id")?,
        created_at: timestamp(row, TABLE, "created_at")?,
        shredded_at: optional_timestamp(row, TABLE, "shredded_at")?,
    })
}

/// A `master_keys` row.
pub(super) fn master_key(row: &SqliteRow) -> Result<MasterKeyRecord> {
    s::master_key(MasterKeyRecord {
        id: get(row, "master_keys", "id")?,
        registered_at: timestamp(row, "master_keys", "registered_at")?,
        retired_at: optional_timestamp(row, "master_keys", "retired_at")?,
    })
}
