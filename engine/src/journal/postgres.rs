//! PostgreSQL journal: the production store.
//!
//! [`PostgresJournal::connect`] opens a pool, [`PostgresJournal::migrate`] creates the tables of
//! `migrations/postgres`. An append writes all events of all its batches with one multi-row
//! `INSERT … SELECT FROM UNNEST(…)` (the group-commit hot path: one round trip however many
//! events); with its claims, new keys and timer changes it is one statement outside a
//! transaction, on a pool of its own (see `append`). Every event records the writing
//! transaction's `xid8`, which is also the receipts' `transaction_id`.
//!
//! Errors: SQLSTATE 23505 on `(stream_id, sequence)` becomes
//! [`JournalError::StreamConflict`], on `unique_keys` [`JournalError::UniqueViolation`] with
//! the current holder, on `personal_keys` a [`JournalError::UniqueViolation`] in
//! [`KEY_NAMESPACE`](super::KEY_NAMESPACE); a lost or refused connection is
//! [`JournalError::Unavailable`]; rows that fail validation are [`JournalError::Corrupt`].
//!
//! The key table (`personal_keys`, `master_keys`) is written by appends
//! ([`AppendBatch::keys`]) and by the rotation methods of [`KeyStore`], and read on the pool.

mod append;
mod errors;
mod rows;
mod tail;

use std::{str::FromStr, sync::Arc, time::Duration};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Connection, PgConnection, PgPool, Postgres, postgres::PgConnectOptions};
use uuid::Uuid;

use super::{
    AppendBatch, AppendReceipt, DueTimer, EventLog, JournalError, KeptConnections, KeyStore,
    MasterKeyRecord, RecordedEvent, Result, Snapshot, SnapshotStore, StoredKey, TimerStore,
    UniqueClaim, pool_options,
};
use crate::domain::{StreamId, TenantId};

/// A session idle inside a transaction longer than this is ended by the server, so that one
/// stuck transaction cannot stall every projection (DESIGN §4, gap-safe order).
const IDLE_IN_TRANSACTION_TIMEOUT: &str = "30s";

/// How long a caller waits for a pooled connection before the store reports
/// [`JournalError::Unavailable`].
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// The PostgreSQL event journal. Cheap to clone (shares the pools).
#[derive(Clone, Debug)]
pub struct PostgresJournal {
    /// Reads, snapshots, timers, keys, and the components that share the database.
    pool: PgPool,
    /// Appends only, a quarter of the connections, kept between appends (no round trip to
    /// check each on release). Its sessions plan statements once (`plan_cache_mode =
    /// force_generic_plan`): the append statement's custom plan, which PostgreSQL would
    /// otherwise redo for every call, costs more than its execution.
    appends: Arc<KeptConnections<Postgres>>,
}

impl PostgresJournal {
    /// Connects at most `max_connections` (at least 2) to `url`
    /// (`postgres://user@host:port/database`): a quarter for appends, the rest for everything
    /// else. Does not create tables: see [`migrate`](Self::migrate).
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| JournalError::Database(format!("invalid database url: {e}")))?
            .options([(
                "idle_in_transaction_session_timeout",
                IDLE_IN_TRANSACTION_TIMEOUT,
            )]);
        let unavailable = |e: sqlx::Error| {
            JournalError::Unavailable(format!("cannot connect to PostgreSQL: {e}"))
        };
        // One direct attempt first: the pool would retry a refused connection until its
        // acquire timeout, and a caller starting up wants to know at once.
        PgConnection::connect_with(&options)
            .await
            .map_err(unavailable)?
            .close()
            .await
            .ok();
        let appending = (max_connections / 4).max(1);
        let appends = pool_options::<Postgres>()
            .max_connections(appending)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(
                options
                    .clone()
                    .options([("plan_cache_mode", "force_generic_plan")]),
            )
            .await
            .map_err(unavailable)?;
        let pool = pool_options::<Postgres>()
            .max_connections(max_connections.saturating_sub(appending).max(1))
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(unavailable)?;
        Ok(Self {
            pool,
            appends: KeptConnections::new(appends),
        })
    }

    /// Applies the migrations of `migrations/postgres` that are not applied yet.
    pub async fn migrate(&self) -> Result<()> {
        sqlx::migrate!("../migrations/postgres")
            .run(&self.pool)
            .await
            .map_err(errors::from_migrate)
    }

    /// The connection pool, for components that keep their own tables in the same database.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

#[async_trait]
impl EventLog for PostgresJournal {
    async fn append(&self, batches: &[AppendBatch]) -> Result<Vec<AppendReceipt>> {
        let mut connection = self.appends.take().await.map_err(errors::from_sqlx)?;
        let outcome = append::append(&mut connection, batches).await;
        // A refusal leaves the connection as good as a success does; after any other error
        // it goes back to the pool, whose check closes it if it broke.
        if outcome.as_ref().err().is_none_or(JournalError::is_refusal) {
            connection.keep();
        }
        outcome
    }

    /// The connections of the appends' pool.
    fn concurrent_appends(&self) -> usize {
        self.appends.pool().options().get_max_connections() as usize
    }

