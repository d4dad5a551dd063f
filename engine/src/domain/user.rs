//! User: a person's account inside a tenant, with its invitation, organization memberships and
//! role assignments. Decided inside the tenant scope (email uniqueness, the plan's invitation
//! quota, and scopes that must exist in the same tenant are tenant-wide facts).
//!
//! ```text
//!  InviteUser ─▶ invited ──AcceptInvitation──▶ active ◀──Reactivate── deactivated
//!                  │  ▲ ResendInvitation          └──────Deactivate──────▶┘
//!                  │  └──────────────┐
//!                  └─ RevokeInvitation / expiry (invitation revoked|expired; resend reopens)
//! ```
//! Invitation tokens never enter the domain: the command carries the SHA-256 hash of a token
//! that the caller shows once and never stores.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{
    SecretHash,
    access::Assignment,
    ids::{ClientId, OrganizationId, TenantId, UserId},
    registration::{ClaimsCause, UserClaims},
    small_set::SmallSet,
};

/// Default invitation lifetime in days.
pub const DEFAULT_INVITATION_DAYS: u32 = 7;
/// Allowed invitation lifetimes in days.
pub const INVITATION_DAYS: std::ops::RangeInclusive<u32> = 1..=30;

/// Account status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    /// Invited, not yet accepted.
    Invited,
    /// Accepted; holds permissions.
    Active,
    /// Blocked; holds no permissions until reactivated.
    Deactivated,
    /// Personal data destroyed (GDPR); final.
    Erased,
}

/// State of a user's invitation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvitationState {
    /// Waiting for acceptance.
    Pending,
    /// Accepted (the user is active).
    Accepted,
    /// Revoked by an administrator.
    Revoked,
    /// Not accepted in time.
    Expired,
}

/// The user's current (latest) invitation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    /// Hex SHA-256 of the token.
    pub token_hash: SecretHash,
    /// When it expires.
    pub expires_at: DateTime<Utc>,
    /// State.
    pub state: InvitationState,
    /// When it was (last) sent.
    pub sent_at: DateTime<Utc>,
}

/// A user's current state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// Id.
    pub id: UserId,
    /// Email as given (unique per tenant, compared case-insensitively).
    pub email: String,
    /// Display name (may be empty until the user sets it).
    pub display_name: String,
    /// Status.
    pub status: UserStatus,
    /// Latest invitation.
    pub invitation: Option<Invitation>,
    /// Organizations the user is a member of.
    pub organizations: SmallSet<OrganizationId>,
    /// Role assignments.
    pub assignments: SmallSet<Assignment>,
    /// The client of the tenant the user belongs to, if any.
    #[serde(default)]
    pub client_id: Option<ClientId>,
    /// Event sequence number of the user's claims stream (ClaimsChanged events).
    #[serde(default)]
    pub claims_version: i64,
    /// Event sequence number of the user's stream.
    pub version: i64,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Time of the last change.
    pub updated_at: DateTime<Utc>,
}

