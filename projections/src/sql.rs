//! SQL that both stores run: one text per statement, `$n` placeholders (sqlx's SQLite driver
//! numbers `$n` like PostgreSQL does), and the differences of the stores isolated here: how a
//! value is stored ([`Arg`]: PostgreSQL's `uuid` and `timestamptz` are hyphenated text and
//! microseconds since the epoch in SQLite, as the journal stores them), how a value is read
//! back ([`Row`]), and, for the queries, the few pieces of syntax that differ ([`Text`]: the
//! text is PostgreSQL's, SQLite's is derived from it).
//!
//! Read-model writes are bulk statements built per batch ([`insert_rows`], [`update_rows`],
//! [`delete_rows`]): one statement per table and kind of change, whatever the number of
//! events, so a batch costs a few statements, not a few per event. On PostgreSQL each binds
//! one array per column (`UNNEST`), so its text does not change with the number of rows: it
//! is prepared once per connection, where a `VALUES` list of a new length would be parsed,
//! planned and described (a round trip) again, and would push the others out of the
//! connection's statement cache. On SQLite each binds one JSON array of rows (`json_each`),
//! for the same reasons and one of its own (see [`Statement::sqlite`]).

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

/// Expressions whose syntax differs, PostgreSQL's first.
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

/// A statement's text: the same for both stores, a query's [`Text`], or a bulk statement's
/// two forms (PostgreSQL's takes one array per column, SQLite's a `VALUES` list).
#[derive(Clone, Debug)]
pub(crate) enum Sql {
    Same(String),
    Query(&'static Text),
    Bulk { postgres: String, sqlite: String },
}

impl Sql {
    fn postgres(&self) -> &str {
        match self {
            Sql::Same(text) => text,
            Sql::Query(text) => text.postgres,
            Sql::Bulk { postgres, .. } => postgres,
        }
    }

    fn sqlite(&self) -> &str {
        match self {
            Sql::Same(text) => text,
            Sql::Query(text) => text.sqlite(),
            Sql::Bulk { sqlite, .. } => sqlite,
        }
    }
}

/// A statement's values: one per placeholder, or rows by column (a bulk statement).
#[derive(Clone, Debug)]
enum Values {
    Each(Vec<Arg>),
    Columns(Vec<Column>),
}

/// One column of a bulk statement's rows, of one type: PostgreSQL binds it as one array, so
/// the statement's text is the same whatever the number of rows (prepared once per
/// connection, parsed once); SQLite binds its cells one by one.
#[derive(Clone, Debug, PartialEq)]
enum Column {
    Uuid(Vec<Option<Uuid>>),
    Text(Vec<Option<String>>),
    Int(Vec<Option<i64>>),
    Bool(Vec<bool>),
    Time(Vec<Option<DateTime<Utc>>>),
}

impl Column {
    fn empty(first: &Arg, rows: usize) -> Self {
        match first {
            Arg::Uuid(_) | Arg::OptUuid(_) => Column::Uuid(Vec::with_capacity(rows)),
            Arg::Text(_) | Arg::OptText(_) => Column::Text(Vec::with_capacity(rows)),
            Arg::Int(_) | Arg::OptInt(_) => Column::Int(Vec::with_capacity(rows)),
            Arg::Bool(_) => Column::Bool(Vec::with_capacity(rows)),
            Arg::Time(_) | Arg::OptTime(_) => Column::Time(Vec::with_capacity(rows)),
        }
    }

    /// Whether `arg` fits the column `empty(first, _)` makes.
    fn same_type(first: &Arg, arg: &Arg) -> bool {
        std::mem::discriminant(&Column::empty(first, 0))
            == std::mem::discriminant(&Column::empty(arg, 0))
    }

