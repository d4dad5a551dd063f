//! The append transaction, inside `BEGIN IMMEDIATE … COMMIT`: the stream heads, the events,
//! the claims given up and taken, the key changes (in order, after checking the master keys
//! that wrap new keys) and the timers, each kind with one statement whatever the number of
//! batches (the rows bound as one JSON array). A statement of `sqlx`'s SQLite driver is a
//! round trip to the connection's thread, so an append of a group of 50 commands took about
//! 200 of them before. A unique violation aborts only its statement: the rows are then
//! inserted one by one in the same transaction, which names the one that clashed.

use std::collections::HashMap;

use chrono::Utc;
use serde::Serialize;
use sqlx::{Connection, Row, Sqlite, SqliteConnection, Transaction};
use uuid::{Uuid, fmt::Hyphenated};

use super::{errors, rows};
use crate::{
    domain::StreamId,
    journal::{
        AppendBatch, AppendReceipt, JournalError, Result, StoredKey,
        store_support::{self as s, KeyStep},
    },
};

/// Why the write transaction failed.
enum Failure {
    /// A database error, to be classified after rollback.
    Sql(sqlx::Error),
    /// A key of the batches is taken: its holder is read after rollback.
    ClaimTaken { namespace: String, key: String },
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

/// Appends all batches in one transaction on `connection`, the journal's writing one (the
/// caller holds its turn).
pub(super) async fn append(
    connection: &mut SqliteConnection,
    batches: &[AppendBatch],
) -> Result<Vec<AppendReceipt>> {
    let firsts = s::first_sequences(batches)?;
    let mut tx = connection
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(errors::from_sqlx)?;
    let outcome = write(&mut tx, batches, &firsts).await;
    match outcome {
        Ok(receipts) => {
            tx.commit().await.map_err(errors::from_sqlx)?;
            Ok(receipts)
        }
        Err(failure) => {
            let _ = tx.rollback().await;
            Err(match failure {
                Failure::Journal(e) => e,
                Failure::Sql(e) => errors::from_sqlx(e),
                Failure::ClaimTaken { namespace, key } => {
                    // Read after rollback: a key claimed twice by these batches has no holder.
                    let existing = sqlx::query(include_str!("sql/unique_claim.sql"))
                        .bind(&namespace)
                        .bind(&key)
                        .fetch_optional(&mut *connection)
                        .await
                        .ok()
                        .flatten()
                        .and_then(|row| rows::claim(&row).ok())
                        .map(Box::new);
                    JournalError::UniqueViolation {
                        namespace,
                        key,
                        existing,
                    }
                }
            })
        }
    }
}

/// The statements of the transaction; returns the receipts.
async fn write(
    tx: &mut Transaction<'_, Sqlite>,
    batches: &[AppendBatch],
    firsts: &[(StreamId, i64)],
) -> Result<Vec<AppendReceipt>, Failure> {
    check_heads(tx, firsts).await?;
    let row = sqlx::query(include_str!("sql/next_transaction.sql"))
        .fetch_one(&mut **tx)
        .await?;
    let transaction_id = s::transaction_id(row.try_get("last_transaction_id")?)?;
    let positions = insert_events(tx, batches, transaction_id).await?;
    let receipts = s::receipts(batches, &positions, transaction_id)?;
    let releases: Vec<_> = s::all_releases(batches)
        .map(|r| (&r.namespace, &r.key, r.owner.hyphenated()))
        .collect();
    if !releases.is_empty() {
        sqlx::query(include_str!("sql/release_claims.sql"))
            .bind(rows_json(&releases)?)
            .execute(&mut **tx)
            .await?;
    }
    insert_claims(tx, batches).await?;
    apply_keys(tx, batches).await?;
    let plan = s::fold_timers(batches);
    if !plan.set.is_empty() {
        let set: Vec<_> = plan
            .set
            .iter()
            .map(|(tenant_id, kind, due_at)| {
                (tenant_id.uuid().hyphenated(), kind, rows::micros(*due_at))
            })
            .collect();
        sqlx::query(include_str!("sql/set_timers.sql"))
            .bind(rows_json(&set)?)
            .execute(&mut **tx)
            .await?;
    }
    if !plan.clear.is_empty() {
        let clear: Vec<_> = plan
            .clear
            .iter()
            .map(|(tenant_id, kind)| (tenant_id.uuid().hyphenated(), kind))
            .collect();
        sqlx::query(include_str!("sql/clear_timers.sql"))
            .bind(rows_json(&clear)?)
            .execute(&mut **tx)
            .await?;
    }
    Ok(receipts)
}

/// Checks that each stream's first new sequence follows its stored head. The write lock is
/// held: the heads cannot move until commit, so the events' inserts cannot clash.
async fn check_heads(
    tx: &mut Transaction<'_, Sqlite>,
    firsts: &[(StreamId, i64)],
) -> Result<(), Failure> {
    if firsts.is_empty() {
        return Ok(()); // keys or timers only: no stream to check
    }
    let ids: Vec<_> = firsts
        .iter()
        .map(|(stream, _)| stream.id.hyphenated())
        .collect();
    let found = sqlx::query(include_str!("sql/stream_heads.sql"))
        .bind(rows_json(&ids)?)
        .fetch_all(&mut **tx)
        .await?;
    let mut heads = HashMap::with_capacity(firsts.len());
    for row in &found {
        let index = usize::try_from(row.try_get::<i64, _>("i")?)
            .map_err(|_| s::corrupt("a stream head out of the list"))?;
        let (stream, _) = firsts
            .get(index)
            .ok_or_else(|| s::corrupt("a stream head out of the list"))?;
        heads.insert(stream.id, row.try_get::<i64, _>("head")?);
    }
    match s::misplaced(firsts, |id| heads.get(&id).copied().unwrap_or(0)) {
        Some(conflict) => Err(conflict.into()),
        None => Ok(()),
    }
}

/// Inserts the events of all batches with one statement; returns their positions by
/// `(stream id, sequence)`. Should that statement clash (the heads say it cannot), the events
/// are inserted one by one, which names the clashing one.
async fn insert_events(
    tx: &mut Transaction<'_, Sqlite>,
    batches: &[AppendBatch],
    transaction_id: u64,
) -> Result<HashMap<(Uuid, i64), i64>, Failure> {
    let transaction =
        i64::try_from(transaction_id).map_err(|_| s::corrupt("transaction id overflow"))?;
    let mut positions = HashMap::new();
    let events: Vec<_> = s::all_events(batches).collect();
    if events.is_empty() {
        return Ok(positions);
    }
    let mut rows_of = Vec::with_capacity(events.len());
    for event in &events {
        rows_of.push((
            event.tenant_id.uuid().hyphenated(),
            event.stream.kind.as_str(),
            event.stream.id.hyphenated(),
            event.sequence,
            &event.event_type,
            event.schema_version,
            json_text(&event.payload, "payload")?,
            json_text(&event.metadata, "metadata")?,
            rows::micros(event.recorded_at),
        ));
    }
    let inserted = sqlx::query(include_str!("sql/insert_events.sql"))
        .bind(rows_json(&rows_of)?)
        .bind(transaction)
        .fetch_all(&mut **tx)
        .await;
    match inserted {
        Ok(rows) => {
            for row in &rows {
                let stream_id = row.try_get::<Hyphenated, _>("stream_id")?.into_uuid();
                let position = s::position(row.try_get("global_position")?)?;
                positions.insert((stream_id, row.try_get("sequence")?), position);
            }
            Ok(positions)
        }
        Err(e) if errors::is_unique_violation(&e) => {
            // The failed statement wrote nothing; the transaction goes on.
            for (event, row) in events.iter().zip(&rows_of) {
                let inserted = sqlx::query(include_str!("sql/insert_event.sql"))
                    .bind(row.0)
                    .bind(row.1)
                    .bind(row.2)
                    .bind(row.3)
                    .bind(row.4)
                    .bind(row.5)
                    .bind(&row.6)
                    .bind(&row.7)
                    .bind(row.8)
                    .bind(transaction)
                    .fetch_one(&mut **tx)
                    .await;
                let Some(row) = unless_clashed(inserted)? else {
                    return Err(JournalError::StreamConflict {
                        stream: event.stream,
                        sequence: event.sequence,
                    }
                    .into());
                };
                let position = s::position(row.try_get("global_position")?)?;
                positions.insert((event.stream.id, event.sequence), position);
            }
            Ok(positions)
        }
        Err(e) => Err(e.into()),
    }
}

/// Claims the unique keys of all batches with one statement; when a key is taken, claims them
/// one by one to name it.
async fn insert_claims(
    tx: &mut Transaction<'_, Sqlite>,
    batches: &[AppendBatch],
) -> Result<(), Failure> {
    let claims: Vec<_> = s::all_claims(batches).collect();
    if claims.is_empty() {
        return Ok(());
    }
    let now = rows::micros(Utc::now());
    let listed: Vec<_> = claims
        .iter()
        .map(|c| (&c.namespace, &c.key, c.owner.hyphenated(), &c.request_id))
        .collect();
    let inserted = sqlx::query(include_str!("sql/insert_claims.sql"))
        .bind(rows_json(&listed)?)
        .bind(now)
        .execute(&mut **tx)
        .await;
    match inserted {
        Ok(_) => Ok(()),
        Err(e) if errors::is_unique_violation(&e) => {
            for claim in claims {
                let inserted = sqlx::query(include_str!("sql/insert_claim.sql"))
                    .bind(&claim.namespace)
                    .bind(&claim.key)
                    .bind(claim.owner.hyphenated())
                    .bind(claim.request_id.as_deref())
                    .bind(now)
                    .execute(&mut **tx)
                    .await;
                if unless_clashed(inserted)?.is_none() {
                    return Err(Failure::ClaimTaken {
                        namespace: claim.namespace.clone(),
                        key: claim.key.clone(),
                    });
                }
            }
            Err(e.into())
        }
        Err(e) => Err(e.into()),
    }
}

/// Applies the key changes of the batches in order, after checking that no master key they
/// wrap new keys with is retired.
async fn apply_keys(
    tx: &mut Transaction<'_, Sqlite>,
    batches: &[AppendBatch],
) -> Result<(), Failure> {
    if s::all_key_changes(batches).next().is_none() {
        return Ok(());
    }
    let masters = s::wrapping_master_keys(batches);
    if !masters.is_empty() {
        let registered = sqlx::query(include_str!("sql/master_key_states.sql"))
            .bind(rows_json(&masters)?)
            .fetch_all(&mut **tx)
            .await?;
        for row in &registered {
            if row.try_get::<Option<i64>, _>("retired_at")?.is_some() {
                return Err(s::retired_master_key(&row.try_get::<String, _>("id")?).into());
            }
        }
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
                        .bind(tenant_id.uuid().hyphenated())
                        .bind(subject_id.hyphenated())
                        .bind(rows::micros(at))
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
                        .bind(tenant_id.uuid().hyphenated())
                        .bind(rows::micros(at))
                        .execute(&mut **tx)
                        .await?;
                }
            }
        }
    }
    Ok(())
}

