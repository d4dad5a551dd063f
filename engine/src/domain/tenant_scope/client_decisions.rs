//! Decisions on clients: the plan's client count and the external id's uniqueness are
//! tenant-wide facts, so the scope decides them.
//!
//! Order of checks: tenant gate (exists and active), input validation, then the client's
//! existence and status (a disabled client refuses everything but enabling and deletion), then
//! uniqueness and the plan. Disabling a disabled client or enabling an active one changes
//! nothing (no event).

use super::{TenantScope, TenantScopeEvent, directory_decisions::headquarters_event};
use crate::domain::{
    client::{Client, ClientCommand, ClientEvent, ClientStatus},
    context::Context,
    error::{DomainError, ResourceKind},
    ids::{ClientId, TenantId},
    tenant::BusinessProfile,
    validation::{self, ClientFields},
};

type Decision = Result<Vec<TenantScopeEvent>, DomainError>;

fn one(event: ClientEvent) -> Decision {
    Ok(vec![TenantScopeEvent::Client(event)])
}

pub(super) fn client_not_found(id: ClientId) -> DomainError {
    DomainError::NotFound {
        resource: ResourceKind::Client,
        id: id.to_string(),
    }
}

/// Refusal of a change to a disabled client.
pub(super) fn client_disabled(id: ClientId) -> DomainError {
    DomainError::InvalidState {
        reason: "CLIENT_DISABLED",
        message: format!("client {id} is disabled; enable it first"),
    }
}

impl TenantScope {
    /// A client that is not deleted (active or disabled).
    pub(super) fn live_client(&self, id: ClientId) -> Result<&Client, DomainError> {
        self.clients
            .get(&id)
            .filter(|c| c.status != ClientStatus::Deleted)
            .ok_or_else(|| client_not_found(id))
    }

    /// An active client: what a change to the client (or to what it owns) needs.
    pub(super) fn active_client(&self, id: ClientId) -> Result<&Client, DomainError> {
        let client = self.live_client(id)?;
        match client.status {
            ClientStatus::Active => Ok(client),
            _ => Err(client_disabled(id)),
        }
    }

    /// Decides a client command.
    pub(super) fn decide_client(&self, command: &ClientCommand, _ctx: &Context) -> Decision {
        if let ClientCommand::RecordProvisioningFailure {
            id,
            tenant_id,
            reason,
        } = command
        {
            return self.decide_provisioning_failure(*id, *tenant_id, reason);
        }
        let tenant = self.active_tenant()?;
        match command {
            ClientCommand::Create {
                id,
                name,
                external_id,
                business_profile,
            } => {
                let fields =
                    validation::create_client(name, external_id, business_profile.as_ref())?;
                if self.clients.contains_key(id) {
                    return Err(DomainError::AlreadyExists {
                        resource: ResourceKind::Client,
                        field: "id",
                        value: id.to_string(),
                    });
                }
                self.check_external_id(fields.external_id.as_deref(), *id)?;
                if let Some(allowed) = tenant.plan.limits().max_clients {
                    let live = self
                        .clients
                        .values()
                        .filter(|c| c.status != ClientStatus::Deleted)
                        .count() as u64;
                    if live >= allowed {
                        return Err(DomainError::PlanLimitExceeded {
                            limit: "clients",
                            plan: tenant.plan,
                            allowed,
                        });
                    }
                }
                let ClientFields {
                    name,
                    external_id,
                    business_profile,
                } = fields;
                let business_profile = business_profile.flatten();
                let headquarters = headquarters_event(Some(*id), id.0, business_profile.as_ref());
                let mut events = vec![TenantScopeEvent::Client(ClientEvent::ClientCreated {
                    id: *id,
                    name: name.unwrap_or_default(),
                    external_id: external_id.unwrap_or_default(),
                    business_profile,
                })];
                events.extend(headquarters);
                Ok(events)
            }
            ClientCommand::Update {
                id,
                name,
                external_id,
                business_profile,
            } => self.decide_update_client(
                *id,
                validation::update_client(
                    name.as_deref(),
                    external_id.as_deref(),
                    business_profile.as_ref().map(Option::as_ref),
                )?,
            ),
            ClientCommand::Disable { id } => {
                let client = self.live_client(*id)?;
                if client.status == ClientStatus::Disabled {
                    return Ok(vec![]);
                }
                one(ClientEvent::ClientDisabled {
                    id: *id,
                    provisioned_tenant_id: client.provisioned_tenant_id,
                })
            }
            ClientCommand::Enable { id } => {
                let client = self.live_client(*id)?;
                if client.status == ClientStatus::Active {
                    return Ok(vec![]);
                }
                one(ClientEvent::ClientEnabled {
                    id: *id,
                    provisioned_tenant_id: client.provisioned_tenant_id,
                })
            }
            ClientCommand::Delete { id } => {
                let client = self.live_client(*id)?;
                let mut events = self.delete_records_of(*id);
                events.extend(self.users_leaving(*id));
                events.push(TenantScopeEvent::Client(ClientEvent::ClientDeleted {
                    id: *id,
                    provisioned_tenant_id: client.provisioned_tenant_id,
                }));
                Ok(events)
            }
            ClientCommand::ProvisionTenant { id, tenant } => {
                let tenant = validation::provisioned_tenant(tenant, self.tenant_id)?;
                let client = self.active_client(*id)?;
                if let Some(existing) = client.provisioned_tenant_id {
                    return Err(DomainError::InvalidState {
                        reason: "CLIENT_ALREADY_PROVISIONED",
                        message: format!("client {id} already has tenant {existing}"),
                    });
                }
                one(ClientEvent::ClientTenantProvisioned {
                    id: *id,
                    tenant,
                    name: client.name.clone(),
                    business_profile: client.business_profile.clone(),
                })
            }
            ClientCommand::RecordProvisioningFailure { .. } => Ok(vec![]),
        }
    }

