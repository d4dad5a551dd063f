//! DeleteRole: every assignment of the role is revoked (on each holder's stream) before the
//! role's own events, so the role's stream is the last one written.

use super::support::*;
use crate::domain::{
    ClaimsCause, DomainError, ResourceKind, RoleCommand, RoleEvent, RoleStatus, Scope, StreamKind,
    UserEvent,
};

fn delete() -> RoleCommand {
    RoleCommand::Delete { id: role(1) }
}

#[test]
fn deleting_revokes_every_assignment_first() {
    let events = world_and(cat([
        role_defined(role(1), "auditor", &["invoice:read"]),
        active_user(1),
        active_user(2),
        vec![invited(3)],
        vec![
            assigned(1, "auditor", Scope::Tenant),
            assigned(1, "auditor", Scope::Team(team(1))),
            assigned(1, "member", Scope::Tenant),
            assigned(3, "auditor", Scope::Organization(org(2))),
            assigned(2, "viewer", Scope::Tenant),
        ],
    ]));
    let then = given(events).when_role(delete());
    let got = then.result.clone().expect("accepted");
    assert_eq!(
        got,
        vec![
            revoked(1, "auditor", Scope::Tenant),
            revoked(1, "auditor", Scope::Team(team(1))),
            revoked(3, "auditor", Scope::Organization(org(2))),
            // User 1 is active and lost two assignments; user 3 is invited (no token yet).
            ue(UserEvent::ClaimsChanged {
                id: user(1),
                claims: then.after.user_claims(user(1)).unwrap(),
                cause: ClaimsCause::User,
            }),
            re(RoleEvent::RoleDeleted { id: role(1) }),
            re(RoleEvent::PermissionPolicyChanged {
                id: role(1),
                name: "auditor".into(),
                permissions: vec![],
            }),
        ]
    );
    assert_eq!(
        got.last().map(|e| e.stream(tid()).kind),
        Some(StreamKind::Role),
        "the target's stream is last"
    );
    let scope = then.after;
    let r = scope.role(role(1)).expect("tombstone");
    assert_eq!((r.status, r.version), (RoleStatus::Deleted, 4));
    assert_eq!(scope.role_grants("auditor"), None);
    let u1 = scope.user(user(1)).expect("user");
    assert_eq!(
        u1.assignments.iter().cloned().collect::<Vec<_>>(),
        vec![assignment("member", Scope::Tenant)]
    );
    assert!(
        scope
            .user(user(3))
            .is_some_and(|u| u.assignments.is_empty())
    );
    assert_eq!(scope.user(user(2)).map(|u| u.assignments.len()), Some(1));
}

#[test]
fn deleting_an_unassigned_role() {
    given(world_and(role_defined(
        role(1),
        "auditor",
        &["invoice:read"],
    )))
    .when_role(delete())
    .then_events([
        re(RoleEvent::RoleDeleted { id: role(1) }),
        re(RoleEvent::PermissionPolicyChanged {
            id: role(1),
            name: "auditor".into(),
            permissions: vec![],
        }),
    ]);
}

#[test]
fn delete_addresses_live_custom_roles_only() {
    let missing = DomainError::NotFound {
        resource: ResourceKind::Role,
        id: role(1).to_string(),
    };
    given(world())
        .when_role(delete())
        .then_error(missing.clone());
    given(world_and(cat([
        role_defined(role(1), "auditor", &["invoice:read"]),
        vec![re(RoleEvent::RoleDeleted { id: role(1) })],
    ])))
    .when_role(delete())
    .then_error(missing);
}

#[test]
fn a_role_of_the_same_name_defined_later_does_not_revive_old_grants() {
    let scope = given(world_and(cat([
        role_defined(role(1), "auditor", &["invoice:read"]),
        active_user(1),
        vec![assigned(1, "auditor", Scope::Tenant)],
    ])))
    .when_role(delete())
    .then_events([
        revoked(1, "auditor", Scope::Tenant),
        re(RoleEvent::RoleDeleted { id: role(1) }),
        re(RoleEvent::PermissionPolicyChanged {
            id: role(1),
            name: "auditor".into(),
            permissions: vec![],
        }),
    ]);
    let scope = given_scope(scope)
        .when_role(define_role(role(2), "auditor", &["invoice:read"]))
        .then_events(role_defined(role(2), "auditor", &["invoice:read"]));
    let d = scope
        .check_permission(user(1), &perm("invoice:read"), Scope::Tenant)
        .expect("checked");
    assert!(!d.allowed);
}
