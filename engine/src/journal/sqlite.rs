//! SQLite journal: the embedded single-node store, with the behaviour of
//! [`PostgresJournal`](super::postgres::PostgresJournal).
//!
//! One database file in WAL mode: reads run concurrently on a small pool; writes are
//! serialized (an in-process lock plus `BEGIN IMMEDIATE`, so another process waits on the
//! busy timeout instead of failing). An append inserts its events one statement at a time
//! inside one transaction — cheap, as SQLite has no round trips.
//!
//! SQLite has no transaction ids: each append increments the single row of
//! `journal_transactions` in its own transaction and uses the new value as the transaction id of
//! all its batches. It is therefore shared by one append and strictly rising across appends
//! (including appends without events), starting at 1.
//!
//! Storage formats (see `migrations/sqlite`): UUIDs as hyphenated text, JSON as text,
//! timestamps as integer microseconds since the Unix epoch (UTC), the precision PostgreSQL keeps,
//! bytes (wrapped keys) as blobs. Lists of ids are bound as one JSON array (`json_each`).

mod append;
mod errors;
mod rows;
mod tail;

use std::{path::Path, sync::Arc, time::Duration};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{
    SqlitePool,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};
use tokio::sync::Mutex;
use uuid::Uuid;

use super::{
    AppendBatch, AppendReceipt, DueTimer, EventLog, JournalError, KeyStore, MasterKeyRecord,
    RecordedEvent, Result, Snapshot, SnapshotStore, StoredKey, TimerStore, UniqueClaim,
};
use crate::domain::{StreamId, TenantId};

/// Connections of the pool (readers run concurrently in WAL mode; one writes at a time).
const MAX_CONNECTIONS: u32 = 4;

/// How long a statement waits for another process's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The SQLite event journal. Cheap to clone (shares the pool and the write lock).
#[derive(Clone, Debug)]
pub struct SqliteJournal {
    pool: SqlitePool,
    /// Serializes this process's write transactions.
    write_lock: Arc<Mutex<()>>,
}

impl SqliteJournal {
    /// Opens (creating it if missing) the database file at `path`, in WAL mode with a busy
    /// timeout and foreign keys on, and `secure_delete` (deleted or overwritten rows are zeroed
    /// in the file, so an erased person's read-model rows leave no bytes behind). Does not
    /// create tables: see [`migrate`](Self::migrate).
    pub async fn open(path: &Path) -> Result<Self> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true)
            .pragma("secure_delete", "ON");
        let pool = SqlitePoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .connect_with(options)
            .await
            .map_err(|e| {
                JournalError::Unavailable(format!("cannot open {}: {e}", path.display()))
            })?;
        Ok(Self {
            pool,
            write_lock: Arc::new(Mutex::new(())),
        })
    }

    /// Applies the migrations of `migrations/sqlite` that are not applied yet.
    pub async fn migrate(&self) -> Result<()> {
        let _write = self.write_lock.lock().await;
        sqlx::migrate!("../migrations/sqlite")
            .run(&self.pool)
            .await
            .map_err(errors::from_migrate)
    }

    /// The connection pool, for reads and for components that keep their own tables in the
    /// same file. Writers should use `BEGIN IMMEDIATE` transactions.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

#[async_trait]
impl EventLog for SqliteJournal {
    async fn append(&self, batches: &[AppendBatch]) -> Result<Vec<AppendReceipt>> {
        if batches.is_empty() {
            return Ok(Vec::new());
        }
        if let Some(fence) = batches.iter().find_map(|b| b.fence.as_ref()) {
            // The embedded store serves one node, which owns every shard.
            return Err(JournalError::Fenced {
                shard: fence.shard,
                owner: fence.owner.clone(),
                epoch: fence.epoch,
            });
        }
        let _write = self.write_lock.lock().await;
        append::append(&self.pool, batches).await
    }

    async fn read_stream(
        &self,
        stream: StreamId,
        after_sequence: i64,
    ) -> Result<Vec<RecordedEvent>> {
        let rows = sqlx::query(include_str!("sqlite/sql/read_stream.sql"))
            .bind(stream.id.hyphenated())
            .bind(after_sequence)
            .fetch_all(&self.pool)
            .await
            .map_err(errors::from_sqlx)?;
        let events = rows.iter().map(rows::event).collect::<Result<Vec<_>>>()?;
        if let Some(other) = events.iter().find(|e| e.stream != stream) {
            return Err(JournalError::Corrupt(format!(
                "stream {} has an event of stream type {} at position {}",
                stream,
                other.stream.kind.as_str(),
                other.position
            )));
        }
        Ok(events)
    }

    async fn read_tenant(
        &self,
        tenant_id: TenantId,
        after_position: i64,
    ) -> Result<Vec<RecordedEvent>> {
        let rows = sqlx::query(include_str!("sqlite/sql/read_tenant.sql"))
            .bind(tenant_id.uuid().hyphenated())
            .bind(after_position)
            .fetch_all(&self.pool)
            .await
            .map_err(errors::from_sqlx)?;
        rows.iter().map(rows::event).collect()
    }

    async fn read_all(&self, after_position: i64, limit: i64) -> Result<Vec<RecordedEvent>> {
        if limit <= 0 {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(include_str!("sqlite/sql/read_all.sql"))
            .bind(after_position)
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .map_err(errors::from_sqlx)?;
        rows.iter().map(rows::event).collect()
    }

    async fn unique_claim(&self, namespace: &str, key: &str) -> Result<Option<UniqueClaim>> {
        let row = sqlx::query(include_str!("sqlite/sql/unique_claim.sql"))
            .bind(namespace)
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(errors::from_sqlx)?;
        row.as_ref().map(rows::claim).transpose()
    }
}

#[async_trait]
impl SnapshotStore for SqliteJournal {
    async fn load_snapshot(
        &self,
        aggregate_kind: &str,
        aggregate_id: Uuid,
    ) -> Result<Option<Snapshot>> {
        let row = sqlx::query(include_str!("sqlite/sql/load_snapshot.sql"))
            .bind(aggregate_kind)
            .bind(aggregate_id.hyphenated())
            .fetch_optional(&self.pool)
            .await
            .map_err(errors::from_sqlx)?;
        row.as_ref().map(rows::snapshot).transpose()
    }

