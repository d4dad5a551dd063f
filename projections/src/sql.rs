//! SQL that both stores run: one text per statement, `$n` placeholders (sqlx's SQLite driver
//! numbers `$n` like PostgreSQL does), and the differences of the stores isolated here: how a
//! value is stored ([`Arg`]: PostgreSQL's `uuid` and `timestamptz` are hyphenated text and
//! microseconds since the epoch in SQLite, as the journal stores them), how a value is read
//! back ([`Row`]), and, for the queries, the few pieces of syntax that differ ([`Text`]: the
//! text is PostgreSQL's, SQLite's is derived from it).
//!
//! Read-model writes are bulk statements built per batch ([`insert_rows`], [`update_rows`],
//! [`delete_rows`]): one statement per table and kind of change, whatever the number of
//! events, so a batch costs a few statements, not a few per event.

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use sqlx::{
    Row as _,
    postgres::{PgArguments, PgRow},
    query::Query,
    sqlite::{SqliteArguments, SqliteRow},
};
use uuid::{Uuid, fmt::Hyphenated};

use crate::{Error, Result};

/// A value bound to a statement, encoded per store.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Arg {
    Uuid(Uuid),
    OptUuid(Option<Uuid>),
    Text(String),
    OptText(Option<String>),
    Int(i64),
    OptInt(Option<i64>),
    Bool(bool),
    Time(DateTime<Utc>),
    OptTime(Option<DateTime<Utc>>),
}

impl From<Uuid> for Arg {
    fn from(v: Uuid) -> Self {
        Arg::Uuid(v)
    }
}

impl From<Option<Uuid>> for Arg {
    fn from(v: Option<Uuid>) -> Self {
        Arg::OptUuid(v)
    }
}

impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(v)
    }
}

impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(v.to_owned())
    }
}

impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Arg::OptText(v)
    }
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}

impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Arg::OptInt(v)
    }
}

impl From<Option<DateTime<Utc>>> for Arg {
    fn from(v: Option<DateTime<Utc>>) -> Self {
        Arg::OptTime(v)
    }
}

impl From<i32> for Arg {
    fn from(v: i32) -> Self {
        Arg::Int(i64::from(v))
    }
}

impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Arg::Bool(v)
    }
}

impl From<DateTime<Utc>> for Arg {
    fn from(v: DateTime<Utc>) -> Self {
        Arg::Time(v)
    }
}

/// A query's text, written once in PostgreSQL's dialect; SQLite's is derived from it on first
/// use ([`sqlite_dialect`]).
#[derive(Debug)]
pub(crate) struct Text {
    postgres: &'static str,
    sqlite: OnceLock<String>,
}

impl Text {
    pub(crate) const fn new(postgres: &'static str) -> Self {
        Self {
            postgres,
            sqlite: OnceLock::new(),
        }
    }

    fn sqlite(&self) -> &str {
        self.sqlite.get_or_init(|| sqlite_dialect(self.postgres))
    }
}

/// Expressions whose syntax differs, PostgreSQL's first. The SQLite form matches its index
/// (`events_tenant_actor_idx`), so the planner uses it.
const SWAPS: &[(&str, &str)] = &[
    (
        "(metadata -> 'actor' ->> 'subject')",
        "json_extract(metadata, '$.actor.subject')",
    ),
    // Position of a substring: (haystack, needle) in both.
    ("strpos(", "instr("),
];

/// SQLite's form of a PostgreSQL query: the [`SWAPS`] made, and every cast dropped
/// (`$1::uuid`, `transaction_id::text::bigint`): SQLite's columns already hold what the casts
/// ask for, and its parameters need no type.
pub(crate) fn sqlite_dialect(postgres: &str) -> String {
    let swapped = SWAPS.iter().fold(postgres.to_owned(), |text, (pg, lite)| {
        text.replace(pg, lite)
    });
    let mut out = String::with_capacity(swapped.len());
    let mut rest = swapped.as_str();
    while let Some(at) = rest.find("::") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let cast = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '[' || c == ']'))
            .unwrap_or(after.len());
        rest = &after[cast..];
    }
    out.push_str(rest);
    out
}

/// A statement's text: the same for both stores, or a query's [`Text`].
#[derive(Clone, Debug)]
pub(crate) enum Sql {
    Same(String),
    Query(&'static Text),
}

impl Sql {
    fn postgres(&self) -> &str {
        match self {
            Sql::Same(text) => text,
            Sql::Query(text) => text.postgres,
        }
    }

    fn sqlite(&self) -> &str {
        match self {
            Sql::Same(text) => text,
            Sql::Query(text) => text.sqlite(),
        }
    }
}

/// One statement and its values.
#[derive(Clone, Debug)]
pub(crate) struct Statement {
    pub sql: Sql,
    pub args: Vec<Arg>,
}

impl Statement {
    pub(crate) fn new(sql: impl Into<String>, args: Vec<Arg>) -> Self {
        Self {
            sql: Sql::Same(sql.into()),
            args,
        }
    }

