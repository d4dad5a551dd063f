//! Team: a collaboration group inside an organization. Decided inside the tenant scope
//! (its organization, name uniqueness, the plan's team entitlement and member validity are
//! tenant-wide facts).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ids::{OrganizationId, TeamId, TenantId, UserId};

/// A member's role inside a team.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TeamRole {
    /// A regular member.
    Member,
    /// Leads the team.
    Lead,
}

/// Lifecycle status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TeamStatus {
    /// Live.
    Active,
    /// Deleted (tombstone).
    Deleted,
}

/// A team's current state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// Id.
    pub id: TeamId,
    /// The organization it belongs to.
    pub organization_id: OrganizationId,
    /// Name, unique among the organization's live teams (case-insensitive).
    pub name: String,
    /// Description.
    pub description: String,
    /// Members and their team roles.
    pub members: BTreeMap<UserId, TeamRole>,
    /// Status.
    pub status: TeamStatus,
    /// Event sequence number of the team's stream.
    pub version: i64,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Time of the last change.
    pub updated_at: DateTime<Utc>,
}

/// Commands on teams.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TeamCommand {
    /// Create a team in a live organization (silver and gold plans only).
    Create {
        /// Id chosen by the gateway (UUIDv7).
        id: TeamId,
        /// Organization.
        organization_id: OrganizationId,
        /// Name (1-200 chars, unique in the organization).
        name: String,
        /// Description (≤ 2000 chars).
        description: String,
    },
    /// Change name and/or description.
    Update {
        /// Target.
        id: TeamId,
        /// New name.
        name: Option<String>,
        /// New description.
        description: Option<String>,
    },
    /// Delete the team.
    Delete {
        /// Target.
        id: TeamId,
    },
    /// Add (or change the team role of) a member: an active or invited user of the tenant.
    AddMember {
        /// Team.
        id: TeamId,
        /// User.
        user_id: UserId,
        /// Team role.
        role: TeamRole,
    },
    /// Remove a member.
    RemoveMember {
        /// Team.
        id: TeamId,
        /// User.
        user_id: UserId,
    },
}

impl TeamCommand {
    /// The team the command is about.
    pub fn target(&self) -> TeamId {
        match self {
            TeamCommand::Create { id, .. }
            | TeamCommand::Update { id, .. }
            | TeamCommand::Delete { id }
            | TeamCommand::AddMember { id, .. }
            | TeamCommand::RemoveMember { id, .. } => *id,
        }
    }
}

/// Events of a team's stream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum TeamEvent {
    /// Created.
    TeamCreated {
        /// Id.
        id: TeamId,
        /// Organization.
        organization_id: OrganizationId,
        /// Name.
        name: String,
        /// Description.
        description: String,
    },
    /// Name and/or description changed.
    TeamUpdated {
        /// Id.
        id: TeamId,
        /// New name.
        name: Option<String>,
        /// New description.
        description: Option<String>,
    },
    /// Deleted.
    TeamDeleted {
        /// Id.
        id: TeamId,
        /// Set when deleted by a cascade delete of this organization.
        cascaded_from: Option<OrganizationId>,
    },
    /// A member was added (or their team role changed).
    MembershipAdded {
        /// Team.
        id: TeamId,
        /// User.
        user_id: UserId,
        /// Team role.
        role: TeamRole,
    },
    /// A member was removed.
    MembershipRemoved {
        /// Team.
        id: TeamId,
        /// User.
        user_id: UserId,
    },
}

impl TeamEvent {
    /// The team whose stream the event belongs to.
    pub fn team_id(&self) -> TeamId {
        match self {
            TeamEvent::TeamCreated { id, .. }
            | TeamEvent::TeamUpdated { id, .. }
            | TeamEvent::TeamDeleted { id, .. }
            | TeamEvent::MembershipAdded { id, .. }
            | TeamEvent::MembershipRemoved { id, .. } => *id,
        }
    }

    /// The event's type name as stored in the journal.
    pub fn event_type(&self) -> &'static str {
        match self {
            TeamEvent::TeamCreated { .. } => "TeamCreated",
            TeamEvent::TeamUpdated { .. } => "TeamUpdated",
            TeamEvent::TeamDeleted { .. } => "TeamDeleted",
            TeamEvent::MembershipAdded { .. } => "MembershipAdded",
            TeamEvent::MembershipRemoved { .. } => "MembershipRemoved",
        }
    }
}
