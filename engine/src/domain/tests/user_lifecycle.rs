//! UpdateUserProfile, DeactivateUser, ReactivateUser and organization memberships.

use super::support::*;
use crate::domain::{DomainError, ResourceKind, UserCommand, UserEvent, UserStatus};

fn missing_user(n: u128) -> DomainError {
    DomainError::NotFound {
        resource: ResourceKind::User,
        id: user(n).to_string(),
    }
}

fn update(n: u128, name: Option<&str>) -> UserCommand {
    UserCommand::UpdateProfile {
        id: user(n),
        display_name: name.map(Into::into),
    }
}

fn deactivated_user(n: u128) -> Vec<crate::domain::TenantScopeEvent> {
    cat([
        active_user(n),
        vec![ue(UserEvent::UserDeactivated { id: user(n) })],
    ])
}

// ---- profile ----

#[test]
fn updates_the_display_name() {
    let scope = given(world_and(active_user(1)))
        .when_user(update(1, Some(" Ada ")))
        .then_events([ue(UserEvent::UserProfileUpdated {
            id: user(1),
            display_name: Some("Ada".into()),
        })]);
    assert_eq!(
        scope.user(user(1)).map(|u| u.display_name.as_str()),
        Some("Ada")
    );
    // Invited users may update their profile too; an empty name is allowed.
    given(world_and([invited(1)]))
        .when_user(update(1, Some("Ada")))
        .then_events([ue(UserEvent::UserProfileUpdated {
            id: user(1),
            display_name: Some("Ada".into()),
        })]);
}

#[test]
fn an_unchanged_display_name_is_a_no_op() {
    given(world_and(active_user(1)))
        .when_user(update(1, Some("  ")))
        .then_nothing();
}

#[test]
fn profile_input_rules() {
    given(world_and(active_user(1)))
        .when_user(update(1, None))
        .then_invalid(&["update_mask"]);
    given(world_and(active_user(1)))
        .when_user(update(1, Some(&repeat('a', 201))))
        .then_invalid(&["display_name"]);
    given(world_and(active_user(1)))
        .when_user(update(1, Some("a\u{0}b")))
        .then_invalid(&["display_name"]);
    given(world())
        .when_user(update(1, Some("Ada")))
        .then_error(missing_user(1));
}

// ---- deactivate / reactivate ----

#[test]
fn deactivates_an_active_user_and_reactivates_them() {
    let scope = given(world_and(active_user(1)))
        .when_user(UserCommand::Deactivate { id: user(1) })
        .then_events([ue(UserEvent::UserDeactivated { id: user(1) })]);
    assert_eq!(
        scope.user(user(1)).map(|u| u.status),
        Some(UserStatus::Deactivated)
    );
    let scope = given_scope(scope)
        .when_user(UserCommand::Reactivate { id: user(1) })
        .then_events([ue(UserEvent::UserReactivated { id: user(1) })]);
    let u = scope.user(user(1)).expect("user");
    assert_eq!((u.status, u.version), (UserStatus::Active, 4));
}

#[test]
fn only_active_users_are_deactivated() {
    let message = given(world_and([invited(1)]))
        .when_user(UserCommand::Deactivate { id: user(1) })
        .then_invalid_state("USER_NOT_ACTIVE");
    assert!(message.contains("revoke"), "{message}");
    given(world_and(deactivated_user(1)))
        .when_user(UserCommand::Deactivate { id: user(1) })
        .then_invalid_state("USER_NOT_ACTIVE");
    given(world())
        .when_user(UserCommand::Deactivate { id: user(1) })
        .then_error(missing_user(1));
}

#[test]
fn only_deactivated_users_are_reactivated() {
    for history in [vec![invited(1)], active_user(1)] {
        given(world_and(history))
            .when_user(UserCommand::Reactivate { id: user(1) })
            .then_invalid_state("USER_NOT_DEACTIVATED");
    }
    given(world())
        .when_user(UserCommand::Reactivate { id: user(1) })
        .then_error(missing_user(1));
}

// ---- organization memberships ----

fn add(n: u128, o: u128) -> UserCommand {
    UserCommand::AddToOrganization {
        id: user(n),
        organization_id: org(o),
    }
}

fn remove(n: u128, o: u128) -> UserCommand {
    UserCommand::RemoveFromOrganization {
        id: user(n),
        organization_id: org(o),
    }
}

#[test]
fn joins_and_leaves_organizations() {
    let scope = given(world_and(active_user(1)))
        .when_user(add(1, 3))
        .then_events([ue(UserEvent::MembershipAdded {
            id: user(1),
            organization_id: org(3),
        })]);
    assert!(
        scope
            .user(user(1))
            .is_some_and(|u| u.organizations.contains(&org(3)))
    );
    given_scope(scope.clone())
        .when_user(add(1, 3))
        .then_nothing();
    let scope = given_scope(scope).when_user(remove(1, 3)).then_events([ue(
        UserEvent::MembershipRemoved {
            id: user(1),
            organization_id: org(3),
        },
    )]);
    assert!(
        scope
            .user(user(1))
            .is_some_and(|u| u.organizations.is_empty())
    );
    given_scope(scope).when_user(remove(1, 3)).then_nothing();
}

#[test]
fn only_live_organizations_are_joined() {
    given(world_and(cat([
        active_user(1),
        vec![org_deleted(org(3), None)],
    ])))
    .when_user(add(1, 3))
    .then_error(DomainError::NotFound {
        resource: ResourceKind::Organization,
        id: org(3).to_string(),
    });
    given(world_and(active_user(1)))
        .when_user(add(1, 99))
        .then_error(DomainError::NotFound {
            resource: ResourceKind::Organization,
            id: org(99).to_string(),
        });
    given(world())
        .when_user(add(1, 3))
        .then_error(missing_user(1));
    given(world())
        .when_user(remove(1, 3))
        .then_error(missing_user(1));
}

#[test]
fn a_membership_of_a_deleted_organization_can_still_be_ended() {
    let events = world_and(cat([
        active_user(1),
        vec![
            ue(UserEvent::MembershipAdded {
                id: user(1),
                organization_id: org(3),
            }),
            org_deleted(org(3), None),
        ],
    ]));
    given(events)
        .when_user(remove(1, 3))
        .then_events([ue(UserEvent::MembershipRemoved {
            id: user(1),
            organization_id: org(3),
        })]);
}

#[test]
fn user_commands_are_gated() {
    for c in [
        update(1, Some("Ada")),
        UserCommand::Deactivate { id: user(1) },
        add(1, 3),
        invite(2),
    ] {
        given(world_and(cat([active_user(1), vec![suspended()]])))
            .when_user(c.clone())
            .then_error(DomainError::TenantSuspended);
        given(world_and(cat([active_user(1), vec![deleted()]])))
            .when_user(c)
            .then_error(DomainError::TenantDeleted);
    }
}