    /// A query: its [`Text`] and values.
    pub(crate) fn query(text: &'static Text, args: Vec<Arg>) -> Self {
        Self {
            sql: Sql::Query(text),
            args,
        }
    }

    /// The PostgreSQL text (what tests compare).
    #[cfg(test)]
    fn text(&self) -> &str {
        self.sql.postgres()
    }

    /// The query for PostgreSQL.
    pub(crate) fn postgres(&self) -> Query<'_, sqlx::Postgres, PgArguments> {
        self.args
            .iter()
            .cloned()
            .fold(sqlx::query(self.sql.postgres()), |q, arg| match arg {
                Arg::Uuid(v) => q.bind(v),
                Arg::OptUuid(v) => q.bind(v),
                Arg::Text(v) => q.bind(v),
                Arg::OptText(v) => q.bind(v),
                Arg::Int(v) => q.bind(v),
                Arg::OptInt(v) => q.bind(v),
                Arg::Bool(v) => q.bind(v),
                Arg::Time(v) => q.bind(v),
                Arg::OptTime(v) => q.bind(v),
            })
    }

    /// The query for SQLite.
    pub(crate) fn sqlite(&self) -> Query<'_, sqlx::Sqlite, SqliteArguments<'_>> {
        self.args
            .iter()
            .cloned()
            .fold(sqlx::query(self.sql.sqlite()), |q, arg| match arg {
                Arg::Uuid(v) => q.bind(v.hyphenated().to_string()),
                Arg::OptUuid(v) => q.bind(v.map(|v| v.hyphenated().to_string())),
                Arg::Text(v) => q.bind(v),
                Arg::OptText(v) => q.bind(v),
                Arg::Int(v) => q.bind(v),
                Arg::OptInt(v) => q.bind(v),
                Arg::Bool(v) => q.bind(v),
                Arg::Time(v) => q.bind(micros(v)),
                Arg::OptTime(v) => q.bind(v.map(micros)),
            })
    }
}

/// A timestamp as SQLite stores it: microseconds since the Unix epoch.
pub(crate) fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

/// A row read back from either store.
pub(crate) enum Row {
    Postgres(PgRow),
    Sqlite(SqliteRow),
}

impl Row {
    pub(crate) fn uuid(&self, column: &str) -> Result<Uuid> {
        Ok(match self {
            Row::Postgres(r) => r.try_get(column)?,
            Row::Sqlite(r) => r.try_get::<Hyphenated, _>(column)?.into_uuid(),
        })
    }

    pub(crate) fn text(&self, column: &str) -> Result<String> {
        Ok(match self {
            Row::Postgres(r) => r.try_get(column)?,
            Row::Sqlite(r) => r.try_get(column)?,
        })
    }

    pub(crate) fn int(&self, column: &str) -> Result<i64> {
        Ok(match self {
            Row::Postgres(r) => r.try_get(column)?,
            Row::Sqlite(r) => r.try_get(column)?,
        })
    }

    /// An `INTEGER` (PostgreSQL `int4`) column.
    pub(crate) fn int32(&self, column: &str) -> Result<i32> {
        Ok(match self {
            Row::Postgres(r) => r.try_get(column)?,
            Row::Sqlite(r) => r.try_get(column)?,
        })
    }

    /// A nullable `TEXT` column.
    pub(crate) fn opt_text(&self, column: &str) -> Result<Option<String>> {
        Ok(match self {
            Row::Postgres(r) => r.try_get(column)?,
            Row::Sqlite(r) => r.try_get(column)?,
        })
    }

    pub(crate) fn opt_uuid(&self, column: &str) -> Result<Option<Uuid>> {
        Ok(match self {
            Row::Postgres(r) => r.try_get(column)?,
            Row::Sqlite(r) => r
                .try_get::<Option<Hyphenated>, _>(column)?
                .map(Hyphenated::into_uuid),
        })
    }

    /// A `timestamptz` column (SQLite: integer microseconds).
    pub(crate) fn time(&self, column: &str) -> Result<DateTime<Utc>> {
        match self {
            Row::Postgres(r) => Ok(r.try_get(column)?),
            Row::Sqlite(r) => {
                let stored: i64 = r.try_get(column)?;
                DateTime::from_timestamp_micros(stored)
                    .ok_or_else(|| Error::Corrupt(format!("{column} is out of range: {stored}")))
            }
        }
    }

    /// A `jsonb` column (SQLite: JSON text).
    pub(crate) fn json(&self, column: &str) -> Result<serde_json::Value> {
        match self {
            Row::Postgres(r) => Ok(r.try_get(column)?),
            Row::Sqlite(r) => {
                let stored: &str = r.try_get(column)?;
                serde_json::from_str(stored)
                    .map_err(|e| Error::Corrupt(format!("{column} is not JSON: {e}")))
            }
        }
    }
}

/// `$first, $first+1, …`: `count` placeholders.
pub(crate) fn placeholders(count: usize, first: usize) -> String {
    tuples(1, count, first)
        .trim_start_matches('(')
        .trim_end_matches(')')
        .to_owned()
}