    async fn read_stream(
        &self,
        stream: StreamId,
        after_sequence: i64,
    ) -> Result<Vec<RecordedEvent>> {
        let rows = sqlx::query(include_str!("postgres/sql/read_stream.sql"))
            .bind(stream.id)
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
        let rows = sqlx::query(include_str!("postgres/sql/read_tenant.sql"))
            .bind(tenant_id.uuid())
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
        let rows = sqlx::query(include_str!("postgres/sql/read_all.sql"))
            .bind(after_position)
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .map_err(errors::from_sqlx)?;
        rows.iter().map(rows::event).collect()
    }

    async fn unique_claim(&self, namespace: &str, key: &str) -> Result<Option<UniqueClaim>> {
        let row = sqlx::query(include_str!("postgres/sql/unique_claim.sql"))
            .bind(namespace)
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(errors::from_sqlx)?;
        row.as_ref().map(rows::claim).transpose()
    }
}

#[async_trait]
impl SnapshotStore for PostgresJournal {
    async fn load_snapshot(
        &self,
        aggregate_kind: &str,
        aggregate_id: Uuid,
    ) -> Result<Option<Snapshot>> {
        let row = sqlx::query(include_str!("postgres/sql/load_snapshot.sql"))
            .bind(aggregate_kind)
            .bind(aggregate_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(errors::from_sqlx)?;
        row.as_ref().map(rows::snapshot).transpose()
    }

    async fn save_snapshot(&self, snapshot: &Snapshot) -> Result<()> {
        sqlx::query(include_str!("postgres/sql/save_snapshot.sql"))
            .bind(&snapshot.aggregate_kind)
            .bind(snapshot.aggregate_id)
            .bind(snapshot.schema_version)
            .bind(snapshot.last_position)
            .bind(&snapshot.state)
            .bind(snapshot.taken_at)
            .execute(&self.pool)
            .await
            .map_err(errors::from_sqlx)?;
        Ok(())
    }
}

#[async_trait]
impl TimerStore for PostgresJournal {
    async fn due_timers(&self, now: DateTime<Utc>, limit: i64) -> Result<Vec<DueTimer>> {
        if limit <= 0 {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(include_str!("postgres/sql/due_timers.sql"))
            .bind(now)
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .map_err(errors::from_sqlx)?;
        rows.iter().map(rows::timer).collect()
    }
}

#[async_trait]
impl KeyStore for PostgresJournal {
    async fn tenant_keys(&self, tenant_id: TenantId) -> Result<Vec<StoredKey>> {
        let rows = sqlx::query(include_str!("postgres/sql/tenant_keys.sql"))
            .bind(tenant_id.uuid())
            .fetch_all(&self.pool)
            .await
            .map_err(errors::from_sqlx)?;
        rows.iter().map(rows::key).collect()
    }

    async fn subject_keys(&self, subject_ids: &[Uuid]) -> Result<Vec<StoredKey>> {
        if subject_ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(include_str!("postgres/sql/subject_keys.sql"))
            .bind(subject_ids)
            .fetch_all(&self.pool)
            .await
            .map_err(errors::from_sqlx)?;
        rows.iter().map(rows::key).collect()
    }

    async fn master_keys(&self) -> Result<Vec<MasterKeyRecord>> {
        let rows = sqlx::query(include_str!("postgres/sql/master_keys.sql"))
            .fetch_all(&self.pool)
            .await
            .map_err(errors::from_sqlx)?;
        rows.iter().map(rows::master_key).collect()
    }

    async fn register_master_key(&self, id: &str, at: DateTime<Utc>) -> Result<()> {
        sqlx::query(include_str!("postgres/sql/register_master_key.sql"))
            .bind(id)
            .bind(at)
            .execute(&self.pool)
            .await
            .map_err(errors::from_sqlx)?;
        Ok(())
    }

    async fn retire_master_key(&self, id: &str, at: DateTime<Utc>) -> Result<()> {
        sqlx::query(include_str!("postgres/sql/retire_master_key.sql"))
            .bind(id)
            .bind(at)
            .execute(&self.pool)
            .await
            .map_err(errors::from_sqlx)?;
        Ok(())
    }

    async fn abandon_master_key(&self, id: &str, at: DateTime<Utc>) -> Result<u64> {
        let mut tx = self.pool.begin().await.map_err(errors::from_sqlx)?;
        sqlx::query(include_str!("postgres/sql/abandon_index_keys.sql"))
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(errors::from_sqlx)?;
        let destroyed = sqlx::query(include_str!("postgres/sql/abandon_master_key.sql"))
            .bind(id)
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(errors::from_sqlx)?
            .rows_affected();
        sqlx::query(include_str!("postgres/sql/retire_master_key.sql"))
            .bind(id)
            .bind(at)
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
        let rows = sqlx::query(include_str!("postgres/sql/keys_wrapped_by.sql"))
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
        let done = sqlx::query(include_str!("postgres/sql/rewrap_key.sql"))
            .bind(key.tenant_id.uuid())
            .bind(key.subject_id)
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
