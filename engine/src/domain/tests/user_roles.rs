//! AssignRole and RevokeRole: built-in or live custom roles at live scopes of this tenant.

use super::support::*;
use crate::domain::{Assignment, DomainError, ResourceKind, RoleEvent, Scope, UserCommand};

fn assign(n: u128, a: Assignment) -> UserCommand {
    UserCommand::AssignRole {
        id: user(n),
        assignment: a,
    }
}

fn revoke(n: u128, a: Assignment) -> UserCommand {
    UserCommand::RevokeRole {
        id: user(n),
        assignment: a,
    }
}

#[test]
fn assigns_built_in_roles_at_every_kind_of_scope() {
    for scope in [
        Scope::Tenant,
        Scope::Organization(org(3)),
        Scope::Team(team(1)),
    ] {
        let after = given(world_and(active_user(1)))
            .when_user(assign(1, assignment("viewer", scope)))
            .then_events([assigned(1, "viewer", scope)]);
        let u = after.user(user(1)).expect("user");
        assert!(u.assignments.contains(&assignment("viewer", scope)));
        assert_eq!(u.version, 3);
    }
}

#[test]
fn invited_and_deactivated_users_may_be_assigned_roles() {
    given(world_and([invited(1)]))
        .when_user(assign(1, assignment("member", Scope::Tenant)))
        .then_events([assigned(1, "member", Scope::Tenant)]);
}

#[test]
fn an_assignment_already_held_is_a_no_op() {
    given(world_and(cat([
        active_user(1),
        vec![assigned(1, "member", Scope::Tenant)],
    ])))
    .when_user(assign(1, assignment("member", Scope::Tenant)))
    .then_nothing();
    // The same role at another scope is another assignment.
    given(world_and(cat([
        active_user(1),
        vec![assigned(1, "member", Scope::Tenant)],
    ])))
    .when_user(assign(1, assignment("member", Scope::Organization(org(1)))))
    .then_events([assigned(1, "member", Scope::Organization(org(1)))]);
}

#[test]
fn the_role_must_exist() {
    given(world_and(active_user(1)))
        .when_user(assign(1, assignment("auditor", Scope::Tenant)))
        .then_error(DomainError::NotFound {
            resource: ResourceKind::Role,
            id: "auditor".into(),
        });
    given(world_and(active_user(1)))
        .when_user(assign(1, assignment("Tenant Owner", Scope::Tenant)))
        .then_invalid(&["assignment.role"]);
    given(world_and(cat([
        active_user(1),
        role_defined(role(1), "auditor", &["invoice:read"]),
    ])))
    .when_user(assign(
        1,
        assignment("auditor", Scope::Organization(org(2))),
    ))
    .then_events([assigned(1, "auditor", Scope::Organization(org(2)))]);
    given(world_and(cat([
        active_user(1),
        role_defined(role(1), "auditor", &["invoice:read"]),
        vec![re(RoleEvent::RoleDeleted { id: role(1) })],
    ])))
    .when_user(assign(1, assignment("auditor", Scope::Tenant)))
    .then_error(DomainError::NotFound {
        resource: ResourceKind::Role,
        id: "auditor".into(),
    });
}

#[test]
fn the_scope_must_be_live_in_this_tenant() {
    let foreign_org = crate::domain::OrganizationId(uuid::Uuid::from_u128(7));
    let foreign_team = crate::domain::TeamId(uuid::Uuid::from_u128(7));
    let cases = [
        (
            Scope::Organization(foreign_org),
            ResourceKind::Organization,
            foreign_org.to_string(),
        ),
        (
            Scope::Team(foreign_team),
            ResourceKind::Team,
            foreign_team.to_string(),
        ),
        (
            Scope::Organization(org(5)),
            ResourceKind::Organization,
            org(5).to_string(),
        ),
        (
            Scope::Team(team(5)),
            ResourceKind::Team,
            team(5).to_string(),
        ),
    ];
    let events = world_and(cat([
        active_user(1),
        vec![team_deleted(team(5), None), org_deleted(org(5), None)],
    ]));
    for (scope, resource, id) in cases {
        given(events.clone())
            .when_user(assign(1, assignment("member", scope)))
            .then_error(DomainError::NotFound { resource, id });
    }
}

#[test]
fn the_user_must_exist() {
    given(world())
        .when_user(assign(1, assignment("member", Scope::Tenant)))
        .then_error(DomainError::NotFound {
            resource: ResourceKind::User,
            id: user(1).to_string(),
        });
    given(world())
        .when_user(revoke(1, assignment("member", Scope::Tenant)))
        .then_error(DomainError::NotFound {
            resource: ResourceKind::User,
            id: user(1).to_string(),
        });
}

#[test]
fn revokes_a_held_assignment_and_ignores_others() {
    let events = world_and(cat([
        active_user(1),
        vec![
            assigned(1, "member", Scope::Tenant),
            assigned(1, "viewer", Scope::Team(team(1))),
        ],
    ]));
    let scope = given(events.clone())
        .when_user(revoke(1, assignment("member", Scope::Tenant)))
        .then_events([revoked(1, "member", Scope::Tenant)]);
    assert_eq!(
        scope
            .user(user(1))
            .map(|u| u.assignments.iter().cloned().collect::<Vec<_>>()),
        Some(vec![assignment("viewer", Scope::Team(team(1)))])
    );
    given(events.clone())
        .when_user(revoke(1, assignment("member", Scope::Team(team(1)))))
        .then_nothing();
    // Revoking an assignment whose team is gone still works.
    given(cat([events, vec![team_deleted(team(1), None)]]))
        .when_user(revoke(1, assignment("viewer", Scope::Team(team(1)))))
        .then_events([revoked(1, "viewer", Scope::Team(team(1)))]);
}

#[test]
fn role_commands_are_gated() {
    given(world_and(cat([active_user(1), vec![suspended()]])))
        .when_user(assign(1, assignment("member", Scope::Tenant)))
        .then_error(DomainError::TenantSuspended);
}
