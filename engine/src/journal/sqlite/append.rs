//! The append transaction. Statements run one by one inside `BEGIN IMMEDIATE … COMMIT`, so a
//! failing statement names the event or key that clashed: events, claims, key changes (in
//! order, after checking the master keys that wrap new keys), timers.

use std::collections::HashMap;

use chrono::Utc;
use serde::Serialize;
use sqlx::{Row, Sqlite, SqlitePool, Transaction};

use super::{errors, rows};
use crate::{
    domain::StreamId,
    journal::{
        AppendBatch, AppendReceipt, JournalError, Result,
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

/// Appends all batches in one transaction. The caller holds the journal's write lock.
pub(super) async fn append(
    pool: &SqlitePool,
    batches: &[AppendBatch],
) -> Result<Vec<AppendReceipt>> {
    let firsts = s::first_sequences(batches)?;
    let mut tx = pool
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
                        .fetch_optional(pool)
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
    tx: &mut Transaction<'static, Sqlite>,
    batches: &[AppendBatch],
    firsts: &[(StreamId, i64)],
) -> Result<Vec<AppendReceipt>, Failure> {
    // The write lock is held: stream heads cannot move until commit.
    let mut heads = HashMap::with_capacity(firsts.len());
    for (stream, _) in firsts {
        let row = sqlx::query(include_str!("sql/stream_head.sql"))
            .bind(stream.id.hyphenated())
            .fetch_one(&mut **tx)
            .await?;
        heads.insert(stream.id, row.try_get::<i64, _>("head")?);
    }
    if let Some(conflict) = s::misplaced(firsts, |id| heads.get(&id).copied().unwrap_or(0)) {
        return Err(conflict.into());
    }
    let row = sqlx::query(include_str!("sql/next_transaction.sql"))
        .fetch_one(&mut **tx)
        .await?;
    let transaction_id = s::transaction_id(row.try_get("last_transaction_id")?)?;
    let mut receipts = Vec::with_capacity(batches.len());
    for batch in batches {
        let mut receipt = AppendReceipt {
            first_position: 0,
            last_position: 0,
            transaction_id,
        };
        for event in &batch.events {
            let inserted = sqlx::query(include_str!("sql/insert_event.sql"))
                .bind(event.tenant_id.uuid().hyphenated())
                .bind(event.stream.kind.as_str())
                .bind(event.stream.id.hyphenated())
                .bind(event.sequence)
                .bind(&event.event_type)
                .bind(event.schema_version)
                .bind(json_text(&event.payload, "payload")?)
                .bind(json_text(&event.metadata, "metadata")?)
                .bind(rows::micros(event.recorded_at))
                .bind(
                    i64::try_from(transaction_id)
                        .map_err(|_| s::corrupt("transaction id overflow"))?,
                )
                .fetch_one(&mut **tx)
                .await;
            let row = match inserted {
                Ok(row) => row,
                Err(e) if errors::is_unique_violation(&e) => {
                    return Err(JournalError::StreamConflict {
                        stream: event.stream,
                        sequence: event.sequence,
                    }
                    .into());
                }
                Err(e) => return Err(e.into()),
            };
            let position = s::position(row.try_get("global_position")?)?;
            if receipt.first_position == 0 {
                receipt.first_position = position;
            }
            receipt.last_position = position;
        }
        receipts.push(receipt);
    }
    let now = rows::micros(Utc::now());
    for release in s::all_releases(batches) {
        sqlx::query(include_str!("sql/release_claim.sql"))
            .bind(&release.namespace)
            .bind(&release.key)
            .bind(release.owner.hyphenated())
            .execute(&mut **tx)
            .await?;
    }
    for claim in s::all_claims(batches) {
        let inserted = sqlx::query(include_str!("sql/insert_claim.sql"))
            .bind(&claim.namespace)
            .bind(&claim.key)
            .bind(claim.owner.hyphenated())
            .bind(claim.request_id.as_deref())
            .bind(now)
            .execute(&mut **tx)
            .await;
        match inserted {
            Ok(_) => {}
            Err(e) if errors::is_unique_violation(&e) => {
                return Err(Failure::ClaimTaken {
                    namespace: claim.namespace.clone(),
                    key: claim.key.clone(),
                });
            }
            Err(e) => return Err(e.into()),
        }
    }
    apply_keys(tx, batches).await?;
    let plan = s::fold_timers(batches);
    for (tenant_id, kind, due_at) in plan.set {
        sqlx::query(include_str!("sql/set_timer.sql"))
            .bind(tenant_id.uuid().hyphenated())
            .bind(kind)
            .bind(rows::micros(due_at))
            .execute(&mut **tx)
            .await?;
    }
    for (tenant_id, kind) in plan.clear {
        sqlx::query(include_str!("sql/clear_timer.sql"))
            .bind(tenant_id.uuid().hyphenated())
            .bind(kind)
            .execute(&mut **tx)
            .await?;
    }
    Ok(receipts)
}

/// Applies the key changes of the batches in order, after checking that no master key they
/// wrap new keys with is retired.
async fn apply_keys(
    tx: &mut Transaction<'static, Sqlite>,
    batches: &[AppendBatch],
) -> Result<(), Failure> {
    if s::all_key_changes(batches).next().is_none() {
        return Ok(());
    }
    let masters = s::wrapping_master_keys(batches);
    if !masters.is_empty() {
        let ids = serde_json::to_string(&masters)
            .map_err(|e| JournalError::Database(format!("cannot encode master key ids: {e}")))?;
        let registered = sqlx::query(include_str!("sql/master_key_states.sql"))
            .bind(ids)
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
            KeyStep::Create(keys) => {
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
                    match inserted {
                        Ok(_) => {}
                        Err(e) if errors::is_unique_violation(&e) => {
                            return Err(s::key_taken(key).into());
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
            }
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

/// A value as stored JSON text.
fn json_text<T: Serialize>(value: &T, what: &str) -> Result<String> {
    serde_json::to_string(value)
        .map_err(|e| JournalError::Database(format!("cannot encode event {what}: {e}")))
}
