//! CheckPermission: which assignments apply where, which one is named, and who is denied.
//!
//! ```text
//! A(1) ─┬─ B(2) ── C(3)        team(1) "Red", team(2) "Blue" in B
//!       └─ D(4)                team(3) "Green" in D
//! E(5)                         team(4) "Gray" in A, team(5) "Pink" in E
//! ```

use super::support::*;
use crate::domain::{
    Assignment, Decision, DomainError, OrganizationCommand, ResourceKind, RoleEvent, Scope,
    TenantScope, TenantScopeEvent, UserEvent,
};

const T: Scope = Scope::Tenant;

fn o(n: u128) -> Scope {
    Scope::Organization(org(n))
}

fn t(n: u128) -> Scope {
    Scope::Team(team(n))
}

/// The world with user(1) active and holding `assignments`, plus `more` events.
fn holding(assignments: &[(&str, Scope)], more: Vec<TenantScopeEvent>) -> TenantScope {
    let mut events = world_and(cat([
        role_defined(
            role(1),
            "invoice-approver",
            &["invoice:approve", "invoice:read"],
        ),
        role_defined(role(2), "billing-clerk", &["billing:*"]),
        active_user(1),
    ]));
    events.extend(assignments.iter().map(|(r, s)| assigned(1, r, *s)));
    events.extend(more);
    given(events).scope
}

fn check(scope: &TenantScope, permission: &str, at: Scope) -> Decision {
    scope
        .check_permission(user(1), &perm(permission), at)
        .unwrap_or_else(|e| panic!("{permission} at {at:?}: {e}"))
}