/// Commands on users.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserCommand {
    /// Invite a new user (counts against the plan's monthly invitations).
    Invite {
        /// Id chosen by the gateway (UUIDv7).
        id: UserId,
        /// Email (≤ 254 chars, one `@`, no spaces); unique per tenant, case-insensitive.
        email: String,
        /// Display name (optional, ≤ 200 chars).
        display_name: String,
        /// Roles granted with the invitation (assigned at once; they take effect on acceptance).
        roles: Vec<Assignment>,
        /// Organization the user joins.
        organization_id: Option<OrganizationId>,
        /// Lifetime in days ([`INVITATION_DAYS`]).
        expires_in_days: u32,
        /// Hex SHA-256 of the token shown to the caller once.
        token_hash: SecretHash,
    },
    /// Send a new token (a pending, revoked or expired invitation); the old token stops working.
    ResendInvitation {
        /// User.
        id: UserId,
        /// Lifetime in days.
        expires_in_days: u32,
        /// Hash of the new token.
        token_hash: SecretHash,
    },
    /// Withdraw a pending invitation.
    RevokeInvitation {
        /// User.
        id: UserId,
    },
    /// Accept with the token (its hash): the user becomes active.
    AcceptInvitation {
        /// User (carried inside the token).
        id: UserId,
        /// Hash of the presented token.
        token_hash: SecretHash,
        /// Display name to set, if any.
        display_name: Option<String>,
    },
    /// Issued by the engine's timer: mark a pending invitation expired if its time has come.
    ExpireInvitation {
        /// User.
        id: UserId,
    },
    /// Make the user belong to a live, active client of the tenant (`None`: to none).
    SetClient {
        /// User.
        id: UserId,
        /// The client.
        client_id: Option<ClientId>,
    },
    /// Change the display name.
    UpdateProfile {
        /// User.
        id: UserId,
        /// New display name.
        display_name: Option<String>,
    },
    /// Block an active user.
    Deactivate {
        /// User.
        id: UserId,
    },
    /// Unblock a deactivated user.
    Reactivate {
        /// User.
        id: UserId,
    },
    /// Make the user a member of a live organization.
    AddToOrganization {
        /// User.
        id: UserId,
        /// Organization.
        organization_id: OrganizationId,
    },
    /// End an organization membership.
    RemoveFromOrganization {
        /// User.
        id: UserId,
        /// Organization.
        organization_id: OrganizationId,
    },
    /// Assign a role (built-in or live custom) at a live scope of this tenant.
    AssignRole {
        /// User.
        id: UserId,
        /// The assignment.
        assignment: Assignment,
    },
    /// Revoke an assignment (no-op when the user does not hold it).
    RevokeRole {
        /// User.
        id: UserId,
        /// The assignment.
        assignment: Assignment,
    },
    /// Erase the person (GDPR): their data key is destroyed, their personal values read as
    /// erased everywhere, and the account is closed for good. A no-op for an erased user.
    Erase {
        /// User.
        id: UserId,
    },
    /// Self-registration (SPEC §5.4): an active user of the tenant whose verified registration
    /// domain the email has, with the registration's automatic roles.
    Register {
        /// Id chosen by the gateway (UUIDv7).
        id: UserId,
        /// Email, verified by the identity provider.
        email: String,
        /// Display name (optional).
        display_name: String,
    },
}

impl UserCommand {
    /// The user the command is about.
    pub fn target(&self) -> UserId {
        match self {
            UserCommand::Invite { id, .. }
            | UserCommand::ResendInvitation { id, .. }
            | UserCommand::RevokeInvitation { id }
            | UserCommand::AcceptInvitation { id, .. }
            | UserCommand::ExpireInvitation { id }
            | UserCommand::UpdateProfile { id, .. }
            | UserCommand::SetClient { id, .. }
            | UserCommand::Deactivate { id }
            | UserCommand::Reactivate { id }
            | UserCommand::AddToOrganization { id, .. }
            | UserCommand::RemoveFromOrganization { id, .. }
            | UserCommand::AssignRole { id, .. }
            | UserCommand::RevokeRole { id, .. }
            | UserCommand::Register { id, .. }
            | UserCommand::Erase { id } => *id,
        }
    }
}

