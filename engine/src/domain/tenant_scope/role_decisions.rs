//! Decisions on custom roles. Built-in roles ([`crate::domain::BuiltinRole`]) are never stored:
//! their names cannot be defined, and Update/Delete address custom role ids only. A tenant
//! has at most [`MAX_CUSTOM_ROLES`] live custom roles.
//!
//! Every change of what a role grants is followed by a `PermissionPolicyChanged` on the role's
//! stream. Deleting a role first revokes every assignment of it (one `RoleRevoked` on each
//! holder's stream), so that the role's own events come last.

use super::{TenantScope, TenantScopeEvent};
use crate::domain::{
    access::{BuiltinRole, PermissionPattern},
    context::Context,
    error::{DomainError, ResourceKind},
    ids::RoleId,
    role::{MAX_CUSTOM_ROLES, RoleCommand, RoleDefinition, RoleEvent, RoleStatus},
    user::UserEvent,
    validation,
};

type Decision = Result<Vec<TenantScopeEvent>, DomainError>;

fn role_event(event: RoleEvent) -> TenantScopeEvent {
    TenantScopeEvent::Role(event)
}

fn name_taken(name: &str) -> DomainError {
    DomainError::AlreadyExists {
        resource: ResourceKind::Role,
        field: "name",
        value: name.to_owned(),
    }
}

impl TenantScope {
    /// A live custom role.
    fn live_role(&self, id: RoleId) -> Result<&RoleDefinition, DomainError> {
        self.roles
            .get(&id)
            .filter(|r| r.status == RoleStatus::Active)
            .ok_or_else(|| DomainError::NotFound {
                resource: ResourceKind::Role,
                id: id.to_string(),
            })
    }

    /// Decides a custom-role command.
    pub(super) fn decide_role(&self, command: &RoleCommand, _ctx: &Context) -> Decision {
        self.active_tenant()?;
        match command {
            RoleCommand::Define {
                id,
                name,
                description,
                permissions,
            } => self.decide_define(*id, name, description, permissions),
            RoleCommand::Update {
                id,
                description,
                permissions,
            } => self.decide_update_role(*id, description.as_deref(), permissions.as_deref()),
            RoleCommand::Delete { id } => self.decide_delete_role(*id),
        }
    }

    /// Define: new id, not a built-in name, unique among live custom roles.
    fn decide_define(
        &self,
        id: RoleId,
        name: &str,
        description: &str,
        permissions: &[PermissionPattern],
    ) -> Decision {
        validation::define_role(name, description, permissions)?;
        if self.roles.contains_key(&id) {
            return Err(DomainError::AlreadyExists {
                resource: ResourceKind::Role,
                field: "id",
                value: id.to_string(),
            });
        }
        if BuiltinRole::from_name(name).is_some() || self.live_role_named(name).is_some() {
            return Err(name_taken(name));
        }
        if self.live_roles.len() >= MAX_CUSTOM_ROLES {
            return Err(DomainError::InvalidState {
                reason: "ROLE_LIMIT",
                message: format!(
                    "the tenant has {MAX_CUSTOM_ROLES} live custom roles; delete one first"
                ),
            });
        }
        Ok(vec![
            role_event(RoleEvent::RoleDefined {
                id,
                name: name.to_owned(),
                description: description.to_owned(),
                permissions: permissions.to_vec(),
            }),
            role_event(RoleEvent::PermissionPolicyChanged {
                id,
                name: name.to_owned(),
                permissions: permissions.to_vec(),
            }),
        ])
    }

    /// Update: live role; only changed fields; a policy change only if permissions changed.
    fn decide_update_role(
        &self,
        id: RoleId,
        description: Option<&str>,
        permissions: Option<&[PermissionPattern]>,
    ) -> Decision {
        validation::update_role(description, permissions)?;
        let role = self.live_role(id)?;
        let description = description
            .filter(|d| *d != role.description)
            .map(str::to_owned);
        let permissions = permissions
            .filter(|p| *p != role.permissions.as_slice())
            .map(<[PermissionPattern]>::to_vec);
        if description.is_none() && permissions.is_none() {
            return Ok(vec![]);
        }
        let mut events = vec![role_event(RoleEvent::RoleUpdated {
            id,
            description,
            permissions: permissions.clone(),
        })];
        if let Some(permissions) = permissions {
            events.push(role_event(RoleEvent::PermissionPolicyChanged {
                id,
                name: role.name.clone(),
                permissions,
            }));
        }
        Ok(events)
    }

    /// Delete: live role; revokes every assignment of it (users by id), then the role's events.
    fn decide_delete_role(&self, id: RoleId) -> Decision {
        let role = self.live_role(id)?;
        let mut events: Vec<TenantScopeEvent> = self
            .users
            .values()
            .flat_map(|u| {
                u.assignments
                    .iter()
                    .filter(|a| a.role == role.name)
                    .map(|a| {
                        TenantScopeEvent::User(UserEvent::RoleRevoked {
                            id: u.id,
                            assignment: a.clone(),
                        })
                    })
            })
            .collect();
        events.push(role_event(RoleEvent::RoleDeleted { id }));
        events.push(role_event(RoleEvent::PermissionPolicyChanged {
            id,
            name: role.name.clone(),
            permissions: vec![],
        }));
        Ok(events)
    }
}
