//! UpdateRole: description and permissions; a policy change only when permissions change.

use super::support::*;
use crate::domain::{DomainError, ResourceKind, RoleCommand, RoleEvent, Scope};

fn update(description: Option<&str>, permissions: Option<&[&str]>) -> RoleCommand {
    RoleCommand::Update {
        id: role(1),
        description: description.map(Into::into),
        permissions: permissions.map(perms),
    }
}

fn defined() -> Vec<crate::domain::TenantScopeEvent> {
    world_and(role_defined(role(1), "auditor", &["invoice:read"]))
}

#[test]
fn changing_permissions_announces_the_new_policy() {
    let scope = given(defined())
        .when_role(update(
            Some("Audits"),
            Some(&["invoice:read", "invoice:approve"]),
        ))
        .then_events([
            re(RoleEvent::RoleUpdated {
                id: role(1),
                description: Some("Audits".into()),
                permissions: Some(perms(&["invoice:read", "invoice:approve"])),
            }),
            re(RoleEvent::PermissionPolicyChanged {
                id: role(1),
                name: "auditor".into(),
                permissions: perms(&["invoice:read", "invoice:approve"]),
            }),
        ]);
    let r = scope.role(role(1)).expect("role");
    assert_eq!((r.description.as_str(), r.version), ("Audits", 4));
    assert_eq!(r.permissions, perms(&["invoice:read", "invoice:approve"]));
}

#[test]
fn a_description_change_alone_is_no_policy_change() {
    given(defined())
        .when_role(update(Some("Audits"), Some(&["invoice:read"])))
        .then_events([re(RoleEvent::RoleUpdated {
            id: role(1),
            description: Some("Audits".into()),
            permissions: None,
        })]);
}

#[test]
fn an_unchanged_role_is_a_no_op() {
    given(defined())
        .when_role(update(Some(""), Some(&["invoice:read"])))
        .then_nothing();
}

#[test]
fn update_input_rules() {
    given(defined())
        .when_role(update(None, None))
        .then_invalid(&["update_mask"]);
    given(defined())
        .when_role(update(None, Some(&[])))
        .then_invalid(&["permissions"]);
    given(defined())
        .when_role(update(Some(&repeat('d', 2001)), Some(&["a:b", "a:b"])))
        .then_invalid(&["description", "permissions[1]"]);
}

#[test]
fn update_addresses_live_custom_roles_only() {
    let missing = DomainError::NotFound {
        resource: ResourceKind::Role,
        id: role(1).to_string(),
    };
    given(world())
        .when_role(update(Some("x"), None))
        .then_error(missing.clone());
    given(cat([
        defined(),
        vec![re(RoleEvent::RoleDeleted { id: role(1) })],
    ]))
    .when_role(update(Some("x"), None))
    .then_error(missing);
}

#[test]
fn holders_see_the_new_permissions_at_once() {
    let events = cat([
        defined(),
        active_user(1),
        vec![assigned(1, "auditor", Scope::Tenant)],
    ]);
    let before = given(events.clone()).scope;
    let check = |scope: &crate::domain::TenantScope, p: &str| {
        scope
            .check_permission(user(1), &perm(p), Scope::Tenant)
            .expect("checked")
            .allowed
    };
    assert!(check(&before, "invoice:read"));
    assert!(!check(&before, "invoice:approve"));
    let after = given(events)
        .when_role(update(None, Some(&["invoice:approve"])))
        .then_events([
            re(RoleEvent::RoleUpdated {
                id: role(1),
                description: None,
                permissions: Some(perms(&["invoice:approve"])),
            }),
            re(RoleEvent::PermissionPolicyChanged {
                id: role(1),
                name: "auditor".into(),
                permissions: perms(&["invoice:approve"]),
            }),
        ]);
    assert!(!check(&after, "invoice:read"));
    assert!(check(&after, "invoice:approve"));
}
