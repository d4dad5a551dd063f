//! API keys of data partitions (seed 001 features 3 and 15, SPEC §5.5).
//!
//! A key belongs to one partition of the tenant (owned by the tenant or one of its clients)
//! and grants either the admin scopes or a list of permission patterns. The domain never sees
//! a key's secret: the issuer (gateway or runtime) draws it, shows it once and hands the
//! domain its SHA-256 ([`KeySecret`]) and its last four characters. Rotation issues a new key
//! with the same scopes and sets the old one to expire after an overlap; revocation ends a key
//! now; deleting its partition revokes it in the same append.
//!
//! A key is usable ([`crate::domain::TenantScope::verify_api_key`]) while it is neither
//! revoked nor expired, its tenant is active, its owning client is not disabled and its
//! partition is active: the last three are read from the state at every verification, so a
//! suspension or a deactivation stops every key at once and a reactivation restores them
//! without writing anything to the keys.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{
    SecretHash,
    access::{BuiltinRole, Grants, PermissionPattern},
    directory::RecordOwner,
    ids::{ApiKeyId, RecordId, TenantId, UserId},
};

/// What a key may do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyScopes {
    /// Read and write within the tenant: the grants of built-in `tenant-admin` (everything but
    /// `billing:*` and `tenant:delete`).
    Admin,
    /// Exactly these permission patterns.
    Custom(Vec<PermissionPattern>),
}

impl KeyScopes {
    /// The grants the key's callers hold.
    pub fn grants(&self) -> Grants {
        match self {
            KeyScopes::Admin => BuiltinRole::TenantAdmin.grants(),
            KeyScopes::Custom(patterns) => Grants {
                allow: patterns.clone(),
                except: Vec::new(),
            },
        }
    }

    /// Whether a caller holding these scopes may do the concrete `permission`.
    pub fn covers(&self, permission: &PermissionPattern) -> bool {
        match self {
            KeyScopes::Admin => BuiltinRole::TenantAdmin.static_grants().covers(permission),
            KeyScopes::Custom(patterns) => patterns.iter().any(|p| p.matches(permission)),
        }
    }
}

/// What the domain keeps of a key's secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeySecret {
    /// Hex SHA-256 of the whole key.
    pub hash: SecretHash,
    /// The key's last four characters (shown in lists to tell keys apart).
    pub hint: String,
}

/// When a new key stops working.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyExpiry {
    /// Never (until revoked).
    #[default]
    Never,
    /// At this time (in the future).
    At(DateTime<Utc>),
    /// This many seconds after creation (a TTL).
    AfterSeconds(u64),
}

/// Who issues a key: its scopes may not exceed the issuer's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyIssuer {
    /// A platform administrator, or the engine itself (a bootstrap key): unrestricted.
    Platform,
    /// A user of the tenant: each scope must be held at tenant scope.
    User(UserId),
    /// Another key: the new key's scopes must be within that key's.
    ApiKey(ApiKeyId),
}

/// Why a key's use was ended by the engine or a caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Revocation {
    /// RevokeApiKey.
    Revoked,
    /// Its partition was deleted (directly, or with its client).
    PartitionDeleted,
}

/// Default overlap of a rotation: the old key keeps working this long.
pub const DEFAULT_ROTATION_OVERLAP_SECONDS: u64 = 24 * 3600;
/// Longest rotation overlap.
pub const MAX_ROTATION_OVERLAP_SECONDS: u64 = 30 * 24 * 3600;
/// Longest TTL of a key (ten years).
pub const MAX_KEY_TTL_SECONDS: u64 = 10 * 366 * 24 * 3600;
/// Most keys per partition that are neither revoked nor expired.
pub const MAX_LIVE_KEYS_PER_PARTITION: usize = 100;
/// Most permission patterns of a custom key.
pub const MAX_KEY_SCOPES: usize = 50;

/// An API key's current state (its secret is not part of it; only its hash is).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// Id (also written inside the key).
    pub id: ApiKeyId,
    /// The partition it opens.
    pub partition_id: RecordId,
    /// The partition's owning client; `None`: the tenant.
    pub client_id: RecordOwner,
    /// A name for people (1-200 chars).
    pub name: String,
    /// What it may do.
    pub scopes: KeyScopes,
    /// An external system's id for the key (≤ 200 chars), if any.
    pub foreign_key: String,
    /// Hex SHA-256 of the key.
    pub secret_hash: SecretHash,
    /// The key's last four characters.
    pub hint: String,
    /// When it stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// When, and why, it was ended, if it was.
    pub revoked: Option<(DateTime<Utc>, Revocation)>,
    /// The key this one replaced by rotation.
    pub rotated_from: Option<ApiKeyId>,
    /// The key that replaced this one by rotation.
    pub replaced_by: Option<ApiKeyId>,
    /// Event sequence number of the key's stream.
    pub version: i64,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Time of the last change.
    pub updated_at: DateTime<Utc>,
}

impl ApiKey {
    /// Whether the key has expired at `now`.
    pub fn expired_at(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }

