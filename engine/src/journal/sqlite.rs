//! SQLite journal: the embedded single-node store, with the behaviour of
//! [`PostgresJournal`](super::postgres::PostgresJournal).
//!
//! One database file in WAL mode for the journal, and one beside it for the read models
//! ([`read_models_path`]; see [`read_models`]): reads run concurrently on a small pool that
//! sees both files; each file's writes are serialized (an in-process lock plus `BEGIN
//! IMMEDIATE`, so another process waits on the busy timeout instead of failing), and the two
//! files' writers run side by side. An append inserts its events one statement at a time
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
pub mod read_models;
mod rows;
mod tail;

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{
    Connection, Sqlite, SqliteConnection, SqlitePool,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous},
};
use tokio::sync::{Mutex, OwnedMutexGuard};
use uuid::Uuid;

use super::{
    AppendBatch, AppendReceipt, DueTimer, EventLog, JournalError, Kept, KeptConnections, KeyStore,
    MasterKeyRecord, RecordedEvent, Result, Snapshot, SnapshotStore, StoredKey, TimerStore,
    UniqueClaim, pool_options,
};
use crate::domain::{StreamId, TenantId};

/// Connections of the read pool (readers run concurrently in WAL mode).
const MAX_CONNECTIONS: u32 = 4;

/// How long a statement waits for another process's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Page cache of each file's writing connection, in KiB (SQLite's default is 2,000). It holds
/// the inner pages of the file's indexes, which every write walks. Larger
/// is not better: SQLite scans the cache's hash table at the end of every transaction (32 MiB
/// measured slower than 4–16 MiB, BENCHMARKS.md).
const WRITER_CACHE_KIB: u32 = 8 * 1024;

/// WAL pages past which a commit checkpoints on its own (SQLite's default is 1,000): a
/// backstop should [`CHECKPOINT_EVERY`] fall behind. Below it the writer never checkpoints.
const AUTOCHECKPOINT_PAGES: u32 = 16_384;

/// How often a background task copies the WAL into the database file (a passive checkpoint:
/// it waits for no reader or writer).
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

/// The WAL file is truncated to this size when it restarts after a checkpoint.
const WAL_SIZE_LIMIT: u64 = 64 << 20;

/// The SQLite event journal. Cheap to clone (shares the pools and the writers).
#[derive(Clone, Debug)]
pub struct SqliteJournal {
    /// Reads, of both files (the read models' is attached as `read_models`).
    pool: SqlitePool,
    /// Every write of this process to the journal's file.
    writer: SqliteWriter,
    /// Every write of this process to the read models' file.
    read_models: SqliteWriter,
    /// The journal's file.
    path: PathBuf,
}

/// The file of the read models beside the journal at `journal`: `journal.db` →
/// `journal-read-models.db` in the same folder.
pub fn read_models_path(journal: &Path) -> PathBuf {
    let stem = journal
        .file_stem()
        .map_or_else(|| "journal".into(), |s| s.to_string_lossy());
    journal.with_file_name(format!("{stem}-read-models.db"))
}

/// The task that checkpoints the WAL in the background, so that the writer, whose turns every
/// write of the node waits for, never copies pages into the file itself (with SQLite's default
/// of a checkpoint every 1,000 WAL pages, nearly every commit of a busy node did, with two
/// flushes). A page changed by many commits between two checkpoints is copied once.
#[derive(Debug)]
struct Checkpoints(tokio::task::JoinHandle<()>);

impl Checkpoints {
    fn start(connection: SqlitePool) -> Self {
        Self(tokio::spawn(async move {
            let mut every = tokio::time::interval(CHECKPOINT_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                if let Err(error) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                    .execute(&connection)
                    .await
                {
                    tracing::warn!(%error, "WAL checkpoint failed; the next one retries");
                }
            }
        }))
    }
}

