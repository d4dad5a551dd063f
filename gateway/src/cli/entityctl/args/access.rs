//! `entityctl access …`.

use clap::Subcommand;

use super::{ReadOpts, ScopeOpts};

/// Permission checks.
#[derive(Debug, Subcommand)]
pub enum AccessCommand {
    /// May USER do PERMISSION (at --org/--team, or tenant-wide)? Prints `allowed via ROLE at
    /// SCOPE` or `denied (REASON)`; the exit code is 0 either way.
    Check {
        /// Tenant id.
        tenant: String,
        /// User id.
        user: String,
        /// A permission `resource:action`, e.g. `organization:create`.
        permission: String,
        #[command(flatten)]
        scope: ScopeOpts,
        #[command(flatten)]
        read: ReadOpts,
    },
    /// The permissions USER holds (applying at --org/--team, or all), with their source.
    List {
        /// Tenant id.
        tenant: String,
        /// User id.
        user: String,
        #[command(flatten)]
        scope: ScopeOpts,
    },
}