/// Events of a user's stream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum UserEvent {
    /// Invited. Roles and the organization membership follow as their own events.
    UserInvited {
        /// Id.
        id: UserId,
        /// Email.
        email: String,
        /// Display name.
        display_name: String,
        /// Token hash.
        token_hash: SecretHash,
        /// Expiry.
        expires_at: DateTime<Utc>,
    },
    /// A new token was sent.
    InvitationResent {
        /// Id.
        id: UserId,
        /// New token hash.
        token_hash: SecretHash,
        /// New expiry.
        expires_at: DateTime<Utc>,
    },
    /// The invitation was revoked.
    InvitationRevoked {
        /// Id.
        id: UserId,
    },
    /// The invitation expired unaccepted.
    InvitationExpired {
        /// Id.
        id: UserId,
    },
    /// Accepted: the user is active.
    UserActivated {
        /// Id.
        id: UserId,
        /// Display name set on acceptance.
        display_name: Option<String>,
    },
    /// Profile changed.
    UserProfileUpdated {
        /// Id.
        id: UserId,
        /// New display name.
        display_name: Option<String>,
    },
    /// The user's client changed (set by SetUserClient, cleared by the client's deletion).
    UserClientChanged {
        /// Id.
        id: UserId,
        /// The client now; `None`: none.
        client_id: Option<ClientId>,
    },
    /// Deactivated.
    UserDeactivated {
        /// Id.
        id: UserId,
    },
    /// Reactivated.
    UserReactivated {
        /// Id.
        id: UserId,
    },
    /// Joined an organization.
    MembershipAdded {
        /// Id.
        id: UserId,
        /// Organization.
        organization_id: OrganizationId,
    },
    /// Left an organization.
    MembershipRemoved {
        /// Id.
        id: UserId,
        /// Organization.
        organization_id: OrganizationId,
    },
    /// A role was assigned.
    RoleAssigned {
        /// Id.
        id: UserId,
        /// The assignment.
        assignment: Assignment,
    },
    /// A role was revoked.
    RoleRevoked {
        /// Id.
        id: UserId,
        /// The assignment.
        assignment: Assignment,
    },
    /// The person was erased: their data key is destroyed with this event.
    UserErased {
        /// Id.
        id: UserId,
    },
    /// Registered by email domain: active at once. Roles follow as their own events.
    UserRegistered {
        /// Id.
        id: UserId,
        /// Email.
        email: String,
        /// Display name.
        display_name: String,
        /// The registration domain that admitted the person.
        domain: String,
        /// The client the domain registers into.
        client_id: Option<ClientId>,
    },
    /// What an identity provider puts in the user's tokens changed; the claims as they are now.
    ClaimsChanged {
        /// Id.
        id: UserId,
        /// The claims now.
        claims: UserClaims,
        /// Why.
        cause: ClaimsCause,
    },
}

impl UserEvent {
    /// The user whose stream the event belongs to.
    pub fn user_id(&self) -> UserId {
        match self {
            UserEvent::UserInvited { id, .. }
            | UserEvent::InvitationResent { id, .. }
            | UserEvent::InvitationRevoked { id }
            | UserEvent::InvitationExpired { id }
            | UserEvent::UserActivated { id, .. }
            | UserEvent::UserProfileUpdated { id, .. }
            | UserEvent::UserClientChanged { id, .. }
            | UserEvent::UserDeactivated { id }
            | UserEvent::UserReactivated { id }
            | UserEvent::MembershipAdded { id, .. }
            | UserEvent::MembershipRemoved { id, .. }
            | UserEvent::RoleAssigned { id, .. }
            | UserEvent::RoleRevoked { id, .. }
            | UserEvent::UserRegistered { id, .. }
            | UserEvent::ClaimsChanged { id, .. }
            | UserEvent::UserErased { id } => *id,
        }
    }

    /// The event's type name as stored in the journal.
    pub fn event_type(&self) -> &'static str {
        match self {
            UserEvent::UserInvited { .. } => "UserInvited",
            UserEvent::InvitationResent { .. } => "InvitationResent",
            UserEvent::InvitationRevoked { .. } => "InvitationRevoked",
            UserEvent::InvitationExpired { .. } => "InvitationExpired",
            UserEvent::UserActivated { .. } => "UserActivated",
            UserEvent::UserProfileUpdated { .. } => "UserProfileUpdated",
            UserEvent::UserClientChanged { .. } => "UserClientChanged",
            UserEvent::UserDeactivated { .. } => "UserDeactivated",
            UserEvent::UserReactivated { .. } => "UserReactivated",
            UserEvent::MembershipAdded { .. } => "MembershipAdded",
            UserEvent::MembershipRemoved { .. } => "MembershipRemoved",
            UserEvent::RoleAssigned { .. } => "RoleAssigned",
            UserEvent::RoleRevoked { .. } => "RoleRevoked",
            UserEvent::UserErased { .. } => "UserErased",
            UserEvent::UserRegistered { .. } => "UserRegistered",
            UserEvent::ClaimsChanged { .. } => "ClaimsChanged",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::User;

    /// The scope holds each user behind an `Arc` (two counters, 16 bytes): at 240 bytes or
    /// less the pair takes jemalloc's 256-byte class, one more byte the 320-byte one (64 bytes
    /// more for every user of a large tenant).
    #[test]
    fn a_shared_user_fits_a_256_byte_allocation() {
        assert!(
            size_of::<User>() + 16 <= 256,
            "User is {} bytes",
            size_of::<User>()
        );
    }
}
