//! Carries out a tenant's onboarding saga (SPEC §2): after CreateTenant has recorded
//! `OnboardingStarted`, create the default organization, invite the owner with `tenant-owner`,
//! then record `OnboardingCompleted`. Each step is its own append, decided by the domain from
//! the state ([`TenantScope::next_onboarding_step`]), so a crash between steps is resumed by
//! the next incarnation exactly where it stopped, and no step can run twice.

use std::sync::Arc;

use tracing::{info, warn};

use super::{
    deps::Deps,
    entity::{Failure, Live, commit},
};
use crate::{
    domain::{
        Assignment, BuiltinRole, DEFAULT_INVITATION_DAYS, DEFAULT_ORGANIZATION_NAME,
        OnboardingStep, OrganizationCommand, Scope, TenantCommand, TenantId, TenantScopeCommand,
        UserCommand,
    },
    journal::{AuditActor, EventMetadata},
    secrets::issue_invitation_token,
};

/// What [`drive`] did.
#[derive(Default)]
pub(super) struct Progress {
    /// The owner's invitation token, if this call issued it.
    pub invitation_token: Option<String>,
    /// Why the actor must restart, if a step's outcome is unknown.
    pub fault: Option<String>,
}

/// Runs every remaining step. A step refused by a domain rule (the tenant was suspended
/// meanwhile, say) stops the saga until a later command.
///
/// `cause` is the metadata of the request that started the saga when it runs within that
/// request: the steps then carry its request id (so a retry of CreateTenant is answered with
/// the state after onboarding, also after a restart) and its caller. Resumed after a crash,
/// the steps are the engine's own.
pub(super) async fn drive(
    live: &mut Live,
    tenant_id: TenantId,
    deps: &Arc<Deps>,
    cause: Option<&EventMetadata>,
) -> Progress {
    let mut progress = Progress::default();
    while let Some(step) = live.scope.next_onboarding_step() {
        let (command, token) = command_for(&step);
        let metadata = match cause {
            Some(cause) => EventMetadata {
                causation_id: Some("onboarding".into()),
                ..cause.clone()
            },
            None => EventMetadata {
                actor: AuditActor {
                    subject: "entity-engine".into(),
                    credential_kind: "engine".into(),
                    ..AuditActor::default()
                },
                correlation_id: Some(format!("onboarding/{tenant_id}")),
                causation_id: Some("onboarding".into()),
                ..EventMetadata::default()
            },
        };
        match commit(live, tenant_id, deps, &command, metadata).await {
            Ok(_) => {
                if token.is_some() {
                    progress.invitation_token = token;
                }
                if step == OnboardingStep::Complete {
                    info!(tenant = %tenant_id, "onboarding completed");
                }
            }
            Err(Failure::Refused(e)) => {
                warn!(tenant = %tenant_id, error = %e, ?step, "onboarding step refused; it is retried with the next command");
                break;
            }
            Err(Failure::Fault(_, reason)) => {
                progress.fault = Some(reason);
                break;
            }
        }
    }
    progress
}

/// The command of a step, and the invitation token it issues (shown once, stored as a hash).
fn command_for(step: &OnboardingStep) -> (TenantScopeCommand, Option<String>) {
    match step {
        OnboardingStep::CreateDefaultOrganization { id } => (
            TenantScopeCommand::Organization(OrganizationCommand::Create {
                id: *id,
                name: DEFAULT_ORGANIZATION_NAME.to_owned(),
                description: String::new(),
                parent_id: None,
            }),
            None,
        ),
        OnboardingStep::InviteOwner {
            user_id,
            email,
            organization_id,
            token_hash,
        } => {
            let (hash, plaintext) = match token_hash {
                Some(hash) => (*hash, None),
                None => {
                    let token = issue_invitation_token(*user_id);
                    (token.hash, Some(token.plaintext))
                }
            };
            let command = TenantScopeCommand::User(UserCommand::Invite {
                id: *user_id,
                email: email.clone(),
                display_name: String::new(),
                roles: vec![Assignment {
                    role: BuiltinRole::TenantOwner.name().to_owned(),
                    scope: Scope::Tenant,
                }],
                organization_id: Some(*organization_id),
                expires_in_days: DEFAULT_INVITATION_DAYS,
                token_hash: hash,
            });
            (command, plaintext)
        }
        OnboardingStep::Complete => (
            TenantScopeCommand::Tenant(TenantCommand::CompleteOnboarding),
            None,
        ),
    }
}