/// One row: permission, check scope, and the granting `(role, scope)` or `None` for denied.
type Row<'a> = (&'a str, Scope, Option<(&'a str, Scope)>);

/// Asserts `expected` (the granting assignment, or `None` for denied) for every case.
fn table(scope: &TenantScope, cases: &[Row<'_>]) {
    for (permission, at, expected) in cases {
        let d = check(scope, permission, *at);
        let expected: Option<Assignment> = expected.map(|(r, s)| assignment(r, s));
        assert_eq!(
            (d.allowed, &d.granted_by),
            (expected.is_some(), &expected),
            "{permission} at {at:?}"
        );
        let reason = if expected.is_some() {
            None
        } else {
            Some("NO_MATCHING_ASSIGNMENT")
        };
        assert_eq!(d.denial_reason, reason, "{permission} at {at:?}");
    }
}

#[test]
fn tenant_scope_applies_everywhere() {
    let scope = holding(&[("tenant-admin", T)], vec![]);
    let admin = Some(("tenant-admin", T));
    table(
        &scope,
        &[
            ("organization:create", T, admin),
            ("organization:create", o(3), admin),
            ("team:delete", t(5), admin),
            ("invoice:approve", o(1), admin),
            ("billing:manage", T, None),
            ("billing:manage", t(1), None),
            ("tenant:delete", T, None),
        ],
    );
}

#[test]
fn the_tenant_owner_may_do_anything() {
    let scope = holding(&[("tenant-owner", T)], vec![]);
    let owner = Some(("tenant-owner", T));
    table(
        &scope,
        &[
            ("billing:manage", T, owner),
            ("tenant:delete", T, owner),
            ("invoice:approve", t(3), owner),
        ],
    );
}

#[test]
fn an_organization_scope_reaches_down_its_subtree_and_into_its_teams_only() {
    let scope = holding(&[("org-admin", o(1))], vec![]);
    let admin = Some(("org-admin", o(1)));
    table(
        &scope,
        &[
            ("team:create", o(1), admin),
            ("team:create", o(2), admin),
            ("team:create", o(3), admin),
            ("team:create", o(4), admin),
            ("team:manage", t(1), admin),
            ("team:manage", t(3), admin),
            ("team:manage", t(4), admin),
            // Not outside the subtree, and never upwards to the tenant.
            ("team:create", o(5), None),
            ("team:manage", t(5), None),
            ("team:create", T, None),
            // Not what the role does not grant.
            ("billing:manage", o(1), None),
            ("tenant:delete", o(1), None),
        ],
    );
}

#[test]
fn there_is_no_upward_or_sideways_inheritance() {
    let scope = holding(&[("org-admin", o(2))], vec![]);
    let admin = Some(("org-admin", o(2)));
    table(
        &scope,
        &[
            ("organization:update", o(2), admin),
            ("organization:update", o(3), admin),
            ("team:read", t(2), admin),
            ("organization:update", o(1), None),
            ("organization:update", o(4), None),
            ("team:read", t(3), None),
            ("team:read", t(4), None),
        ],
    );
}

#[test]
fn a_team_scope_does_not_leak_to_sibling_teams_or_its_organization() {
    let scope = holding(&[("team-member", t(1))], vec![]);
    table(
        &scope,
        &[
            ("team:read", t(1), Some(("team-member", t(1)))),
            ("team:read", t(2), None),
            ("team:read", o(2), None),
            ("team:read", o(3), None),
            ("team:read", T, None),
            ("team:update", t(1), None),
        ],
    );
}

#[test]
fn the_granting_assignment_is_tenant_first_then_the_nearest_organization_then_the_team() {
    let all = [
        ("viewer", t(1)),
        ("org-admin", o(1)),
        ("org-admin", o(2)),
        ("member", T),
    ];
    let scope = holding(&all, vec![]);
    table(&scope, &[("analytics:view", t(1), Some(("member", T)))]);
    let scope = holding(&all[..3], vec![]);
    table(
        &scope,
        &[
            ("analytics:view", t(1), Some(("org-admin", o(2)))),
            ("analytics:view", o(3), Some(("org-admin", o(2)))),
            ("analytics:view", t(4), Some(("org-admin", o(1)))),
        ],
    );
    let scope = holding(&all[..1], vec![]);
    table(&scope, &[("analytics:view", t(1), Some(("viewer", t(1))))]);
}

#[test]
fn ties_at_one_scope_go_to_the_first_role_by_name() {
    let scope = holding(
        &[("viewer", o(2)), ("org-admin", o(2)), ("member", o(2))],
        vec![],
    );
    table(
        &scope,
        &[
            ("analytics:view", o(3), Some(("member", o(2)))),
            ("team:create", o(3), Some(("org-admin", o(2)))),
        ],
    );
}

#[test]
fn custom_permissions_come_from_custom_roles_and_the_owner() {
    let scope = holding(&[("invoice-approver", o(1))], vec![]);
    table(
        &scope,
        &[
            ("invoice:approve", t(1), Some(("invoice-approver", o(1)))),
            ("invoice:approve", o(5), None),
            ("invoice:delete", o(1), None),
        ],
    );
    let scope = holding(&[("billing-clerk", T)], vec![]);
    table(
        &scope,
        &[
            ("billing:manage", o(2), Some(("billing-clerk", T))),
            ("billing:refund", T, Some(("billing-clerk", T))),
            ("invoice:approve", T, None),
        ],
    );
}

#[test]
fn only_active_users_hold_permissions() {
    let not_active = Decision {
        allowed: false,
        granted_by: None,
        denial_reason: Some("USER_NOT_ACTIVE"),
    };
    let deactivated = holding(
        &[("tenant-owner", T)],
        vec![ue(UserEvent::UserDeactivated { id: user(1) })],
    );
    assert_eq!(check(&deactivated, "team:read", T), not_active);
    let scope = given(world_and([invited(2), assigned(2, "tenant-owner", T)])).scope;
    assert_eq!(
        scope.check_permission(user(2), &perm("team:read"), T),
        Ok(not_active)
    );
    let reactivated = holding(
        &[("tenant-owner", T)],
        vec![
            ue(UserEvent::UserDeactivated { id: user(1) }),
            ue(UserEvent::UserReactivated { id: user(1) }),
        ],
    );
    assert!(check(&reactivated, "team:read", T).allowed);
}

#[test]
fn a_deleted_custom_role_grants_nothing() {
    // A journal in which the role was deleted without its assignments being revoked.
    let scope = holding(
        &[("invoice-approver", T)],
        vec![re(RoleEvent::RoleDeleted { id: role(1) })],
    );
    table(&scope, &[("invoice:approve", T, None)]);
}

#[test]
fn assignments_at_deleted_organizations_and_teams_grant_nothing() {
    let scope = holding(
        &[("org-admin", o(4)), ("team-member", t(5)), ("viewer", T)],
        vec![
            team_deleted(team(3), Some(org(4))),
            org_deleted(org(4), None),
            team_deleted(team(5), None),
        ],
    );
    assert_eq!(
        scope.check_permission(user(1), &perm("team:read"), o(4)),
        Err(DomainError::NotFound {
            resource: ResourceKind::Organization,
            id: org(4).to_string(),
        })
    );
    assert_eq!(
        scope.check_permission(user(1), &perm("team:read"), t(5)),
        Err(DomainError::NotFound {
            resource: ResourceKind::Team,
            id: team(5).to_string(),
        })
    );
    let listed = scope.effective_permissions(user(1), None).expect("listed");
    assert!(
        listed
            .iter()
            .all(|e| e.granted_by == assignment("viewer", T)),
        "{listed:?}"
    );
}

#[test]
fn a_move_changes_the_answers_at_once() {
    let scope = holding(&[("org-admin", o(2))], vec![]);
    table(&scope, &[("team:create", o(3), Some(("org-admin", o(2))))]);
    // Move C(3) out from under B(2): the org-admin of B no longer reaches it.
    let scope = given_scope(scope)
        .when_org(OrganizationCommand::Move {
            id: org(3),
            new_parent_id: Some(org(4)),
        })
        .then_events([oe(crate::domain::OrganizationEvent::OrganizationMoved {
            id: org(3),
            from_parent_id: Some(org(2)),
            to_parent_id: Some(org(4)),
        })]);
    table(&scope, &[("team:create", o(3), None)]);
    // And moving D(4), now holding C(3), under B(2) brings both back.
    let scope = given_scope(scope)
        .when_org(OrganizationCommand::Move {
            id: org(4),
            new_parent_id: Some(org(2)),
        })
        .then_events([oe(crate::domain::OrganizationEvent::OrganizationMoved {
            id: org(4),
            from_parent_id: Some(org(1)),
            to_parent_id: Some(org(2)),
        })]);
    table(
        &scope,
        &[
            ("team:create", o(3), Some(("org-admin", o(2)))),
            ("team:read", t(3), Some(("org-admin", o(2)))),
        ],
    );
}

#[test]
fn refusals() {
    let scope = holding(&[("tenant-owner", T)], vec![]);
    for wildcard in ["*", "team:*"] {
        assert!(matches!(
            scope.check_permission(user(1), &perm(wildcard), T),
            Err(DomainError::Invalid(v)) if v.len() == 1 && v[0].field == "permission"
        ));
    }
    assert_eq!(
        scope.check_permission(user(9), &perm("team:read"), T),
        Err(DomainError::NotFound {
            resource: ResourceKind::User,
            id: user(9).to_string(),
        })
    );
    let foreign = crate::domain::OrganizationId(uuid::Uuid::from_u128(42));
    assert_eq!(
        scope.check_permission(user(1), &perm("team:read"), Scope::Organization(foreign)),
        Err(DomainError::NotFound {
            resource: ResourceKind::Organization,
            id: foreign.to_string(),
        })
    );
    assert_eq!(
        scope.check_permission(user(1), &perm("team:read"), t(77)),
        Err(DomainError::NotFound {
            resource: ResourceKind::Team,
            id: team(77).to_string(),
        })
    );
}

#[test]
fn role_grants_knows_built_in_and_live_custom_roles() {
    let scope = holding(&[], vec![]);
    assert_eq!(
        scope.role_grants("tenant-admin"),
        Some(crate::domain::BuiltinRole::TenantAdmin.grants())
    );
    assert_eq!(
        scope
            .role_grants("invoice-approver")
            .map(|g| (g.allow, g.except)),
        Some((perms(&["invoice:approve", "invoice:read"]), vec![]))
    );
    assert_eq!(scope.role_grants("nobody"), None);
}

#[test]
fn a_tenant_that_is_not_active_grants_nothing() {
    use crate::domain::TenantEvent;
    for (event, reason) in [
        (
            TenantEvent::TenantSuspended {
                reason: "unpaid".into(),
            },
            "TENANT_SUSPENDED",
        ),
        (
            TenantEvent::TenantDeactivated {
                grace_period_ends_at: t0() + chrono::Duration::days(30),
                feedback: Default::default(),
            },
            "TENANT_DEACTIVATED",
        ),
        (
            TenantEvent::TenantDeleted {
                grace_period_expired: false,
            },
            "TENANT_DELETED",
        ),
    ] {
        let scope = holding(
            &[("tenant-owner", T)],
            vec![TenantScopeEvent::Tenant(event)],
        );
        let d = check(&scope, "organization:read", T);
        assert_eq!((d.allowed, d.denial_reason), (false, Some(reason)));
        assert!(
            scope
                .effective_permissions(user(1), None)
                .unwrap()
                .is_empty()
        );
        // What its own users may still read goes by their assignments; commands by the state.
        assert_eq!(
            scope.assignments_allow(user(1), &perm("organization:read"), o(1)),
            Ok(true)
        );
        assert_eq!(scope.ensure_active().unwrap_err().reason(), reason);
    }
    let other = holding(&[("viewer", T)], vec![suspended()]);
    assert_eq!(
        other.assignments_allow(user(1), &perm("organization:read"), T),
        Ok(false)
    );
    assert_eq!(holding(&[], vec![]).ensure_active(), Ok(()));
}

/// What user(1) lacks at `at` to give `role` (by its grants) away: `unheld_by_user`.
fn unheld(scope: &TenantScope, role: &str, at: Scope) -> Option<String> {
    let wanted = scope.role_grants(role).expect("a role");
    scope
        .unheld_by_user(user(1), &wanted, at)
        .unwrap_or_else(|e| panic!("{role} at {at:?}: {e}"))
        .map(String::from)
}

#[test]
fn a_role_is_held_where_one_assignment_reaching_there_includes_each_of_its_patterns() {
    let scope = holding(&[("org-admin", o(2)), ("billing-clerk", T)], vec![]);
    // org-admin at B reaches B, C and B's teams; its own role is included there.
    for at in [o(2), o(3), t(1)] {
        assert_eq!(unheld(&scope, "org-admin", at), None, "{at:?}");
        assert_eq!(unheld(&scope, "member", at), None, "{at:?}");
    }
    // Not at the parent, a sibling or the tenant.
    for at in [o(1), o(4), T] {
        assert_eq!(
            unheld(&scope, "org-admin", at).as_deref(),
            Some("organization:*"),
            "{at:?}"
        );
    }
    // `*` is in no role of theirs; `billing:*` is, tenant-wide.
    assert_eq!(unheld(&scope, "tenant-owner", o(2)).as_deref(), Some("*"));
    assert_eq!(unheld(&scope, "billing-clerk", o(3)), None);
    // A pattern is within one granted pattern, never pieced together from narrower ones.
    let wider = crate::domain::Grants {
        allow: vec![perm("invoice:*")],
        except: vec![],
    };
    let both = holding(&[("invoice-approver", T)], vec![]);
    assert_eq!(
        both.unheld_by_user(user(1), &wider, T).unwrap(),
        Some(perm("invoice:*"))
    );
}

#[test]
fn a_role_with_exceptions_gives_only_what_excludes_them_too() {
    let scope = holding(&[("tenant-admin", T)], vec![]);
    // tenant-admin: everything but billing:* and tenant:delete.
    assert_eq!(unheld(&scope, "tenant-owner", T).as_deref(), Some("*"));
    assert_eq!(unheld(&scope, "tenant-admin", T), None);
    assert_eq!(unheld(&scope, "org-admin", o(5)), None);
    assert_eq!(
        unheld(&scope, "billing-clerk", T).as_deref(),
        Some("billing:*")
    );
    assert_eq!(unheld(&scope, "invoice-approver", T), None);
}

#[test]
fn nobody_inactive_holds_anything_to_give() {
    let deactivated = holding(
        &[("tenant-owner", T)],
        vec![ue(UserEvent::UserDeactivated { id: user(1) })],
    );
    assert_eq!(
        unheld(&deactivated, "viewer", T).as_deref(),
        Some("analytics:view")
    );
    let suspended = holding(&[("tenant-owner", T)], vec![suspended()]);
    assert_eq!(
        unheld(&suspended, "viewer", T).as_deref(),
        Some("analytics:view")
    );
    let active = holding(&[("tenant-owner", T)], vec![]);
    assert_eq!(unheld(&active, "viewer", T), None);
    assert!(matches!(
        active.unheld_by_user(user(9), &active.role_grants("viewer").unwrap(), T),
        Err(DomainError::NotFound {
            resource: ResourceKind::User,
            ..
        })
    ));
}
