//! The append transaction and the attribution of its conflicts.
//!
//! ```text
//! BEGIN
//!   SELECT shard_leases … FOR SHARE                          (only for fenced appends)
//!   INSERT events      SELECT FROM UNNEST(9 arrays)  RETURNING position, stream, seq, xid
//!   INSERT unique_keys SELECT FROM UNNEST(4 arrays)          (only if there are claims)
//!   SELECT master_keys … FOR SHARE                           (only if keys are created)
//!   key changes in order: INSERT personal_keys SELECT FROM UNNEST(8 arrays) per run of
//!   creations; tombstone INSERT + UPDATE per shredding      (only if there are key changes)
//!   upsert / delete timers, net effect                       (only if there are changes)
//!   SELECT pg_current_xact_id()                              (only if there are no events)
//! COMMIT
//! ```
//!
//! On SQLSTATE 23505 the transaction is rolled back and fresh queries find which event or key
//! clashed, so the caller learns the stream and sequence, or the key's current holder. A key
//! created over an existing personal key is a unique violation in [`KEY_NAMESPACE`]; a key
//! wrapped by a retired master key is refused as [`JournalError::Unavailable`] (the node runs
//! with an outdated master key).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, Row, Transaction, postgres::PgDatabaseError, types::Json};
use uuid::Uuid;

use super::{errors, rows};
use crate::{
    domain::{StreamId, TenantId},
    journal::{
        AppendBatch, AppendReceipt, JournalError, KEY_NAMESPACE, KeyPurpose, Result, StoredKey,
        store_support::{self as s, KeyStep},
    },
};

/// Constraint guarding `(stream_id, sequence)` (see `migrations/postgres`).
const EVENTS_UNIQUE: &str = "events_stream_sequence_key";
/// Primary key of `unique_keys`.
const UNIQUE_KEYS_PKEY: &str = "unique_keys_pkey";
/// Primary key of `personal_keys`.
const PERSONAL_KEYS_PKEY: &str = "personal_keys_pkey";

/// Why the write transaction failed.
enum Failure {
    /// A database error, to be classified after rollback.
    Sql(sqlx::Error),
    /// Already classified.
    Journal(JournalError),
}

impl From<sqlx::Error> for Failure {
    fn from(e: sqlx::Error) -> Self {
        Failure::Sql(e)
    }
}

impl From<JournalError> for Failure {
    fn from(e: JournalError) -> Self {
        Failure::Journal(e)
    }
}

/// Appends all batches in one transaction (see the module docs).
pub(super) async fn append(pool: &PgPool, batches: &[AppendBatch]) -> Result<Vec<AppendReceipt>> {
    if batches.is_empty() {
        return Ok(Vec::new());
    }
    let firsts = s::first_sequences(batches)?;
    let mut tx = pool.begin().await.map_err(errors::from_sqlx)?;
    let outcome = write(&mut tx, batches, &firsts).await;
    match outcome {
        Ok(receipts) => {
            tx.commit().await.map_err(errors::from_sqlx)?;
            Ok(receipts)
        }
        Err(failure) => {
            // Best effort: a broken connection is discarded by the pool anyway.
            let _ = tx.rollback().await;
            Err(match failure {
                Failure::Journal(e) => e,
                Failure::Sql(e) => classify(pool, batches, e).await,
            })
        }
    }
}

/// The statements of the transaction; returns the receipts.
async fn write(
    tx: &mut Transaction<'static, Postgres>,
    batches: &[AppendBatch],
    firsts: &[(StreamId, i64)],
) -> Result<Vec<AppendReceipt>, Failure> {
    check_fences(tx, batches).await?;
    let (positions, transaction_id) = insert_events(tx, batches, firsts).await?;
    insert_claims(tx, batches).await?;
    apply_keys(tx, batches).await?;
    apply_timers(tx, batches).await?;
    let transaction_id = match transaction_id {
        Some(id) => id,
        None => {
            let row = sqlx::query(include_str!("sql/current_transaction.sql"))
                .fetch_one(&mut **tx)
                .await?;
            s::transaction_id(row.try_get("transaction_id")?)?
        }
    };
    Ok(s::receipts(batches, &positions, transaction_id)?)
}

