//! Reads a whole store back, every row of every table, column by column as bytes, for the
//! scans that prove what is (not) stored at rest.
//!
//! Include with `#[path = "support/dump.rs"] mod dump;`.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::{collections::BTreeMap, path::Path};

use sqlx::{PgConnection, Row, SqliteConnection};

/// Every row of every table: table name to rows, a row being its columns' bytes, each
/// followed by 0x1f.
pub type Dump = BTreeMap<String, Vec<Vec<u8>>>;

/// `"name"` as an SQL identifier.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Every row of every table of every schema but the catalogs, each column as bytes (bytea
/// as stored, everything else as its text form).
pub async fn postgres_dump(conn: &mut PgConnection) -> Dump {
    let tables: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_schema::text, table_name::text FROM information_schema.tables \
         WHERE table_type = 'BASE TABLE' \
           AND table_schema NOT IN ('pg_catalog', 'information_schema') \
         ORDER BY 1, 2",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    let mut dump = Dump::new();
    for (schema, table) in tables {
        let columns: Vec<(String, String)> = sqlx::query_as(
            "SELECT column_name::text, data_type::text FROM information_schema.columns \
             WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position",
        )
        .bind(&schema)
        .bind(&table)
        .fetch_all(&mut *conn)
        .await
        .unwrap();
        let select: Vec<String> = columns
            .iter()
            .map(|(name, data_type)| match data_type.as_str() {
                "bytea" => quoted(name),
                _ => format!("convert_to({}::text, 'UTF8')", quoted(name)),
            })
            .collect();
        let sql = select_all(&select, &schema, &table);
        let rows = sqlx::query(&sql).fetch_all(&mut *conn).await.unwrap();
        let rows = joined_columns(&rows, columns.len());
        let name = if schema == "public" {
            table
        } else {
            format!("{schema}.{table}")
        };
        dump.insert(name, rows);
    }
    dump
}

/// `SELECT <select> FROM "schema"."table"`.
fn select_all(select: &[String], schema: &str, table: &str) -> String {
    format!(
        "SELECT {} FROM {}.{}",
        select.join(", "),
        quoted(schema),
        quoted(table)
    )
}

/// Each row's columns (read as bytes) joined by a unit separator.
fn joined_columns<R: Row>(rows: &[R], columns: usize) -> Vec<Vec<u8>>
where
    for<'r> Option<Vec<u8>>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    rows.iter()
        .map(|row| {
            let mut bytes = Vec::new();
            for i in 0..columns {
                let value: Option<Vec<u8>> = row.try_get(i).unwrap();
                bytes.extend(value.unwrap_or_default());
                bytes.push(0x1f);
            }
            bytes
        })
        .collect()
}

/// A connection to the embedded store in `dir`: the journal's file, with the read models'
/// file beside it attached (`read_models`), so that [`sqlite_dump`] reads both.
pub async fn sqlite_store(dir: &Path) -> SqliteConnection {
    use sqlx::Connection;
    let journal = dir.join("journal.db");
    let mut conn = SqliteConnection::connect(&format!("sqlite://{}", journal.display()))
        .await
        .unwrap();
    sqlx::query("ATTACH DATABASE ?1 AS read_models")
        .bind(dir.join("journal-read-models.db").display().to_string())
        .execute(&mut conn)
        .await
        .unwrap();
    conn
}

/// Every row of every table of every database of a SQLite connection (the main one and those
/// attached), each column cast to a BLOB. The embedded store's two files hold no table name
/// twice.
pub async fn sqlite_dump(conn: &mut SqliteConnection) -> Dump {
    let schemas: Vec<(String,)> =
        sqlx::query_as("SELECT name FROM pragma_database_list WHERE name <> 'temp'")
            .fetch_all(&mut *conn)
            .await
            .unwrap();
    let mut dump = Dump::new();
    for (schema,) in schemas {
        let tables: Vec<(String,)> = sqlx::query_as(&format!(
            "SELECT name FROM {}.sqlite_master WHERE type = 'table' ORDER BY name",
            quoted(&schema)
        ))
        .fetch_all(&mut *conn)
        .await
        .unwrap();
        for (table,) in tables {
            let columns: Vec<(String,)> =
                sqlx::query_as("SELECT name FROM pragma_table_info(?1, ?2)")
                    .bind(&table)
                    .bind(&schema)
                    .fetch_all(&mut *conn)
                    .await
                    .unwrap();
            let select: Vec<String> = columns
                .iter()
                .map(|(name,)| format!("CAST({} AS BLOB)", quoted(name)))
                .collect();
            let sql = select_all(&select, &schema, &table);
            let rows = sqlx::query(&sql).fetch_all(&mut *conn).await.unwrap();
            let rows = joined_columns(&rows, columns.len());
            // Each file keeps its own migration bookkeeping.
            let name = if table == "_sqlx_migrations" && schema != "main" {
                format!("{schema}.{table}")
            } else {
                table
            };
            assert!(
                dump.insert(name.clone(), rows).is_none(),
                "table {name} is in two of the store's files"
            );
        }
    }
    dump
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The tables with a row holding `needle`.
pub fn tables_holding(dump: &Dump, needle: &[u8]) -> Vec<String> {
    dump.iter()
        .filter(|(_, rows)| rows.iter().any(|r| contains(r, needle)))
        .map(|(table, _)| table.clone())
        .collect()
}

/// Every file of `dir` (the SQLite database and its journal files), raw.
pub fn raw_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            (path.display().to_string(), bytes)
        })
        .collect()
}
