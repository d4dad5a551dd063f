//! Decisions on organizations: every rule here is tenant-wide (tree shape, sibling names,
//! the plan's organization count), which is why the tenant scope decides them.
//!
//! Order of checks: tenant gate (exists and active), input validation, then state rules in
//! the order the command's documentation lists them. Each decision is O(n log n) at most.

use super::{TenantScope, TenantScopeEvent};
use crate::domain::{
    context::Context,
    error::{DomainError, ResourceKind},
    ids::OrganizationId,
    organization::{MAX_DEPTH, OrganizationCommand, OrganizationEvent},
    team::TeamEvent,
    tenant::{Tenant, TenantStatus},
    validation,
};

type Decision = Result<Vec<TenantScopeEvent>, DomainError>;

fn one(event: OrganizationEvent) -> Decision {
    Ok(vec![TenantScopeEvent::Organization(event)])
}

fn not_found(id: OrganizationId) -> DomainError {
    DomainError::NotFound {
        resource: ResourceKind::Organization,
        id: id.to_string(),
    }
}

fn name_taken(name: &str) -> DomainError {
    DomainError::AlreadyExists {
        resource: ResourceKind::Organization,
        field: "name",
        value: name.to_owned(),
    }
}

impl TenantScope {
    /// The tenant, if it exists and is active; else the refusal every organization, team, user
    /// and role command gets.
    pub(super) fn active_tenant(&self) -> Result<&Tenant, DomainError> {
        let tenant = self.tenant.as_ref().ok_or_else(|| DomainError::NotFound {
            resource: ResourceKind::Tenant,
            id: self.tenant_id.to_string(),
        })?;
        match tenant.status {
            TenantStatus::Active => Ok(tenant),
            TenantStatus::Suspended => Err(DomainError::TenantSuspended),
            TenantStatus::Deactivated => Err(DomainError::TenantDeactivated),
            TenantStatus::Deleted => Err(DomainError::TenantDeleted),
        }
    }

    /// Decides an organization command.
    pub(super) fn decide_organization(
        &self,
        command: &OrganizationCommand,
        _ctx: &Context,
    ) -> Decision {
        let tenant = self.active_tenant()?;
        match command {
            OrganizationCommand::Create {
                id,
                name,
                description,
                parent_id,
            } => self.decide_create(tenant, *id, name, description, *parent_id),
            OrganizationCommand::Update {
                id,
                name,
                description,
            } => self.decide_update(*id, name.as_deref(), description.as_deref()),
            OrganizationCommand::Move { id, new_parent_id } => {
                self.decide_move(*id, *new_parent_id)
            }
            OrganizationCommand::Delete { id, cascade } => self.decide_delete(*id, *cascade),
        }
    }

    /// Create: new id, live parent, unique sibling name, depth, plan count.
    fn decide_create(
        &self,
        tenant: &Tenant,
        id: OrganizationId,
        name: &str,
        description: &str,
        parent_id: Option<OrganizationId>,
    ) -> Decision {
        let new = validation::create_organization(id, name, description, parent_id)?;
        if self.organizations.contains_key(&id) {
            return Err(DomainError::AlreadyExists {
                resource: ResourceKind::Organization,
                field: "id",
                value: id.to_string(),
            });
        }
        let depth = match parent_id {
            None => 1,
            Some(parent) => self.live_depth(parent).ok_or_else(|| not_found(parent))? + 1,
        };
        if self.sibling_named(parent_id, &new.name, None).is_some() {
            return Err(name_taken(&new.name));
        }
        if depth > MAX_DEPTH {
            return Err(DomainError::HierarchyTooDeep {
                depth,
                max: MAX_DEPTH,
            });
        }
        if let Some(allowed) = tenant.plan.limits().max_organizations {
            let live = self.live_organizations().count() as u64;
            if live >= allowed {
                return Err(DomainError::PlanLimitExceeded {
                    limit: "organizations",
                    plan: tenant.plan,
                    allowed,
                });
            }
        }
        one(OrganizationEvent::OrganizationCreated {
            id,
            name: new.name,
            description: new.description,
            parent_id,
        })
    }

