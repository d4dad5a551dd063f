//! The read models' file beside the journal's ([`super::read_models_path`]).
//!
//! The read models (and the entity snapshots, derived from the journal like them) lived in the
//! journal's file until issue 14; one SQLite file has one write lock, so the projections' and
//! the snapshots' turns and the journal's appends queued for each other on it (BENCHMARKS.md,
//! "The embedded store's two files"). Now each file has its writer, the read pool sees both
//! (the read models' file is attached as `read_models`, and an unqualified table name finds its
//! table in whichever file holds it), and [`adopt`] migrates the read models' file and empties
//! the journal's of the tables that moved: copied once, then dropped.

use std::path::Path;

use sqlx::SqliteConnection;

use super::{Durability, SqliteJournal, errors};
use crate::journal::{JournalError, Result};

/// Applies `migrations/sqlite-read-models`; copies the rows of every table of the read models'
/// file that the journal's file at `journal_path` still holds (a store from before the split,
/// or a table a later migration moved), in one transaction; then drops those tables from the
/// journal's file (`secure_delete` zeroes their pages). A crash in between is harmless: the
/// copy commits whole or not at all (and skips a table already copied), and the drop runs again
/// at the next start.
pub(super) async fn adopt(journal: &SqliteJournal, journal_path: &Path) -> Result<()> {
    let tables = {
        // Flushed: the copy must be on disk before the drop below (whose commit is flushed)
        // removes the only other copy of what no projection rebuilds (the saga outbox).
        let mut turn = journal
            .read_models
            .turn(Durability::Flushed)
            .await
            .map_err(errors::from_sqlx)?;
        sqlx::migrate!("../migrations/sqlite-read-models")
            .run(turn.connection())
            .await
            .map_err(errors::from_migrate)?;
        let tables = read_model_tables(turn.connection()).await?;
        copy_from_journal_file(turn.connection(), journal_path, &tables).await?;
        tables
    };
    let mut turn = journal.turn().await?;
    for table in &tables {
        sqlx::query(&format!("DROP TABLE IF EXISTS main.{}", quoted(table)))
            .execute(turn.connection())
            .await
            .map_err(errors::from_sqlx)?;
    }
    Ok(())
}

/// The tables of the read models' file (its migrations' bookkeeping aside).
async fn read_model_tables(connection: &mut SqliteConnection) -> Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT name FROM main.sqlite_schema WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations' ORDER BY name",
    )
    .fetch_all(connection)
    .await
    .map_err(errors::from_sqlx)
}

/// Copies the rows of the tables the journal's file at `journal_path` still holds into the
/// same tables of the read models' file, each only while its copy there is empty (so a table
/// is copied once, at the start that moves it), all in one transaction. Attaches the journal's
/// file for the copy only.
async fn copy_from_journal_file(
    connection: &mut SqliteConnection,
    journal_path: &Path,
    tables: &[String],
) -> Result<()> {
    sqlx::query("ATTACH DATABASE ?1 AS legacy")
        .bind(journal_path.to_string_lossy().into_owned())
        .execute(&mut *connection)
        .await
        .map_err(errors::from_sqlx)?;
    let copied = copy_attached(connection, tables).await;
    let detached = sqlx::query("DETACH DATABASE legacy")
        .execute(&mut *connection)
        .await
        .map_err(errors::from_sqlx);
    copied.and(detached.map(drop))
}

async fn copy_attached(connection: &mut SqliteConnection, tables: &[String]) -> Result<()> {
    let legacy: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM legacy.sqlite_schema WHERE type = 'table' ORDER BY name",
    )
    .fetch_all(&mut *connection)
    .await
    .map_err(errors::from_sqlx)?;
    let moving: Vec<&String> = tables.iter().filter(|t| legacy.contains(t)).collect();
    if moving.is_empty() {
        return Ok(());
    }
    let mut tx = sqlx::Connection::begin(&mut *connection)
        .await
        .map_err(errors::from_sqlx)?;
    let mut rows = 0;
    for table in moving {
        let quoted_table = quoted(table);
        let empty: bool = sqlx::query_scalar(&format!(
            "SELECT NOT EXISTS (SELECT 1 FROM main.{quoted_table})"
        ))
        .fetch_one(&mut *tx)
        .await
        .map_err(errors::from_sqlx)?;
        if !empty {
            continue;
        }
        let columns: Vec<String> =
            sqlx::query_scalar("SELECT name FROM pragma_table_info(?1, 'main') ORDER BY cid")
                .bind(table)
                .fetch_all(&mut *tx)
                .await
                .map_err(errors::from_sqlx)?;
        let columns = columns
            .iter()
            .map(|c| quoted(c))
            .collect::<Vec<_>>()
            .join(", ");
        rows += sqlx::query(&format!(
            "INSERT INTO main.{quoted_table} ({columns}) \
             SELECT {columns} FROM legacy.{quoted_table}"
        ))
        .execute(&mut *tx)
        .await
        .map_err(|e| JournalError::Database(format!("copying {table} to its own file: {e}")))?
        .rows_affected();
    }
    tx.commit().await.map_err(errors::from_sqlx)?;
    if rows > 0 {
        tracing::info!(
            rows,
            "rows moved from the journal's file into the read models'"
        );
    }
    Ok(())
}