    /// Appends a cell; `false` if its type is not the column's.
    fn push(&mut self, arg: Arg) -> bool {
        match (self, arg) {
            (Column::Uuid(c), Arg::Uuid(v)) => c.push(Some(v)),
            (Column::Uuid(c), Arg::OptUuid(v)) => c.push(v),
            (Column::Text(c), Arg::Text(v)) => c.push(Some(v)),
            (Column::Text(c), Arg::OptText(v)) => c.push(v),
            (Column::Int(c), Arg::Int(v)) => c.push(Some(v)),
            (Column::Int(c), Arg::OptInt(v)) => c.push(v),
            (Column::Bool(c), Arg::Bool(v)) => c.push(v),
            (Column::Time(c), Arg::Time(v)) => c.push(Some(v)),
            (Column::Time(c), Arg::OptTime(v)) => c.push(v),
            _ => return false,
        }
        true
    }

    fn cell(&self, row: usize) -> Option<Arg> {
        Some(match self {
            Column::Uuid(c) => Arg::OptUuid(*c.get(row)?),
            Column::Text(c) => Arg::OptText(c.get(row)?.clone()),
            Column::Int(c) => Arg::OptInt(*c.get(row)?),
            Column::Bool(c) => Arg::Bool(*c.get(row)?),
            Column::Time(c) => Arg::OptTime(*c.get(row)?),
        })
    }

    fn len(&self) -> usize {
        match self {
            Column::Uuid(c) => c.len(),
            Column::Text(c) => c.len(),
            Column::Int(c) => c.len(),
            Column::Bool(c) => c.len(),
            Column::Time(c) => c.len(),
        }
    }

    /// Whether `rows` have one width and each column one type (what [`Column::of_rows`]
    /// needs).
    fn agree(rows: &[Vec<Arg>]) -> bool {
        let Some(first) = rows.first() else {
            return true;
        };
        rows.iter().all(|row| {
            row.len() == first.len()
                && row
                    .iter()
                    .zip(first)
                    .all(|(arg, first)| Column::same_type(first, arg))
        })
    }

    /// `rows` by column; `None` unless they [`agree`](Column::agree).
    fn of_rows(rows: Vec<Vec<Arg>>) -> Option<Vec<Column>> {
        if !Column::agree(&rows) {
            return None;
        }
        let first = rows.first()?;
        let mut columns: Vec<Column> = first
            .iter()
            .map(|arg| Column::empty(arg, rows.len()))
            .collect();
        for row in rows {
            for (column, arg) in columns.iter_mut().zip(row) {
                let pushed = column.push(arg);
                debug_assert!(pushed, "checked by `agree`");
            }
        }
        Some(columns)
    }
}

/// One statement and its values.
#[derive(Clone, Debug)]
pub(crate) struct Statement {
    sql: Sql,
    values: Values,
}

impl Statement {
    pub(crate) fn new(sql: impl Into<String>, args: Vec<Arg>) -> Self {
        Self {
            sql: Sql::Same(sql.into()),
            values: Values::Each(args),
        }
    }

    /// A query: its [`Text`] and values.
    pub(crate) fn query(text: &'static Text, args: Vec<Arg>) -> Self {
        Self {
            sql: Sql::Query(text),
            values: Values::Each(args),
        }
    }

    /// A statement whose only values are `ids`, listed where `template` says `IN ({ids})`:
    /// PostgreSQL binds them as one array (`= ANY($1)`, one text for any number of ids),
    /// SQLite one JSON array (`json_each`, see [`Statement::sqlite`]).
    pub(crate) fn among(template: &str, ids: &[Uuid]) -> Self {
        const LIST: &str = "IN ({ids})";
        debug_assert!(template.contains(LIST), "{template}");
        if !template.contains(LIST) {
            return Self::new(template, ids.iter().map(|id| Arg::from(*id)).collect());
        }
        let sqlite = template.replace(LIST, "IN (SELECT value ->> 0 FROM json_each(?))");
        Self {
            sql: Sql::Bulk {
                postgres: template.replace(LIST, "= ANY($1)"),
                sqlite,
            },
            values: Values::Columns(vec![Column::Uuid(ids.iter().copied().map(Some).collect())]),
        }
    }