    /// Update: live target, unique new sibling name; only changed fields; no-op if none.
    fn decide_update(
        &self,
        id: OrganizationId,
        name: Option<&str>,
        description: Option<&str>,
    ) -> Decision {
        let (name, description) = validation::update_organization(name, description)?;
        let org = self.live(id).ok_or_else(|| not_found(id))?;
        let name = name.filter(|n| *n != org.name);
        let description = description.filter(|d| *d != org.description);
        if let Some(n) = &name
            && self.sibling_named(org.parent_id, n, Some(id)).is_some()
        {
            return Err(name_taken(n));
        }
        if name.is_none() && description.is_none() {
            return Ok(vec![]);
        }
        one(OrganizationEvent::OrganizationUpdated {
            id,
            name,
            description,
        })
    }

    /// Move: live target and parent, no cycle, subtree fits in depth, unique name there.
    fn decide_move(&self, id: OrganizationId, new_parent: Option<OrganizationId>) -> Decision {
        let org = self.live(id).ok_or_else(|| not_found(id))?;
        let cycle = || DomainError::HierarchyCycle {
            organization: id.to_string(),
            new_parent: new_parent.map_or_else(String::new, |p| p.to_string()),
        };
        let parent_depth = match new_parent {
            None => 0,
            Some(parent) if parent == id => return Err(cycle()),
            Some(parent) => self.live_depth(parent).ok_or_else(|| not_found(parent))?,
        };
        if new_parent == org.parent_id {
            return Ok(vec![]);
        }
        if let Some(parent) = new_parent
            && self.is_self_or_ancestor(id, parent)
        {
            return Err(cycle());
        }
        let index = self.children_index();
        let deepest = parent_depth + Self::subtree_height(&index, id);
        if deepest > MAX_DEPTH {
            return Err(DomainError::HierarchyTooDeep {
                depth: deepest,
                max: MAX_DEPTH,
            });
        }
        if self
            .sibling_named(new_parent, &org.name, Some(id))
            .is_some()
        {
            return Err(name_taken(&org.name));
        }
        one(OrganizationEvent::OrganizationMoved {
            id,
            from_parent_id: org.parent_id,
            to_parent_id: new_parent,
        })
    }

    /// Delete: live target; with live child organizations or live teams only when `cascade`.
    /// A cascade deletes deepest organizations first, each organization's teams just before
    /// it, and the target last.
    fn decide_delete(&self, id: OrganizationId, cascade: bool) -> Decision {
        self.live(id).ok_or_else(|| not_found(id))?;
        let index = self.children_index();
        let teams = self.live_teams_by_organization();
        let children = index.get(&Some(id)).map_or(0, Vec::len);
        let own_teams = teams.get(&id).map_or(0, Vec::len);
        if (children > 0 || own_teams > 0) && !cascade {
            let mut parts = Vec::new();
            if children > 0 {
                parts.push(format!(
                    "{children} child organization{}",
                    if children == 1 { "" } else { "s" }
                ));
            }
            if own_teams > 0 {
                parts.push(format!(
                    "{own_teams} team{}",
                    if own_teams == 1 { "" } else { "s" }
                ));
            }
            return Err(DomainError::InvalidState {
                reason: "HAS_CHILDREN",
                message: format!(
                    "organization {id} has {}; delete them first or cascade",
                    parts.join(" and ")
                ),
            });
        }
        // Deepest level first; within a level by id, so the order is deterministic.
        let mut descendants = Self::live_descendants(&index, id);
        descendants.sort_unstable_by_key(|&(d, level)| (std::cmp::Reverse(level), d));
        let mut events = Vec::new();
        let doomed = descendants
            .into_iter()
            .map(|(d, _)| (d, Some(id)))
            .chain([(id, None)]);
        for (org, cascaded_from) in doomed {
            for &team in teams.get(&org).map_or(&[][..], Vec::as_slice) {
                events.push(TenantScopeEvent::Team(TeamEvent::TeamDeleted {
                    id: team,
                    cascaded_from: Some(id),
                }));
            }
            events.push(TenantScopeEvent::Organization(
                OrganizationEvent::OrganizationDeleted {
                    id: org,
                    cascaded_from,
                },
            ));
        }
        Ok(events)
    }
}
