//! Where read models live: a PostgreSQL or SQLite pool ([`ReadStore`]) and the transaction a
//! projection writes in ([`Tx`]).
//!
//! Read models share the journal's database on PostgreSQL (the tables come from the journal's
//! migrations, `migrations/postgres`); on SQLite they live in a file of their own beside the
//! journal's, created and migrated with it (`migrations/sqlite-read-models`), with its own
//! writer. Either way, build a store from the journal you run on. The statements are the same
//! for both stores (`crate::sql`).

use chrono::Utc;
use engine::journal::{
    CommitToken, pool_options,
    postgres::PostgresJournal,
    sqlite::{Durability, SqliteJournal, SqliteWriter, WriteTurn},
};
use sqlx::{PgConnection, PgPool, Postgres, SqliteConnection, SqlitePool, Transaction};

use crate::{
    Result,
    sql::{Arg, Row, Statement},
};

/// The database holding the read models. Cheap to clone.
///
/// Writes commit without waiting for the disk (PostgreSQL: a pool of their own with
/// `synchronous_commit = off`; SQLite: turns on the read models' file's one writing
/// connection set to `synchronous = NORMAL`, [`Durability::Deferred`]): read models are
/// rebuildable and their checkpoint commits in the same transaction, so a crash that loses
/// the newest of these commits loses their checkpoint with them, and the projections apply
/// those events again (docs/ARCHITECTURE.md, "One transaction per batch"). On PostgreSQL they
/// are planned on every run (`plan_cache_mode = force_custom_plan`): a write's text is
/// prepared once per connection (see `sql`), and a generic plan made while a table was small
/// (a sequential scan) would otherwise stay while the table grows.
#[derive(Clone, Debug)]
pub enum ReadStore {
    /// PostgreSQL (`entityd serve`).
    Postgres {
        /// The journal's pool (queries).
        pool: PgPool,
        /// Read-model writes: asynchronous commit.
        writer: PgPool,
    },
    /// SQLite (the embedded single-node mode).
    Sqlite {
        /// The journal's pool (queries; it sees the journal's file and the read models').
        pool: SqlitePool,
        /// Read-model writes: the writer of the read models' file
        /// ([`SqliteJournal::read_models_writer`]), never the journal's.
        writer: SqliteWriter,
    },
}

/// Connections of the PostgreSQL write pool: the shared batch, and projections catching up
/// on their own or delivering elsewhere (Kafka).
const WRITER_CONNECTIONS: u32 = 4;

impl ReadStore {
    /// The read models in the database of a PostgreSQL journal (migrated by
    /// [`PostgresJournal::migrate`]).
    pub fn postgres(journal: &PostgresJournal) -> Self {
        let pool = journal.pool().clone();
        let options = (*pool.connect_options()).clone().options([
            ("synchronous_commit", "off"),
            ("plan_cache_mode", "force_custom_plan"),
        ]);
        let writer = pool_options::<Postgres>()
            .max_connections(WRITER_CONNECTIONS)
            .connect_lazy_with(options);
        ReadStore::Postgres { pool, writer }
    }

    /// The read models in the file beside a SQLite journal's (migrated by
    /// [`SqliteJournal::migrate`]).
    pub fn sqlite(journal: &SqliteJournal) -> Self {
        ReadStore::Sqlite {
            pool: journal.pool().clone(),
            writer: journal.read_models_writer(),
        }
    }