/// Creates keys with one statement; when one exists, creates them one by one to name it.
async fn insert_keys(tx: &mut Transaction<'_, Sqlite>, keys: &[&StoredKey]) -> Result<(), Failure> {
    let listed: Vec<_> = keys
        .iter()
        .map(|key| {
            (
                key.tenant_id.uuid().hyphenated(),
                key.subject_id.hyphenated(),
                key.purpose.as_str(),
                key.version,
                key.wrapped.as_deref().map(hex),
                key.master_key_id.as_deref(),
                rows::micros(key.created_at),
                key.shredded_at.map(rows::micros),
            )
        })
        .collect();
    let inserted = sqlx::query(include_str!("sql/insert_keys.sql"))
        .bind(rows_json(&listed)?)
        .execute(&mut **tx)
        .await;
    match inserted {
        Ok(_) => Ok(()),
        Err(e) if errors::is_unique_violation(&e) => {
            for key in keys {
                let inserted = sqlx::query(include_str!("sql/insert_key.sql"))
                    .bind(key.tenant_id.uuid().hyphenated())
                    .bind(key.subject_id.hyphenated())
                    .bind(key.purpose.as_str())
                    .bind(key.version)
                    .bind(key.wrapped.as_deref())
                    .bind(key.master_key_id.as_deref())
                    .bind(rows::micros(key.created_at))
                    .bind(key.shredded_at.map(rows::micros))
                    .execute(&mut **tx)
                    .await;
                if unless_clashed(inserted)?.is_none() {
                    return Err(s::key_taken(key).into());
                }
            }
            Err(e.into())
        }
        Err(e) => Err(e.into()),
    }
}

/// A row statement's outcome in the one-by-one pass that names a clash: its result, `None`
/// when it broke a unique key, any other error as it is.
fn unless_clashed<T>(result: std::result::Result<T, sqlx::Error>) -> Result<Option<T>, Failure> {
    match result {
        Ok(done) => Ok(Some(done)),
        Err(e) if errors::is_unique_violation(&e) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Bytes as lowercase hex (SQLite's `unhex` reads them back).
fn hex(bytes: &[u8]) -> String {
    crate::hex::encode(bytes)
}

/// The rows of a bulk statement as the one JSON array it binds (`json_each(?1)`): one
/// parameter, so the statement's text and its prepared form do not change with the number of
/// rows, and no placeholder per value for SQLite to look up.
fn rows_json<T: Serialize>(rows: &[T]) -> Result<String, Failure> {
    serde_json::to_string(rows)
        .map_err(|e| JournalError::Database(format!("cannot encode the rows: {e}")).into())
}

/// A value as stored JSON text.
fn json_text<T: Serialize>(value: &T, what: &str) -> Result<String> {
    serde_json::to_string(value)
        .map_err(|e| JournalError::Database(format!("cannot encode event {what}: {e}")))
}