impl Drop for Checkpoints {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The one connection every write of this process to one file goes through (the journal's
/// appends, keys and timers; or the read models' and the snapshots', see
/// [`SqliteJournal::read_models_writer`]), and the lock that queues the writers for it. Its
/// file's background checkpoints run while a clone of it lives.
///
/// One connection, because in WAL mode a connection drops its whole page cache when another
/// connection has written since its last transaction: writers taking turns on several
/// connections each started cold and read the index pages they walk again. One lock, because
/// two writers that met on SQLite's own lock would not queue: the loser's busy handler sleeps
/// 1, 2, 5, 10 … up to 100 ms between tries, a stall of tens of milliseconds on a commit that
/// takes one (another process still meets it, and waits up to the busy timeout).
#[derive(Clone, Debug)]
pub struct SqliteWriter {
    /// Held for a turn; the connection's current `synchronous` setting (`None`: unknown, a
    /// turn that was changing it was cancelled).
    lock: Arc<Mutex<Option<Durability>>>,
    /// One connection, kept from turn to turn by the turns that end well
    /// ([`WriteTurn::keep`]).
    connection: Arc<KeptConnections<Sqlite>>,
    /// Stops the background checkpoints when the last clone is dropped.
    _checkpoints: Arc<Checkpoints>,
}

/// How a turn's commits reach the disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// Each commit is flushed before it returns (`synchronous = FULL`): the journal.
    Flushed,
    /// Commits are flushed with the next checkpoint (`synchronous = NORMAL`): a crash may
    /// lose the newest of them, never corrupt the file. For rebuildable data whose checkpoint
    /// commits with it (the read models).
    Deferred,
}

/// A writer's turn: holds [`SqliteWriter`]'s lock and its connection until dropped. The
/// connection goes back to its pool of one (and sqlx's round trip to check it, which the next
/// turn waits for) unless the turn ends with [`keep`](Self::keep).
#[derive(Debug)]
pub struct WriteTurn {
    connection: Kept<Sqlite>,
    /// Dropped after the connection is kept or released.
    _held: OwnedMutexGuard<Option<Durability>>,
}

impl SqliteWriter {
    /// Opens the writing connection of the file at `path` (with `options`) and starts its
    /// background checkpoints on a connection of their own.
    async fn open(options: SqliteConnectOptions, path: &Path) -> Result<Self> {
        let pool = pool_options::<Sqlite>()
            .max_connections(1)
            .connect_with(
                options
                    .clone()
                    .pragma("cache_size", format!("-{WRITER_CACHE_KIB}"))
                    .pragma("wal_autocheckpoint", AUTOCHECKPOINT_PAGES.to_string())
                    .pragma("journal_size_limit", WAL_SIZE_LIMIT.to_string()),
            )
            .await
            .map_err(|e| unavailable(path, &e))?;
        let checkpointer = pool_options::<Sqlite>()
            .max_connections(1)
            .connect_with(options)
            .await
            .map_err(|e| unavailable(path, &e))?;
        Ok(Self {
            lock: Arc::new(Mutex::new(Some(Durability::Flushed))),
            connection: KeptConnections::new(pool),
            _checkpoints: Arc::new(Checkpoints::start(checkpointer)),
        })
    }

    /// Waits for this writer's turn (in arrival order) and sets the connection's durability.
    ///
    /// # Errors
    /// Setting the durability failed.
    pub async fn turn(
        &self,
        durability: Durability,
    ) -> std::result::Result<WriteTurn, sqlx::Error> {
        let mut held = Arc::clone(&self.lock).lock_owned().await;
        let mut connection = self.connection.take().await?;
        if !connection.reused() {
            // Released by the last turn: the pool may have replaced it with a new connection,
            // which has the file's default setting.
            *held = None;
        }
        if *held != Some(durability) {
            let pragma = match durability {
                Durability::Flushed => "PRAGMA synchronous = FULL",
                Durability::Deferred => "PRAGMA synchronous = NORMAL",
            };
            // Unknown until the pragma has run: should this turn be cancelled meanwhile (the
            // pragma may still run), the next one sets its own.
            *held = None;
            sqlx::query(pragma).execute(&mut *connection).await?;
            *held = Some(durability);
        }
        Ok(WriteTurn {
            connection,
            _held: held,
        })
    }
}

impl WriteTurn {
    /// The writing connection. Transactions begin with `BEGIN IMMEDIATE`.
    pub fn connection(&mut self) -> &mut SqliteConnection {
        &mut self.connection
    }

    /// Ends the turn keeping the connection for the next one, without sqlx's check on
    /// release. Only after every statement of the turn ran to its end and no transaction is
    /// left open.
    pub fn keep(self) {
        self.connection.keep();
    }

