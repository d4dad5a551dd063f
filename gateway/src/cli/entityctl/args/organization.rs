//! `entityctl org …`.

use clap::{ArgGroup, Subcommand};

use super::{Describe, ListOpts, OrgId, Read, WriteOpts};

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
    Get(Read<OrgId>),
    /// List a tenant's live organizations by id: every one, the children of --parent, the
    /// subtree below --descendants-of, or the --roots.
    #[command(group(ArgGroup::new("subset").multiple(false)))]
    List {
        /// Tenant id.
        tenant: String,
        /// Only the direct children of this organization.
        #[arg(long, group = "subset")]
        parent: Option<String>,
        /// Only the whole subtree below this organization (itself excluded).
        #[arg(long, group = "subset")]
        descendants_of: Option<String>,
        /// Only root organizations.
        #[arg(long, group = "subset")]
        roots: bool,
        /// Include deleted organizations.
        #[arg(long)]
        include_deleted: bool,
        #[command(flatten)]
        listing: ListOpts,
    },
    /// Show an organization's ancestors and itself, root first.
    Path(Read<OrgId>),
    /// Change an organization's name or description (only the fields given).
    Update(Describe<OrgId>),
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
