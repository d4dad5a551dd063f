//! `entityctl team …`.

use clap::{ArgGroup, Subcommand, ValueEnum};

use super::{PageOpts, WriteOpts};

/// A member's role inside a team.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TeamRoleArg {
    /// A regular member.
    Member,
    /// Leads the team.
    Lead,
}

/// Team commands.
#[derive(Debug, Subcommand)]
pub enum TeamCommand {
    /// Create a team in an organization (silver and gold plans).
    Create {
        /// Tenant id.
        tenant: String,
        /// Organization id.
        #[arg(long)]
        org: String,
        /// Name, unique in the organization.
        #[arg(long)]
        name: String,
        /// Description.
        #[arg(long)]
        description: Option<String>,
        #[command(flatten)]
        write: WriteOpts,
    },
    /// Show a team (deleted ones too).
    Get {
        /// Tenant id.
        tenant: String,
        /// Team id.
        team: String,
        /// Read at least the write that returned this token.
        #[arg(long)]
        consistency_token: Option<String>,
    },
    /// List a tenant's live teams (or those of --org), by id.
    List {
        /// Tenant id.
        tenant: String,
        /// Only the teams of this organization.
        #[arg(long)]
        org: Option<String>,
        /// Include deleted teams.
        #[arg(long)]
        include_deleted: bool,
        #[command(flatten)]
        page: PageOpts,
        /// Read at least the write that returned this token.
        #[arg(long)]
        consistency_token: Option<String>,
    },
    /// List the members of --team, or the teams --user is a member of.
    #[command(group(ArgGroup::new("of").required(true)))]
    Members {
        /// Tenant id.
        tenant: String,
        /// The members of this team.
        #[arg(long, group = "of")]
        team: Option<String>,
        /// The live teams of this user.
        #[arg(long, group = "of")]
        user: Option<String>,
        #[command(flatten)]
        page: PageOpts,
        /// Read at least the write that returned this token.
        #[arg(long)]
        consistency_token: Option<String>,
    },
    /// Change a team's name or description (only the fields given).
    #[command(group(ArgGroup::new("change").multiple(true).required(true)))]
    Update {
        /// Tenant id.
        tenant: String,
        /// Team id.
        team: String,
        /// New name.
        #[arg(long, group = "change")]
        name: Option<String>,
        /// New description.
        #[arg(long, group = "change")]
        description: Option<String>,
        #[command(flatten)]
        write: WriteOpts,
    },
    /// Delete a team.
    Delete {
        /// Tenant id.
        tenant: String,
        /// Team id.
        team: String,
        #[command(flatten)]
        write: WriteOpts,
    },
    /// Add a member (an active or invited user), or change a member's team role.
    AddMember {
        /// Tenant id.
        tenant: String,
        /// Team id.
        team: String,
        /// User id.
        user: String,
        /// Team role [default: member].
        #[arg(long, value_enum)]
        role: Option<TeamRoleArg>,
        #[command(flatten)]
        write: WriteOpts,
    },
    /// Remove a member.
    RemoveMember {
        /// Tenant id.
        tenant: String,
        /// Team id.
        team: String,
        /// User id.
        user: String,
        #[command(flatten)]
        write: WriteOpts,
    },
}