/// Verifies every fence of the batches against `shard_leases` and locks those leases until the
/// transaction ends (a takeover waits for it; a stale writer is refused).
async fn check_fences(
    tx: &mut Transaction<'static, Postgres>,
    batches: &[AppendBatch],
) -> Result<(), Failure> {
    let mut fences: Vec<&crate::journal::Fence> =
        batches.iter().filter_map(|b| b.fence.as_ref()).collect();
    if fences.is_empty() {
        return Ok(());
    }
    fences.sort_by_key(|f| (f.shard, &f.owner, f.epoch));
    fences.dedup();
    let shards: Vec<i32> = fences.iter().map(|f| f.shard).collect();
    let owners: Vec<&str> = fences.iter().map(|f| f.owner.as_str()).collect();
    let epochs: Vec<i64> = fences.iter().map(|f| f.epoch).collect();
    let held: Vec<(i32, String, i64)> = sqlx::query_as(include_str!("sql/check_fences.sql"))
        .bind(&shards)
        .bind(owners)
        .bind(epochs)
        .fetch_all(&mut **tx)
        .await?;
    let is_held = |f: &crate::journal::Fence| {
        held.iter().any(|(shard, owner, epoch)| {
            (*shard, owner.as_str(), *epoch) == (f.shard, f.owner.as_str(), f.epoch)
        })
    };
    match fences.iter().find(|f| !is_held(f)) {
        None => Ok(()),
        Some(stale) => Err(JournalError::Fenced {
            shard: stale.shard,
            owner: stale.owner.clone(),
            epoch: stale.epoch,
        }
        .into()),
    }
}

/// Inserts every event with one statement. Returns the positions by `(stream id, sequence)`
/// and the transaction id (`None` when there were no events). `firsts` holds each stream's
/// first new sequence (see [`s::first_sequences`]).
async fn insert_events(
    tx: &mut Transaction<'static, Postgres>,
    batches: &[AppendBatch],
    firsts: &[(StreamId, i64)],
) -> Result<(HashMap<(Uuid, i64), i64>, Option<u64>), Failure> {
    let count = s::all_events(batches).count();
    if count == 0 {
        return Ok((HashMap::new(), None));
    }
    let mut tenant_ids = Vec::with_capacity(count);
    let mut stream_types = Vec::with_capacity(count);
    let mut stream_ids = Vec::with_capacity(count);
    let mut sequences = Vec::with_capacity(count);
    let mut event_types = Vec::with_capacity(count);
    let mut schema_versions = Vec::with_capacity(count);
    let mut payloads = Vec::with_capacity(count);
    let mut metadata = Vec::with_capacity(count);
    let mut recorded_at = Vec::with_capacity(count);
    for event in s::all_events(batches) {
        tenant_ids.push(event.tenant_id.uuid());
        stream_types.push(event.stream.kind.as_str());
        stream_ids.push(event.stream.id);
        sequences.push(event.sequence);
        event_types.push(event.event_type.as_str());
        schema_versions.push(event.schema_version);
        payloads.push(&event.payload);
        metadata.push(Json(&event.metadata));
        recorded_at.push(event.recorded_at);
    }
    let rows = sqlx::query(include_str!("sql/append_events.sql"))
        .bind(tenant_ids)
        .bind(stream_types)
        .bind(stream_ids)
        .bind(sequences)
        .bind(event_types)
        .bind(schema_versions)
        .bind(payloads)
        .bind(metadata)
        .bind(recorded_at)
        .fetch_all(&mut **tx)
        .await?;
    if rows.is_empty() {
        return Err(misplaced_stream(tx, batches, firsts).await?.into());
    }
    if rows.len() != count {
        return Err(s::corrupt(format!(
            "inserted {count} events, got {} rows back",
            rows.len()
        ))
        .into());
    }
    let mut positions = HashMap::with_capacity(count);
    let mut transaction_id = None;
    for row in &rows {
        let position = s::position(row.try_get("global_position")?)?;
        let stream_id: Uuid = row.try_get("stream_id")?;
        let sequence: i64 = row.try_get("sequence")?;
        let xid = s::transaction_id(row.try_get("transaction_id")?)?;
        if transaction_id.is_some_and(|t| t != xid) {
            return Err(
                s::corrupt("events of one transaction report different transaction ids").into(),
            );
        }
        transaction_id = Some(xid);
        positions.insert((stream_id, sequence), position);
    }
    Ok((positions, transaction_id))
}

