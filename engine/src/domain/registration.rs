//! Self-registration by verified email domain (SPEC §5.4) and the claims an identity provider
//! puts in a user's tokens (SPEC §7).
//!
//! ```text
//!  AddRegistrationDomain ─▶ pending (TXT token issued) ──VerifyRegistrationDomain──▶ verified
//!        (DNS TXT `entity-engine-verification=<token>` found, or a platform admin by hand)
//!  RegisterUser(email) ─▶ the tenant whose verified domain the email has ─▶ active user
//!                                                     with the automatic roles (UserRegistered)
//! ```
//! A verified domain is a platform-wide unique claim (one tenant per domain), taken with the
//! verification and released when the domain is removed or the tenant deleted; a pending one
//! claims nothing, so nobody can squat a domain they cannot prove. Registration settings live on
//! the tenant stream; a domain may register its people into one of the tenant's clients.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{
    access::Assignment,
    ids::{ClientId, TenantId, UserId},
    user::UserStatus,
};

/// Unique-claim namespace of verified registration domains.
pub const REGISTRATION_DOMAIN_NAMESPACE: &str = "registration-domain";
/// Unique-claim namespace of custom registration hosts.
pub const REGISTRATION_HOST_NAMESPACE: &str = "registration-host";
/// Prefix of the DNS TXT record that proves a domain: `entity-engine-verification=<token>`.
pub const TXT_RECORD_PREFIX: &str = "entity-engine-verification=";
/// Most registration domains a tenant may list.
pub const MAX_REGISTRATION_DOMAINS: usize = 50;
/// Most roles granted automatically at registration.
pub const MAX_AUTO_ROLES: usize = 20;
/// Session lifetime of a tenant without an override (seed 001 feature 14: "null value uses
/// the platform default").
pub const DEFAULT_SESSION_EXPIRATION_SECONDS: i64 = 8 * 3600;
/// Users whose claims one step of a tenant-wide claims re-synchronisation emits.
pub const CLAIMS_SYNC_BATCH: usize = 500;

/// A tenant's self-registration settings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrationSettings {
    /// Whether self-registration is open.
    pub enabled: bool,
    /// Roles every registered user receives, each at its scope.
    pub auto_roles: Vec<Assignment>,
    /// A custom host of the tenant's sign-up page (platform-unique), if any.
    pub custom_host: Option<String>,
    /// Registration domains (lower case), pending or verified.
    pub domains: BTreeMap<String, RegistrationDomain>,
}

/// One registration domain of a tenant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrationDomain {
    /// The client its people register into, if any.
    pub client_id: Option<ClientId>,
    /// The token the domain's TXT record must carry.
    pub txt_token: String,
    /// When it was added.
    pub added_at: DateTime<Utc>,
    /// How and when it was verified; `None` while pending.
    pub verified: Option<DomainVerification>,
}

impl RegistrationDomain {
    /// The TXT record value that proves the domain.
    pub fn txt_record(&self) -> String {
        format!("{TXT_RECORD_PREFIX}{}", self.txt_token)
    }
}

/// A domain's verification.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainVerification {
    /// When.
    pub at: DateTime<Utc>,
    /// How.
    pub method: VerificationMethod,
}

/// How a domain was verified.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerificationMethod {
    /// Its DNS TXT record carried the token.
    Dns,
    /// A platform admin vouched for it.
    Manual,
}

/// What proves a domain at VerifyRegistrationDomain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DomainProof {
    /// The TXT records the resolver found at the domain (empty: none).
    TxtRecords(Vec<String>),
    /// A platform admin's word (the gateway allows it to platform admins only).
    Manual,
}

/// Commands on a tenant's registration settings (all on the tenant stream).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RegistrationCommand {
    /// Set whether registration is open, its automatic roles and its custom host.
    Configure {
        /// Open or closed.
        enabled: bool,
        /// Roles granted at registration (existing roles at live scopes).
        auto_roles: Vec<Assignment>,
        /// Custom sign-up host (a DNS name), or none.
        custom_host: Option<String>,
    },
    /// Add a pending domain with the TXT token the gateway drew.
    AddDomain {
        /// The domain (not a public email provider's).
        domain: String,
        /// The client its people register into, if any (a live client of the tenant).
        client_id: Option<ClientId>,
        /// Random token for its TXT record.
        txt_token: String,
    },
    /// Verify a pending domain.
    VerifyDomain {
        /// The domain.
        domain: String,
        /// What proves it.
        proof: DomainProof,
    },
    /// Remove a domain (its claim is released).
    RemoveDomain {
        /// The domain.
        domain: String,
    },
    /// Issued by the engine: emit the next batch of a tenant-wide claims re-synchronisation.
    SyncClaims,
}

/// What an identity provider puts in a user's token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserClaims {
    /// The tenant.
    pub tenant_id: TenantId,
    /// The user.
    pub user_id: UserId,
    /// The client the user belongs to, if any.
    pub client_id: Option<ClientId>,
    /// Role assignments, sorted.
    pub roles: Vec<Assignment>,
    /// The tenant's products.
    pub products: Vec<String>,
    /// Session lifetime: the tenant's override or [`DEFAULT_SESSION_EXPIRATION_SECONDS`].
    pub session_expiration_seconds: i64,
    /// The user's status.
    pub status: UserStatus,
}

/// Why a ClaimsChanged event was emitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimsCause {
    /// Something about the user changed (roles, client, status).
    User,
    /// A tenant-wide change (products, session expiration), one batch at a time; `last` marks
    /// the re-synchronisation's final event.
    TenantResync {
        /// Whether no user follows.
        last: bool,
    },
}

/// Where a tenant-wide claims re-synchronisation stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimsSync {
    /// The last user already done (users go in id order); `None`: none yet.
    pub after: Option<UserId>,
}