    /// Ends the turn closing the connection (the next turn opens another): for a turn that
    /// leaves a transaction open, which closing rolls back.
    pub fn discard(self) {
        self.connection.discard();
    }
}

impl SqliteJournal {
    /// Opens (creating them if missing) the journal's database file at `path` and the read
    /// models' beside it ([`read_models_path`]), in WAL mode with a busy timeout and foreign
    /// keys on, temporary files (statement journals) in memory, and `secure_delete` (deleted or
    /// overwritten rows are zeroed in the file, so an erased person's read-model rows leave no
    /// bytes behind). Does not create tables: see [`migrate`](Self::migrate).
    pub async fn open(path: &Path) -> Result<Self> {
        let options = |file: &Path| {
            SqliteConnectOptions::new()
                .filename(file)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(BUSY_TIMEOUT)
                .foreign_keys(true)
                .pragma("secure_delete", "ON")
                .pragma("temp_store", "MEMORY")
        };
        let read_models_file = read_models_path(path);
        let writer = SqliteWriter::open(options(path), path).await?;
        let read_models = SqliteWriter::open(options(&read_models_file), &read_models_file).await?;
        let attached = read_models_file.to_string_lossy().into_owned();
        let pool = pool_options::<Sqlite>()
            .max_connections(MAX_CONNECTIONS)
            .after_connect(move |connection, _| {
                let attached = attached.clone();
                Box::pin(async move {
                    sqlx::query("ATTACH DATABASE ?1 AS read_models")
                        .bind(attached)
                        .execute(connection)
                        .await
                        .map(drop)
                })
            })
            .connect_with(options(path))
            .await
            .map_err(|e| unavailable(path, &e))?;
        Ok(Self {
            pool,
            writer,
            read_models,
            path: path.to_owned(),
        })
    }

    /// Applies the migrations of `migrations/sqlite` (the journal's file) and of
    /// `migrations/sqlite-read-models` (the read models' file) that are not applied yet; moves
    /// the read models of a journal file from before the split into their file
    /// ([`read_models::adopt`]).
    pub async fn migrate(&self) -> Result<()> {
        {
            let mut turn = self.turn().await?;
            sqlx::migrate!("../migrations/sqlite")
                .run(turn.connection())
                .await
                .map_err(errors::from_migrate)?;
        }
        read_models::adopt(self, &self.path).await
    }

    /// The read pool, for queries of both files. Writes go through
    /// [`writer`](Self::writer) and [`read_models_writer`](Self::read_models_writer).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// The writer of the journal's file (its appends, keys and timers; the snapshots go to the
    /// read models' file).
    pub fn writer(&self) -> SqliteWriter {
        self.writer.clone()
    }

    /// The writer of the read models' file ([`read_models_path`]): the projections take turns
    /// on it, never on the journal's.
    pub fn read_models_writer(&self) -> SqliteWriter {
        self.read_models.clone()
    }

