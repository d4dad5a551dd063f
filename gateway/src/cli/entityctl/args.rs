//! Command-line grammar of `entityctl`.

use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};

/// Command-line client of entity-engine: drives every RPC from a shell.
#[derive(Debug, Parser)]
#[command(name = "entityctl", version)]
pub struct Cli {
    /// gRPC endpoint of an entityd node.
    #[arg(
        long,
        env = "ENTITYCTL_ENDPOINT",
        default_value = "http://127.0.0.1:50051",
        global = true
    )]
    pub endpoint: String,
    /// Bearer token sent as `authorization: Bearer <token>`.
    #[arg(long, env = "ENTITYCTL_TOKEN", hide_env_values = true, global = true)]
    pub token: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Output::Text, global = true)]
    pub output: Output,
    #[command(subcommand)]
    pub command: Command,
}

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// Readable `key: value` lines.
    Text,
    /// One JSON object per result.
    Json,
    /// Only the id(s) of the resulting resource(s), one per line: for shell scripts.
    Id,
}

/// Resource groups.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Tenants: the isolation boundary.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Organizations: business units of a tenant.
    #[command(subcommand, name = "org")]
    Org(OrgCommand),
}

/// Options of every mutating command.
#[derive(Clone, Debug, Default, Args)]
pub struct WriteOpts {
    /// Idempotency key: a retry with the same key returns the first result.
    #[arg(long)]
    pub request_id: Option<String>,
    /// Write only if the entity is at exactly this version.
    #[arg(long)]
    pub expected_version: Option<i64>,
}

/// Tenant kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    /// A company.
    Business,
    /// A consumer-facing tenant.
    Consumer,
}

/// Plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PlanArg {
    /// Smallest plan (1 organization).
    Bronze,
    /// Middle plan.
    Silver,
    /// Largest plan.
    Gold,
}

/// Tenant commands.
#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant.
    Create {
        /// Display name.
        #[arg(long)]
        name: String,
        /// Platform-unique slug, [a-z0-9-]{3,63}.
        #[arg(long)]
        slug: String,
        /// Business or consumer.
        #[arg(long, value_enum)]
        kind: KindArg,
        /// Plan [default: bronze].
        #[arg(long, value_enum)]
        plan: Option<PlanArg>,
        /// A product the tenant uses (repeatable).
        #[arg(long = "product")]
        products: Vec<String>,
        /// Session lifetime of the tenant's users, in seconds.
        #[arg(long)]
        session_expiration_secs: Option<i64>,
        /// Legal name (business profile).
        #[arg(long)]
        legal_name: Option<String>,
        /// Headquarters country, ISO 3166-1 alpha-2 (business profile).
        #[arg(long)]
        country: Option<String>,
        #[command(flatten)]
        write: WriteOpts,
    },
    /// Show a tenant (deleted ones too).
    Get {
        /// Tenant id.
        id: String,
        /// Read at least the write that returned this token.
        #[arg(long)]
        consistency_token: Option<String>,
    },
    /// List tenants.
    List {
        /// Page size.
        #[arg(long)]
        page_size: Option<i32>,
        /// Page token of a previous answer.
        #[arg(long)]
        page_token: Option<String>,
    },
    /// Change a tenant's name, products or settings (only the fields given).
    #[command(group(ArgGroup::new("change").multiple(true).required(true)))]
    Update {
        /// Tenant id.
        id: String,
        /// New name.
        #[arg(long, group = "change")]
        name: Option<String>,
        /// New product list (repeatable; replaces the list).
        #[arg(long = "product", group = "change")]
        products: Vec<String>,
        /// Empty the product list.
        #[arg(long, group = "change", conflicts_with = "products")]
        clear_products: bool,
        /// New session lifetime, in seconds.
        #[arg(long, group = "change")]
        session_expiration_secs: Option<i64>,
        /// Back to the platform's default session lifetime.
        #[arg(long, group = "change", conflicts_with = "session_expiration_secs")]
        default_session_expiration: bool,
        #[command(flatten)]
        write: WriteOpts,
    },
    /// Move a tenant to another plan.
    ChangePlan {
        /// Tenant id.
        id: String,
        /// Target plan.
        #[arg(value_enum)]
        plan: PlanArg,
        #[command(flatten)]
        write: WriteOpts,
    },
    /// Suspend a tenant (reads, reactivation and deletion only).
    Suspend {
        /// Tenant id.
        id: String,
        /// Why.
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        write: WriteOpts,
    },
    /// Reactivate a suspended or deactivated tenant.
    Reactivate {
        /// Tenant id.
        id: String,
        #[command(flatten)]
        write: WriteOpts,
    },
    /// Deactivate a tenant: deleted when the grace period ends unless reactivated.
    #[command(group(ArgGroup::new("grace").required(true)))]
    Deactivate {
        /// Tenant id.
        id: String,
        /// Grace period in days: it ends at 00:00 UTC this many days from today.
        #[arg(long, group = "grace")]
        grace_days: Option<u32>,
        /// End of the grace period (RFC 3339, e.g. 2030-01-31T00:00:00Z).
        #[arg(long, group = "grace")]
        grace_until: Option<String>,
        /// Machine-readable reason code.
        #[arg(long)]
        reason_code: Option<String>,
        /// Free-text feedback.
        #[arg(long)]
        feedback: Option<String>,
        /// Recommendation score 0-10.
        #[arg(long)]
        score: Option<i32>,
        #[command(flatten)]
        write: WriteOpts,
    },
    /// Delete a tenant (final).
    Delete {
        /// Tenant id.
        id: String,
        #[command(flatten)]
        write: WriteOpts,
    },
}

