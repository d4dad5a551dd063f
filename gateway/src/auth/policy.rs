//! THE authorization table: for every RPC, the permission it requires and the scope it is
//! evaluated at. This is the contract platform teams read.
//!
//! Evaluation ([`super::RoleAuthorizer`]): the caller's tenant must be the target tenant
//! (else PERMISSION_DENIED `TENANT_MISMATCH`); platform admins bypass role checks (their
//! calls are still audited); otherwise the caller's `sub` must be an engine user id of the
//! tenant and its role assignments must allow the permission at EVERY listed scope
//! (org-subtree inheritance applies, as for CheckPermission): an
//! `engine::runtime::PermissionRequirement`, which the tenant's actor checks in the message
//! that runs a command (writes) or in one read (reads). "own" = a user may always do it about
//! themself.
//!
//! | RPC | permission | scope |
//! |---|---|---|
//! | CreateTenant, ListTenants, EraseTenant | platform admin only | — |
//! | ListProjections, RebuildProjection, GetNodeStatus (AdminService) | platform admin only | — |
//! | GetTenant | `tenant:read` | tenant |
//! | UpdateTenant, SuspendTenant, ReactivateTenant | `tenant:update` | tenant |
//! | ChangePlan | `billing:manage` | tenant |
//! | DeactivateTenant, DeleteTenant | `tenant:delete` | tenant |
//! | CreateOrganization | `organization:create` | the parent organization (tenant for a root) |
//! | GetOrganization | `organization:read` | the organization |
//! | ListOrganizations | `organization:read` | the parent or `descendants_of` filter (tenant without one) |
//! | GetOrganizationPath | `organization:read` | the organization |
//! | UpdateOrganization | `organization:update` | the organization |
//! | MoveOrganization | `organization:move` | the organization AND the new parent (tenant for root) |
//! | DeleteOrganization | `organization:delete` | the organization |
//! | CreateTeam | `team:create` | the team's organization |
//! | GetTeam | `team:read` | the team |
//! | ListTeams | `team:read` | the organization filter (tenant without one) |
//! | UpdateTeam | `team:update` | the team |
//! | DeleteTeam | `team:delete` | the team |
//! | AddTeamMember, RemoveTeamMember | `team:manage` | the team |
//! | ListTeamMembers | `team:read`, or own (a user's own memberships) | the team (tenant for a user's memberships) |
//! | InviteUser, ResendInvitation, RevokeInvitation | `user:invite` (+ each role the invitation carries is given: see below) | the invitation's organization (tenant if none) |
//! | AcceptInvitation | any authenticated caller of the tenant (the invitation token is the proof) | — |
//! | GetUser | `user:read`, or own | tenant |
//! | ListUsers | `user:read` | the organization filter (tenant without one) |
//! | UpdateUserProfile | `user:update`, or own | tenant |
//! | DeactivateUser, ReactivateUser | `user:deactivate` | tenant |
//! | SetUserClient | `user:update` (never own: a user cannot move themself into a client) | tenant |
//! | EraseUser | `user:erase` | tenant |
//! | AddOrganizationMember, RemoveOrganizationMember | `user:update` | the organization |
//! | AssignRole, RevokeRole | `role:assign` (+ AssignRole gives its role: see below) | the assignment's scope |
//! | ListRoleAssignments | `user:read`, or own (filtered on oneself) | tenant |
//! | DefineRole, UpdateRole, DeleteRole | `role:define` (+ the role's permissions must be the caller's own at tenant scope) | tenant |
//! | GetRole, ListRoles | `role:read` | tenant |
//! | CheckPermission, ListEffectivePermissions | `user:read`, or own | tenant |
//! | ListAuditEvents (AuditService) | `audit:read` | tenant |
//! | CreateClient | `client:create` | tenant |
//! | GetClient, ListClients | `client:read` | tenant |
//! | UpdateClient | `client:update` | tenant |
//! | DisableClient, EnableClient | `client:disable` | tenant |
//! | DeleteClient | `client:delete` | tenant |
//! | ProvisionClientTenant | `client:provision` | tenant |
//! | CreateDepartment, CreateLocation, CreateContact | `department:create`, `location:create`, `contact:create` | tenant |
//! | Get/List Departments, Locations, Contacts | `department:read`, `location:read`, `contact:read` | tenant |
//! | UpdateDepartment, UpdateLocation, UpdateContact | `department:update`, `location:update`, `contact:update` | tenant |
//! | DeleteDepartment, DeleteLocation, DeleteContact | `department:delete`, `location:delete`, `contact:delete` | tenant |
//! | Create/Get/List/Update/Delete Partition and PartitionGroup | `partition:create`, `partition:read`, `partition:update`, `partition:delete` | tenant |
//! | CreateApiKey, RotateApiKey | `api-key:create` (and the key's scopes must be the caller's own) | tenant |
//! | GetApiKey, ListApiKeys | `api-key:read` | tenant |
//! | RevokeApiKey | `api-key:revoke` | tenant |
//! | VerifyApiKey | `api-key:verify` in the key's tenant | tenant |
//! | RegisterCustomer | platform admin only (it is CreateTenant) | — |
//! | RegisterUser | the person themself (their token's verified `email` is the request's, and it names no other tenant), or a platform admin on their behalf | tenant |
//! | GetUserClaims | `user:read`, or own | tenant |
//! | ConfigureRegistration | `role:assign` (+ its automatic roles, granted to whoever registers, are given: see below) | tenant |
//! | Add/Verify/RemoveRegistrationDomain | `tenant:update` (a manual verification: platform admin only) | tenant |
//! | GetRegistrationSettings | `tenant:read` | tenant |
//! | ResolveRegistration | any authenticated caller (the answer is a tenant's id and name; an API key verified by its tenant's node) | — |
//! | GetCustomer | `tenant:read` (as GetTenant) | tenant |
//! | UpdateCustomer | `tenant:update` (as UpdateTenant) | tenant |
//! | ExportChanges (AnalyticsService) | `analytics:export` with a tenant filter; without one (every tenant's history) platform admin only | tenant |
//! | SearchCustomers | a secured search key (its own restrictions), or `client:read` for scope OWN_CLIENTS; the other scopes platform admin only | tenant (OWN_CLIENTS) |
//! | CreateSearchKey | what searching with the key's scope needs (never a search key) | tenant (OWN_CLIENTS) |
//!
//! **A tenant that is not active** (suspended, deactivated, deleted) answers its users' reads
//! by their assignments, as before, and refuses their commands with its state
//! (FAILED_PRECONDITION `TENANT_SUSPENDED`, `TENANT_DEACTIVATED`, `TENANT_DELETED`): their roles
//! are suspended with it, so reactivation and deletion are a platform administrator's.
//! CheckPermission, which other services ask, denies everything there.
//!
//! **No caller gives more than it holds** (Kubernetes RBAC's escalation rule): a command that
//! gives a role at a scope (AssignRole, InviteUser's roles, ResendInvitation, whose new token
//! goes to the caller, ConfigureRegistration's automatic roles) needs `role:assign` at that
//! scope and, there, every pattern the role grants, each within one role of the caller's that
//! reaches the scope (its exceptions also the given role's); DefineRole and UpdateRole need the
//! role's patterns at tenant scope. Otherwise PERMISSION_DENIED `GRANT_EXCEEDS_CALLER` (metadata
//! `granted`, `permission`, `scope`), nothing written. An org-admin gives `member` or
//! `org-admin` within its subtree, never `tenant-owner`; a `tenant-admin` never gives
//! `tenant-owner` or a role with `billing:*`. Platform administrators are not bound by it.
//!
//! An API key caller holds its key's scopes tenant-wide (an admin key: what `tenant-admin`
//! holds); "own" never applies to it, and RPCs open to every caller of the tenant still need
//! the key to be valid, which the tenant's actor checks.
//!
//! Built-in `client-editor` holds `client:read`, `client:create` and `client:update`;
//! `client-viewer` holds `client:read`. A client's lifecycle (disable, enable, delete) and
//! provisioning reach another tenant, so they stay with `tenant-admin` and `tenant-owner`.

