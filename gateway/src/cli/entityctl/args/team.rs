//! `entityctl team …`.

use clap::{ArgGroup, Subcommand, ValueEnum};

use super::{Describe, Link, ListOpts, Read, TeamId, UserId, Write, WriteOpts};

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
    Get(Read<TeamId>),
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
        listing: ListOpts,
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
        listing: ListOpts,
    },
    /// Change a team's name or description (only the fields given).
    Update(Describe<TeamId>),
    /// Delete a team.
    Delete(Write<TeamId>),
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
    RemoveMember(Link<TeamId, UserId>),
}
