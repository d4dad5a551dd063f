//! Custom roles of a tenant. Built-in roles ([`super::BuiltinRole`]) exist in every tenant
//! without events and cannot be changed.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{
    access::PermissionPattern,
    ids::{RoleId, TenantId},
};

/// Live custom roles a tenant may have at once: every permission check and snapshot carries
/// them, so a tenant cannot grow them without bound (deleting one frees its place).
pub const MAX_CUSTOM_ROLES: usize = 1_000;

/// Lifecycle status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoleStatus {
    /// Live.
    Active,
    /// Deleted (its name may be defined again; its assignments were revoked).
    Deleted,
}

/// A custom role's current state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleDefinition {
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// Id.
    pub id: RoleId,
    /// Name, `[a-z][a-z0-9-]{1,62}`, unique among live roles, never a built-in name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Granted permission patterns (1-100, no duplicates).
    pub permissions: Vec<PermissionPattern>,
    /// Status.
    pub status: RoleStatus,
    /// Event sequence number of the role's stream.
    pub version: i64,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Time of the last change.
    pub updated_at: DateTime<Utc>,
}

/// Commands on custom roles.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RoleCommand {
    /// Define a role.
    Define {
        /// Id chosen by the gateway (UUIDv7).
        id: RoleId,
        /// Name.
        name: String,
        /// Description.
        description: String,
        /// Permission patterns.
        permissions: Vec<PermissionPattern>,
    },
    /// Change description and/or permissions.
    Update {
        /// Target.
        id: RoleId,
        /// New description.
        description: Option<String>,
        /// New permission set.
        permissions: Option<Vec<PermissionPattern>>,
    },
    /// Delete the role; every assignment of it is revoked in the same transaction.
    Delete {
        /// Target.
        id: RoleId,
    },
}

impl RoleCommand {
    /// The role the command is about.
    pub fn target(&self) -> RoleId {
        match self {
            RoleCommand::Define { id, .. }
            | RoleCommand::Update { id, .. }
            | RoleCommand::Delete { id } => *id,
        }
    }
}

/// Events of a role's stream. Every change is followed by a `PermissionPolicyChanged`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum RoleEvent {
    /// Defined.
    RoleDefined {
        /// Id.
        id: RoleId,
        /// Name.
        name: String,
        /// Description.
        description: String,
        /// Permissions.
        permissions: Vec<PermissionPattern>,
    },
    /// Changed.
    RoleUpdated {
        /// Id.
        id: RoleId,
        /// New description.
        description: Option<String>,
        /// New permissions.
        permissions: Option<Vec<PermissionPattern>>,
    },
    /// Deleted.
    RoleDeleted {
        /// Id.
        id: RoleId,
    },
    /// The role's effective permissions are now `permissions` (empty once deleted).
    PermissionPolicyChanged {
        /// Id.
        id: RoleId,
        /// Role name.
        name: String,
        /// Permissions now granted.
        permissions: Vec<PermissionPattern>,
    },
}

impl RoleEvent {
    /// The role whose stream the event belongs to.
    pub fn role_id(&self) -> RoleId {
        match self {
            RoleEvent::RoleDefined { id, .. }
            | RoleEvent::RoleUpdated { id, .. }
            | RoleEvent::RoleDeleted { id }
            | RoleEvent::PermissionPolicyChanged { id, .. } => *id,
        }
    }

    /// The event's type name as stored in the journal.
    pub fn event_type(&self) -> &'static str {
        match self {
            RoleEvent::RoleDefined { .. } => "RoleDefined",
            RoleEvent::RoleUpdated { .. } => "RoleUpdated",
            RoleEvent::RoleDeleted { .. } => "RoleDeleted",
            RoleEvent::PermissionPolicyChanged { .. } => "PermissionPolicyChanged",
        }
    }
}