use engine::{
    domain::{
        OrganizationCommand, OrganizationId, RegistrationCommand, RoleCommand, Scope, TeamCommand,
        TeamId, TenantId, TenantScopeCommand, UserCommand, UserId,
    },
    runtime::Conferral,
};

/// What an RPC touches, as far as authorization cares (filled from the validated request).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Target {
    /// The tenant; `None` for platform-wide RPCs.
    pub tenant: Option<TenantId>,
    /// The organization addressed (or the parent / filter, per the table).
    pub organization: Option<OrganizationId>,
    /// MoveOrganization: the new parent (`None` = becomes a root).
    pub new_parent: Option<OrganizationId>,
    /// The team addressed.
    pub team: Option<TeamId>,
    /// AssignRole / RevokeRole: the assignment's scope.
    pub assignment_scope: Option<Scope>,
    /// The user the RPC is about.
    pub user: Option<UserId>,
    /// RegisterUser: the email being registered (a person may register themself with it).
    pub email: Option<String>,
    /// What the command gives away (roles, a role's permissions), which the caller must hold
    /// itself where it is given: [`Conferral`].
    pub confers: Vec<Conferral>,
}

impl Target {
    /// A target that is just a tenant.
    pub fn tenant(tenant: TenantId) -> Self {
        Self {
            tenant: Some(tenant),
            ..Self::default()
        }
    }
}

