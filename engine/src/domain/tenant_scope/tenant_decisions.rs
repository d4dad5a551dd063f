//! Decisions on the tenant itself: creation (which also starts the onboarding saga), updates,
//! plan changes, the lifecycle and the end of onboarding.
//!
//! Order of checks for an existing tenant: the status gate first (deleted, suspended,
//! deactivated), then input validation, then the command's own state rules.

use super::{TenantScope, TenantScopeEvent, directory_decisions::headquarters_event};
use crate::domain::{
    api_key::{ApiKeyEvent, KeyScopes},
    context::Context,
    directory::{
        DEFAULT_PARTITION_NAME, Partition, RecordEvent, RecordFields, default_partition_id,
    },
    error::{DomainError, ResourceKind},
    ids::TenantId,
    tenant::{
        BootstrapKey, Tenant, TenantCommand, TenantEvent, TenantKind, TenantStatus, UpdateTenant,
    },
    validation,
};

type Decision = Result<Vec<TenantScopeEvent>, DomainError>;

/// Which commands a tenant in `status` accepts (`Ok(())`), or the refusal. ExpireGracePeriod
/// is the engine's own timer and is never refused by a gate: it is a no-op wherever it does
/// not apply.
fn gate(status: TenantStatus, command: &TenantCommand) -> Result<(), DomainError> {
    use TenantCommand as C;
    match (status, command) {
        (_, C::ExpireGracePeriod) | (TenantStatus::Deleted, C::Erase) => Ok(()),
        (_, C::Erase) => Err(DomainError::InvalidState {
            reason: "TENANT_NOT_DELETED",
            message: "only a deleted tenant can be erased; delete it first".into(),
        }),
        (TenantStatus::Active, _) => Ok(()),
        (TenantStatus::Deleted, _) => Err(DomainError::TenantDeleted),
        (TenantStatus::Suspended, C::Reactivate | C::Delete | C::Deactivate { .. }) => Ok(()),
        (TenantStatus::Suspended, _) => Err(DomainError::TenantSuspended),
        (TenantStatus::Deactivated, C::Reactivate | C::Delete) => Ok(()),
        (TenantStatus::Deactivated, _) => Err(DomainError::TenantDeactivated),
    }
}

fn one(event: TenantEvent) -> Decision {
    Ok(vec![TenantScopeEvent::Tenant(event)])
}

impl TenantScope {
    /// Decides a tenant command.
    pub(super) fn decide_tenant(&self, command: &TenantCommand, ctx: &Context) -> Decision {
        let Some(tenant) = &self.tenant else {
            return match command {
                TenantCommand::Create(create) => {
                    let c = validation::create_tenant(create, self.tenant_id)?;
                    let headquarters = (c.kind == TenantKind::Business)
                        .then(|| headquarters_event(None, c.id.0, c.business_profile.as_ref()))
                        .flatten();
                    let mut events = vec![
                        TenantScopeEvent::Tenant(TenantEvent::TenantCreated {
                            id: c.id,
                            name: c.name,
                            slug: c.slug,
                            kind: c.kind,
                            plan: c.plan,
                            settings: c.settings,
                            products: c.products,
                            business_profile: c.business_profile,
                            parent: c.parent,
                        }),
                        TenantScopeEvent::Tenant(TenantEvent::OnboardingStarted {
                            plan: c.onboarding,
                        }),
                    ];
                    events.extend(headquarters);
                    if let Some(key) = &c.bootstrap_key {
                        events.extend(bootstrap_key_events(c.id, key));
                    }
                    Ok(events)
                }
                _ => Err(DomainError::NotFound {
                    resource: ResourceKind::Tenant,
                    id: self.tenant_id.to_string(),
                }),
            };
        };
        gate(tenant.status, command)?;
        match command {
            TenantCommand::Create(_) => Err(DomainError::AlreadyExists {
                resource: ResourceKind::Tenant,
                field: "id",
                value: tenant.id.to_string(),
            }),
            TenantCommand::Update(update) => decide_update(tenant, update),
            TenantCommand::ChangePlan { plan } if *plan == tenant.plan => Ok(vec![]),
            TenantCommand::ChangePlan { plan } => one(TenantEvent::TenantPlanChanged {
                from: tenant.plan,
                to: *plan,
            }),
            TenantCommand::Suspend { reason } => {
                let reason = validation::suspend_reason(reason)?;
                one(TenantEvent::TenantSuspended { reason })
            }
            TenantCommand::Reactivate => decide_reactivate(tenant, ctx),
            TenantCommand::Deactivate {
                grace_period_ends_at,
                feedback,
            } => {
                validation::deactivation(*grace_period_ends_at, feedback, ctx.now)?;
                one(TenantEvent::TenantDeactivated {
                    grace_period_ends_at: *grace_period_ends_at,
                    feedback: feedback.clone(),
                })
            }
            TenantCommand::Delete => Ok(self.deletion(tenant, false)),
            TenantCommand::ExpireGracePeriod => Ok(self.grace_period_expiry(tenant, ctx)),
            TenantCommand::Erase if tenant.erased_at.is_some() => Ok(vec![]),
            TenantCommand::Erase => one(TenantEvent::TenantErased),
            TenantCommand::CompleteOnboarding => match &tenant.onboarding {
                Some(onboarding) if !onboarding.completed => one(TenantEvent::OnboardingCompleted),
                _ => Ok(vec![]),
            },
        }
    }
}