    /// The PostgreSQL text (what tests compare).
    #[cfg(test)]
    fn text(&self) -> &str {
        self.sql.postgres()
    }

    /// The values as SQLite binds them, one per placeholder.
    fn cells(&self) -> Vec<Arg> {
        match &self.values {
            Values::Each(args) => args.clone(),
            Values::Columns(columns) => {
                let rows = columns.first().map_or(0, Column::len);
                (0..rows)
                    .flat_map(|row| columns.iter().filter_map(move |c| c.cell(row)))
                    .collect()
            }
        }
    }

    /// The query for PostgreSQL.
    pub(crate) fn postgres(&self) -> Query<'_, sqlx::Postgres, PgArguments> {
        let query = sqlx::query(self.sql.postgres());
        match &self.values {
            Values::Each(args) => args.iter().cloned().fold(query, |q, arg| match arg {
                Arg::Uuid(v) => q.bind(v),
                Arg::OptUuid(v) => q.bind(v),
                Arg::Text(v) => q.bind(v),
                Arg::OptText(v) => q.bind(v),
                Arg::Int(v) => q.bind(v),
                Arg::OptInt(v) => q.bind(v),
                Arg::Bool(v) => q.bind(v),
                Arg::Time(v) => q.bind(v),
                Arg::OptTime(v) => q.bind(v),
            }),
            Values::Columns(columns) => columns.iter().fold(query, |q, column| match column {
                Column::Uuid(v) => q.bind(v.as_slice()),
                Column::Text(v) => q.bind(v.as_slice()),
                Column::Int(v) => q.bind(v.as_slice()),
                Column::Bool(v) => q.bind(v.as_slice()),
                Column::Time(v) => q.bind(v.as_slice()),
            }),
        }
    }