/// Where a permission is evaluated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum At {
    /// The tenant scope.
    Tenant,
    /// `Target::organization`, or the tenant when there is none.
    Organization,
    /// `Target::organization` AND `Target::new_parent` (the tenant for a root).
    OrganizationAndNewParent,
    /// `Target::team`, else `Target::organization`, else the tenant.
    Team,
    /// `Target::assignment_scope`.
    AssignmentScope,
}

/// The rule of one RPC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// Platform administrators only.
    PlatformAdmin,
    /// Any authenticated caller of the target tenant.
    TenantCaller,
    /// Any authenticated caller at all (the answer reveals nothing private).
    AnyCaller,
    /// The person whose verified email (`email_verified` in their token) is `Target::email`
    /// (with a token of no other tenant), or else a platform admin (a platform service acting
    /// on the person's behalf).
    Registrant,
    /// SearchCustomers: a secured search key's holder (the only RPC it may call; its grant
    /// restricts the search), else `client:read` at the tenant — platform-wide scopes leave
    /// `Target::tenant` empty, which only platform admins pass.
    Searcher,
    /// A permission at a scope.
    Permission {
        /// `resource:action`.
        permission: &'static str,
        /// Where it is evaluated.
        at: At,
        /// A user may always do it about themself (`Target::user`).
        own: bool,
    },
}

const fn perm(permission: &'static str, at: At) -> Rule {
    Rule::Permission {
        permission,
        at,
        own: false,
    }
}

const fn own_or(permission: &'static str) -> Rule {
    Rule::Permission {
        permission,
        at: At::Tenant,
        own: true,
    }
}

