//! ListEffectivePermissions: every pattern a user holds, where it applies, and from which
//! assignment.

use super::support::*;
use crate::domain::{
    DomainError, EffectivePermission, ResourceKind, Scope, TenantScope, UserEvent,
};

fn scope_with(assignments: &[(&str, Scope)]) -> TenantScope {
    let mut events = world_and(cat([
        role_defined(role(1), "invoice-approver", &["invoice:approve"]),
        active_user(1),
    ]));
    events.extend(assignments.iter().map(|(r, s)| assigned(1, r, *s)));
    given(events).scope
}

/// `(permission, role, scope)` of each line.
fn lines(list: &[EffectivePermission]) -> Vec<(String, String, Scope)> {
    list.iter()
        .map(|e| {
            (
                e.permission.to_string(),
                e.granted_by.role.clone(),
                e.granted_by.scope,
            )
        })
        .collect()
}

fn line(p: &str, r: &str, s: Scope) -> (String, String, Scope) {
    (p.into(), r.into(), s)
}

#[test]
fn lists_what_applies_at_a_scope_sorted() {
    let scope = scope_with(&[
        ("team-member", Scope::Team(team(1))),
        ("viewer", Scope::Organization(org(2))),
        ("invoice-approver", Scope::Organization(org(5))),
        ("viewer", Scope::Tenant),
    ]);
    let at_team = scope
        .effective_permissions(user(1), Some(Scope::Team(team(1))))
        .expect("listed");
    assert_eq!(
        lines(&at_team),
        vec![
            line("analytics:view", "viewer", Scope::Tenant),
            line("analytics:view", "viewer", Scope::Organization(org(2))),
            line("team:read", "team-member", Scope::Team(team(1))),
        ]
    );
    let at_tenant = scope
        .effective_permissions(user(1), Some(Scope::Tenant))
        .expect("listed");
    assert_eq!(
        lines(&at_tenant),
        vec![line("analytics:view", "viewer", Scope::Tenant)]
    );
    let everywhere = scope.effective_permissions(user(1), None).expect("listed");
    assert_eq!(
        lines(&everywhere),
        vec![
            line("analytics:view", "viewer", Scope::Tenant),
            line("analytics:view", "viewer", Scope::Organization(org(2))),
            line(
                "invoice:approve",
                "invoice-approver",
                Scope::Organization(org(5))
            ),
            line("team:read", "team-member", Scope::Team(team(1))),
        ]
    );
}

#[test]
fn carries_the_roles_exceptions() {
    let scope = scope_with(&[("tenant-admin", Scope::Tenant)]);
    let listed = scope.effective_permissions(user(1), None).expect("listed");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].permission, perm("*"));
    assert_eq!(listed[0].except, perms(&["billing:*", "tenant:delete"]));
}

#[test]
fn users_that_are_not_active_hold_nothing() {
    let mut events = world_and(cat([
        active_user(1),
        vec![assigned(1, "tenant-owner", Scope::Tenant)],
    ]));
    events.push(ue(UserEvent::UserDeactivated { id: user(1) }));
    let scope = given(events).scope;
    assert_eq!(scope.effective_permissions(user(1), None), Ok(vec![]));
    assert_eq!(
        scope.effective_permissions(user(1), Some(Scope::Tenant)),
        Ok(vec![])
    );
}

#[test]
fn unknown_users_and_scopes_are_not_found() {
    let scope = scope_with(&[]);
    assert_eq!(
        scope.effective_permissions(user(9), None),
        Err(DomainError::NotFound {
            resource: ResourceKind::User,
            id: user(9).to_string(),
        })
    );
    assert_eq!(
        scope.effective_permissions(user(1), Some(Scope::Organization(org(99)))),
        Err(DomainError::NotFound {
            resource: ResourceKind::Organization,
            id: org(99).to_string(),
        })
    );
}
