//! `entityctl audit …`.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use clap::{Subcommand, ValueEnum};

use super::PageOpts;

/// The kind of an audited entity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum EntityKindArg {
    /// The tenant itself.
    Tenant,
    /// An organization.
    #[value(alias = "org")]
    Organization,
    /// A team.
    Team,
    /// A user.
    User,
    /// A custom role.
    Role,
    /// A client.
    Client,
}

/// Audit commands.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// List a tenant's events, newest first: all of them, one entity's history
    /// (--entity-kind with --entity-id) or what one --actor did.
    List {
        /// Tenant id.
        tenant: String,
        /// Only the history of the entity of this kind (with --entity-id).
        #[arg(long, value_enum, requires = "entity_id", conflicts_with = "actor")]
        entity_kind: Option<EntityKindArg>,
        /// Only the history of the entity with this id (with --entity-kind).
        #[arg(long, requires = "entity_kind")]
        entity_id: Option<String>,
        /// Only what this subject did (the `sub` of the caller's token when it wrote).
        #[arg(long)]
        actor: Option<String>,
        /// Only events recorded at or after this time: RFC 3339 (2030-01-31T12:00:00Z) or a
        /// date (2030-01-31, 00:00 UTC).
        #[arg(long, value_parser = parse_time)]
        since: Option<DateTime<Utc>>,
        /// Only events recorded before this time (same forms as --since).
        #[arg(long, value_parser = parse_time)]
        until: Option<DateTime<Utc>>,
        #[command(flatten)]
        page: PageOpts,
    },
}

/// An instant on the command line: RFC 3339, or a date meaning its 00:00 UTC.
pub fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map(|d| d.and_time(NaiveTime::MIN).and_utc())
        .map_err(|_| {
            format!("{s:?}: expected RFC 3339 (2030-01-31T12:00:00Z) or a date (2030-01-31)")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_or_dates() {
        let t = |s: &str| parse_time(s).map(|t| t.to_rfc3339());
        assert_eq!(
            t("2030-01-31T12:00:00+01:00"),
            Ok("2030-01-31T11:00:00+00:00".into())
        );
        assert_eq!(
            t("2030-01-31T12:00:00.5Z"),
            Ok("2030-01-31T12:00:00.500+00:00".into())
        );
        assert_eq!(t("2030-01-31"), Ok("2030-01-31T00:00:00+00:00".into()));
        for bad in [
            "",
            "yesterday",
            "2030-01-31T12:00:00",
            "2030-02-30",
            "1700000000",
        ] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
    }
}