    /// Neither revoked nor expired at `now` (its tenant, client and partition aside).
    pub fn live_at(&self, now: DateTime<Utc>) -> bool {
        self.revoked.is_none() && !self.expired_at(now)
    }
}

/// Commands on API keys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ApiKeyCommand {
    /// Issue a key for a partition.
    Create {
        /// Id chosen by the issuer (UUIDv7; it is written inside the key).
        id: ApiKeyId,
        /// The partition (live and active, of a writable owner).
        partition_id: RecordId,
        /// Name.
        name: String,
        /// Scopes.
        scopes: KeyScopes,
        /// Expiry.
        expiry: KeyExpiry,
        /// External id, or empty.
        foreign_key: String,
        /// The secret's hash and hint.
        secret: KeySecret,
        /// Who issues it.
        issuer: KeyIssuer,
    },
    /// Issue a new key like `id` (same partition, name, scopes and foreign key) and let `id`
    /// expire `overlap_seconds` from now (0: at once; never later than it would have).
    Rotate {
        /// The key to replace (neither revoked nor expired).
        id: ApiKeyId,
        /// The new key's id.
        new_id: ApiKeyId,
        /// How long the old key keeps working.
        overlap_seconds: u64,
        /// The new key's expiry.
        expiry: KeyExpiry,
        /// The new key's secret hash and hint.
        secret: KeySecret,
        /// Who issues the new key.
        issuer: KeyIssuer,
    },
    /// End a key now (revoking a revoked key changes nothing).
    Revoke {
        /// The key.
        id: ApiKeyId,
    },
}

impl ApiKeyCommand {
    /// The key whose stream the answer is about (the new key of a rotation).
    pub fn target(&self) -> ApiKeyId {
        match self {
            ApiKeyCommand::Create { id, .. } | ApiKeyCommand::Revoke { id } => *id,
            ApiKeyCommand::Rotate { new_id, .. } => *new_id,
        }
    }
}

/// Events of a key's stream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ApiKeyEvent {
    /// Issued.
    ApiKeyCreated {
        /// Id.
        id: ApiKeyId,
        /// Its partition.
        partition_id: RecordId,
        /// The partition's owning client.
        client_id: RecordOwner,
        /// Name.
        name: String,
        /// Scopes.
        scopes: KeyScopes,
        /// External id, or empty.
        foreign_key: String,
        /// Hex SHA-256 of the key.
        secret_hash: SecretHash,
        /// Its last four characters.
        hint: String,
        /// When it stops working, if ever.
        expires_at: Option<DateTime<Utc>>,
        /// The key it replaces (a rotation).
        rotated_from: Option<ApiKeyId>,
    },
    /// Replaced by `replaced_by`; works until `expires_at`.
    ApiKeyRotated {
        /// Id.
        id: ApiKeyId,
        /// The new key.
        replaced_by: ApiKeyId,
        /// When it stops working now.
        expires_at: DateTime<Utc>,
    },
    /// Ended now.
    ApiKeyRevoked {
        /// Id.
        id: ApiKeyId,
        /// Why.
        reason: Revocation,
    },
}

impl ApiKeyEvent {
    /// The key whose stream the event belongs to.
    pub fn key_id(&self) -> ApiKeyId {
        match self {
            ApiKeyEvent::ApiKeyCreated { id, .. }
            | ApiKeyEvent::ApiKeyRotated { id, .. }
            | ApiKeyEvent::ApiKeyRevoked { id, .. } => *id,
        }
    }

    /// The event's type name as stored in the journal.
    pub fn event_type(&self) -> &'static str {
        match self {
            ApiKeyEvent::ApiKeyCreated { .. } => "ApiKeyCreated",
            ApiKeyEvent::ApiKeyRotated { .. } => "ApiKeyRotated",
            ApiKeyEvent::ApiKeyRevoked { .. } => "ApiKeyRevoked",
        }
    }
}

/// Why a presented key does not open anything. The order is the order of the checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum KeyRefusal {
    /// Not a key of this tenant (unknown id, or the secret does not match).
    Unknown,
    /// Revoked (or its partition deleted).
    Revoked,
    /// Past its expiry.
    Expired,
    /// Its tenant is suspended, deactivated or deleted.
    TenantNotActive,
    /// Its owning client is disabled.
    ClientDisabled,
    /// Its partition is inactive.
    PartitionInactive,
}

impl KeyRefusal {
    /// Stable reason code (also the gRPC error reason of a refused API-key caller).
    pub fn as_str(self) -> &'static str {
        match self {
            KeyRefusal::Unknown => "UNKNOWN",
            KeyRefusal::Revoked => "REVOKED",
            KeyRefusal::Expired => "EXPIRED",
            KeyRefusal::TenantNotActive => "TENANT_NOT_ACTIVE",
            KeyRefusal::ClientDisabled => "CLIENT_DISABLED",
            KeyRefusal::PartitionInactive => "PARTITION_INACTIVE",
        }
    }
}
