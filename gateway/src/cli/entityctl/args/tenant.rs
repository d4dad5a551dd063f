//! `entityctl tenant …`.

use clap::{ArgGroup, Subcommand, ValueEnum};

use super::{ListOpts, ProfileOpts, ReadOpts, WriteOpts};

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

/// Tenant status (a ListTenants filter).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TenantStatusArg {
    /// In service.
    Active,
    /// Suspended: reads, reactivation and deletion only.
    Suspended,
    /// Deactivated, in its grace period.
    Deactivated,
    /// Deleted.
    Deleted,
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
        /// The owner's email: invited with `tenant-owner` into the default organization (the
        /// invitation token is printed once).
        #[arg(long)]
        owner_email: String,
        /// A product the tenant uses (repeatable).
        #[arg(long = "product")]
        products: Vec<String>,
        /// Session lifetime of the tenant's users, in seconds.
        #[arg(long)]
        session_expiration_secs: Option<i64>,
        /// Also create the `default` partition and an admin API key on it (printed once), for
        /// provisioning automation.
        #[arg(long)]
        bootstrap_api_key: bool,
        #[command(flatten)]
        profile: ProfileOpts,
        #[command(flatten)]
        write: WriteOpts,
    },
    /// Show a tenant (deleted ones too).
    Get {
        /// Tenant id.
        id: String,
        #[command(flatten)]
        read: ReadOpts,
    },
    /// List the tenant directory by slug, with search and filters (platform admins only).
    List {
        /// Only tenants in this status.
        #[arg(long, value_enum)]
        status: Option<TenantStatusArg>,
        /// Only tenants on this plan.
        #[arg(long, value_enum)]
        plan: Option<PlanArg>,
        /// Case-insensitive text in the name or slug.
        #[arg(long)]
        query: Option<String>,
        /// Match --query as a prefix of the name or slug (instead of anywhere in them).
        #[arg(long, requires = "query")]
        prefix: bool,
        #[command(flatten)]
        listing: ListOpts,
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
    /// Erase every person of a deleted tenant for good (GDPR; platform admins): every key of
    /// the tenant is destroyed and its users read as erased everywhere. Refused unless the
    /// tenant is deleted; erasing an erased tenant changes nothing.
    Erase {
        /// Tenant id.
        id: String,
        #[command(flatten)]
        write: WriteOpts,
    },
}
