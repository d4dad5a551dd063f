//! `entityctl client …`.

use clap::{ArgGroup, Subcommand, ValueEnum};

use super::{ClientId, ListOpts, PlanArg, ProfileOpts, Read, Write, WriteOpts, arg_ids};

/// Client status (a ListClients filter).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ClientStatusArg {
    /// In service.
    Active,
    /// Refuses every change but enable and delete.
    Disabled,
    /// Deleted.
    Deleted,
}

/// Client commands.
#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Create a client (counts against the plan: bronze 10, silver 250, gold unlimited).
    Create {
        /// Tenant id.
        tenant: String,
        /// Name, 1-200 characters.
        #[arg(long)]
        name: String,
        /// Id in an external system (CRM, billing), unique among the tenant's live clients.
        #[arg(long)]
        external_id: Option<String>,
        #[command(flatten)]
        profile: ProfileOpts,
        #[command(flatten)]
        write: WriteOpts,
    },
    /// Show a client (deleted ones too).
    Get(Read<ClientId>),
    /// List a tenant's active and disabled clients (or those in --status), by id.
    List {
        /// Tenant id.
        tenant: String,
        /// Only clients in this status.
        #[arg(long, value_enum)]
        status: Option<ClientStatusArg>,
        /// Only the client with this external id.
        #[arg(long)]
        external_id: Option<String>,
        #[command(flatten)]
        listing: ListOpts,
    },
    /// Change a client's name, external id or business profile (only the fields given).
    ///
    /// The profile flags replace the whole profile: give every value it is to keep.
    #[command(group(
        ArgGroup::new("change")
            .args(["name", "external_id", "clear_profile"])
            .args(arg_ids::<ProfileOpts>())
            .multiple(true)
            .required(true)
    ))]
    Update {
        /// Tenant id.
        tenant: String,
        /// Client id.
        client: String,
        /// New name.
        #[arg(long)]
        name: Option<String>,
        /// New external id ("" removes it).
        #[arg(long)]
        external_id: Option<String>,
        #[command(flatten)]
        profile: ProfileOpts,
        /// Remove the business profile.
        #[arg(long, conflicts_with_all = arg_ids::<ProfileOpts>())]
        clear_profile: bool,
        #[command(flatten)]
        write: WriteOpts,
    },
    /// Disable a client: every change but enable and delete is refused.
    Disable(Write<ClientId>),
    /// Enable a disabled client.
    Enable(Write<ClientId>),
    /// Delete a client (final; removes what it owns, and deletes its provisioned tenant).
    Delete(Write<ClientId>),
    /// Give an active client a business tenant of its own, created by the client-cascade
    /// saga; the client's disabling, enabling and deletion then cascade to it. The new
    /// tenant's owner invitation token is printed once.
    Provision {
        /// Tenant id.
        tenant: String,
        /// Client id.
        client: String,
        /// The new tenant's slug, [a-z0-9-]{3,63}, unique across the platform.
        #[arg(long)]
        slug: String,
        /// The new tenant's plan [default: bronze].
        #[arg(long, value_enum)]
        plan: Option<PlanArg>,
        /// The new tenant's owner (invited with `tenant-owner`).
        #[arg(long)]
        owner_email: String,
        #[command(flatten)]
        write: WriteOpts,
    },
}
