//! `entityctl role …`.

use clap::{ArgGroup, Subcommand};

use super::{ListOpts, Read, RoleId, ScopeSpec, Write, WriteOpts};

/// Role commands.
#[derive(Debug, Subcommand)]
pub enum RoleCommand {
    /// Define a custom role.
    Define {
        /// Tenant id.
        tenant: String,
        /// Name, [a-z][a-z0-9-]{1,62}, not a built-in role's.
        name: String,
        /// A granted permission: `resource:action`, `resource:*` or `*` (repeatable).
        #[arg(long = "permission", required = true)]
        permissions: Vec<String>,
        /// Description.
        #[arg(long)]
        description: Option<String>,
        #[command(flatten)]
        write: WriteOpts,
    },
    /// Show a custom role (deleted ones too).
    Get(Read<RoleId>),
    /// List the built-in roles, then the tenant's live custom roles.
    List {
        /// Tenant id.
        tenant: String,
    },
    /// List role assignments by (user, role, scope), optionally only those of --user, of
    /// --role or at exactly --scope.
    Assignments {
        /// Tenant id.
        tenant: String,
        /// Only this user's assignments.
        #[arg(long)]
        user: Option<String>,
        /// Only assignments of this role (by name).
        #[arg(long)]
        role: Option<String>,
        /// Only assignments at exactly this scope: tenant, org:ID or team:ID.
        #[arg(long)]
        scope: Option<ScopeSpec>,
        #[command(flatten)]
        listing: ListOpts,
    },
    /// Change a custom role's description or permissions (only the fields given).
    #[command(group(ArgGroup::new("change").multiple(true).required(true)))]
    Update {
        /// Tenant id.
        tenant: String,
        /// Role id.
        role: String,
        /// New description.
        #[arg(long, group = "change")]
        description: Option<String>,
        /// New permission set (repeatable; replaces the set).
        #[arg(long = "permission", group = "change")]
        permissions: Vec<String>,
        #[command(flatten)]
        write: WriteOpts,
    },
    /// Delete a custom role; every assignment of it is revoked.
    Delete(Write<RoleId>),
}