/// `name` as an SQL identifier.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{SnapshotStore, sqlite::read_models_path};

    /// A journal file written by a build from before the split: its read-model tables hold
    /// rows. Opened now, those rows move into the read models' file and the journal's loses
    /// the tables; the read pool finds them in the new file under the same names.
    #[tokio::test]
    async fn a_journal_file_from_before_the_split_gives_its_read_models_up() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.db");
        {
            // Before the split: the journal's migrations alone, and read-model rows written
            // into the journal's file.
            let journal = SqliteJournal::open(&path).await.unwrap();
            let mut turn = journal.turn().await.unwrap();
            sqlx::migrate!("../migrations/sqlite")
                .run(turn.connection())
                .await
                .unwrap();
            for statement in [
                "INSERT INTO projection_checkpoints (name, transaction_id, position, updated_at) \
                 VALUES ('users', 7, 42, 1)",
                "INSERT INTO users (tenant_id, id, email, email_lower, display_name, \
                 display_name_lower, status, version, created_at, updated_at, client_id) VALUES \
                 ('00000000-0000-0000-0000-000000000001', '00000000-0000-0000-0000-000000000002', \
                 'Ada@x', 'ada@x', 'Ada', 'ada', 'active', 1, 1, 1, NULL)",
                "INSERT INTO snapshots (aggregate_kind, aggregate_id, schema_version, \
                 last_position, state, taken_at) VALUES \
                 ('tenant', '00000000-0000-0000-0000-000000000001', 3, 42, x'0102', 1)",
            ] {
                sqlx::query(statement)
                    .execute(turn.connection())
                    .await
                    .unwrap();
            }
        }
        let journal = SqliteJournal::open(&path).await.unwrap();
        journal.migrate().await.unwrap();
        let row: (String, i64) = sqlx::query_as("SELECT email, version FROM read_models.users")
            .fetch_one(journal.pool())
            .await
            .unwrap();
        assert_eq!(row, ("Ada@x".to_owned(), 1));
        let checkpoint: (i64, i64) = sqlx::query_as(
            "SELECT transaction_id, position FROM projection_checkpoints WHERE name = 'users'",
        )
        .fetch_one(journal.pool())
        .await
        .unwrap();
        assert_eq!(checkpoint, (7, 42));
        let snapshot = journal
            .load_snapshot("tenant", uuid::Uuid::from_u128(1))
            .await
            .unwrap()
            .expect("the snapshot moved with the read models");
        assert_eq!((snapshot.last_position, snapshot.state), (42, vec![1, 2]));
        let left: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM main.sqlite_schema WHERE type = 'table' \
             AND name IN ('users', 'projection_checkpoints', 'role_assignments', 'snapshots')",
        )
        .fetch_all(journal.pool())
        .await
        .unwrap();
        assert!(left.is_empty(), "left in the journal's file: {left:?}");
        assert!(read_models_path(&path).exists());

        // Opened again: nothing copied twice, nothing lost.
        drop(journal);
        let journal = SqliteJournal::open(&path).await.unwrap();
        journal.migrate().await.unwrap();
        let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
            .fetch_one(journal.pool())
            .await
            .unwrap();
        assert_eq!(users, 1);
    }

    /// A new store: the journal's file ends with no read-model table, the read models' file
    /// with every one, each name found once by the read pool.
    #[tokio::test]
    async fn a_new_store_keeps_each_table_in_one_file() {
        let dir = tempfile::tempdir().unwrap();
        let journal = crate::testing::sqlite_journal(dir.path()).await;
        let names = |schema: &'static str| {
            sqlx::query_scalar::<_, String>(match schema {
                "main" => {
                    "SELECT name FROM main.sqlite_schema WHERE type = 'table' \
                               AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations'"
                }
                _ => {
                    "SELECT name FROM read_models.sqlite_schema WHERE type = 'table' \
                          AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations'"
                }
            })
            .fetch_all(journal.pool())
        };
        let (journal_tables, read_model_tables) =
            (names("main").await.unwrap(), names("rm").await.unwrap());
        assert!(journal_tables.contains(&"events".to_owned()));
        assert!(read_model_tables.contains(&"users".to_owned()));
        assert!(read_model_tables.contains(&"saga_steps".to_owned()));
        assert!(read_model_tables.contains(&"snapshots".to_owned()));
        let both: Vec<_> = journal_tables
            .iter()
            .filter(|t| read_model_tables.contains(t))
            .collect();
        assert!(both.is_empty(), "in both files: {both:?}");
    }
}