/// The insert wrote nothing: some stream's first new sequence does not follow its stored head.
/// Finds which one.
async fn misplaced_stream(
    tx: &mut Transaction<'static, Postgres>,
    batches: &[AppendBatch],
    firsts: &[(StreamId, i64)],
) -> Result<JournalError, Failure> {
    let ids: Vec<Uuid> = firsts.iter().map(|(stream, _)| stream.id).collect();
    let rows = sqlx::query(include_str!("sql/stream_heads.sql"))
        .bind(ids)
        .fetch_all(&mut **tx)
        .await?;
    let mut heads = HashMap::with_capacity(rows.len());
    for row in &rows {
        heads.insert(
            row.try_get::<Uuid, _>("stream_id")?,
            row.try_get::<i64, _>("head")?,
        );
    }
    let conflict = s::misplaced(firsts, |id| heads.get(&id).copied().unwrap_or(0));
    // Not found means a head moved between the two statements: the first event clashed too.
    Ok(conflict.unwrap_or_else(|| first_event_conflict(batches)))
}

/// A conflict on the first event of the batches (when nothing more precise is known).
fn first_event_conflict(batches: &[AppendBatch]) -> JournalError {
    match s::all_events(batches).next() {
        Some(e) => JournalError::StreamConflict {
            stream: e.stream,
            sequence: e.sequence,
        },
        None => JournalError::Database("stream conflict reported without events".into()),
    }
}

