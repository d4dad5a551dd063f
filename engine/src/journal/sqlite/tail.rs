//! [`JournalTail`] for SQLite: one writer, transaction ids in commit order, so the tail is a
//! plain ordered read (see `journal/tail.rs`).

use async_trait::async_trait;
use sqlx::{Row, sqlite::SqliteRow};
use uuid::Uuid;

use super::{SqliteJournal, errors, rows};
use crate::journal::{CommitToken, JournalError, RecordedEvent, Result, tail::JournalTail};

/// The stored form of a token's transaction id (SQLite integers are signed).
fn stored_transaction(after: CommitToken) -> i64 {
    i64::try_from(after.transaction_id).unwrap_or(i64::MAX)
}

/// A token read back from two columns.
fn token(row: &SqliteRow) -> Result<CommitToken> {
    let corrupt = |e: sqlx::Error| JournalError::Corrupt(format!("cannot read events: {e}"));
    let transaction_id: i64 = row.try_get("transaction_id").map_err(corrupt)?;
    Ok(CommitToken {
        transaction_id: u64::try_from(transaction_id).map_err(|_| {
            JournalError::Corrupt(format!("invalid transaction id {transaction_id}"))
        })?,
        position: row.try_get("global_position").map_err(corrupt)?,
    })
}

#[async_trait]
impl JournalTail for SqliteJournal {
    async fn read_committed(&self, after: CommitToken, limit: i64) -> Result<Vec<RecordedEvent>> {
        if limit <= 0 {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(include_str!("sql/tail_read_committed.sql"))
            .bind(stored_transaction(after))
            .bind(after.position)
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .map_err(errors::from_sqlx)?;
        rows.iter().map(rows::event).collect()
    }

    async fn count_after(&self, after: CommitToken, cap: i64) -> Result<i64> {
        let row = sqlx::query(include_str!("sql/tail_count_after.sql"))
            .bind(stored_transaction(after))
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
        row.as_ref().map(token).transpose()
    }

    async fn locate(&self, events: &[(Uuid, i64)]) -> Result<Vec<Option<CommitToken>>> {
        let mut found = Vec::with_capacity(events.len());
        for (stream_id, sequence) in events {
            let row = sqlx::query(include_str!("sql/tail_locate.sql"))
                .bind(stream_id.hyphenated())
                .bind(*sequence)
                .fetch_optional(&self.pool)
                .await
                .map_err(errors::from_sqlx)?;
            found.push(row.as_ref().map(token).transpose()?);
        }
        Ok(found)
    }
}
