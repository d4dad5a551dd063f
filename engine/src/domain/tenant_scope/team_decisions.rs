//! Decisions on teams: the organization they live in, name uniqueness inside it, the plan's
//! team entitlement and member eligibility are tenant-wide facts, so the scope decides them.
//!
//! Order of checks: tenant gate (exists and active), input validation, then state rules in the
//! order each decision lists them. A downgrade to a plan without teams blocks only new teams:
//! existing ones stay usable.

use std::collections::BTreeMap;

use super::{TenantScope, TenantScopeEvent, tree::same_name, user_decisions::status_name};
use crate::domain::{
    context::Context,
    error::{DomainError, ResourceKind},
    ids::{OrganizationId, TeamId, UserId},
    team::{Team, TeamCommand, TeamEvent, TeamRole, TeamStatus},
    tenant::Tenant,
    user::UserStatus,
    validation,
};

type Decision = Result<Vec<TenantScopeEvent>, DomainError>;

fn one(event: TeamEvent) -> Decision {
    Ok(vec![TenantScopeEvent::Team(event)])
}

pub(super) fn team_not_found(id: TeamId) -> DomainError {
    DomainError::NotFound {
        resource: ResourceKind::Team,
        id: id.to_string(),
    }
}

fn name_taken(name: &str) -> DomainError {
    DomainError::AlreadyExists {
        resource: ResourceKind::Team,
        field: "name",
        value: name.to_owned(),
    }
}

impl TenantScope {
    /// A live team.
    pub(super) fn live_team(&self, id: TeamId) -> Option<&Team> {
        self.teams
            .get(&id)
            .filter(|t| t.status == TeamStatus::Active)
    }

    /// Live teams of every organization that has any, each list by team id (one pass).
    pub(super) fn live_teams_by_organization(&self) -> BTreeMap<OrganizationId, Vec<TeamId>> {
        let mut index: BTreeMap<OrganizationId, Vec<TeamId>> = BTreeMap::new();
        for team in self
            .teams
            .values()
            .filter(|t| t.status == TeamStatus::Active)
        {
            index.entry(team.organization_id).or_default().push(team.id);
        }
        index
    }

    /// A live team of `organization` named `name` (case-insensitive, trimmed), other than
    /// `except`.
    fn team_named(
        &self,
        organization: OrganizationId,
        name: &str,
        except: Option<TeamId>,
    ) -> Option<&Team> {
        let wanted = name.trim();
        self.teams.values().find(|t| {
            t.status == TeamStatus::Active
                && t.organization_id == organization
                && Some(t.id) != except
                && same_name(t.name.trim(), wanted)
        })
    }

    /// Decides a team command.
    pub(super) fn decide_team(&self, command: &TeamCommand, _ctx: &Context) -> Decision {
        let tenant = self.active_tenant()?;
        match command {
            TeamCommand::Create {
                id,
                organization_id,
                name,
                description,
            } => self.decide_create_team(tenant, *id, *organization_id, name, description),
            TeamCommand::Update {
                id,
                name,
                description,
            } => self.decide_update_team(*id, name.as_deref(), description.as_deref()),
            TeamCommand::Delete { id } => {
                self.live_team(*id).ok_or_else(|| team_not_found(*id))?;
                one(TeamEvent::TeamDeleted {
                    id: *id,
                    cascaded_from: None,
                })
            }
            TeamCommand::AddMember { id, user_id, role } => {
                self.decide_add_member(*id, *user_id, *role)
            }
            TeamCommand::RemoveMember { id, user_id } => {
                let team = self.live_team(*id).ok_or_else(|| team_not_found(*id))?;
                if !team.members.contains_key(user_id) {
                    return Ok(vec![]);
                }
                one(TeamEvent::MembershipRemoved {
                    id: *id,
                    user_id: *user_id,
                })
            }
        }
    }

    /// Create: the plan has teams, new id, live organization, unique name in it.
    fn decide_create_team(
        &self,
        tenant: &Tenant,
        id: TeamId,
        organization_id: OrganizationId,
        name: &str,
        description: &str,
    ) -> Decision {
        let new = validation::create_team(name, description)?;
        if !tenant.plan.limits().teams_available {
            return Err(DomainError::PlanLimitExceeded {
                limit: "teams",
                plan: tenant.plan,
                allowed: 0,
            });
        }
        if self.teams.contains_key(&id) {
            return Err(DomainError::AlreadyExists {
                resource: ResourceKind::Team,
                field: "id",
                value: id.to_string(),
            });
        }
        if self.live(organization_id).is_none() {
            return Err(DomainError::NotFound {
                resource: ResourceKind::Organization,
                id: organization_id.to_string(),
            });
        }
        if self.team_named(organization_id, &new.name, None).is_some() {
            return Err(name_taken(&new.name));
        }
        one(TeamEvent::TeamCreated {
            id,
            organization_id,
            name: new.name,
            description: new.description,
        })
    }

    /// Update: live team, unique new name in its organization; only changed fields.
    fn decide_update_team(
        &self,
        id: TeamId,
        name: Option<&str>,
        description: Option<&str>,
    ) -> Decision {
        let (name, description) = validation::update_team(name, description)?;
        let team = self.live_team(id).ok_or_else(|| team_not_found(id))?;
        let name = name.filter(|n| *n != team.name);
        let description = description.filter(|d| *d != team.description);
        if let Some(n) = &name
            && self.team_named(team.organization_id, n, Some(id)).is_some()
        {
            return Err(name_taken(n));
        }
        if name.is_none() && description.is_none() {
            return Ok(vec![]);
        }
        one(TeamEvent::TeamUpdated {
            id,
            name,
            description,
        })
    }

    /// AddMember: live team; an invited or active user; a new member or a new team role.
    fn decide_add_member(&self, id: TeamId, user_id: UserId, role: TeamRole) -> Decision {
        let team = self.live_team(id).ok_or_else(|| team_not_found(id))?;
        let user = self
            .users
            .get(&user_id)
            .ok_or_else(|| DomainError::NotFound {
                resource: ResourceKind::User,
                id: user_id.to_string(),
            })?;
        if !matches!(user.status, UserStatus::Invited | UserStatus::Active) {
            return Err(DomainError::InvalidState {
                reason: "USER_NOT_ELIGIBLE",
                message: format!(
                    "user {user_id} is {}; only invited or active users can join a team",
                    status_name(user.status)
                ),
            });
        }
        if team.members.get(&user_id) == Some(&role) {
            return Ok(vec![]);
        }
        one(TeamEvent::MembershipAdded { id, user_id, role })
    }
}