fn decide_reactivate(tenant: &Tenant, ctx: &Context) -> Decision {
    match tenant.status {
        TenantStatus::Active => Err(DomainError::InvalidState {
            reason: "TENANT_ALREADY_ACTIVE",
            message: format!("tenant {} is already active", tenant.id),
        }),
        TenantStatus::Deactivated => match tenant.grace_period_ends_at {
            Some(end) if ctx.now >= end => Err(DomainError::InvalidState {
                reason: "GRACE_PERIOD_ENDED",
                message: format!("the grace period of tenant {} ended at {end}", tenant.id),
            }),
            _ => one(TenantEvent::TenantReactivated),
        },
        TenantStatus::Suspended => one(TenantEvent::TenantReactivated),
        // Unreachable behind the gate; refusing keeps `deleted` final regardless.
        TenantStatus::Deleted => Err(DomainError::TenantDeleted),
    }
}

impl TenantScope {
    /// Deletes a deactivated tenant whose grace period has ended; nothing otherwise.
    fn grace_period_expiry(&self, tenant: &Tenant, ctx: &Context) -> Vec<TenantScopeEvent> {
        let ended = tenant
            .grace_period_ends_at
            .is_some_and(|end| ctx.now >= end);
        if tenant.status == TenantStatus::Deactivated && ended {
            self.deletion(tenant, true)
        } else {
            vec![]
        }
    }

    /// The tenant's deletion: its registration domains and host released first (another
    /// tenant may claim them), then TenantDeleted.
    fn deletion(&self, tenant: &Tenant, grace_period_expired: bool) -> Vec<TenantScopeEvent> {
        let mut events = self.registration_release(tenant);
        events.push(TenantScopeEvent::Tenant(TenantEvent::TenantDeleted {
            grace_period_expired,
        }));
        events
    }
}

/// Validates, then keeps only the fields that actually change.
fn decide_update(tenant: &Tenant, update: &UpdateTenant) -> Decision {
    let u = validation::update_tenant(update)?;
    let name = u.name.filter(|n| *n != tenant.name);
    let settings = u.settings.filter(|s| *s != tenant.settings);
    let products = u.products.filter(|p| *p != tenant.products);
    let business_profile = u.business_profile.filter(|p| *p != tenant.business_profile);
    if name.is_none() && settings.is_none() && products.is_none() && business_profile.is_none() {
        return Ok(vec![]);
    }
    one(TenantEvent::TenantUpdated {
        name,
        settings,
        products,
        business_profile,
    })
}

/// A bootstrap key's events: the tenant's `default` partition and an admin key on it, in the
/// tenant's first append (so no tenant asked for one exists without it).
fn bootstrap_key_events(tenant: TenantId, key: &BootstrapKey) -> [TenantScopeEvent; 2] {
    let partition_id = default_partition_id(tenant);
    [
        TenantScopeEvent::Record(RecordEvent::RecordCreated {
            id: partition_id,
            client_id: None,
            fields: RecordFields::Partition(Partition {
                name: DEFAULT_PARTITION_NAME.to_owned(),
                ..Partition::default()
            }),
        }),
        TenantScopeEvent::ApiKey(ApiKeyEvent::ApiKeyCreated {
            id: key.id,
            partition_id,
            client_id: None,
            name: "bootstrap".to_owned(),
            scopes: KeyScopes::Admin,
            foreign_key: String::new(),
            secret_hash: key.secret.hash,
            hint: key.secret.hint.clone(),
            expires_at: None,
            rotated_from: None,
        }),
    ]
}
