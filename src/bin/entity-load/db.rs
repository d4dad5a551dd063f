//! Read-only queries to the node's PostgreSQL through one long-lived `psql` child process (the
//! load generator has no database driver): the snapshot row of one tenant and, when the
//! database has the `pg_stat_statements` extension, what saving snapshots cost the server.

use std::process::Stdio;

use serde::Serialize;
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines},
    process::{Child, ChildStdin, ChildStdout, Command},
    sync::Mutex,
};

use crate::LoadError;

/// Printed after every query to find the end of its rows.
const END: &str = "__entity_load_end__";

/// One `psql` process and its single connection.
pub struct Psql {
    io: Mutex<Io>,
}

struct Io {
    // Kept so that the child is killed when the reader is dropped.
    _child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
}

/// The stored snapshot of one aggregate, at one moment.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SnapshotRow {
    /// Journal position the snapshot covers.
    pub last_position: i64,
    /// Size of the encoded state (`octet_length`).
    pub bytes: u64,
    /// Size as stored (`pg_column_size`: after PostgreSQL's TOAST compression).
    pub stored_bytes: u64,
    /// `taken_at`, seconds since the Unix epoch.
    pub taken_at: f64,
    /// `recorded_at` of the event at `last_position` (seconds since the epoch): the clock
    /// reading when the command that triggered the snapshot was decided. `taken_at` minus it
    /// is that command's append plus the snapshot's encoding (clone, sealing, bincode).
    pub event_recorded_at: Option<f64>,
}

/// Cumulative `pg_stat_statements` figures of one kind of statement.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct StatementTotals {
    /// Executions.
    pub calls: u64,
    /// Execution time, milliseconds.
    pub total_ms: f64,
}

impl Psql {
    /// Starts `psql` on `url` and checks the connection.
    pub async fn connect(url: &str) -> Result<Psql, LoadError> {
        let mut child = Command::new("psql")
            .args(["-X", "-A", "-t", "-q", "-F", "|", "-d", url])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| LoadError::Config(format!("cannot start psql: {e}")))?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(LoadError::Config("psql has no pipes".into()));
        };
        let psql = Psql {
            io: Mutex::new(Io {
                _child: child,
                stdin,
                lines: BufReader::new(stdout).lines(),
            }),
        };
        match psql.query("SELECT 1").await?.first().map(Vec::as_slice) {
            Some([one]) if one == "1" => Ok(psql),
            _ => Err(LoadError::Connect(format!("psql could not query {url}"))),
        }
    }

    /// Runs one statement; its rows, split into fields. A failing statement has no rows.
    pub async fn query(&self, sql: &str) -> Result<Vec<Vec<String>>, LoadError> {
        let mut io = self.io.lock().await;
        let gone = |e: std::io::Error| LoadError::Rpc(format!("psql: {e}"));
        io.stdin
            .write_all(format!("{sql};\n\\echo {END}\n").as_bytes())
            .await
            .map_err(gone)?;
        io.stdin.flush().await.map_err(gone)?;
        let mut rows = Vec::new();
        loop {
            match io.lines.next_line().await.map_err(gone)? {
                Some(line) if line == END => return Ok(rows),
                Some(line) => rows.push(line.split('|').map(str::to_owned).collect()),
                None => return Err(LoadError::Rpc("psql exited".into())),
            }
        }
    }

    /// The tenant scope snapshot of `tenant_id`, if one is stored.
    pub async fn snapshot(&self, tenant_id: &str) -> Result<Option<SnapshotRow>, LoadError> {
        // Checked before it goes into the statement's text.
        let id = uuid::Uuid::parse_str(tenant_id)
            .map_err(|_| LoadError::Rpc(format!("tenant id {tenant_id} is not a UUID")))?;
        let rows = self
            .query(&format!(
                "SELECT s.last_position, octet_length(s.state), pg_column_size(s.state), \
                 extract(epoch FROM s.taken_at)::float8, extract(epoch FROM e.recorded_at)::float8 \
                 FROM snapshots s LEFT JOIN events e ON e.global_position = s.last_position \
                 WHERE s.aggregate_kind = 'tenant-scope' AND s.aggregate_id = '{id}'"
            ))
            .await?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let field = |i: usize| row.get(i).map(String::as_str).unwrap_or_default();
        Ok(Some(SnapshotRow {
            last_position: field(0).parse().unwrap_or_default(),
            bytes: field(1).parse().unwrap_or_default(),
            stored_bytes: field(2).parse().unwrap_or_default(),
            taken_at: field(3).parse().unwrap_or_default(),
            event_recorded_at: field(4).parse().ok(),
        }))
    }

    /// `pg_stat_statements` totals of the statements whose text contains `needle` (a fixed
    /// string of ours), or `None` without the extension.
    pub async fn statement_totals(&self, needle: &str) -> Option<StatementTotals> {
        let rows = self
            .query(&format!(
                "SELECT coalesce(sum(calls), 0)::bigint, coalesce(sum(total_exec_time), 0)::float8 \
                 FROM pg_stat_statements WHERE query LIKE '%{needle}%'"
            ))
            .await
            .ok()?;
        let row = rows.first()?;
        Some(StatementTotals {
            calls: row.first()?.parse().ok()?,
            total_ms: row.get(1)?.parse().ok()?,
        })
    }
}