/// The rule of `rpc` (the method name, e.g. `CreateOrganization`); `None` = unknown RPC.
pub fn rule(rpc: &str) -> Option<Rule> {
    use At::*;
    Some(match rpc {
        "CreateTenant" | "ListTenants" | "EraseTenant" | "ListProjections"
        | "RebuildProjection" | "GetNodeStatus" | "RegisterCustomer" => Rule::PlatformAdmin,
        "GetTenant" | "GetCustomer" => perm("tenant:read", Tenant),
        "UpdateTenant" | "UpdateCustomer" | "SuspendTenant" | "ReactivateTenant" => {
            perm("tenant:update", Tenant)
        }
        "ChangePlan" => perm("billing:manage", Tenant),
        "DeactivateTenant" | "DeleteTenant" => perm("tenant:delete", Tenant),
        "CreateOrganization" => perm("organization:create", Organization),
        "GetOrganization" | "ListOrganizations" | "GetOrganizationPath" => {
            perm("organization:read", Organization)
        }
        "UpdateOrganization" => perm("organization:update", Organization),
        "MoveOrganization" => perm("organization:move", OrganizationAndNewParent),
        "DeleteOrganization" => perm("organization:delete", Organization),
        "CreateTeam" => perm("team:create", Team),
        "GetTeam" | "ListTeams" => perm("team:read", Team),
        "UpdateTeam" => perm("team:update", Team),
        "DeleteTeam" => perm("team:delete", Team),
        "AddTeamMember" | "RemoveTeamMember" => perm("team:manage", Team),
        "ListTeamMembers" => Rule::Permission {
            permission: "team:read",
            at: Team,
            own: true,
        },
        "InviteUser" | "ResendInvitation" | "RevokeInvitation" => perm("user:invite", Organization),
        "AcceptInvitation" => Rule::TenantCaller,
        "GetUser" | "ListRoleAssignments" => own_or("user:read"),
        "ListUsers" => perm("user:read", Organization),
        "UpdateUserProfile" => own_or("user:update"),
        "DeactivateUser" | "ReactivateUser" => perm("user:deactivate", Tenant),
        "SetUserClient" => perm("user:update", Tenant),
        "EraseUser" => perm("user:erase", Tenant),
        "AddOrganizationMember" | "RemoveOrganizationMember" => perm("user:update", Organization),
        "AssignRole" | "RevokeRole" => perm("role:assign", AssignmentScope),
        "DefineRole" | "UpdateRole" | "DeleteRole" => perm("role:define", Tenant),
        "GetRole" | "ListRoles" => perm("role:read", Tenant),
        "CheckPermission" | "ListEffectivePermissions" => own_or("user:read"),
        "ListAuditEvents" => perm("audit:read", Tenant),
        "CreateClient" => perm("client:create", Tenant),
        "GetClient" | "ListClients" => perm("client:read", Tenant),
        "UpdateClient" => perm("client:update", Tenant),
        "DisableClient" | "EnableClient" => perm("client:disable", Tenant),
        "DeleteClient" => perm("client:delete", Tenant),
        "ProvisionClientTenant" => perm("client:provision", Tenant),
        "CreateDepartment" => perm("department:create", Tenant),
        "GetDepartment" | "ListDepartments" => perm("department:read", Tenant),
        "UpdateDepartment" => perm("department:update", Tenant),
        "DeleteDepartment" => perm("department:delete", Tenant),
        "CreateLocation" => perm("location:create", Tenant),
        "GetLocation" | "ListLocations" => perm("location:read", Tenant),
        "UpdateLocation" => perm("location:update", Tenant),
        "DeleteLocation" => perm("location:delete", Tenant),
        "CreateContact" => perm("contact:create", Tenant),
        "GetContact" | "ListContacts" => perm("contact:read", Tenant),
        "UpdateContact" => perm("contact:update", Tenant),
        "DeleteContact" => perm("contact:delete", Tenant),
        "CreatePartition" | "CreatePartitionGroup" => perm("partition:create", Tenant),
        "GetPartition" | "ListPartitions" | "GetPartitionGroup" | "ListPartitionGroups" => {
            perm("partition:read", Tenant)
        }
        "UpdatePartition" | "UpdatePartitionGroup" => perm("partition:update", Tenant),
        "DeletePartition" | "DeletePartitionGroup" => perm("partition:delete", Tenant),
        "CreateApiKey" | "RotateApiKey" => perm("api-key:create", Tenant),
        "GetApiKey" | "ListApiKeys" => perm("api-key:read", Tenant),
        "RevokeApiKey" => perm("api-key:revoke", Tenant),
        "VerifyApiKey" => perm("api-key:verify", Tenant),
        "RegisterUser" => Rule::Registrant,
        "GetUserClaims" => own_or("user:read"),
        "ConfigureRegistration" => perm("role:assign", Tenant),
        "AddRegistrationDomain" | "VerifyRegistrationDomain" | "RemoveRegistrationDomain" => {
            perm("tenant:update", Tenant)
        }
        "GetRegistrationSettings" => perm("tenant:read", Tenant),
        "ResolveRegistration" => Rule::AnyCaller,
        // Without a tenant filter the target has no tenant: platform admins only.
        "ExportChanges" => perm("analytics:export", Tenant),
        "SearchCustomers" => Rule::Searcher,
        "CreateSearchKey" => perm("client:read", Tenant),
        _ => return None,
    })
}

/// The scopes `at` stands for in `target`.
pub fn scopes(at: At, target: &Target) -> Vec<Scope> {
    let org = |o: Option<OrganizationId>| o.map_or(Scope::Tenant, Scope::Organization);
    match at {
        At::Tenant => vec![Scope::Tenant],
        At::Organization => vec![org(target.organization)],
        At::OrganizationAndNewParent => vec![org(target.organization), org(target.new_parent)],
        At::Team => vec![
            target
                .team
                .map_or_else(|| org(target.organization), Scope::Team),
        ],
        At::AssignmentScope => vec![target.assignment_scope.unwrap_or(Scope::Tenant)],
    }
}

