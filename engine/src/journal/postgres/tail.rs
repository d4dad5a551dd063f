//! [`JournalTail`] for PostgreSQL: the xid horizon of `pg_current_snapshot()`.

use async_trait::async_trait;
use sqlx::Row;
use uuid::Uuid;

use super::{PostgresJournal, errors, rows};
use crate::journal::{CommitToken, JournalError, RecordedEvent, Result, tail::JournalTail};

/// A token read back from two columns.
fn token(row: &sqlx::postgres::PgRow) -> Result<Option<CommitToken>> {
    let corrupt = |e: sqlx::Error| JournalError::Corrupt(format!("cannot read events: {e}"));
    let transaction_id: Option<i64> = row.try_get("transaction_id").map_err(corrupt)?;
    let position: Option<i64> = row.try_get("global_position").map_err(corrupt)?;
    match (transaction_id, position) {
        (Some(transaction_id), Some(position)) => Ok(Some(CommitToken {
            transaction_id: u64::try_from(transaction_id).map_err(|_| {
                JournalError::Corrupt(format!("invalid transaction id {transaction_id}"))
            })?,
            position,
        })),
        _ => Ok(None),
    }
}

#[async_trait]
impl JournalTail for PostgresJournal {
    async fn read_committed(&self, after: CommitToken, limit: i64) -> Result<Vec<RecordedEvent>> {
        if limit <= 0 {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(include_str!("sql/tail_read_committed.sql"))
            .bind(after.transaction_id.to_string())
            .bind(after.position)
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .map_err(errors::from_sqlx)?;
        rows.iter().map(rows::event).collect()
    }

    async fn count_after(&self, after: CommitToken, cap: i64) -> Result<i64> {
        let row = sqlx::query(include_str!("sql/tail_count_after.sql"))
            .bind(after.transaction_id.to_string())
            .bind(after.position)
            .bind(cap.max(0))
            .fetch_one(&self.pool)
            .await
            .map_err(errors::from_sqlx)?;
        row.try_get("behind")
            .map_err(|e| JournalError::Corrupt(format!("cannot read event count: {e}")))
    }

    async fn head(&self) -> Result<Option<CommitToken>> {
        let row = sqlx::query(include_str!("sql/tail_head.sql"))
            .fetch_optional(&self.pool)
            .await
            .map_err(errors::from_sqlx)?;
        match row {
            Some(row) => token(&row),
            None => Ok(None),
        }
    }

    async fn locate(&self, events: &[(Uuid, i64)]) -> Result<Vec<Option<CommitToken>>> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let (streams, sequences): (Vec<Uuid>, Vec<i64>) = events.iter().copied().unzip();
        let rows = sqlx::query(include_str!("sql/tail_locate.sql"))
            .bind(streams)
            .bind(sequences)
            .fetch_all(&self.pool)
            .await
            .map_err(errors::from_sqlx)?;
        if rows.len() != events.len() {
            return Err(JournalError::Corrupt(format!(
                "locating {} events returned {} rows",
                events.len(),
                rows.len()
            )));
        }
        rows.iter().map(token).collect()
    }
}
