//! Maps sqlx/PostgreSQL failures to [`JournalError`]. Conflicts (23505) are recognised by the
//! append path itself, which knows the batches they belong to.

use sqlx::migrate::MigrateError;

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
        | sqlx::Error::WorkerCrashed => JournalError::Unavailable(error.to_string()),
        sqlx::Error::Database(db) if db.code().as_deref().is_some_and(is_unavailable) => {
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

/// SQLSTATEs after which a retry may succeed: connection exceptions (class 08), insufficient
/// resources (class 53), operator intervention such as a shutdown (57P01-57P05), and a session
/// ended for idling in a transaction (25P03).
fn is_unavailable(code: &str) -> bool {
    code.starts_with("08")
        || code.starts_with("53")
        || matches!(
            code,
            "57P01" | "57P02" | "57P03" | "57P04" | "57P05" | "25P03"
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
        assert!(!is_unavailable("23505"));
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