    /// Starts a write transaction (SQLite: `BEGIN IMMEDIATE`, so it holds the write lock from
    /// the start and cannot fail to upgrade later).
    pub async fn begin(&self) -> Result<Tx<'static>> {
        match self {
            ReadStore::Postgres { writer, .. } => Ok(Tx {
                inner: TxInner::Postgres(writer.begin().await?),
            }),
            ReadStore::Sqlite { writer, .. } => {
                let mut turn = writer.turn(Durability::Deferred).await?;
                sqlx::query("BEGIN IMMEDIATE")
                    .execute(turn.connection())
                    .await?;
                Ok(Tx {
                    inner: TxInner::Sqlite(SqliteTx(Some(turn))),
                })
            }
        }
    }

    /// Runs one statement outside a transaction; returns the rows it changed.
    async fn run(&self, statement: &Statement) -> Result<u64> {
        Ok(match self {
            ReadStore::Postgres { writer, .. } => {
                statement.postgres().execute(writer).await?.rows_affected()
            }
            ReadStore::Sqlite { writer, .. } => {
                let mut turn = writer.turn(Durability::Deferred).await?;
                let affected = statement
                    .sqlite()
                    .execute(turn.connection())
                    .await?
                    .rows_affected();
                turn.keep();
                affected
            }
        })
    }

    /// Reads rows with the query pool.
    pub(crate) async fn fetch(&self, statement: &Statement) -> Result<Vec<Row>> {
        Ok(match self {
            ReadStore::Postgres { pool, .. } => statement
                .postgres()
                .fetch_all(pool)
                .await?
                .into_iter()
                .map(Row::Postgres)
                .collect(),
            ReadStore::Sqlite { pool, .. } => statement
                .sqlite()
                .fetch_all(pool)
                .await?
                .into_iter()
                .map(Row::Sqlite)
                .collect(),
        })
    }

    /// Creates the checkpoint row of a projection at `(0, 0)` unless it exists.
    pub(crate) async fn ensure_checkpoint(&self, name: &str) -> Result<()> {
        self.run(&Statement::new(
            CHECKPOINT_ENSURE,
            vec![name.into(), Utc::now().into()],
        ))
        .await?;
        Ok(())
    }

    /// After an erasure was scrubbed: on SQLite, moves every page into the database files (the
    /// pool's connections checkpoint every file they attach) and truncates the WALs, whose older
    /// frames still hold the rows as they were (the file itself
    /// runs with `secure_delete`, which zeroes what is deleted or overwritten). Best effort: a
    /// checkpoint that readers hold back is logged and done by the next erasure.
    pub(crate) async fn flush_erased(&self) {
        let ReadStore::Sqlite { pool, .. } = self else {
            return;
        };
        let done: std::result::Result<(i64, i64, i64), sqlx::Error> =
            sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
                .fetch_one(pool)
                .await;
        match done {
            Ok((0, _, _)) => {}
            Ok(_) => tracing::warn!("WAL not truncated after an erasure: readers were busy"),
            Err(error) => tracing::warn!(%error, "WAL not truncated after an erasure"),
        }
    }

    /// The stored checkpoint of a projection (`None` if it never ran here).
    pub async fn checkpoint(&self, name: &str) -> Result<Option<CommitToken>> {
        let rows = self
            .fetch(&Statement::new(CHECKPOINT_READ, vec![name.into()]))
            .await?;
        rows.first().map(token).transpose()
    }
}

/// Creates a checkpoint row at the start unless it exists.
const CHECKPOINT_ENSURE: &str = "INSERT INTO projection_checkpoints (name, updated_at) \
     VALUES ($1, $2) ON CONFLICT (name) DO NOTHING";
const CHECKPOINT_READ: &str =
    "SELECT name, transaction_id, position FROM projection_checkpoints WHERE name = $1";
const CHECKPOINT_SET: &str = "UPDATE projection_checkpoints \
     SET transaction_id = $2, position = $3, updated_at = $4 WHERE name = $1";

fn token(row: &Row) -> Result<CommitToken> {
    token_from_stored(row.int("transaction_id")?, row.int("position")?)
}

/// A write transaction on the read-model store. Dropped without [`commit`](Self::commit), it
/// rolls back.
pub struct Tx<'c> {
    inner: TxInner<'c>,
}

enum TxInner<'c> {
    Postgres(Transaction<'c, Postgres>),
    Sqlite(SqliteTx),
}