    /// The query for SQLite. A bulk statement's rows are bound as one JSON array of rows
    /// (`json_each(?)`): its text does not change with the number of rows, so it is parsed
    /// once per connection, and the values need no placeholder each (SQLite looks each up by
    /// name when it parses and when sqlx binds: `O(n²)` for a batch of `n`).
    pub(crate) fn sqlite(&self) -> Query<'_, sqlx::Sqlite, SqliteArguments<'_>> {
        if let Values::Columns(columns) = &self.values {
            return sqlx::query(self.sql.sqlite()).bind(json_rows(columns));
        }
        self.cells()
            .into_iter()
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

/// Rows by column as SQLite's bulk statements bind them: a JSON array of rows, each an array
/// of its cells as SQLite stores them (hyphenated UUIDs, microseconds, `true`/`false`, which
/// `->>` reads as 1/0), read back with `r.value ->> <column index>`.
fn json_rows(columns: &[Column]) -> String {
    use serde_json::Value;
    let rows = columns.first().map_or(0, Column::len);
    let cell = |column: &Column, row: usize| -> Value {
        match column {
            Column::Uuid(c) => c[row].map_or(Value::Null, |v| v.hyphenated().to_string().into()),
            Column::Text(c) => c[row].clone().map_or(Value::Null, Value::from),
            Column::Int(c) => c[row].map_or(Value::Null, Value::from),
            Column::Bool(c) => Value::Bool(c[row]),
            Column::Time(c) => c[row].map_or(Value::Null, |v| micros(v).into()),
        }
    };
    Value::Array(
        (0..rows)
            .map(|row| Value::Array(columns.iter().map(|c| cell(c, row)).collect()))
            .collect(),
    )
    .to_string()
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

/// The cells of one row of [`json_rows`] (`r` a row of `json_each(?)`):
/// `r.value ->> 0, r.value ->> 1, …`.
fn json_cells(width: usize) -> String {
    (0..width)
        .map(|i| format!("r.value ->> {i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

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

/// A bulk statement's texts, made from the placeholders of its rows.
struct BulkText<'a> {
    /// PostgreSQL's: `$1, $2, …`, one array per column.
    postgres: &'a dyn Fn(&str) -> String,
    /// SQLite's: the cells of a row `r` of `json_each(?)` ([`json_cells`]).
    sqlite: &'a dyn Fn(&str) -> String,
    /// Both stores', should a column mix types: `($1, $2, …), (…)`, the rows' tuples.
    values: &'a dyn Fn(&str) -> String,
}

/// Splits `rows` (each of the same width) into chunks that fit one SQLite statement and builds
/// one bulk statement per chunk. Should a column mix types (a bug of the caller), both stores
/// get the `VALUES` form, which binds each cell on its own.
fn chunked(rows: Vec<Vec<Arg>>, text: BulkText<'_>) -> Vec<Statement> {
    let Some(width) = rows.first().map(Vec::len) else {
        return Vec::new();
    };
    debug_assert!(rows.iter().all(|r| r.len() == width));
    let per_statement = (MAX_ARGS / width.max(1)).max(1);
    let arrays = placeholders(width, 1);
    let mut statements = Vec::new();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<Vec<Arg>> = rows.by_ref().take(per_statement).collect();
        let statement = if Column::agree(&chunk) {
            Statement {
                sql: Sql::Bulk {
                    postgres: (text.postgres)(&arrays),
                    sqlite: (text.sqlite)(&json_cells(width)),
                },
                values: Values::Columns(Column::of_rows(chunk).unwrap_or_default()),
            }
        } else {
            debug_assert!(false, "a bulk statement's column mixes types");
            let tuples = (text.values)(&tuples(chunk.len(), width, 1));
            Statement::new(tuples, chunk.into_iter().flatten().collect())
        };
        statements.push(statement);
    }
    statements
}

/// `INSERT INTO <into> <rows> <tail>`; `into` is `table (columns…)`, `tail` e.g. an
/// `ON CONFLICT` clause.
pub(crate) fn insert_rows(into: &str, tail: &str, rows: Vec<Vec<Arg>>) -> Vec<Statement> {
    chunked(
        rows,
        BulkText {
            postgres: &|arrays| format!("INSERT INTO {into} SELECT * FROM UNNEST({arrays}) {tail}"),
            // `WHERE true`: SQLite's parser would read an `ON CONFLICT` tail as a join's `ON`.
            sqlite: &|cells| {
                format!(
                    "INSERT INTO {into} SELECT {cells} FROM json_each(?) AS r WHERE true {tail}"
                )
            },
            values: &|tuples| format!("INSERT INTO {into} VALUES {tuples} {tail}"),
        },
    )
}

/// `UPDATE <table> SET <set> FROM <rows as v with columns> WHERE <matches>`: `set` and
/// `matches` refer to the values as `v.<column>` and to the row as `<table>.<column>`.
pub(crate) fn update_rows(
    table: &str,
    columns: &[&str],
    set: &str,
    matches: &str,
    rows: Vec<Vec<Arg>>,
) -> Vec<Statement> {
    let named = |cell: &dyn Fn(usize) -> String| {
        columns
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{} AS {c}", cell(i)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let listed = columns.join(", ");
    chunked(
        rows,
        BulkText {
            postgres: &|arrays| {
                format!(
                    "UPDATE {table} SET {set} FROM UNNEST({arrays}) AS v ({listed}) \
                     WHERE {matches}"
                )
            },
            sqlite: &|_| {
                format!(
                    "UPDATE {table} SET {set} FROM (SELECT {} FROM json_each(?) AS r) AS v \
                     WHERE {matches}",
                    named(&|i| format!("r.value ->> {i}"))
                )
            },
            values: &|tuples| {
                format!(
                    "UPDATE {table} SET {set} FROM (SELECT {} FROM (VALUES {tuples}) AS rows) \
                     AS v WHERE {matches}",
                    named(&|i| format!("column{}", i + 1))
                )
            },
        },
    )
}

/// `DELETE FROM <table> WHERE (<key>) IN <rows>`; `key` lists the key columns.
pub(crate) fn delete_rows(table: &str, key: &str, rows: Vec<Vec<Arg>>) -> Vec<Statement> {
    chunked(
        rows,
        BulkText {
            postgres: &|arrays| {
                format!("DELETE FROM {table} WHERE ({key}) IN (SELECT * FROM UNNEST({arrays}))")
            },
            sqlite: &|cells| {
                format!(
                    "DELETE FROM {table} WHERE ({key}) IN (SELECT {cells} FROM json_each(?) AS r)"
                )
            },
            values: &|tuples| format!("DELETE FROM {table} WHERE ({key}) IN (VALUES {tuples})"),
        },
    )
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
        assert_eq!(statements[0].cells().len(), 30_000);
        assert_eq!(statements[1].cells().len(), 20_000);
        assert_eq!(
            statements[1].sql.sqlite(),
            "INSERT INTO t (a, b) SELECT r.value ->> 0, r.value ->> 1 FROM json_each(?) AS r \
             WHERE true "
        );
        assert_eq!(
            statements[1].text(),
            "INSERT INTO t (a, b) SELECT * FROM UNNEST($1, $2) "
        );
    }

    #[test]
    fn bulk_texts_do_not_depend_on_the_number_of_rows() {
        let rows = |n: i64| {
            (0..n)
                .map(|i| {
                    vec![
                        Arg::Int(i),
                        Arg::OptText((i % 2 == 0).then(|| i.to_string())),
                    ]
                })
                .collect::<Vec<_>>()
        };
        let one = insert_rows("t (a, b)", "ON CONFLICT DO NOTHING", rows(1));
        let many = insert_rows("t (a, b)", "ON CONFLICT DO NOTHING", rows(300));
        assert_eq!(one[0].text(), many[0].text());
        assert_eq!(one[0].sql.sqlite(), many[0].sql.sqlite());
        let Values::Columns(columns) = &many[0].values else {
            panic!("rows by column");
        };
        assert_eq!(columns[0], Column::Int((0..300).map(Some).collect()));
        assert_eq!(columns[1].cell(1), Some(Arg::OptText(None)));
        // SQLite binds the same values as one JSON array of rows.
        assert!(json_rows(columns).starts_with(r#"[[0,"0"],[1,null],[2,"2"],"#));
    }

    #[test]
    fn a_list_of_ids_is_one_array_for_both_stores() {
        let ids = [Uuid::nil(), Uuid::max()];
        let statement = Statement::among("SELECT a FROM t WHERE id IN ({ids})", &ids);
        assert_eq!(statement.text(), "SELECT a FROM t WHERE id = ANY($1)");
        assert_eq!(
            statement.sql.sqlite(),
            "SELECT a FROM t WHERE id IN (SELECT value ->> 0 FROM json_each(?))"
        );
        let Values::Columns(columns) = &statement.values else {
            panic!("ids as a column");
        };
        assert_eq!(
            json_rows(columns),
            format!(r#"[["{}"],["{}"]]"#, ids[0], ids[1])
        );
    }

    #[test]
    fn rows_become_columns_only_when_each_column_has_one_type() {
        let mixed = vec![vec![Arg::Int(1)], vec![Arg::from("one")]];
        assert_eq!(Column::of_rows(mixed), None);
        let ragged = vec![vec![Arg::Int(1)], vec![Arg::Int(2), Arg::Int(3)]];
        assert_eq!(Column::of_rows(ragged), None);
        let optional = vec![vec![Arg::OptUuid(None)], vec![Arg::Uuid(Uuid::nil())]];
        assert_eq!(
            Column::of_rows(optional),
            Some(vec![Column::Uuid(vec![None, Some(Uuid::nil())])])
        );
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
            statements[0].sql.sqlite(),
            "UPDATE t SET name = v.name FROM (SELECT r.value ->> 0 AS id, r.value ->> 1 AS name \
             FROM json_each(?) AS r) AS v WHERE t.id = v.id"
        );
        assert_eq!(
            statements[0].text(),
            "UPDATE t SET name = v.name FROM UNNEST($1, $2) AS v (id, name) WHERE t.id = v.id"
        );
    }
}
