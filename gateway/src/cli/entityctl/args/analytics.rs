//! `entityctl analytics …`.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clap::{Subcommand, ValueEnum};

use super::{ReadOpts, audit::parse_time};

/// Where an export starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SinceArg {
    /// After this position of the history (0: from the first change).
    Position(i64),
    /// From the first change recorded at or after this time.
    Time(DateTime<Utc>),
}

/// `--since`: a position (digits) or a time (RFC 3339, or a date meaning its 00:00 UTC).
pub fn parse_since(s: &str) -> Result<SinceArg, String> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s
            .parse()
            .map(SinceArg::Position)
            .map_err(|_| format!("{s:?}: a position is at most {}", i64::MAX));
    }
    parse_time(s).map(SinceArg::Time).map_err(|_| {
        format!("{s:?}: expected a position (0, 4711) or a time (2030-01-31T12:00:00Z, 2030-01-31)")
    })
}

/// An entity kind of the history.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum HistoryKindArg {
    /// Tenants.
    Tenant,
    /// Clients.
    Client,
    /// Organizations.
    #[value(alias = "org")]
    Organization,
    /// Teams.
    Team,
    /// Users.
    User,
    /// Departments.
    Department,
    /// Locations.
    Location,
    /// Contacts.
    Contact,
}

/// The file format of an export.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// One JSON object per line, the state as a nested object.
    Jsonl,
    /// RFC 4180 CSV with a header row, the state as one JSON column.
    Csv,
}

/// Analytics commands.
#[derive(Debug, Subcommand)]
pub enum AnalyticsCommand {
    /// Write the analytics history (one row per change of a tenant, client, organization,
    /// team, user, department, location or contact, with its whole state after the change)
    /// to a file for a warehouse load. Prints how many changes it wrote and the position the
    /// next export resumes after (`--since <position>`).
    Export {
        /// Where to start: a position (the changes after it; 0: from the first) or a time
        /// (RFC 3339, or a date: its 00:00 UTC).
        #[arg(long, value_parser = parse_since)]
        since: SinceArg,
        /// Only this tenant's history (without it: every tenant's, for platform admins).
        #[arg(long)]
        tenant: Option<String>,
        /// Only this kind of entity (repeatable).
        #[arg(long = "kind", value_enum)]
        kinds: Vec<HistoryKindArg>,
        /// File format.
        #[arg(long, value_enum)]
        format: ExportFormat,
        /// The file to write (created, or replaced).
        #[arg(long)]
        file: PathBuf,
        /// Changes per call [server default: 10,000; at most 100,000]: a longer export is
        /// several calls, each resuming after the last.
        #[arg(long)]
        per_call: Option<i32>,
        #[command(flatten)]
        read: ReadOpts,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_is_a_position_or_a_time() {
        assert_eq!(parse_since("0"), Ok(SinceArg::Position(0)));
        assert_eq!(parse_since("4711"), Ok(SinceArg::Position(4711)));
        assert!(matches!(parse_since("2030-01-31"), Ok(SinceArg::Time(_))));
        assert!(matches!(
            parse_since("2030-01-31T12:00:00Z"),
            Ok(SinceArg::Time(_))
        ));
        for bad in ["", "-1", "99999999999999999999", "yesterday", "12x"] {
            assert!(parse_since(bad).is_err(), "{bad}");
        }
    }
}
