//! Projection `role_assignments`: one row per (user, role, scope) held. A tenant-scope
//! assignment is stored with `scope_kind = 'tenant'` and `scope_id` = the tenant's id.
//! A batch is folded per assignment, then written in bulk (see `users`).

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use engine::domain::{Scope, StreamKind, TenantScopeEvent, UserEvent};
use uuid::Uuid;

use super::names;
use crate::{
    Envelope, Projection, Result,
    sql::{Arg, Statement, delete_rows, insert_rows},
    store::Tx,
};

/// `(scope_kind, scope_id)` of an assignment's scope.
pub(crate) fn scope_key(tenant_id: Uuid, scope: Scope) -> (&'static str, Uuid) {
    match scope {
        Scope::Tenant => ("tenant", tenant_id),
        Scope::Organization(o) => ("organization", o.0),
        Scope::Team(t) => ("team", t.0),
    }
}

/// An assignment: tenant, user, role, scope kind, scope id.
type Key = (Uuid, Uuid, String, &'static str, Uuid);

/// What a batch does to one assignment, the events folded in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Net {
    /// Assigned (a row already there stays as it is: the domain holds a set).
    Assign(DateTime<Utc>),
    /// Revoked, then assigned again: the row is the new assignment.
    Replace(DateTime<Utc>),
    /// Revoked.
    Revoke,
}

impl Net {
    fn then_assign(self, at: DateTime<Utc>) -> Net {
        match self {
            Net::Assign(_) | Net::Replace(_) => self,
            Net::Revoke => Net::Replace(at),
        }
    }
}

const ASSIGNMENTS_INSERT: &str =
    "role_assignments (tenant_id, user_id, role, scope_kind, scope_id, assigned_at)";
const ASSIGNMENTS_KEY: &str = "tenant_id, user_id, role, scope_kind, scope_id";
const KEEP: &str = "ON CONFLICT (tenant_id, user_id, role, scope_kind, scope_id) DO NOTHING";
const REPLACE: &str = "ON CONFLICT (tenant_id, user_id, role, scope_kind, scope_id) \
     DO UPDATE SET assigned_at = excluded.assigned_at";

/// Keeps `role_assignments` (user-stream events only).
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
        let mut net: BTreeMap<Key, Net> = BTreeMap::new();
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
            let tenant_id = r.tenant_id.0;
            let (scope_kind, scope_id) = scope_key(tenant_id, assignment.scope);
            let key = (
                tenant_id,
                user.0,
                assignment.role.clone(),
                scope_kind,
                scope_id,
            );
            let before = net.get(&key).copied();
            let after = match (assigned, before) {
                (true, None) => Net::Assign(r.recorded_at),
                (true, Some(before)) => before.then_assign(r.recorded_at),
                (false, _) => Net::Revoke,
            };
            net.insert(key, after);
        }
        let mut kept = Vec::new();
        let mut replaced = Vec::new();
        let mut revoked = Vec::new();
        for ((tenant, user, role, kind, scope), change) in net {
            let key = vec![
                Arg::from(tenant),
                user.into(),
                role.into(),
                kind.into(),
                scope.into(),
            ];
            match change {
                Net::Assign(at) => kept.push([key, vec![at.into()]].concat()),
                Net::Replace(at) => replaced.push([key, vec![at.into()]].concat()),
                Net::Revoke => revoked.push(key),
            }
        }
        tx.run_all(&delete_rows("role_assignments", ASSIGNMENTS_KEY, revoked))
            .await?;
        tx.run_all(&insert_rows(ASSIGNMENTS_INSERT, KEEP, kept))
            .await?;
        tx.run_all(&insert_rows(ASSIGNMENTS_INSERT, REPLACE, replaced))
            .await?;
        Ok(())
    }

    async fn reset(&self, tx: &mut Tx<'_>) -> Result<()> {
        tx.run(&Statement::new("DELETE FROM role_assignments", vec![]))
            .await?;
        Ok(())
    }
}