/// Takes every unique key with one statement.
async fn insert_claims(
    tx: &mut Transaction<'static, Postgres>,
    batches: &[AppendBatch],
) -> Result<(), Failure> {
    if s::all_claims(batches).next().is_none() {
        return Ok(());
    }
    let claims = s::all_claims(batches);
    let (mut namespaces, mut keys, mut owners, mut request_ids) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for claim in claims {
        namespaces.push(claim.namespace.as_str());
        keys.push(claim.key.as_str());
        owners.push(claim.owner);
        request_ids.push(claim.request_id.as_deref());
    }
    sqlx::query(include_str!("sql/insert_claims.sql"))
        .bind(namespaces)
        .bind(keys)
        .bind(owners)
        .bind(request_ids)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Applies the key changes of the batches in order; new keys wrapped by a retired master key
/// refuse the append.
async fn apply_keys(
    tx: &mut Transaction<'static, Postgres>,
    batches: &[AppendBatch],
) -> Result<(), Failure> {
    if s::all_key_changes(batches).next().is_none() {
        return Ok(());
    }
    for step in s::key_steps(batches) {
        match step {
            KeyStep::Create(keys) => insert_keys(tx, &keys).await?,
            KeyStep::ShredSubject {
                tenant_id,
                subject_id,
                at,
            } => {
                for sql in [
                    include_str!("sql/tombstone_subject.sql"),
                    include_str!("sql/shred_subject.sql"),
                ] {
                    sqlx::query(sql)
                        .bind(tenant_id.uuid())
                        .bind(subject_id)
                        .bind(at)
                        .execute(&mut **tx)
                        .await?;
                }
            }
            KeyStep::ShredTenant { tenant_id, at } => {
                for sql in [
                    include_str!("sql/tombstone_tenant.sql"),
                    include_str!("sql/shred_tenant.sql"),
                ] {
                    sqlx::query(sql)
                        .bind(tenant_id.uuid())
                        .bind(at)
                        .execute(&mut **tx)
                        .await?;
                }
            }
        }
    }
    Ok(())
}

/// Creates keys with one statement that also locks and checks their master keys (one round
/// trip: this runs in the append of every new person).
async fn insert_keys(
    tx: &mut Transaction<'static, Postgres>,
    keys: &[&StoredKey],
) -> Result<(), Failure> {
    let count = keys.len();
    let mut tenant_ids = Vec::with_capacity(count);
    let mut subject_ids = Vec::with_capacity(count);
    let mut purposes = Vec::with_capacity(count);
    let mut versions = Vec::with_capacity(count);
    let mut wrapped = Vec::with_capacity(count);
    let mut master_key_ids = Vec::with_capacity(count);
    let mut created_at = Vec::with_capacity(count);
    let mut shredded_at = Vec::with_capacity(count);
    for key in keys {
        tenant_ids.push(key.tenant_id.uuid());
        subject_ids.push(key.subject_id);
        purposes.push(key.purpose.as_str());
        versions.push(key.version);
        wrapped.push(key.wrapped.as_deref());
        master_key_ids.push(key.master_key_id.as_deref());
        created_at.push(key.created_at);
        shredded_at.push(key.shredded_at);
    }
    let masters: Vec<&str> = master_key_ids.iter().flatten().copied().collect();
    let inserted = sqlx::query(include_str!("sql/insert_keys.sql"))
        .bind(tenant_ids)
        .bind(subject_ids)
        .bind(purposes)
        .bind(versions)
        .bind(wrapped)
        .bind(master_key_ids)
        .bind(created_at)
        .bind(shredded_at)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    if inserted == count as u64 {
        return Ok(());
    }
    let registered: Vec<(String, Option<DateTime<Utc>>)> =
        sqlx::query_as(include_str!("sql/lock_master_keys.sql"))
            .bind(&masters)
            .fetch_all(&mut **tx)
            .await?;
    match registered.iter().find(|(_, retired)| retired.is_some()) {
        Some((id, _)) => Err(s::retired_master_key(id).into()),
        None => Err(s::corrupt(format!("inserted {inserted} of {count} keys")).into()),
    }
}

/// Applies the net timer changes: one upsert and one delete at most.
async fn apply_timers(
    tx: &mut Transaction<'static, Postgres>,
    batches: &[AppendBatch],
) -> Result<(), Failure> {
    let plan = s::fold_timers(batches);
    if !plan.set.is_empty() {
        let (mut tenants, mut kinds, mut due) = (Vec::new(), Vec::new(), Vec::new());
        for (tenant_id, kind, due_at) in &plan.set {
            tenants.push(tenant_id.uuid());
            kinds.push(*kind);
            due.push(*due_at);
        }
        sqlx::query(include_str!("sql/set_timers.sql"))
            .bind(tenants)
            .bind(kinds)
            .bind(due)
            .execute(&mut **tx)
            .await?;
    }
    if !plan.clear.is_empty() {
        let (tenants, kinds): (Vec<Uuid>, Vec<&str>) =
            plan.clear.iter().map(|(t, k)| (t.uuid(), *k)).unzip();
        sqlx::query(include_str!("sql/clear_timers.sql"))
            .bind(tenants)
            .bind(kinds)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Turns a failed append's database error into a typed conflict where it is one.
async fn classify(pool: &PgPool, batches: &[AppendBatch], error: sqlx::Error) -> JournalError {
    let Some(db) = error.as_database_error() else {
        return errors::from_sqlx(error);
    };
    if db.code().as_deref() != Some(errors::UNIQUE_VIOLATION) {
        return errors::from_sqlx(error);
    }
    let constraint = db.constraint();
    let table = db.table();
    if constraint == Some(EVENTS_UNIQUE) || (constraint.is_none() && table == Some("events")) {
        let detail = db
            .try_downcast_ref::<PgDatabaseError>()
            .and_then(|e| e.detail());
        let clash = match detail.and_then(parse_event_key) {
            Some((stream_id, sequence)) => s::stream_of(batches, stream_id).map(|s| (s, sequence)),
            None => None,
        };
        return match clash {
            Some((stream, sequence)) => JournalError::StreamConflict { stream, sequence },
            None => stream_conflict(pool, batches).await,
        };
    }
    if constraint == Some(UNIQUE_KEYS_PKEY)
        || (constraint.is_none() && table == Some("unique_keys"))
    {
        return unique_violation(pool, batches).await;
    }
    if constraint == Some(PERSONAL_KEYS_PKEY)
        || (constraint.is_none() && table == Some("personal_keys"))
    {
        let detail = db
            .try_downcast_ref::<PgDatabaseError>()
            .and_then(|e| e.detail());
        return match detail.and_then(parse_personal_key) {
            Some((tenant_id, subject_id, purpose, version)) => JournalError::UniqueViolation {
                namespace: KEY_NAMESPACE.into(),
                key: s::key_name(tenant_id, subject_id, purpose, version),
                existing: None,
            },
            None => key_taken(pool, batches).await,
        };
    }
    errors::from_sqlx(error)
}

/// The values of a unique violation's detail, `Key (<columns>)=(<values>) already exists.`
fn detail_values(detail: &str) -> Option<Vec<&str>> {
    let values = detail.split_once(")=(")?.1;
    Some(values[..values.find(')')?].split(", ").collect())
}

/// Parses `Key (stream_id, sequence)=(<uuid>, <n>) already exists.`
fn parse_event_key(detail: &str) -> Option<(Uuid, i64)> {
    let [id, sequence] = detail_values(detail)?[..] else {
        return None;
    };
    Some((Uuid::parse_str(id).ok()?, sequence.parse().ok()?))
}

/// Parses `Key (tenant_id, subject_id, purpose, version)=(<uuid>, <uuid>, <purpose>, <n>)
/// already exists.`
fn parse_personal_key(detail: &str) -> Option<(TenantId, Uuid, KeyPurpose, i32)> {
    let [tenant_id, subject_id, purpose, version] = detail_values(detail)?[..] else {
        return None;
    };
    Some((
        TenantId(Uuid::parse_str(tenant_id).ok()?),
        Uuid::parse_str(subject_id).ok()?,
        KeyPurpose::parse(purpose)?,
        version.parse().ok()?,
    ))
}

/// Finds which event of the batches clashed: one already stored, else (the other writer's
/// row cannot be seen) the first event.
async fn stream_conflict(pool: &PgPool, batches: &[AppendBatch]) -> JournalError {
    let (ids, sequences): (Vec<Uuid>, Vec<i64>) = s::all_events(batches)
        .map(|e| (e.stream.id, e.sequence))
        .unzip();
    let stored = sqlx::query(include_str!("sql/existing_events.sql"))
        .bind(ids)
        .bind(sequences)
        .fetch_optional(pool)
        .await;
    if let Ok(Some(row)) = stored
        && let (Ok(id), Ok(sequence)) =
            (row.try_get::<Uuid, _>("stream_id"), row.try_get("sequence"))
        && let Some(stream) = s::stream_of(batches, id)
    {
        return JournalError::StreamConflict { stream, sequence };
    }
    first_event_conflict(batches)
}

/// Finds which key of the batches is taken and by whom: a stored one (with its holder), else
/// one the batches claim twice (no holder), else the first claim.
async fn unique_violation(pool: &PgPool, batches: &[AppendBatch]) -> JournalError {
    let (namespaces, keys): (Vec<&str>, Vec<&str>) = s::all_claims(batches)
        .map(|c| (c.namespace.as_str(), c.key.as_str()))
        .unzip();
    let stored = sqlx::query(include_str!("sql/existing_claims.sql"))
        .bind(namespaces)
        .bind(keys)
        .fetch_optional(pool)
        .await;
    if let Ok(Some(row)) = stored
        && let Ok(existing) = rows::claim(&row)
    {
        return JournalError::UniqueViolation {
            namespace: existing.namespace.clone(),
            key: existing.key.clone(),
            existing: Some(Box::new(existing)),
        };
    }
    let claim = s::duplicate_claim(batches).or_else(|| s::all_claims(batches).next());
    match claim {
        Some(c) => JournalError::UniqueViolation {
            namespace: c.namespace.clone(),
            key: c.key.clone(),
            existing: None,
        },
        None => JournalError::Database("unique violation on unique_keys without claims".into()),
    }
}

/// Finds which key the batches create over an existing one when the error did not say: a
/// stored one, else one the batches wrote themselves, else the first they create.
async fn key_taken(pool: &PgPool, batches: &[AppendBatch]) -> JournalError {
    let (mut tenant_ids, mut subject_ids, mut purposes, mut versions) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for key in s::created_keys(batches) {
        tenant_ids.push(key.tenant_id.uuid());
        subject_ids.push(key.subject_id);
        purposes.push(key.purpose.as_str());
        versions.push(key.version);
    }
    let stored = sqlx::query(include_str!("sql/existing_keys.sql"))
        .bind(tenant_ids)
        .bind(subject_ids)
        .bind(purposes)
        .bind(versions)
        .fetch_optional(pool)
        .await;
    if let Ok(Some(row)) = stored
        && let (Ok(tenant_id), Ok(subject_id), Ok(purpose), Ok(version)) = (
            row.try_get::<Uuid, _>("tenant_id"),
            row.try_get::<Uuid, _>("subject_id"),
            row.try_get::<String, _>("purpose"),
            row.try_get::<i32, _>("version"),
        )
        && let Some(purpose) = KeyPurpose::parse(&purpose)
    {
        return JournalError::UniqueViolation {
            namespace: KEY_NAMESPACE.into(),
            key: s::key_name(TenantId(tenant_id), subject_id, purpose, version),
            existing: None,
        };
    }
    match s::key_clash_within(batches).or_else(|| s::created_keys(batches).next()) {
        Some(key) => s::key_taken(key),
        None => JournalError::Database("unique violation on personal_keys without keys".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_unique_violation_detail() {
        let id = Uuid::now_v7();
        let detail = format!("Key (stream_id, sequence)=({id}, 3) already exists.");
        assert_eq!(parse_event_key(&detail), Some((id, 3)));
        assert_eq!(parse_event_key("Schlüssel existiert bereits"), None);
        assert_eq!(parse_event_key("Key (a)=(x) already exists."), None);
    }

    #[test]
    fn parses_the_personal_key_violation_detail() {
        let (tenant, subject) = (Uuid::now_v7(), Uuid::now_v7());
        let detail = format!(
            "Key (tenant_id, subject_id, purpose, version)=({tenant}, {subject}, data, 2) \
             already exists."
        );
        assert_eq!(
            parse_personal_key(&detail),
            Some((TenantId(tenant), subject, KeyPurpose::Data, 2))
        );
        let bogus = format!(
            "Key (tenant_id, subject_id, purpose, version)=({tenant}, {subject}, x, 2) exists."
        );
        assert_eq!(parse_personal_key(&bogus), None);
        assert_eq!(
            parse_personal_key(&format!("Key (a)=({tenant}) exists.")),
            None
        );
    }
}
