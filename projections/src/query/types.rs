//! Rows and filters of the read-model queries.

use chrono::{DateTime, Utc};
use engine::domain::{
    ClientId, ClientStatus, OrganizationId, OrganizationStatus, Plan, Scope, StreamId, TeamId,
    TeamRole, TeamStatus, TenantId, TenantKind, TenantStatus, UserId, UserStatus,
};

/// One tenant of the directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenantEntry {
    /// Id.
    pub tenant_id: TenantId,
    /// Display name.
    pub name: String,
    /// Platform-unique slug.
    pub slug: String,
    /// Lifecycle status.
    pub status: TenantStatus,
    /// Plan.
    pub plan: Plan,
    /// Business or consumer.
    pub kind: TenantKind,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Time of the last change.
    pub updated_at: DateTime<Utc>,
    /// Version (sequence of the tenant stream).
    pub version: i64,
}

/// How a text filter matches (always case-insensitive).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MatchMode {
    /// The field starts with the text.
    Prefix,
    /// The field contains the text.
    #[default]
    Substring,
}

/// Filters of [`crate::ReadModels::list_tenants`]; ordered by slug.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TenantFilter {
    /// Only this status.
    pub status: Option<TenantStatus>,
    /// Only this plan.
    pub plan: Option<Plan>,
    /// Text matched against the name or the slug.
    pub text: Option<String>,
    /// How `text` matches.
    pub mode: MatchMode,
}

/// One organization of the tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrganizationEntry {
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// Id.
    pub id: OrganizationId,
    /// Parent; `None` for a root.
    pub parent_id: Option<OrganizationId>,
    /// Name.
    pub name: String,
    /// Level: 1 for a root.
    pub depth: i32,
    /// Ids from the root down to this organization (itself last).
    pub path: Vec<OrganizationId>,
    /// Status.
    pub status: OrganizationStatus,
    /// Version (sequence of its stream).
    pub version: i64,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Time of the last change.
    pub updated_at: DateTime<Utc>,
}

/// Which organizations [`crate::ReadModels::list_organizations`] returns; ordered by id.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OrganizationSelection {
    /// Every organization of the tenant.
    #[default]
    All,
    /// Roots only.
    Roots,
    /// Direct children of one organization.
    ChildrenOf(OrganizationId),
    /// Every organization below one (its whole subtree, itself excluded).
    DescendantsOf(OrganizationId),
}

/// Filters of [`crate::ReadModels::list_organizations`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OrganizationFilter {
    /// Which part of the tree.
    pub selection: OrganizationSelection,
    /// Include deleted organizations (tombstones).
    pub include_deleted: bool,
}

/// One team.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TeamEntry {
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// Id.
    pub id: TeamId,
    /// Its organization.
    pub organization_id: OrganizationId,
    /// Name.
    pub name: String,
    /// Status.
    pub status: TeamStatus,
    /// Version (sequence of its stream).
    pub version: i64,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Time of the last change.
    pub updated_at: DateTime<Utc>,
}

/// Filters of [`crate::ReadModels::list_teams`]; ordered by id.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TeamFilter {
    /// Only teams of this organization.
    pub organization_id: Option<OrganizationId>,
    /// Include deleted teams.
    pub include_deleted: bool,
}

/// One member of a live team.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TeamMemberEntry {
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// Team.
    pub team_id: TeamId,
    /// User.
    pub user_id: UserId,
    /// Team role.
    pub role: TeamRole,
}

/// Filters of [`crate::ReadModels::list_team_members`]; ordered by (team, user).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TeamMemberFilter {
    /// Members of this team.
    pub team_id: Option<TeamId>,
    /// Memberships of this user.
    pub user_id: Option<UserId>,
}

/// One user of the directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserEntry {
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// Id.
    pub id: UserId,
    /// Email.
    pub email: String,
    /// Display name.
    pub display_name: String,
    /// Status.
    pub status: UserStatus,
    /// Organizations the user is a member of, by id.
    pub organization_ids: Vec<OrganizationId>,
    /// The client of the tenant the user belongs to, if any.
    pub client_id: Option<ClientId>,
    /// Version (sequence of its stream).
    pub version: i64,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Time of the last change.
    pub updated_at: DateTime<Utc>,
}

/// Filters of [`crate::ReadModels::list_users`]; ordered by email (case-insensitive), then id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserFilter {
    /// Text contained in the display name or the email (case-insensitive).
    pub text: Option<String>,
    /// Only this status.
    pub status: Option<UserStatus>,
    /// Only members of this organization.
    pub organization_id: Option<OrganizationId>,
    /// Only holders of this role (at any scope).
    pub role: Option<String>,
}

/// One role assignment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleAssignmentEntry {
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// User holding it.
    pub user_id: UserId,
    /// Role name.
    pub role: String,
    /// Where it applies.
    pub scope: Scope,
    /// When it was assigned.
    pub assigned_at: DateTime<Utc>,
}

/// Filters of [`crate::ReadModels::list_role_assignments`]; ordered by (user, role, scope).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoleAssignmentFilter {
    /// Only this user's.
    pub user_id: Option<UserId>,
    /// Only this role.
    pub role: Option<String>,
    /// Only assignments at exactly this scope.
    pub scope: Option<Scope>,
}

/// Filters of [`crate::ReadModels::list_clients`]; ordered by id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientFilter {
    /// Only this status; `None`: the live clients (active and disabled).
    pub status: Option<ClientStatus>,
    /// Only clients with exactly this external id (`Some("")`: those without one).
    pub external_id: Option<String>,
}

/// Whose records [`crate::ReadModels::list_records`] returns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OwnerFilter {
    /// The tenant's and every client's.
    #[default]
    Any,
    /// Only those the tenant itself owns.
    Tenant,
    /// Only those of this client.
    Client(ClientId),
}

/// Filters of [`crate::ReadModels::list_records`] (one kind of record); ordered by id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecordFilter {
    /// Whose records.
    pub owner: OwnerFilter,
    /// Only active (`Some(true)`) or inactive (`Some(false)`) records.
    pub active: Option<bool>,
    /// Only contacts of this type (case-insensitive; `None` or empty: any). Contacts only:
    /// refused with the other kinds.
    pub contact_type: Option<String>,
}

/// Which events [`crate::ReadModels::audit_trail`] returns; always newest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuditSelection {
    /// Everything in the tenant.
    Tenant,
    /// One entity's history.
    Entity(StreamId),
    /// Everything one subject did (the `actor.subject` of the event metadata).
    Actor(String),
}

/// Filters of [`crate::ReadModels::audit_trail`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditFilter {
    /// Whose events.
    pub selection: AuditSelection,
    /// Only events recorded at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Only events recorded before this time.
    pub to: Option<DateTime<Utc>>,
}
