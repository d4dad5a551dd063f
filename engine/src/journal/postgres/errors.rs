//! Maps sqlx/PostgreSQL failures to [`JournalError`]. Conflicts (23505) are recognised by the
//! append path itself, which knows the batches they belong to.
//!
//! [`JournalError::Unavailable`] covers every failure of the connection or the session, after
//! which a transaction being committed may have committed, and the errors a retry may cure.
//! [`JournalError::Database`] and [`JournalError::Corrupt`] are errors of a statement in a live
//! session (an ERROR the server reports for it, COMMIT included, or a value sqlx cannot encode or
//! decode): the transaction is rolled back, nothing of it was written. The group-commit writer
//! relies on this split: it appends the batches of a refused group again, never those of a group
//! whose outcome is unknown.

use sqlx::{
    error::DatabaseError,
    migrate::MigrateError,
    postgres::{PgDatabaseError, PgSeverity},
};

use crate::journal::JournalError;

/// SQLSTATE of a unique violation.
pub(super) const UNIQUE_VIOLATION: &str = "23505";

/// Classifies an error of a query (not a conflict: see `append`).
pub(super) fn from_sqlx(error: sqlx::Error) -> JournalError {
    match &error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Configuration(_) => JournalError::Unavailable(error.to_string()),
        sqlx::Error::Database(db)
            if ends_session(db.as_ref()) || db.code().as_deref().is_some_and(is_unavailable) =>
        {
            JournalError::Unavailable(error.to_string())
        }
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

/// Whether the server ended the session with the error (severity FATAL or PANIC): a refused
/// connection (a login the server rejects, a database that takes no connections) or a session
/// ended mid-transaction, perhaps while it was committing.
fn ends_session(error: &dyn DatabaseError) -> bool {
    error
        .try_downcast_ref::<PgDatabaseError>()
        .is_some_and(|e| matches!(e.severity(), PgSeverity::Fatal | PgSeverity::Panic))
}

/// SQLSTATEs after which a retry may succeed: connection exceptions (class 08), insufficient
/// resources (class 53), operator intervention such as a shutdown (57P01-57P05), a session
/// ended for idling in a transaction (25P03), and a server that has become read-only (25006, a
/// standby after a failover): store-wide conditions, none of them the fault of one batch.
fn is_unavailable(code: &str) -> bool {
    code.starts_with("08")
        || code.starts_with("53")
        || matches!(
            code,
            "57P01" | "57P02" | "57P03" | "57P04" | "57P05" | "25P03" | "25006"
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_problems_are_unavailable() {
        assert!(matches!(
            from_sqlx(sqlx::Error::PoolTimedOut),
            JournalError::Unavailable(_)
        ));
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        assert!(matches!(
            from_sqlx(sqlx::Error::Io(io)),
            JournalError::Unavailable(_)
        ));
        assert!(is_unavailable("08006"));
        assert!(is_unavailable("57P01"));
        assert!(is_unavailable("25006"));
        assert!(!is_unavailable("23505"));
        let config = sqlx::Error::Configuration("bad sslmode".into());
        assert!(matches!(from_sqlx(config), JournalError::Unavailable(_)));
    }

    #[test]
    fn decode_failures_are_corrupt() {
        let e = sqlx::Error::Decode("bad".into());
        assert!(matches!(from_sqlx(e), JournalError::Corrupt(_)));
        assert!(matches!(
            from_sqlx(sqlx::Error::RowNotFound),
            JournalError::Database(_)
        ));
    }
}
