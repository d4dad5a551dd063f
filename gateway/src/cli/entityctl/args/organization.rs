//! `entityctl org …`.

use clap::{ArgGroup, Subcommand};

use super::WriteOpts;

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