/// Values per statement at most: below both stores' limits (PostgreSQL 65,535, SQLite
/// 32,766), so a batch of any size fits in a few statements.
const MAX_ARGS: usize = 30_000;

/// `($k, $k+1, …), (…)`: `rows` tuples of `width` placeholders, numbered from `first`.
fn tuples(rows: usize, width: usize, first: usize) -> String {
    let mut text = String::with_capacity(rows * width * 5);
    for row in 0..rows {
        if row > 0 {
            text.push_str(", ");
        }
        text.push('(');
        for column in 0..width {
            if column > 0 {
                text.push_str(", ");
            }
            text.push('$');
            text.push_str(&(first + row * width + column).to_string());
        }
        text.push(')');
    }
    text
}

/// Splits `rows` (each of the same width) into chunks that fit one statement, and builds one
/// statement per chunk with `make(tuples)`, where `tuples` is the placeholder list.
fn chunked(rows: Vec<Vec<Arg>>, make: impl Fn(&str) -> String) -> Vec<Statement> {
    let Some(width) = rows.first().map(Vec::len) else {
        return Vec::new();
    };
    debug_assert!(rows.iter().all(|r| r.len() == width));
    let per_statement = (MAX_ARGS / width.max(1)).max(1);
    let mut statements = Vec::new();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<Vec<Arg>> = rows.by_ref().take(per_statement).collect();
        let sql = make(&tuples(chunk.len(), width, 1));
        statements.push(Statement::new(sql, chunk.into_iter().flatten().collect()));
    }
    statements
}

/// `INSERT INTO <into> VALUES <rows> <tail>`; `into` is `table (columns…)`, `tail` e.g. an
/// `ON CONFLICT` clause.
pub(crate) fn insert_rows(into: &str, tail: &str, rows: Vec<Vec<Arg>>) -> Vec<Statement> {
    chunked(rows, |values| {
        format!("INSERT INTO {into} VALUES {values} {tail}")
    })
}

/// `UPDATE <table> SET <set> FROM (<rows> as `v` with `columns`) WHERE <matches>`: `set` and
/// `matches` refer to the values as `v.<column>` and to the row as `<table>.<column>`.
pub(crate) fn update_rows(
    table: &str,
    columns: &[&str],
    set: &str,
    matches: &str,
    rows: Vec<Vec<Arg>>,
) -> Vec<Statement> {
    let named = columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("column{} AS {c}", i + 1))
        .collect::<Vec<_>>()
        .join(", ");
    chunked(rows, |values| {
        format!(
            "UPDATE {table} SET {set} FROM (SELECT {named} FROM (VALUES {values}) AS rows) AS v \
             WHERE {matches}"
        )
    })
}

/// `DELETE FROM <table> WHERE (<key>) IN (VALUES <rows>)`; `key` lists the key columns.
pub(crate) fn delete_rows(table: &str, key: &str, rows: Vec<Vec<Arg>>) -> Vec<Statement> {
    chunked(rows, |values| {
        format!("DELETE FROM {table} WHERE ({key}) IN (VALUES {values})")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_number_across_rows() {
        assert_eq!(tuples(2, 3, 1), "($1, $2, $3), ($4, $5, $6)");
    }

    #[test]
    fn no_rows_no_statement() {
        assert!(insert_rows("t (a)", "", Vec::new()).is_empty());
    }

    #[test]
    fn large_batches_split_below_the_parameter_limits() {
        let rows = (0..25_000)
            .map(|i| vec![Arg::Int(i), Arg::Bool(true)])
            .collect();
        let statements = insert_rows("t (a, b)", "", rows);
        assert_eq!(statements.len(), 2);
        assert_eq!(statements[0].args.len(), 30_000);
        assert_eq!(statements[1].args.len(), 20_000);
        assert!(statements[1].text().contains("($19999, $20000)"));
        assert!(!statements[1].text().contains("$20001"));
    }

    #[test]
    fn sqlite_queries_lose_the_casts_and_swap_what_differs() {
        assert_eq!(
            sqlite_dialect(
                "SELECT transaction_id::text::bigint AS t FROM events \
                 WHERE ($1::uuid[] IS NULL OR (metadata -> 'actor' ->> 'subject') = $2::text)"
            ),
            "SELECT transaction_id AS t FROM events \
             WHERE ($1 IS NULL OR json_extract(metadata, '$.actor.subject') = $2)"
        );
    }

    #[test]
    fn a_placeholder_list() {
        assert_eq!(placeholders(3, 2), "$2, $3, $4");
    }

    #[test]
    fn updates_name_the_values() {
        let statements = update_rows(
            "t",
            &["id", "name"],
            "name = v.name",
            "t.id = v.id",
            vec![vec![Arg::Int(1), Arg::from("a")]],
        );
        assert_eq!(
            statements[0].text(),
            "UPDATE t SET name = v.name FROM (SELECT column1 AS id, column2 AS name FROM \
             (VALUES ($1, $2)) AS rows) AS v WHERE t.id = v.id"
        );
    }
}
