//! Maps sqlx/SQLite failures to [`JournalError`]. Conflicts are recognised by the append path
//! itself, which knows the statement that failed.
//!
//! As for PostgreSQL, [`JournalError::Unavailable`] covers every failure after which a
//! transaction being committed may have committed (an I/O error, the connection's worker thread
//! gone), and a lock not obtained in time. [`JournalError::Database`] and
//! [`JournalError::Corrupt`] are a result code SQLite returned for a statement (COMMIT included),
//! or a value that cannot be bound or read: nothing of the transaction was written.

use sqlx::migrate::MigrateError;

use crate::journal::JournalError;

/// Classifies an error of a query (not a conflict: see `append`).
pub(super) fn from_sqlx(error: sqlx::Error) -> JournalError {
    match &error {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => JournalError::Unavailable(error.to_string()),
        sqlx::Error::Database(db) => match db.code().and_then(|c| c.parse::<i32>().ok()) {
            Some(code) => match primary(code) {
                // A store-wide condition, not this batch's fault: retrying part of a group
                // cannot help, so it is not a refusal the group-commit writer narrows down.
                BUSY | LOCKED | IOERR | CANTOPEN | READONLY | FULL | NOMEM => {
                    JournalError::Unavailable(error.to_string())
                }
                CORRUPT | NOTADB => JournalError::Corrupt(error.to_string()),
                _ => JournalError::Database(error.to_string()),
            },
            None => JournalError::Database(error.to_string()),
        },
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
            JournalError::Corrupt(error.to_string())
        }
        _ => JournalError::Database(error.to_string()),
    }
}

/// Classifies an error of running the migrations.
pub(super) fn from_migrate(error: MigrateError) -> JournalError {
    match error {
        MigrateError::Execute(e) | MigrateError::ExecuteMigration(e, _) => match from_sqlx(e) {
            JournalError::Database(m) => JournalError::Database(format!("migration failed: {m}")),
            other => other,
        },
        other => JournalError::Database(format!("migration failed: {other}")),
    }
}

/// Whether `error` is a UNIQUE or PRIMARY KEY constraint failure.
pub(super) fn is_unique_violation(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .is_some_and(|db| db.is_unique_violation())
}

// SQLite primary result codes (https://sqlite.org/rescode.html).
const NOMEM: i32 = 7;
const READONLY: i32 = 8;
const FULL: i32 = 13;
const BUSY: i32 = 5;
const LOCKED: i32 = 6;
const IOERR: i32 = 10;
const CORRUPT: i32 = 11;
const CANTOPEN: i32 = 14;
const NOTADB: i32 = 26;

/// The primary code of an extended result code.
fn primary(code: i32) -> i32 {
    code & 0xff
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extended_codes_reduce_to_primary() {
        assert_eq!(primary(2067), 19); // SQLITE_CONSTRAINT_UNIQUE
        assert_eq!(primary(517), BUSY); // SQLITE_BUSY_SNAPSHOT
        assert_eq!(primary(13), FULL);
    }

    #[test]
    fn pool_timeouts_are_unavailable() {
        assert!(matches!(
            from_sqlx(sqlx::Error::PoolTimedOut),
            JournalError::Unavailable(_)
        ));
    }
}
