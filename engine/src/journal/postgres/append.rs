//! The append: one statement for the usual case, a transaction around it for the rest.
//!
//! `sql/append.sql` writes an append's events, unique keys, key creations and timer changes
//! with data-modifying CTEs that write nothing unless every fence is held, every stream's first
//! new sequence follows its head and no wrapping master key is retired; otherwise it returns
//! the reasons instead of the events. An append with events whose key changes are creations
//! only (every command's) is that statement alone, outside an explicit transaction: one round
//! trip, no BEGIN or COMMIT. Any other append (shredding, or no events) runs as a transaction:
//!
//! ```text
//! BEGIN
//!   DELETE of each unique key given up (release_claim.sql)
//!   append.sql without keys
//!   key changes in order: append.sql with keys only per run of creations (master keys locked
//!   and checked); tombstone INSERT + UPDATE per shredding
//!   SELECT pg_current_xact_id()                              (only if there are no events)
//! COMMIT
//! ```
//!
//! On SQLSTATE 23505 nothing was written and fresh queries find which event or key clashed, so
//! the caller learns the stream and sequence, or the key's current holder. A key created over an
//! existing personal key is a unique violation in [`KEY_NAMESPACE`]; a key wrapped by a retired
//! master key is refused as [`JournalError::Unavailable`] (the node runs with an outdated master
//! key).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::{
    Connection, PgConnection, Postgres, Row, Transaction,
    postgres::{PgArguments, PgDatabaseError, PgRow},
    types::Json,
};
use uuid::Uuid;

