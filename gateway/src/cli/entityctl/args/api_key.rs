//! `entityctl api-key …`.

use chrono::{DateTime, Utc};
use clap::{ArgGroup, Args, Subcommand};

use super::{ApiKeyId, PageOpts, Write, WriteOpts, audit::parse_time};

/// API key commands.
#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Issue a key for a partition: an admin key (--admin) or one holding the permissions
    /// --scope names. The key is printed this once (`key: eek_…`); it is never shown again.
    #[command(group(ArgGroup::new("access").args(["admin", "scopes"]).required(true)))]
    Create {
        /// Tenant id.
        tenant: String,
        /// The partition the key belongs to (active, of a client that is not disabled).
        #[arg(long, value_name = "PARTITION")]
        partition: String,
        /// Name, 1-200 characters.
        #[arg(long)]
        name: String,
        /// Read and write within the tenant (what built-in tenant-admin holds).
        #[arg(long, conflicts_with = "scopes")]
        admin: bool,
        /// A permission of the key, `resource:action` or `resource:*` (repeatable); at most
        /// what the caller holds.
        #[arg(long = "scope", value_name = "PERMISSION")]
        scopes: Vec<String>,
        #[command(flatten)]
        expiry: ExpiryOpts,
        /// An external system's id for the key, at most 200 characters.
        #[arg(long)]
        foreign_key: Option<String>,
        #[command(flatten)]
        write: WriteOpts,
    },
    /// Show a key (masked: `eek_…` and its last four characters).
    Get {
        /// Tenant id.
        tenant: String,
        /// The key's id.
        #[arg(value_name = "KEY_ID")]
        id: String,
    },
    /// List a tenant's keys by id (masked): every partition's, or those of --partition.
    List {
        /// Tenant id.
        tenant: String,
        /// Only this partition's keys.
        #[arg(long, value_name = "PARTITION")]
        partition: Option<String>,
        #[command(flatten)]
        page: PageOpts,
    },
    /// Replace a key: a new key with its partition, name, scopes and foreign key (printed this
    /// once), while the old one keeps working for --overlap-secs.
    Rotate {
        /// Tenant id.
        tenant: String,
        /// The key to replace (neither revoked nor expired).
        #[arg(value_name = "KEY_ID")]
        id: String,
        /// How long the old key keeps working, in seconds: 0 ends it now; at most 30 days
        /// [server default: 86400].
        #[arg(long, value_name = "SECONDS")]
        overlap_secs: Option<i64>,
        /// The new key's expiry.
        #[command(flatten)]
        expiry: ExpiryOpts,
        #[command(flatten)]
        write: WriteOpts,
    },
    /// End a key now (revoking a revoked key changes nothing).
    Revoke(Write<ApiKeyId>),
    /// Is this key valid, and for which tenant, client, partition and scopes? Prints `valid`
    /// and what the key grants, or `invalid (REASON)`; the exit code is 0 either way.
    Verify {
        /// The key as presented (`eek_…`).
        #[arg(value_name = "KEY")]
        key: String,
    },
}

/// When a key stops working: `--ttl-secs` or `--expires` (neither: never).
#[derive(Clone, Debug, Default, Args)]
#[command(group(ArgGroup::new("expiry").multiple(false)))]
pub struct ExpiryOpts {
    /// The key stops working this many seconds after it is issued (at most ten years).
    #[arg(long, value_name = "SECONDS", group = "expiry")]
    pub ttl_secs: Option<i64>,
    /// The key stops working at this time: RFC 3339 (2030-01-31T12:00:00Z) or a date
    /// (2030-01-31, 00:00 UTC).
    #[arg(long, value_name = "TIME", value_parser = parse_time, group = "expiry")]
    pub expires: Option<DateTime<Utc>>,
}