/// Organization commands.
#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create an organization (a root unless --parent).
    Create {
        /// Tenant id.
        tenant: String,
        /// Name, unique among its siblings.
        #[arg(long)]
        name: String,
        /// Parent organization id.
        #[arg(long)]
        parent: Option<String>,
        /// Description.
        #[arg(long)]
        description: Option<String>,
        #[command(flatten)]
        write: WriteOpts,
    },
    /// Show an organization (deleted ones too).
    Get {
        /// Tenant id.
        tenant: String,
        /// Organization id.
        org: String,
        /// Read at least the write that returned this token.
        #[arg(long)]
        consistency_token: Option<String>,
    },
    /// List a tenant's live organizations (or the children of --parent), by id.
    List {
        /// Tenant id.
        tenant: String,
        /// Only the direct children of this organization.
        #[arg(long)]
        parent: Option<String>,
        /// Page size [server default: 50, max 500].
        #[arg(long)]
        page_size: Option<i32>,
        /// Page token of a previous answer.
        #[arg(long)]
        page_token: Option<String>,
    },
    /// Change an organization's name or description (only the fields given).
    #[command(group(ArgGroup::new("change").multiple(true).required(true)))]
    Update {
        /// Tenant id.
        tenant: String,
        /// Organization id.
        org: String,
        /// New name.
        #[arg(long, group = "change")]
        name: Option<String>,
        /// New description.
        #[arg(long, group = "change")]
        description: Option<String>,
        #[command(flatten)]
        write: WriteOpts,
    },
    /// Move an organization under another one, or make it a root.
    #[command(group(ArgGroup::new("target").required(true)))]
    Move {
        /// Tenant id.
        tenant: String,
        /// Organization id.
        org: String,
        /// New parent organization id.
        #[arg(long, group = "target")]
        parent: Option<String>,
        /// Make it a root organization.
        #[arg(long, group = "target")]
        root: bool,
        #[command(flatten)]
        write: WriteOpts,
    },
    /// Delete an organization (refused while it has children unless --cascade).
    Delete {
        /// Tenant id.
        tenant: String,
        /// Organization id.
        org: String,
        /// Also delete every descendant.
        #[arg(long)]
        cascade: bool,
        #[command(flatten)]
        write: WriteOpts,
    },
}