/// A turn on the SQLite read models' writer inside `BEGIN IMMEDIATE` (`None` once it ended).
/// Committed, it keeps the connection for the next turn (no round trip to check it); dropped
/// before, it closes the connection, which rolls the transaction back, rather than hand an open
/// transaction to the next turn.
struct SqliteTx(Option<WriteTurn>);

impl SqliteTx {
    fn connection(&mut self) -> Result<&mut SqliteConnection> {
        self.0
            .as_mut()
            .map(WriteTurn::connection)
            .ok_or_else(|| crate::Error::Unavailable("the transaction has ended".into()))
    }

    async fn commit(mut self) -> Result<()> {
        sqlx::query("COMMIT").execute(self.connection()?).await?;
        if let Some(turn) = self.0.take() {
            turn.keep();
        }
        Ok(())
    }
}

impl Drop for SqliteTx {
    fn drop(&mut self) {
        if let Some(turn) = self.0.take() {
            turn.discard();
        }
    }
}

/// The connection under a [`Tx`], for projections that run their own SQL.
pub enum Connection<'a> {
    /// A PostgreSQL connection inside the transaction.
    Postgres(&'a mut PgConnection),
    /// A SQLite connection inside the transaction.
    Sqlite(&'a mut SqliteConnection),
}

impl Tx<'_> {
    /// The connection the transaction runs on.
    pub fn connection(&mut self) -> Result<Connection<'_>> {
        Ok(match &mut self.inner {
            TxInner::Postgres(tx) => Connection::Postgres(tx),
            TxInner::Sqlite(tx) => Connection::Sqlite(tx.connection()?),
        })
    }

    /// Commits.
    pub async fn commit(self) -> Result<()> {
        match self.inner {
            TxInner::Postgres(tx) => tx.commit().await?,
            TxInner::Sqlite(tx) => tx.commit().await?,
        }
        Ok(())
    }

    /// Runs one statement; returns the rows it changed.
    pub(crate) async fn run(&mut self, statement: &Statement) -> Result<u64> {
        Ok(match &mut self.inner {
            TxInner::Postgres(tx) => statement
                .postgres()
                .execute(&mut **tx)
                .await?
                .rows_affected(),
            TxInner::Sqlite(tx) => statement
                .sqlite()
                .execute(tx.connection()?)
                .await?
                .rows_affected(),
        })
    }

    /// Runs statements in order; returns the rows each changed.
    pub(crate) async fn run_all(&mut self, statements: &[Statement]) -> Result<Vec<u64>> {
        let mut affected = Vec::with_capacity(statements.len());
        for statement in statements {
            affected.push(self.run(statement).await?);
        }
        Ok(affected)
    }

    /// Reads rows inside the transaction.
    pub(crate) async fn fetch(&mut self, statement: &Statement) -> Result<Vec<Row>> {
        Ok(match &mut self.inner {
            TxInner::Postgres(tx) => statement
                .postgres()
                .fetch_all(&mut **tx)
                .await?
                .into_iter()
                .map(Row::Postgres)
                .collect(),
            TxInner::Sqlite(tx) => statement
                .sqlite()
                .fetch_all(tx.connection()?)
                .await?
                .into_iter()
                .map(Row::Sqlite)
                .collect(),
        })
    }

    /// Moves the checkpoints of `names`, all at `expected`, to `to`, locking their rows until
    /// commit (a rebuild or another runner of these projections waits, then finds them moved).
    ///
    /// # Errors
    /// [`crate::Error::CheckpointMoved`] naming the first projection whose stored checkpoint
    /// is not `expected` (another runner applied the batch, or a rebuild reset it).
    pub(crate) async fn advance_checkpoints(
        &mut self,
        names: &[&str],
        expected: CommitToken,
        to: CommitToken,
    ) -> Result<()> {
        let mut args: Vec<Arg> = vec![
            stored_transaction(to)?.into(),
            to.position.into(),
            Utc::now().into(),
            stored_transaction(expected)?.into(),
            expected.position.into(),
        ];
        let first = args.len() + 1;
        let list = (first..first + names.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        args.extend(names.iter().map(|n| Arg::from(*n)));
        let sql = format!(
            "UPDATE projection_checkpoints \
             SET transaction_id = $1, position = $2, updated_at = $3 \
             WHERE transaction_id = $4 AND position = $5 AND name IN ({list})"
        );
        let moved = self.run(&Statement::new(sql, args)).await?;
        if moved == names.len() as u64 {
            return Ok(());
        }
        for name in names {
            let found = self
                .fetch(&Statement::new(CHECKPOINT_READ, vec![(*name).into()]))
                .await?;
            let found = found.first().map(token).transpose()?;
            if found != Some(expected) {
                return Err(crate::Error::CheckpointMoved {
                    projection: (*name).to_owned(),
                    expected,
                    found: found.unwrap_or(CommitToken {
                        transaction_id: 0,
                        position: 0,
                    }),
                });
            }
        }
        Err(crate::Error::Inconsistent {
            model: "projection_checkpoints",
            message: format!("moved {moved} of {} checkpoints", names.len()),
        })
    }

    /// Sets the checkpoint of a projection, locking its row until commit.
    pub(crate) async fn set_checkpoint(&mut self, name: &str, to: CommitToken) -> Result<()> {
        let args = vec![
            name.into(),
            stored_transaction(to)?.into(),
            to.position.into(),
            Utc::now().into(),
        ];
        let done = self.run(&Statement::new(CHECKPOINT_SET, args)).await?;
        crate::models::expect_one(done, "projection_checkpoints", || {
            format!("checkpoint row of {name} is missing")
        })
    }
}

