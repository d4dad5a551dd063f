//! Where read models live: a PostgreSQL or SQLite pool ([`ReadStore`]) and the transaction a
//! projection writes in ([`Tx`]).
//!
//! Read models share the journal's database (the tables come from the journal's migrations,
//! `migrations/*/0002_read_models.sql`), so build a store from the journal you run on. The
//! projection logic is backend-neutral; each backend module (`postgres`, `sqlite`) holds the
//! SQL, one `.sql` file per statement.

use std::sync::Arc;

use engine::journal::{CommitToken, postgres::PostgresJournal, sqlite::SqliteJournal};
use sqlx::{PgConnection, PgPool, Postgres, Sqlite, SqliteConnection, SqlitePool, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::Result;

/// Runs a backend function on the connection of a [`Tx`]: `on_tx!(tx, name(args…))` calls
/// `crate::postgres::name(conn, args…)` or `crate::sqlite::name(conn, args…)`.
macro_rules! on_tx {
    ($tx:expr, $f:ident ( $($arg:expr),* $(,)? )) => {
        match $tx.connection() {
            $crate::store::Connection::Postgres(c) => $crate::postgres::$f(c, $($arg),*).await,
            $crate::store::Connection::Sqlite(c) => $crate::sqlite::$f(c, $($arg),*).await,
        }
    };
}

/// Runs a backend function on the pool of a [`ReadStore`]: `on_pool!(store, name(args…))`.
macro_rules! on_pool {
    ($store:expr, $f:ident ( $($arg:expr),* $(,)? )) => {
        match $store {
            $crate::store::ReadStore::Postgres(pool) => $crate::postgres::$f(pool, $($arg),*).await,
            $crate::store::ReadStore::Sqlite { pool, .. } => {
                $crate::sqlite::$f(pool, $($arg),*).await
            }
        }
    };
}

pub(crate) use {on_pool, on_tx};

/// The database holding the read models. Cheap to clone.
#[derive(Clone, Debug)]
pub enum ReadStore {
    /// PostgreSQL (`entityd serve`).
    Postgres(PgPool),
    /// SQLite (the embedded single-node mode).
    Sqlite {
        /// The journal's pool.
        pool: SqlitePool,
        /// Serializes this crate's write transactions, so that at most one of them waits on
        /// SQLite's write lock (and holds a pooled connection while it waits).
        write_lock: Arc<Mutex<()>>,
    },
}

impl ReadStore {
    /// The read models in the database of a PostgreSQL journal (migrated by
    /// [`PostgresJournal::migrate`]).
    pub fn postgres(journal: &PostgresJournal) -> Self {
        ReadStore::Postgres(journal.pool().clone())
    }

    /// The read models in the file of a SQLite journal (migrated by [`SqliteJournal::migrate`]).
    pub fn sqlite(journal: &SqliteJournal) -> Self {
        ReadStore::Sqlite {
            pool: journal.pool().clone(),
            write_lock: Arc::new(Mutex::new(())),
        }
    }

    /// Starts a write transaction (SQLite: `BEGIN IMMEDIATE`, so it holds the write lock from
    /// the start and cannot fail to upgrade later).
    pub async fn begin(&self) -> Result<Tx<'static>> {
        match self {
            ReadStore::Postgres(pool) => Ok(Tx {
                inner: TxInner::Postgres(pool.begin().await?),
                _write: None,
            }),
            ReadStore::Sqlite { pool, write_lock } => {
                let guard = Arc::clone(write_lock).lock_owned().await;
                let tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                Ok(Tx {
                    inner: TxInner::Sqlite(tx),
                    _write: Some(guard),
                })
            }
        }
    }

    /// Creates the checkpoint row of a projection at `(0, 0)` unless it exists.
    pub(crate) async fn ensure_checkpoint(&self, name: &str) -> Result<()> {
        on_pool!(self, ensure_checkpoint(name))
    }

    /// After an erasure was scrubbed: on SQLite, moves every page into the database file and
    /// truncates the WAL, whose older frames still hold the rows as they were (the file itself
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
        on_pool!(self, read_checkpoint(name))
    }
}

/// A write transaction on the read-model store. Dropped without [`commit`](Self::commit), it
/// rolls back.
pub struct Tx<'c> {
    inner: TxInner<'c>,
    /// Held for the life of a SQLite transaction.
    _write: Option<OwnedMutexGuard<()>>,
}

enum TxInner<'c> {
    Postgres(Transaction<'c, Postgres>),
    Sqlite(Transaction<'c, Sqlite>),
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
    pub fn connection(&mut self) -> Connection<'_> {
        match &mut self.inner {
            TxInner::Postgres(tx) => Connection::Postgres(tx),
            TxInner::Sqlite(tx) => Connection::Sqlite(tx),
        }
    }

    /// Commits.
    pub async fn commit(self) -> Result<()> {
        match self.inner {
            TxInner::Postgres(tx) => tx.commit().await?,
            TxInner::Sqlite(tx) => tx.commit().await?,
        }
        Ok(())
    }

    /// Locks the checkpoint row of a projection until commit and returns it (`None` if the
    /// row does not exist).
    pub(crate) async fn lock_checkpoint(&mut self, name: &str) -> Result<Option<CommitToken>> {
        on_tx!(self, lock_checkpoint(name))
    }

    /// Sets the checkpoint of a projection.
    pub(crate) async fn save_checkpoint(&mut self, name: &str, token: CommitToken) -> Result<()> {
        on_tx!(self, save_checkpoint(name, token))
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