/// The target of a write, from its (validated) engine command.
pub fn write_target(tenant: TenantId, command: &TenantScopeCommand) -> Target {
    let mut t = Target::tenant(tenant);
    match command {
        TenantScopeCommand::Tenant(_)
        | TenantScopeCommand::Client(_)
        | TenantScopeCommand::Record(_)
        | TenantScopeCommand::ApiKey(_) => {}
        TenantScopeCommand::Role(c) => match c {
            RoleCommand::Define { permissions, .. }
            | RoleCommand::Update {
                permissions: Some(permissions),
                ..
            } => t.confers = vec![Conferral::Permissions(permissions.clone())],
            RoleCommand::Update { .. } | RoleCommand::Delete { .. } => {}
        },
        TenantScopeCommand::Registration(c) => {
            if let RegistrationCommand::Configure { auto_roles, .. } = c {
                t.confers = roles(auto_roles);
            }
        }
        TenantScopeCommand::Organization(c) => match c {
            OrganizationCommand::Create { parent_id, .. } => t.organization = *parent_id,
            OrganizationCommand::Move {
                id, new_parent_id, ..
            } => {
                t.organization = Some(*id);
                t.new_parent = *new_parent_id;
            }
            OrganizationCommand::Update { id, .. } | OrganizationCommand::Delete { id, .. } => {
                t.organization = Some(*id);
            }
        },
        TenantScopeCommand::Team(c) => match c {
            TeamCommand::Create {
                organization_id, ..
            } => t.organization = Some(*organization_id),
            other => t.team = Some(other.target()),
        },
        TenantScopeCommand::User(c) => {
            t.user = Some(c.target());
            match c {
                UserCommand::Invite {
                    organization_id,
                    roles: granted,
                    ..
                } => {
                    t.organization = *organization_id;
                    t.confers = roles(granted);
                }
                UserCommand::ResendInvitation { id, .. } => {
                    t.confers = vec![Conferral::InvitationOf(*id)];
                }
                UserCommand::AddToOrganization {
                    organization_id, ..
                }
                | UserCommand::RemoveFromOrganization {
                    organization_id, ..
                } => t.organization = Some(*organization_id),
                UserCommand::AssignRole { assignment, .. } => {
                    t.assignment_scope = Some(assignment.scope);
                    t.confers = vec![Conferral::Role(assignment.clone())];
                }
                UserCommand::RevokeRole { assignment, .. } => {
                    t.assignment_scope = Some(assignment.scope);
                }
                _ => {}
            }
        }
    }
    t
}

/// Each role of `assignments`, given away.
fn roles(assignments: &[engine::domain::Assignment]) -> Vec<Conferral> {
    assignments.iter().cloned().map(Conferral::Role).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rpc_of_the_contract_has_a_rule() {
        let methods = entity_proto::rpc_methods().unwrap();
        assert!(methods.len() >= 40);
        for (service, method) in methods {
            assert!(
                rule(&method).is_some(),
                "{service}/{method} has no authorization rule"
            );
        }
        assert_eq!(rule("Nope"), None);
    }

    #[test]
    fn erasure_rules() {
        // tenant-owner (`*`) and tenant-admin (`*` but billing and tenant deletion) hold it
        assert_eq!(rule("EraseUser"), Some(perm("user:erase", At::Tenant)));
        assert_eq!(rule("EraseTenant"), Some(Rule::PlatformAdmin));
        let user = UserId::new_v7();
        let target = write_target(
            TenantId::new_v7(),
            &TenantScopeCommand::User(UserCommand::Erase { id: user }),
        );
        assert_eq!(target.user, Some(user));
        assert_eq!(scopes(At::Tenant, &target), vec![Scope::Tenant]);
    }

    #[test]
    fn scopes_follow_the_target() {
        let org = OrganizationId::new_v7();
        let parent = OrganizationId::new_v7();
        let team = TeamId::new_v7();
        let t = Target {
            organization: Some(org),
            new_parent: Some(parent),
            team: Some(team),
            ..Target::default()
        };
        assert_eq!(
            scopes(At::OrganizationAndNewParent, &t),
            vec![Scope::Organization(org), Scope::Organization(parent)]
        );
        assert_eq!(scopes(At::Team, &t), vec![Scope::Team(team)]);
        assert_eq!(
            scopes(At::Organization, &Target::default()),
            vec![Scope::Tenant]
        );
        assert_eq!(
            scopes(
                At::OrganizationAndNewParent,
                &Target {
                    organization: Some(org),
                    ..Target::default()
                }
            ),
            vec![Scope::Organization(org), Scope::Tenant]
        );
    }
}
