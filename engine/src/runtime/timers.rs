//! The node's timer poller: turns due journal timers of the tenants this node holds into
//! engine commands (a deactivated tenant is deleted when its grace period ends).

use std::time::Duration;

use tokio::task::JoinHandle;
use tracing::{debug, warn};

use super::{Engine, RequestMeta};
use crate::{
    domain::{
        GRACE_PERIOD_TIMER, INVITATION_TIMER_PREFIX, TenantCommand, TenantScopeCommand,
        UserCommand, UserId,
    },
    journal::AuditActor,
};

/// How many due timers one poll handles.
const BATCH: i64 = 100;

/// Starts polling every `interval`; abort the handle to stop.
pub(crate) fn spawn_timer_poller(engine: Engine, interval: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            fire_due(&engine).await;
        }
    })
}

/// The command a timer of this kind issues.
fn command_for(kind: &str) -> Option<TenantScopeCommand> {
    if kind == GRACE_PERIOD_TIMER {
        return Some(TenantScopeCommand::Tenant(TenantCommand::ExpireGracePeriod));
    }
    let user = kind
        .strip_prefix(INVITATION_TIMER_PREFIX)?
        .parse::<UserId>()
        .ok()?;
    Some(TenantScopeCommand::User(UserCommand::ExpireInvitation {
        id: user,
    }))
}

/// Fires every timer due now; returns how many were handled.
pub(crate) async fn fire_due(engine: &Engine) -> usize {
    let now = engine.deps.clock.now();
    let due = match engine.deps.journal.due_timers(now, BATCH).await {
        Ok(due) => due,
        Err(e) => {
            warn!(error = %e, "cannot read due timers");
            return 0;
        }
    };
    let mut handled = 0;
    // Each node fires the timers of the tenants it holds: the engine could reach the others
    // over the mesh, but then every node would send every timer to its owner.
    for timer in due.into_iter().filter(|t| engine.serves(t.tenant_id)) {
        let Some(command) = command_for(&timer.kind) else {
            warn!(kind = %timer.kind, tenant = %timer.tenant_id, "unknown timer kind");
            continue;
        };
        let meta = RequestMeta {
            actor: AuditActor {
                subject: "entity-engine".into(),
                credential_kind: "engine".into(),
                ..AuditActor::default()
            },
            ..RequestMeta::default()
        };
        match engine.execute(timer.tenant_id, command, meta).await {
            Ok(_) => {
                handled += 1;
                debug!(tenant = %timer.tenant_id, kind = %timer.kind, "timer fired");
            }
            Err(e) => warn!(tenant = %timer.tenant_id, error = %e, "timer command failed"),
        }
    }
    handled
}
