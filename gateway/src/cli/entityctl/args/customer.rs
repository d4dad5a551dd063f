//! `entityctl customer …`.

use clap::{ArgGroup, Subcommand};

use super::{KindArg, ProfileOpts, ReadOpts, WriteOpts};

/// Customer commands: a tenant account seen through its profile.
#[derive(Debug, Subcommand)]
pub enum CustomerCommand {
    /// Register a customer (platform admins): its tenant account, on the bronze plan, with the
    /// owner invited (the invitation token is not shown: `user resend` issues one).
    Register {
        /// Display name.
        #[arg(long)]
        name: String,
        /// Platform-unique slug, [a-z0-9-]{3,63}.
        #[arg(long)]
        slug: String,
        /// Business or consumer.
        #[arg(long, value_enum)]
        kind: KindArg,
        /// The owner's email, invited with `tenant-owner`.
        #[arg(long)]
        owner_email: String,
        #[command(flatten)]
        profile: ProfileOpts,
        #[command(flatten)]
        write: WriteOpts,
    },
    /// Show a customer's profile.
    Get {
        /// Customer id (its tenant's id).
        id: String,
        #[command(flatten)]
        read: ReadOpts,
    },
    /// Change a customer's name or business profile (only the fields given).
    ///
    /// The profile flags replace the whole profile: give every value it is to keep.
    #[command(group(
        ArgGroup::new("change")
            .args(["name", "legal_name", "country", "clear_profile"])
            .multiple(true)
            .required(true)
    ))]
    Update {
        /// Customer id (its tenant's id).
        id: String,
        /// New name.
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        profile: ProfileOpts,
        /// Remove the business profile.
        #[arg(long, conflicts_with_all = ["legal_name", "country"])]
        clear_profile: bool,
        #[command(flatten)]
        write: WriteOpts,
    },
}