    async fn save_snapshot(&self, snapshot: &Snapshot) -> Result<()> {
        let _write = self.write_lock.lock().await;
        sqlx::query(include_str!("sqlite/sql/save_snapshot.sql"))
            .bind(&snapshot.aggregate_kind)
            .bind(snapshot.aggregate_id.hyphenated())
            .bind(snapshot.schema_version)
            .bind(snapshot.last_position)
            .bind(&snapshot.state)
            .bind(rows::micros(snapshot.taken_at))
            .execute(&self.pool)
            .await
            .map_err(errors::from_sqlx)?;
        Ok(())
    }
}

#[async_trait]
impl TimerStore for SqliteJournal {
    async fn due_timers(&self, now: DateTime<Utc>, limit: i64) -> Result<Vec<DueTimer>> {
        if limit <= 0 {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(include_str!("sqlite/sql/due_timers.sql"))
            .bind(rows::micros(now))
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .map_err(errors::from_sqlx)?;
        rows.iter().map(rows::timer).collect()
    }
}

#[async_trait]
impl KeyStore for SqliteJournal {
    async fn tenant_keys(&self, tenant_id: TenantId) -> Result<Vec<StoredKey>> {
        let rows = sqlx::query(include_str!("sqlite/sql/tenant_keys.sql"))
            .bind(tenant_id.uuid().hyphenated())
            .fetch_all(&self.pool)
            .await
            .map_err(errors::from_sqlx)?;
        rows.iter().map(rows::key).collect()
    }

    async fn subject_keys(&self, subject_ids: &[Uuid]) -> Result<Vec<StoredKey>> {
        if subject_ids.is_empty() {
            return Ok(Vec::new());
        }
        // Serialized as hyphenated text, the stored form.
        let ids = serde_json::to_string(subject_ids)
            .map_err(|e| JournalError::Database(format!("cannot encode subject ids: {e}")))?;
        let rows = sqlx::query(include_str!("sqlite/sql/subject_keys.sql"))
            .bind(ids)
            .fetch_all(&self.pool)
            .await
            .map_err(errors::from_sqlx)?;
        rows.iter().map(rows::key).collect()
    }

    async fn master_keys(&self) -> Result<Vec<MasterKeyRecord>> {
        let rows = sqlx::query(include_str!("sqlite/sql/master_keys.sql"))
            .fetch_all(&self.pool)
            .await
            .map_err(errors::from_sqlx)?;
        rows.iter().map(rows::master_key).collect()
    }

    async fn register_master_key(&self, id: &str, at: DateTime<Utc>) -> Result<()> {
        let _write = self.write_lock.lock().await;
        sqlx::query(include_str!("sqlite/sql/register_master_key.sql"))
            .bind(id)
            .bind(rows::micros(at))
            .execute(&self.pool)
            .await
            .map_err(errors::from_sqlx)?;
        Ok(())
    }

    async fn retire_master_key(&self, id: &str, at: DateTime<Utc>) -> Result<()> {
        let _write = self.write_lock.lock().await;
        sqlx::query(include_str!("sqlite/sql/retire_master_key.sql"))
            .bind(id)
            .bind(rows::micros(at))
            .execute(&self.pool)
            .await
            .map_err(errors::from_sqlx)?;
        Ok(())
    }

    async fn abandon_master_key(&self, id: &str, at: DateTime<Utc>) -> Result<u64> {
        let _write = self.write_lock.lock().await;
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(errors::from_sqlx)?;
        sqlx::query(include_str!("sqlite/sql/abandon_index_keys.sql"))
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(errors::from_sqlx)?;
        let destroyed = sqlx::query(include_str!("sqlite/sql/abandon_master_key.sql"))
            .bind(id)
            .bind(rows::micros(at))
            .execute(&mut *tx)
            .await
            .map_err(errors::from_sqlx)?
            .rows_affected();
        sqlx::query(include_str!("sqlite/sql/retire_master_key.sql"))
            .bind(id)
            .bind(rows::micros(at))
            .execute(&mut *tx)
            .await
            .map_err(errors::from_sqlx)?;
        tx.commit().await.map_err(errors::from_sqlx)?;
        Ok(destroyed)
    }

    async fn keys_wrapped_by(&self, master_key_id: &str, limit: i64) -> Result<Vec<StoredKey>> {
        if limit <= 0 {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(include_str!("sqlite/sql/keys_wrapped_by.sql"))
            .bind(master_key_id)
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .map_err(errors::from_sqlx)?;
        rows.iter().map(rows::key).collect()
    }

    async fn rewrap_key(
        &self,
        key: &StoredKey,
        from_master: &str,
        wrapped: &[u8],
        to_master: &str,
    ) -> Result<bool> {
        let _write = self.write_lock.lock().await;
        let done = sqlx::query(include_str!("sqlite/sql/rewrap_key.sql"))
            .bind(key.tenant_id.uuid().hyphenated())
            .bind(key.subject_id.hyphenated())
            .bind(key.purpose.as_str())
            .bind(key.version)
            .bind(wrapped)
            .bind(to_master)
            .bind(from_master)
            .execute(&self.pool)
            .await
            .map_err(errors::from_sqlx)?;
        Ok(done.rows_affected() == 1)
    }
}
