//! `entityctl user …`.

use clap::{Subcommand, ValueEnum};

use super::{Link, ListOpts, OrgId, Read, RoleSpec, UserId, Write, WriteOpts};

/// Account status (a ListUsers filter).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum UserStatusArg {
    /// Invited, not yet accepted.
    Invited,
    /// Accepted.
    Active,
    /// Blocked.
    Deactivated,
    /// Personal data erased.
    Erased,
}

/// User commands.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Invite a user; prints the invitation token (shown this once).
    Invite {
        /// Tenant id.
        tenant: String,
        /// Email, unique in the tenant.
        email: String,
        /// Display name.
        #[arg(long)]
        name: Option<String>,
        /// Organization the user joins.
        #[arg(long)]
        org: Option<String>,
        /// A role to grant: ROLE, ROLE@org:ID or ROLE@team:ID (repeatable).
        #[arg(long = "role")]
        roles: Vec<RoleSpec>,
        /// Days until the invitation expires, 1-30 [default: 7].
        #[arg(long)]
        expires_days: Option<i32>,
        #[command(flatten)]
        write: WriteOpts,
    },
    /// Accept an invitation with its token: the user becomes active.
    Accept {
        /// Tenant id.
        tenant: String,
        /// The invitation token (named apart from the global `--token`, the caller's bearer
        /// token: clap would otherwise let one overwrite the other).
        #[arg(value_name = "INVITATION_TOKEN")]
        invitation_token: String,
        /// Display name to set.
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        write: WriteOpts,
    },
    /// Register a person by their email (self-registration, see `registration`): they become
    /// an active user of the tenant --tenant names, else of the tenant of --host (a custom
    /// sign-up host), else of the tenant that verified the email's domain, with the
    /// registration's automatic roles. For the person themself (a token with their verified
    /// email), a platform admin or a holder of `user:invite`. Refusals: REGISTRATION_DISABLED,
    /// DOMAIN_NOT_ALLOWED, DOMAIN_NOT_VERIFIED; ALREADY_EXISTS for an email taken.
    Register {
        /// Email; its domain must be a verified registration domain of the tenant.
        #[arg(long)]
        email: String,
        /// The tenant to join [default: found by --host or by the email's domain].
        #[arg(long, value_name = "TENANT", conflicts_with = "host")]
        tenant: Option<String>,
        /// The custom sign-up host the person came through.
        #[arg(long, value_name = "HOST")]
        host: Option<String>,
        /// Display name.
        #[arg(long, visible_alias = "display-name")]
        name: Option<String>,
        #[command(flatten)]
        write: WriteOpts,
    },
    /// Show a user.
    Get(Read<UserId>),
    /// List a tenant's users by id, with search and filters.
    List {
        /// Tenant id.
        tenant: String,
        /// Case-insensitive text in the email or display name.
        #[arg(long)]
        query: Option<String>,
        /// Only users in this status.
        #[arg(long, value_enum)]
        status: Option<UserStatusArg>,
        /// Only members of this organization.
        #[arg(long)]
        org: Option<String>,
        /// Only holders of this role (at any scope).
        #[arg(long)]
        role: Option<String>,
        #[command(flatten)]
        listing: ListOpts,
    },
    /// Send a new invitation token (the old one stops working); prints it.
    Resend {
        /// Tenant id.
        tenant: String,
        /// User id.
        user: String,
        /// Days until the new token expires, 1-30 [default: 7].
        #[arg(long)]
        expires_days: Option<i32>,
        #[command(flatten)]
        write: WriteOpts,
    },
    /// Withdraw a pending invitation.
    Revoke(Write<UserId>),
    /// Change a user's display name.
    Update {
        /// Tenant id.
        tenant: String,
        /// User id.
        user: String,
        /// New display name.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        write: WriteOpts,
    },
    /// Block an active user (no permissions until reactivated).
    Deactivate(Write<UserId>),
    /// Unblock a deactivated user.
    Reactivate(Write<UserId>),
    /// Erase a person for good (GDPR): their key is destroyed, their email and display name
    /// read as empty everywhere from now on (the audit trail included), and the account can
    /// never be used again. The email may be invited again, as a new user. Erasing an erased
    /// user changes nothing.
    Erase(Write<UserId>),
    /// Make a user a member of an organization.
    AddOrg(Link<UserId, OrgId>),
    /// End a user's membership of an organization.
    RemoveOrg(Link<UserId, OrgId>),
    /// Assign a role: ROLE (tenant-wide), ROLE@org:ID or ROLE@team:ID.
    AssignRole {
        /// Tenant id.
        tenant: String,
        /// User id.
        user: String,
        /// ROLE, ROLE@org:ID or ROLE@team:ID.
        role: RoleSpec,
        #[command(flatten)]
        write: WriteOpts,
    },
    /// Revoke a role assignment: ROLE, ROLE@org:ID or ROLE@team:ID.
    RevokeRole {
        /// Tenant id.
        tenant: String,
        /// User id.
        user: String,
        /// ROLE, ROLE@org:ID or ROLE@team:ID.
        role: RoleSpec,
        #[command(flatten)]
        write: WriteOpts,
    },
    /// Put a user in one of the tenant's clients, or (without --client) in none.
    SetClient {
        /// Tenant id.
        tenant: String,
        /// User id.
        user: String,
        /// A client of the tenant [default: none].
        #[arg(long, value_name = "CLIENT")]
        client: Option<String>,
        #[command(flatten)]
        write: WriteOpts,
    },
    /// List a user's role assignments (every page; `role assignments` filters and pages).
    Roles(Read<UserId>),
    /// Show what an identity provider puts in the user's tokens: tenant, client, roles,
    /// products, session expiration (the platform default: 28800 s) and status.
    Claims {
        /// Tenant id.
        tenant: String,
        /// User id.
        user: String,
    },
}
