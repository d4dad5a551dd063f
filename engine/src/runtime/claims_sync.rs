//! Drives a tenant-wide claims re-synchronisation (after a change of the tenant's products or
//! session expiration): one batch of ClaimsChanged events per message the actor sends itself,
//! so the tenant's other commands are decided between batches. Where it stands is part of the
//! state (each batch's events move it), so a crash resumes it at the next activation.

use std::sync::Arc;

use tracing::{debug, warn};

use super::{
    deps::Deps,
    entity::{Failure, Live, commit},
};
use crate::{
    domain::{RegistrationCommand, TenantId, TenantScopeCommand},
    journal::{AuditActor, EventMetadata},
};

/// What one step did.
pub(super) enum Step {
    /// A batch was written (or nothing was left); `true` if more remain.
    Done(bool),
    /// The append's outcome is unknown: the actor must restart from the journal.
    Fault(String),
}

/// Writes the next batch, if a re-synchronisation is under way.
pub(super) async fn step(live: &mut Live, tenant_id: TenantId, deps: &Arc<Deps>) -> Step {
    if !live.scope.claims_sync_pending() {
        return Step::Done(false);
    }
    let metadata = EventMetadata {
        actor: AuditActor {
            subject: "entity-engine".into(),
            credential_kind: "engine".into(),
            ..AuditActor::default()
        },
        correlation_id: Some(format!("claims-sync/{tenant_id}")),
        causation_id: Some("claims-sync".into()),
        ..EventMetadata::default()
    };
    let command = TenantScopeCommand::Registration(RegistrationCommand::SyncClaims);
    match commit(live, tenant_id, deps, &command, metadata).await {
        Ok(_) => {
            let more = live.scope.claims_sync_pending();
            if !more {
                debug!(tenant = %tenant_id, "claims re-synchronisation complete");
            }
            Step::Done(more)
        }
        // A suspended tenant, say: it resumes with the tenant's next command.
        Err(Failure::Refused(e)) => {
            warn!(tenant = %tenant_id, error = %e, "claims re-synchronisation refused; resumed with the next command");
            Step::Done(false)
        }
        Err(Failure::Fault(_, reason)) => Step::Fault(reason),
    }
}
