//! Projection `role_assignments`: one row per (user, role, scope) held. A tenant-scope
//! assignment is stored with `scope_kind = 'tenant'` and `scope_id` = the tenant's id.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use engine::domain::{Scope, StreamKind, TenantScopeEvent, UserEvent};
use uuid::Uuid;

use super::names;
use crate::{
    Envelope, Projection, Result,
    store::{Tx, on_tx},
};

/// One row of `role_assignments`.
#[derive(Clone, Debug)]
pub(crate) struct AssignmentRecord {
    pub tenant_id: Uuid,
    pub user_id: Uuid,
    pub role: String,
    pub scope_kind: &'static str,
    pub scope_id: Uuid,
    pub assigned_at: DateTime<Utc>,
}

/// The stored `(scope_kind, scope_id)` of a scope.
pub(crate) fn scope_key(tenant_id: Uuid, scope: Scope) -> (&'static str, Uuid) {
    match scope {
        Scope::Tenant => ("tenant", tenant_id),
        Scope::Organization(o) => ("organization", o.0),
        Scope::Team(t) => ("team", t.0),
    }
}

/// Keeps `role_assignments` (RoleAssigned and RoleRevoked of user streams).
#[derive(Clone, Copy, Debug, Default)]
pub struct RoleAssignmentsProjection;

#[async_trait]
impl Projection for RoleAssignmentsProjection {
    fn name(&self) -> &str {
        names::ROLE_ASSIGNMENTS
    }

    fn wants(&self, kind: StreamKind) -> bool {
        kind == StreamKind::User
    }

    async fn apply(&self, tx: &mut Tx<'_>, events: &[Envelope]) -> Result<()> {
        for envelope in events {
            let (assigned, user, assignment) = match &envelope.event {
                TenantScopeEvent::User(UserEvent::RoleAssigned { id, assignment }) => {
                    (true, id, assignment)
                }
                TenantScopeEvent::User(UserEvent::RoleRevoked { id, assignment }) => {
                    (false, id, assignment)
                }
                _ => continue,
            };
            let r = &envelope.recorded;
            let (scope_kind, scope_id) = scope_key(r.tenant_id.0, assignment.scope);
            let record = AssignmentRecord {
                tenant_id: r.tenant_id.0,
                user_id: user.0,
                role: assignment.role.clone(),
                scope_kind,
                scope_id,
                assigned_at: r.recorded_at,
            };
            if assigned {
                on_tx!(tx, add_role_assignment(&record))?;
            } else {
                on_tx!(tx, remove_role_assignment(&record))?;
            }
        }
        Ok(())
    }

    async fn reset(&self, tx: &mut Tx<'_>) -> Result<()> {
        on_tx!(tx, reset_role_assignments())
    }
}
