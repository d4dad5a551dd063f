//! Cross-tenant sagas as pure functions (SPEC §7): the commands an event of one tenant implies
//! for another tenant, and what a refusal of such a command means.
//!
//! A client's provisioned tenant follows the client: provisioning creates it (linked to its
//! parent tenant and client), disabling the client suspends it, enabling reactivates it,
//! deleting deletes it. No tenant's actor calls another's: the runtime records each step in
//! the saga outbox with the event that caused it, and the node that serves the target tenant
//! executes it (`projections::saga`). Each step's request id is derived from its cause, so a
//! redelivered step is a replay, never a second effect.

use super::{
    client::{ClientCommand, ClientEvent},
    error::DomainError,
    ids::{ClientId, TenantId},
    tenant::{CreateTenant, TenantCommand, TenantKind, TenantParent, TenantSettings},
    tenant_scope::{TenantScopeCommand, TenantScopeEvent},
};

/// One command a saga sends to a tenant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SagaStep {
    /// The tenant that must run it.
    pub target: TenantId,
    /// The command.
    pub command: TenantScopeCommand,
}

/// What a step's refusal by its target means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refused {
    /// The target is already where the step would bring it (or past it): the step is done.
    Done,
    /// The step cannot happen: tell the source tenant with this step, then it is done.
    Compensate(Box<SagaStep>),
}

/// Reason recorded on a tenant suspended because its client was disabled.
pub const CLIENT_DISABLED_REASON: &str = "its client was disabled by the parent tenant";

/// The steps an event of tenant `source` implies, in order (none for most events).
pub fn steps_for(source: TenantId, event: &TenantScopeEvent) -> Vec<SagaStep> {
    let TenantScopeEvent::Client(event) = event else {
        return Vec::new();
    };
    let step = |target: TenantId, command: TenantCommand| SagaStep {
        target,
        command: TenantScopeCommand::Tenant(command),
    };
    match event {
        ClientEvent::ClientTenantProvisioned {
            id,
            tenant,
            name,
            business_profile,
        } => vec![step(
            tenant.tenant_id,
            TenantCommand::Create(CreateTenant {
                id: tenant.tenant_id,
                name: name.clone(),
                slug: tenant.slug.clone(),
                kind: TenantKind::Business,
                plan: tenant.plan,
                settings: TenantSettings::default(),
                products: Vec::new(),
                business_profile: business_profile.clone(),
                onboarding: tenant.onboarding.clone(),
                bootstrap_key: None,
                parent: Some(TenantParent {
                    tenant_id: source,
                    client_id: *id,
                }),
            }),
        )],
        ClientEvent::ClientDisabled {
            provisioned_tenant_id: Some(target),
            ..
        } => vec![step(
            *target,
            TenantCommand::Suspend {
                reason: CLIENT_DISABLED_REASON.to_owned(),
            },
        )],
        ClientEvent::ClientEnabled {
            provisioned_tenant_id: Some(target),
            ..
        } => vec![step(*target, TenantCommand::Reactivate)],
        ClientEvent::ClientDeleted {
            provisioned_tenant_id: Some(target),
            ..
        } => vec![step(*target, TenantCommand::Delete)],
        _ => Vec::new(),
    }
}

/// What the refusal `error` of `step` (implied by an event of client `client` of tenant
/// `source`) means.
pub fn on_refused(
    source: TenantId,
    client: ClientId,
    step: &SagaStep,
    error: &DomainError,
) -> Refused {
    match &step.command {
        TenantScopeCommand::Tenant(TenantCommand::Create(create))
            if !matches!(error, DomainError::AlreadyExists { field: "id", .. }) =>
        {
            Refused::Compensate(Box::new(SagaStep {
                target: source,
                command: TenantScopeCommand::Client(ClientCommand::RecordProvisioningFailure {
                    id: client,
                    tenant_id: create.id,
                    reason: error.to_string(),
                }),
            }))
        }
        // Suspending a suspended (or deleted) tenant, reactivating an active one, deleting a
        // deleted one, or a second creation: already there.
        _ => Refused::Done,
    }
}