use super::{errors, rows};
use crate::{
    domain::{StreamId, TenantId},
    journal::{
        AppendBatch, AppendReceipt, EventMetadata, Fence, JournalError, KEY_NAMESPACE, KeyChange,
        KeyPurpose, Result, StoredKey,
        store_support::{self as s, KeyStep, TimerPlan},
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

/// Where the events of an append landed: positions by `(stream id, sequence)`, and the
/// transaction id (`None` without events).
type Landed = (HashMap<(Uuid, i64), i64>, Option<u64>);

/// A query of this module with its parameters bound so far.
type PgQuery<'q> = sqlx::query::Query<'q, Postgres, PgArguments>;

/// Appends all batches atomically on `connection` (see the module docs).
pub(super) async fn append(
    connection: &mut PgConnection,
    batches: &[AppendBatch],
) -> Result<Vec<AppendReceipt>> {
    if batches.is_empty() {
        return Ok(Vec::new());
    }
    let firsts = s::first_sequences(batches)?;
    if fits_one_statement(batches) {
        let created: Vec<&StoredKey> = s::created_keys(batches).collect();
        return match run_append(&mut *connection, batches, &firsts, &created).await {
            Ok((positions, Some(transaction_id))) => {
                // The statement has committed: a receipt that cannot be built leaves its outcome
                // unknown to the caller, never "nothing written".
                s::receipts(batches, &positions, transaction_id).map_err(committed)
            }
            Ok((_, None)) => Err(committed(s::corrupt("an append with events returned none"))),
            // Rows that do not validate came back from a statement that committed.
            Err(Failure::Journal(e @ JournalError::Corrupt(_))) => Err(committed(e)),
            // A refusal: nothing was written.
            Err(Failure::Journal(e)) => Err(e),
            Err(Failure::Sql(e)) if e.as_database_error().is_some() => {
                Err(classify(connection, batches, e).await)
            }
            // Sent and perhaps committed, then the rows could not be read or decoded.
            Err(Failure::Sql(e)) => Err(match errors::from_sqlx(e) {
                e @ JournalError::Unavailable(_) => e,
                e => committed(e),
            }),
        };
    }
    let mut tx = connection.begin().await.map_err(errors::from_sqlx)?;
    let outcome = write(&mut tx, batches, &firsts).await;
    match outcome {
        Ok(receipts) => {
            tx.commit().await.map_err(errors::from_sqlx)?;
            Ok(receipts)
        }
        Err(failure) => {
            // Best effort: a rollback that fails is queued by sqlx for the connection's next
            // statement, and a broken connection fails the next append and goes back to the pool.
            let _ = tx.rollback().await;
            Err(match failure {
                Failure::Journal(e) => e,
                Failure::Sql(e) => classify(connection, batches, e).await,
            })
        }
    }
}

/// Whether `sql/append.sql` alone can write the batches: they have events, and their key
/// changes are creations only (shredding must follow the creations before it, in order).
fn fits_one_statement(batches: &[AppendBatch]) -> bool {
    s::all_events(batches).next().is_some()
        && s::all_releases(batches).next().is_none()
        && s::all_key_changes(batches).all(|change| matches!(change, KeyChange::Create(_)))
}

/// An append that committed but whose receipt could not be built.
fn committed(e: JournalError) -> JournalError {
    JournalError::Unavailable(format!(
        "the append committed but its receipt is unreadable: {e}"
    ))
}

/// Runs `sql/append.sql` for the batches with the key creations `created` (see its comments):
/// the events' positions by `(stream id, sequence)` and the transaction id (`None` without
/// events), or the refusal it reports.
async fn run_append<'c>(
    executor: impl sqlx::Executor<'c, Database = Postgres>,
    batches: &[AppendBatch],
    firsts: &[(StreamId, i64)],
    created: &[&StoredKey],
) -> Result<Landed, Failure> {
    let timers = s::fold_timers(batches);
    let fences = distinct_fences(batches);
    let mut query = sqlx::query(include_str!("sql/append.sql"));
    query = EventColumns::of(batches).bind(query);
    query = ClaimColumns::of(batches).bind(query);
    query = KeyColumns::of(created).bind(query);
    query = timers_to_clear(timers_to_set(query, &timers), &timers);
    query = fence_columns(query, &fences);
    let rows = query.fetch_all(executor).await?;
    let refusal = |reason: &'static str| refusals(&rows, reason);
    if let Some(stale) = refusal("fence").find_map(|row| {
        let shard: i32 = row.try_get("shard").ok()?;
        fences.iter().find(|f| f.shard == shard)
    }) {
        return Err(fenced(stale).into());
    }
    let misplaced: Vec<Uuid> = refusal("misplaced")
        .filter_map(|row| row.try_get("stream_id").ok())
        .collect();
    if let Some(&(stream, sequence)) = firsts.iter().find(|(s, _)| misplaced.contains(&s.id)) {
        return Err(JournalError::StreamConflict { stream, sequence }.into());
    }
    if let Some(id) =
        refusal("retired_master_key").find_map(|row| row.try_get::<String, _>("master_key_id").ok())
    {
        return Err(s::retired_master_key(&id).into());
    }
    if rows
        .iter()
        .any(|row| !matches!(row.try_get::<Option<&str>, _>("refusal"), Ok(None)))
    {
        return Err(s::corrupt("the append was refused for a reason it did not name").into());
    }
    let count = s::all_events(batches).count();
    if rows.len() != count {
        return Err(s::corrupt(format!(
            "inserted {count} events, got {} rows back",
            rows.len()
        ))
        .into());
    }
    positions(&rows)
}

/// The rows of `sql/append.sql` that refuse the append for `reason`.
fn refusals<'r>(rows: &'r [PgRow], reason: &'static str) -> impl Iterator<Item = &'r PgRow> {
    rows.iter()
        .filter(move |row| row.try_get::<Option<&str>, _>("refusal").ok().flatten() == Some(reason))
}

/// The transaction of an append that `sql/append.sql` cannot write alone: the statement
/// without the key changes, then the key changes in order; returns the receipts.
async fn write(
    tx: &mut Transaction<'_, Postgres>,
    batches: &[AppendBatch],
    firsts: &[(StreamId, i64)],
) -> Result<Vec<AppendReceipt>, Failure> {
    for release in s::all_releases(batches) {
        sqlx::query(include_str!("sql/release_claim.sql"))
            .bind(&release.namespace)
            .bind(&release.key)
            .bind(release.owner)
            .execute(&mut **tx)
            .await?;
    }
    let (positions, transaction_id) = run_append(&mut **tx, batches, firsts, &[]).await?;
    apply_keys(tx, batches).await?;
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

/// Every fence of the batches once, in lock order.
fn distinct_fences(batches: &[AppendBatch]) -> Vec<&Fence> {
    let mut fences: Vec<&Fence> = batches.iter().filter_map(|b| b.fence.as_ref()).collect();
    fences.sort_by_key(|f| (f.shard, &f.owner, f.epoch));
    fences.dedup();
    fences
}

/// Binds fences as three arrays: shards, owners, epochs.
fn fence_columns<'q>(query: PgQuery<'q>, fences: &[&'q Fence]) -> PgQuery<'q> {
    query
        .bind(fences.iter().map(|f| f.shard).collect::<Vec<i32>>())
        .bind(
            fences
                .iter()
                .map(|f| f.owner.as_str())
                .collect::<Vec<&str>>(),
        )
        .bind(fences.iter().map(|f| f.epoch).collect::<Vec<i64>>())
}

/// The refusal of an append whose fence is no longer held.
fn fenced(stale: &Fence) -> JournalError {
    JournalError::Fenced {
        shard: stale.shard,
        owner: stale.owner.clone(),
        epoch: stale.epoch,
    }
}

/// The events of an append as one array per column (`$1`–`$9` of `append.sql`).
#[derive(Default)]
struct EventColumns<'a> {
    tenant_ids: Vec<Uuid>,
    stream_types: Vec<&'a str>,
    stream_ids: Vec<Uuid>,
    sequences: Vec<i64>,
    event_types: Vec<&'a str>,
    schema_versions: Vec<i32>,
    payloads: Vec<&'a serde_json::Value>,
    metadata: Vec<Json<&'a EventMetadata>>,
    recorded_at: Vec<DateTime<Utc>>,
}

impl<'a> EventColumns<'a> {
    fn of(batches: &'a [AppendBatch]) -> Self {
        let mut columns = EventColumns::default();
        for event in s::all_events(batches) {
            columns.tenant_ids.push(event.tenant_id.uuid());
            columns.stream_types.push(event.stream.kind.as_str());
            columns.stream_ids.push(event.stream.id);
            columns.sequences.push(event.sequence);
            columns.event_types.push(event.event_type.as_str());
            columns.schema_versions.push(event.schema_version);
            columns.payloads.push(&event.payload);
            columns.metadata.push(Json(&event.metadata));
            columns.recorded_at.push(event.recorded_at);
        }
        columns
    }

    fn bind(self, query: PgQuery<'a>) -> PgQuery<'a> {
        query
            .bind(self.tenant_ids)
            .bind(self.stream_types)
            .bind(self.stream_ids)
            .bind(self.sequences)
            .bind(self.event_types)
            .bind(self.schema_versions)
            .bind(self.payloads)
            .bind(self.metadata)
            .bind(self.recorded_at)
    }
}

/// The positions the events were given by `(stream id, sequence)`, and their transaction id
/// (`None` without rows), from the rows an events insert returned.
fn positions(rows: &[PgRow]) -> Result<Landed, Failure> {
    let mut positions = HashMap::with_capacity(rows.len());
    let mut transaction_id = None;
    for row in rows {
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

/// The unique keys of an append as four arrays (`$10`–`$13` of `append.sql`).
#[derive(Default)]
struct ClaimColumns<'a> {
    namespaces: Vec<&'a str>,
    keys: Vec<&'a str>,
    owners: Vec<Uuid>,
    request_ids: Vec<Option<&'a str>>,
}

impl<'a> ClaimColumns<'a> {
    fn of(batches: &'a [AppendBatch]) -> Self {
        let mut columns = ClaimColumns::default();
        for claim in s::all_claims(batches) {
            columns.namespaces.push(claim.namespace.as_str());
            columns.keys.push(claim.key.as_str());
            columns.owners.push(claim.owner);
            columns.request_ids.push(claim.request_id.as_deref());
        }
        columns
    }

    fn bind(self, query: PgQuery<'a>) -> PgQuery<'a> {
        query
            .bind(self.namespaces)
            .bind(self.keys)
            .bind(self.owners)
            .bind(self.request_ids)
    }
}

/// Applies the key changes of the batches in order; new keys wrapped by a retired master key
/// refuse the append.
async fn apply_keys(
    tx: &mut Transaction<'_, Postgres>,
    batches: &[AppendBatch],
) -> Result<(), Failure> {
    for step in s::key_steps(batches) {
        match step {
            // The statement alone: its master-key check refuses a retired one.
            KeyStep::Create(keys) => drop(run_append(&mut **tx, &[], &[], &keys).await?),
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

/// New personal keys as one array per column (`$14`–`$21` of `append.sql`).
#[derive(Default)]
struct KeyColumns<'a> {
    tenant_ids: Vec<Uuid>,
    subject_ids: Vec<Uuid>,
    purposes: Vec<&'a str>,
    versions: Vec<i32>,
    wrapped: Vec<Option<&'a [u8]>>,
    master_key_ids: Vec<Option<&'a str>>,
    created_at: Vec<DateTime<Utc>>,
    shredded_at: Vec<Option<DateTime<Utc>>>,
}

impl<'a> KeyColumns<'a> {
    fn of(keys: &[&'a StoredKey]) -> Self {
        let mut columns = KeyColumns::default();
        for key in keys {
            columns.tenant_ids.push(key.tenant_id.uuid());
            columns.subject_ids.push(key.subject_id);
            columns.purposes.push(key.purpose.as_str());
            columns.versions.push(key.version);
            columns.wrapped.push(key.wrapped.as_deref());
            columns.master_key_ids.push(key.master_key_id.as_deref());
            columns.created_at.push(key.created_at);
            columns.shredded_at.push(key.shredded_at);
        }
        columns
    }

    fn bind(self, query: PgQuery<'a>) -> PgQuery<'a> {
        query
            .bind(self.tenant_ids)
            .bind(self.subject_ids)
            .bind(self.purposes)
            .bind(self.versions)
            .bind(self.wrapped)
            .bind(self.master_key_ids)
            .bind(self.created_at)
            .bind(self.shredded_at)
    }
}

/// Binds the timers to set as three arrays: tenants, kinds, due times.
fn timers_to_set<'q>(query: PgQuery<'q>, plan: &TimerPlan<'q>) -> PgQuery<'q> {
    query
        .bind(
            plan.set
                .iter()
                .map(|(t, _, _)| t.uuid())
                .collect::<Vec<Uuid>>(),
        )
        .bind(plan.set.iter().map(|(_, k, _)| *k).collect::<Vec<&str>>())
        .bind(
            plan.set
                .iter()
                .map(|(_, _, d)| *d)
                .collect::<Vec<DateTime<Utc>>>(),
        )
}

/// Binds the timers to clear as two arrays: tenants, kinds.
fn timers_to_clear<'q>(query: PgQuery<'q>, plan: &TimerPlan<'q>) -> PgQuery<'q> {
    query
        .bind(
            plan.clear
                .iter()
                .map(|(t, _)| t.uuid())
                .collect::<Vec<Uuid>>(),
        )
        .bind(plan.clear.iter().map(|(_, k)| *k).collect::<Vec<&str>>())
}

/// Turns a failed append's database error into a typed conflict where it is one.
async fn classify(
    connection: &mut PgConnection,
    batches: &[AppendBatch],
    error: sqlx::Error,
) -> JournalError {
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
            None => stream_conflict(connection, batches).await,
        };
    }
    if constraint == Some(UNIQUE_KEYS_PKEY)
        || (constraint.is_none() && table == Some("unique_keys"))
    {
        return unique_violation(connection, batches).await;
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
            None => key_taken(connection, batches).await,
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
async fn stream_conflict(connection: &mut PgConnection, batches: &[AppendBatch]) -> JournalError {
    let (ids, sequences): (Vec<Uuid>, Vec<i64>) = s::all_events(batches)
        .map(|e| (e.stream.id, e.sequence))
        .unzip();
    let stored = sqlx::query(include_str!("sql/existing_events.sql"))
        .bind(ids)
        .bind(sequences)
        .fetch_optional(&mut *connection)
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
async fn unique_violation(connection: &mut PgConnection, batches: &[AppendBatch]) -> JournalError {
    let (namespaces, keys): (Vec<&str>, Vec<&str>) = s::all_claims(batches)
        .map(|c| (c.namespace.as_str(), c.key.as_str()))
        .unzip();
    let stored = sqlx::query(include_str!("sql/existing_claims.sql"))
        .bind(namespaces)
        .bind(keys)
        .fetch_optional(&mut *connection)
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
async fn key_taken(connection: &mut PgConnection, batches: &[AppendBatch]) -> JournalError {
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
        .fetch_optional(&mut *connection)
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