    /// The journal's turn on the writer: its commits are flushed before they return.
    async fn turn(&self) -> Result<WriteTurn> {
        self.writer
            .turn(Durability::Flushed)
            .await
            .map_err(errors::from_sqlx)
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
        let mut turn = self.turn().await?;
        let outcome = append::append(turn.connection(), batches).await;
        // As on PostgreSQL: a refusal leaves the connection as good as a success does.
        if outcome.as_ref().err().is_none_or(JournalError::is_refusal) {
            turn.keep();
        }
        outcome
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

    /// On the read models' file, whose commits wait for no flush: a snapshot lost in a crash
    /// of the machine costs a longer replay (`migrations/sqlite-read-models/0002_snapshots.sql`).
    async fn save_snapshot(&self, snapshot: &Snapshot) -> Result<()> {
        let mut turn = self
            .read_models
            .turn(Durability::Deferred)
            .await
            .map_err(errors::from_sqlx)?;
        sqlx::query(include_str!("sqlite/sql/save_snapshot.sql"))
            .bind(&snapshot.aggregate_kind)
            .bind(snapshot.aggregate_id.hyphenated())
            .bind(snapshot.schema_version)
            .bind(snapshot.last_position)
            .bind(&snapshot.state)
            .bind(rows::micros(snapshot.taken_at))
            .execute(turn.connection())
            .await
            .map_err(errors::from_sqlx)?;
        turn.keep();
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
        let mut turn = self.turn().await?;
        sqlx::query(include_str!("sqlite/sql/register_master_key.sql"))
            .bind(id)
            .bind(rows::micros(at))
            .execute(turn.connection())
            .await
            .map_err(errors::from_sqlx)?;
        Ok(())
    }

    async fn retire_master_key(&self, id: &str, at: DateTime<Utc>) -> Result<()> {
        let mut turn = self.turn().await?;
        sqlx::query(include_str!("sqlite/sql/retire_master_key.sql"))
            .bind(id)
            .bind(rows::micros(at))
            .execute(turn.connection())
            .await
            .map_err(errors::from_sqlx)?;
        Ok(())
    }

    async fn abandon_master_key(&self, id: &str, at: DateTime<Utc>) -> Result<u64> {
        let mut turn = self.turn().await?;
        let mut tx = turn
            .connection()
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
        let mut turn = self.turn().await?;
        let done = sqlx::query(include_str!("sqlite/sql/rewrap_key.sql"))
            .bind(key.tenant_id.uuid().hyphenated())
            .bind(key.subject_id.hyphenated())
            .bind(key.purpose.as_str())
            .bind(key.version)
            .bind(wrapped)
            .bind(to_master)
            .bind(from_master)
            .execute(turn.connection())
            .await
            .map_err(errors::from_sqlx)?;
        Ok(done.rows_affected() == 1)
    }
}

fn unavailable(path: &Path, error: &sqlx::Error) -> JournalError {
    JournalError::Unavailable(format!("cannot open {}: {error}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{journal::TimerChange, testing::sqlite_journal};

    /// An append of one timer per tenant (no events: nothing but a few rows).
    fn timers(tenants: usize) -> AppendBatch {
        AppendBatch {
            timers: (0..tenants)
                .map(|_| TimerChange::Set {
                    tenant_id: TenantId::new_v7(),
                    kind: "test".into(),
                    due_at: Utc::now(),
                })
                .collect(),
            ..Default::default()
        }
    }

    async fn synchronous(turn: &mut WriteTurn) -> i64 {
        sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(turn.connection())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_turn_sets_its_durability_on_the_one_writing_connection() {
        let dir = tempfile::tempdir().unwrap();
        let journal = sqlite_journal(dir.path()).await;
        let writer = journal.writer();
        // SQLite: 1 = NORMAL, 2 = FULL.
        let mut deferred = writer.turn(Durability::Deferred).await.unwrap();
        assert_eq!(synchronous(&mut deferred).await, 1);
        drop(deferred);
        let mut flushed = journal.turn().await.unwrap();
        assert_eq!(synchronous(&mut flushed).await, 2);
        // Kept for the next turn, the connection keeps its setting and is set again only when
        // a turn wants another.
        flushed.keep();
        let mut again = journal.turn().await.unwrap();
        assert_eq!(synchronous(&mut again).await, 2);
        again.keep();
        let mut deferred = writer.turn(Durability::Deferred).await.unwrap();
        assert_eq!(synchronous(&mut deferred).await, 1);
    }

    #[tokio::test]
    async fn the_journal_and_other_writers_queue_for_the_same_turn() {
        let dir = tempfile::tempdir().unwrap();
        let journal = sqlite_journal(dir.path()).await;
        let held = journal.writer().turn(Durability::Deferred).await.unwrap();
        let batches = [timers(1)];
        let append = journal.append(&batches);
        tokio::pin!(append);
        // While another writer holds its turn, the append waits in the queue (it does not
        // reach SQLite's lock, whose busy handler would sleep).
        assert!(
            tokio::time::timeout(Duration::from_millis(200), &mut append)
                .await
                .is_err()
        );
        drop(held);
        append.await.unwrap();
    }

    /// The read models' writer holds its own file's lock: an append goes through meanwhile.
    #[tokio::test]
    async fn an_append_does_not_wait_for_the_read_models_writer() {
        let dir = tempfile::tempdir().unwrap();
        let journal = sqlite_journal(dir.path()).await;
        let mut held = journal
            .read_models_writer()
            .turn(Durability::Deferred)
            .await
            .unwrap();
        let mut open = held
            .connection()
            .begin_with("BEGIN IMMEDIATE")
            .await
            .unwrap();
        sqlx::query("INSERT INTO projection_checkpoints (name, updated_at) VALUES ('held', 0)")
            .execute(&mut *open)
            .await
            .unwrap();
        tokio::time::timeout(Duration::from_secs(5), journal.append(&[timers(1)]))
            .await
            .expect("the append does not queue behind the read models")
            .unwrap();
        open.rollback().await.unwrap();
    }

    #[tokio::test]
    async fn the_wal_is_checkpointed_in_the_background() {
        let dir = tempfile::tempdir().unwrap();
        let journal = sqlite_journal(dir.path()).await;
        let file = dir.path().join("journal.db");
        let before = std::fs::read(&file).unwrap();
        journal.append(&[timers(1_000)]).await.unwrap();
        // The writer does not checkpoint below AUTOCHECKPOINT_PAGES: only the background
        // task copies pages into the file. Its bytes, not its length: the rows may land in
        // pages the migrations freed (tables moved to the read models' file) once a
        // checkpoint has put those pages in the file.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while std::fs::read(&file).unwrap() == before {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the database file never changed: no checkpoint ran"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