    /// The saga's report that a provisioned tenant was not created: never gated (it must land
    /// whatever happened to the tenant or client since); a no-op unless the client still names
    /// that tenant.
    fn decide_provisioning_failure(
        &self,
        id: ClientId,
        tenant_id: TenantId,
        reason: &str,
    ) -> Decision {
        self.tenant().ok_or_else(|| DomainError::NotFound {
            resource: ResourceKind::Tenant,
            id: self.tenant_id.to_string(),
        })?;
        let names_it = self
            .clients
            .get(&id)
            .is_some_and(|c| c.provisioned_tenant_id == Some(tenant_id));
        if !names_it {
            return Ok(vec![]);
        }
        let reason = validation::provisioning_failure_reason(reason);
        one(ClientEvent::ClientTenantProvisioningFailed {
            id,
            tenant_id,
            reason,
        })
    }

    /// Update: an active client; only the fields that change are recorded (none: no event).
    fn decide_update_client(&self, id: ClientId, fields: ClientFields) -> Decision {
        let client = self.active_client(id)?;
        let name = fields.name.filter(|n| *n != client.name);
        let external_id = fields.external_id.filter(|e| *e != client.external_id);
        let business_profile = fields
            .business_profile
            .filter(|p| *p != client.business_profile);
        self.check_external_id(external_id.as_deref(), id)?;
        if name.is_none() && external_id.is_none() && business_profile.is_none() {
            return Ok(vec![]);
        }
        one(ClientEvent::ClientUpdated {
            id,
            name,
            external_id,
            business_profile,
        })
    }

    /// A non-empty external id must not belong to another live client (exact comparison).
    fn check_external_id(
        &self,
        external_id: Option<&str>,
        id: ClientId,
    ) -> Result<(), DomainError> {
        let Some(wanted) = external_id.filter(|e| !e.is_empty()) else {
            return Ok(());
        };
        let taken = self
            .clients
            .values()
            .any(|c| c.id != id && c.status != ClientStatus::Deleted && c.external_id == wanted);
        if taken {
            return Err(DomainError::AlreadyExists {
                resource: ResourceKind::Client,
                field: "external_id",
                value: wanted.to_owned(),
            });
        }
        Ok(())
    }
}

/// The profile a client keeps after an update (`Some(None)` clears it).
pub(super) fn updated_profile(
    current: &mut Option<BusinessProfile>,
    change: &Option<Option<BusinessProfile>>,
) {
    if let Some(profile) = change {
        current.clone_from(profile);
    }
}

impl TenantScope {
    /// The users of a client leaving it (what its deletion does to them).
    fn users_leaving(&self, client: ClientId) -> Vec<TenantScopeEvent> {
        self.users
            .values()
            .filter(|u| u.client_id == Some(client))
            .map(|u| {
                TenantScopeEvent::User(crate::domain::user::UserEvent::UserClientChanged {
                    id: u.id,
                    client_id: None,
                })
            })
            .collect()
    }
}
