//! DefineRole: names, permissions, built-in names and uniqueness among live custom roles.

use super::support::*;
use crate::domain::{
    DomainError, ResourceKind, RoleCommand, RoleEvent, RoleStatus, StreamId, StreamKind,
};

fn taken(field: &'static str, value: &str) -> DomainError {
    DomainError::AlreadyExists {
        resource: ResourceKind::Role,
        field,
        value: value.into(),
    }
}

#[test]
fn defines_a_role_and_announces_its_policy() {
    let scope = given(world())
        .when_role(RoleCommand::Define {
            id: role(1),
            name: "invoice-approver".into(),
            description: "Approves invoices".into(),
            permissions: perms(&["invoice:approve", "invoice:read"]),
        })
        .then_events([
            re(RoleEvent::RoleDefined {
                id: role(1),
                name: "invoice-approver".into(),
                description: "Approves invoices".into(),
                permissions: perms(&["invoice:approve", "invoice:read"]),
            }),
            re(RoleEvent::PermissionPolicyChanged {
                id: role(1),
                name: "invoice-approver".into(),
                permissions: perms(&["invoice:approve", "invoice:read"]),
            }),
        ]);
    let r = scope.role(role(1)).expect("defined");
    assert_eq!(
        (r.tenant_id, r.status, r.version),
        (tid(), RoleStatus::Active, 2)
    );
    assert_eq!(
        scope.version_of(StreamId::new(StreamKind::Role, role(1).0)),
        2
    );
    assert_eq!(
        scope.role_grants("invoice-approver").map(|g| g.allow),
        Some(perms(&["invoice:approve", "invoice:read"]))
    );
}

#[test]
fn name_rules() {
    for bad in [
        "", "a", "Auditor", "1auditor", "-auditor", "audi tor", "audi_tor", "auditör",
    ] {
        given(world())
            .when_role(define_role(role(1), bad, &["invoice:read"]))
            .then_invalid(&["name"]);
    }
    given(world())
        .when_role(define_role(role(1), &repeat('a', 64), &["invoice:read"]))
        .then_invalid(&["name"]);
    for good in ["ab", "auditor-2", &repeat('a', 63)] {
        assert!(
            given(world())
                .when_role(define_role(role(1), good, &["invoice:read"]))
                .result
                .is_ok(),
            "{good}"
        );
    }
}

#[test]
fn permission_and_description_rules() {
    given(world())
        .when_role(define_role(role(1), "auditor", &[]))
        .then_invalid(&["permissions"]);
    given(world())
        .when_role(define_role(
            role(1),
            "auditor",
            &["invoice:read", "team:*", "invoice:read"],
        ))
        .then_invalid(&["permissions[2]"]);
    let many: Vec<String> = (0..101).map(|i| format!("res{i}:read")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    given(world())
        .when_role(define_role(role(1), "auditor", &many))
        .then_invalid(&["permissions"]);
    assert!(
        given(world())
            .when_role(define_role(role(1), "auditor", &many[..100]))
            .result
            .is_ok()
    );
    given(world())
        .when_role(RoleCommand::Define {
            id: role(1),
            name: "auditor".into(),
            description: repeat('d', 2001),
            permissions: perms(&["*"]),
        })
        .then_invalid(&["description"]);
}

#[test]
fn built_in_names_are_taken() {
    for name in [
        "tenant-owner",
        "tenant-admin",
        "org-admin",
        "team-member",
        "member",
        "viewer",
    ] {
        given(world())
            .when_role(define_role(role(1), name, &["invoice:read"]))
            .then_error(taken("name", name));
    }
}

#[test]
fn names_are_unique_among_live_custom_roles() {
    let events = world_and(role_defined(role(1), "auditor", &["invoice:read"]));
    given(events.clone())
        .when_role(define_role(role(2), "auditor", &["invoice:read"]))
        .then_error(taken("name", "auditor"));
    let mut deleted = events;
    deleted.push(re(RoleEvent::RoleDeleted { id: role(1) }));
    given(deleted)
        .when_role(define_role(role(2), "auditor", &["invoice:approve"]))
        .then_events(role_defined(role(2), "auditor", &["invoice:approve"]));
}

#[test]
fn ids_are_never_reused() {
    let mut events = world_and(role_defined(role(1), "auditor", &["invoice:read"]));
    given(events.clone())
        .when_role(define_role(role(1), "other", &["invoice:read"]))
        .then_error(taken("id", &role(1).to_string()));
    events.push(re(RoleEvent::RoleDeleted { id: role(1) }));
    given(events)
        .when_role(define_role(role(1), "other", &["invoice:read"]))
        .then_error(taken("id", &role(1).to_string()));
}

#[test]
fn role_commands_are_gated() {
    given(world_and([suspended()]))
        .when_role(define_role(role(1), "auditor", &["invoice:read"]))
        .then_error(DomainError::TenantSuspended);
    given([])
        .when_role(define_role(role(1), "auditor", &["invoice:read"]))
        .then_error(DomainError::NotFound {
            resource: ResourceKind::Tenant,
            id: tid().to_string(),
        });
}

#[test]
fn a_tenant_has_at_most_max_custom_roles_live_and_a_deleted_one_frees_its_place() {
    use crate::domain::MAX_CUSTOM_ROLES;
    let cap = u128::try_from(MAX_CUSTOM_ROLES).unwrap();
    let mut events = world();
    for n in 1..=cap {
        events.extend(role_defined(
            role(n),
            &format!("role-{n}"),
            &["invoice:read"],
        ));
    }
    given(events.clone())
        .when_role(define_role(role(cap + 1), "one-more", &["invoice:read"]))
        .then_error(DomainError::InvalidState {
            reason: "ROLE_LIMIT",
            message: format!(
                "the tenant has {MAX_CUSTOM_ROLES} live custom roles; delete one first"
            ),
        });
    // Deleting one frees its place; its name is free again and found by name, the others too.
    let scope = given(events)
        .when_role(RoleCommand::Delete { id: role(7) })
        .then_events_any();
    let scope = given_scope(scope)
        .when_role(define_role(role(cap + 1), "role-7", &["audit:read"]))
        .then_events_any();
    assert_eq!(
        scope.role_grants("role-7").map(|g| g.allow),
        Some(perms(&["audit:read"]))
    );
    assert_eq!(
        scope.role_grants("role-8").map(|g| g.allow),
        Some(perms(&["invoice:read"]))
    );
}