/// A token's transaction id as stored (`BIGINT`).
pub(crate) fn stored_transaction(token: CommitToken) -> Result<i64> {
    i64::try_from(token.transaction_id).map_err(|_| {
        crate::Error::InvalidArgument(format!(
            "transaction id {} is out of range",
            token.transaction_id
        ))
    })
}

/// A token read back from the store.
pub(crate) fn token_from_stored(transaction_id: i64, position: i64) -> Result<CommitToken> {
    let transaction_id = u64::try_from(transaction_id)
        .map_err(|_| crate::Error::Corrupt(format!("negative transaction id {transaction_id}")))?;
    Ok(CommitToken {
        transaction_id,
        position,
    })
}

#[cfg(test)]
mod tests {
    use engine::testing::sqlite_journal;

    use super::*;

    fn mark(name: &str) -> Statement {
        Statement::new(
            "INSERT INTO projection_checkpoints (name, updated_at) VALUES ($1, $2)",
            vec![name.into(), Utc::now().into()],
        )
    }

    #[tokio::test]
    async fn a_sqlite_transaction_dropped_before_commit_leaves_nothing_and_the_next_one_runs() {
        let dir = tempfile::tempdir().unwrap();
        let store = ReadStore::sqlite(&sqlite_journal(dir.path()).await);
        let mut dropped = store.begin().await.unwrap();
        dropped.run(&mark("dropped")).await.unwrap();
        drop(dropped);

        // Its connection was closed, not handed on inside the open transaction.
        let mut next = store.begin().await.unwrap();
        next.run(&mark("committed")).await.unwrap();
        next.commit().await.unwrap();
        assert!(store.checkpoint("dropped").await.unwrap().is_none());
        assert!(store.checkpoint("committed").await.unwrap().is_some());
    }

    #[tokio::test]
    async fn committed_sqlite_transactions_follow_each_other_on_the_kept_connection() {
        let dir = tempfile::tempdir().unwrap();
        let store = ReadStore::sqlite(&sqlite_journal(dir.path()).await);
        for name in ["first", "second", "third"] {
            let mut tx = store.begin().await.unwrap();
            tx.run(&mark(name)).await.unwrap();
            tx.commit().await.unwrap();
        }
        for name in ["first", "second", "third"] {
            assert!(store.checkpoint(name).await.unwrap().is_some(), "{name}");
        }
    }
}
