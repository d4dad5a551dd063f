//! Organization: a business unit inside a tenant, arranged as a forest at most
//! [`MAX_DEPTH`] levels deep. Its invariants are tenant-wide (sibling names, tree shape,
//! plan count), so it is decided inside [`super::TenantScope`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ids::{OrganizationId, TenantId};

/// Deepest allowed level; a root organization is at depth 1.
pub const MAX_DEPTH: usize = 5;

/// Lifecycle status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrganizationStatus {
    /// Live.
    Active,
    /// Deleted (kept as a tombstone; invisible to every rule).
    Deleted,
}

/// An organization's current state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organization {
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// Id.
    pub id: OrganizationId,
    /// Name, unique among live siblings (case-insensitive).
    pub name: String,
    /// Free-text description.
    pub description: String,
    /// Parent; `None` for a root.
    pub parent_id: Option<OrganizationId>,
    /// Level in the tree: 1 for a root, at most [`MAX_DEPTH`]. Kept current by `apply` (a move
    /// re-levels the whole subtree), so every read is consistent with the parent links.
    pub depth: usize,
    /// Status.
    pub status: OrganizationStatus,
    /// Event sequence number of this organization's stream.
    pub version: i64,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Time of the last change.
    pub updated_at: DateTime<Utc>,
}

/// Commands on organizations.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OrganizationCommand {
    /// Create an organization (root when `parent_id` is `None`).
    Create {
        /// Id chosen by the gateway (UUIDv7).
        id: OrganizationId,
        /// Name.
        name: String,
        /// Description.
        description: String,
        /// Parent.
        parent_id: Option<OrganizationId>,
    },
    /// Change name and/or description (`Some` fields change).
    Update {
        /// Target.
        id: OrganizationId,
        /// New name.
        name: Option<String>,
        /// New description.
        description: Option<String>,
    },
    /// Re-parent (`None` makes it a root).
    Move {
        /// Target.
        id: OrganizationId,
        /// New parent.
        new_parent_id: Option<OrganizationId>,
    },
    /// Delete; refused while it has live children unless `cascade`.
    Delete {
        /// Target.
        id: OrganizationId,
        /// Delete all descendants too.
        cascade: bool,
    },
}

impl OrganizationCommand {
    /// The organization the command is about.
    pub fn target(&self) -> OrganizationId {
        match self {
            OrganizationCommand::Create { id, .. }
            | OrganizationCommand::Update { id, .. }
            | OrganizationCommand::Move { id, .. }
            | OrganizationCommand::Delete { id, .. } => *id,
        }
    }
}

/// Events of an organization's stream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum OrganizationEvent {
    /// Created.
    OrganizationCreated {
        /// Id.
        id: OrganizationId,
        /// Name.
        name: String,
        /// Description.
        description: String,
        /// Parent.
        parent_id: Option<OrganizationId>,
    },
    /// Name and/or description changed.
    OrganizationUpdated {
        /// Id.
        id: OrganizationId,
        /// New name.
        name: Option<String>,
        /// New description.
        description: Option<String>,
    },
    /// Re-parented.
    OrganizationMoved {
        /// Id.
        id: OrganizationId,
        /// Previous parent.
        from_parent_id: Option<OrganizationId>,
        /// New parent.
        to_parent_id: Option<OrganizationId>,
    },
    /// Deleted.
    OrganizationDeleted {
        /// Id.
        id: OrganizationId,
        /// Set when deleted as a descendant of this organization's cascade delete.
        cascaded_from: Option<OrganizationId>,
    },
}

impl OrganizationEvent {
    /// The organization whose stream the event belongs to.
    pub fn organization_id(&self) -> OrganizationId {
        match self {
            OrganizationEvent::OrganizationCreated { id, .. }
            | OrganizationEvent::OrganizationUpdated { id, .. }
            | OrganizationEvent::OrganizationMoved { id, .. }
            | OrganizationEvent::OrganizationDeleted { id, .. } => *id,
        }
    }

    /// The event's type name as stored in the journal.
    pub fn event_type(&self) -> &'static str {
        match self {
            OrganizationEvent::OrganizationCreated { .. } => "OrganizationCreated",
            OrganizationEvent::OrganizationUpdated { .. } => "OrganizationUpdated",
            OrganizationEvent::OrganizationMoved { .. } => "OrganizationMoved",
            OrganizationEvent::OrganizationDeleted { .. } => "OrganizationDeleted",
        }
    }
}
