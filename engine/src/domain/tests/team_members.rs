//! AddTeamMember and RemoveTeamMember: only invited or active users of the tenant join.

use super::support::*;
use crate::domain::{DomainError, ResourceKind, TeamCommand, TeamEvent, TeamRole, UserEvent};

fn add(t: u128, u: u128, role: TeamRole) -> TeamCommand {
    TeamCommand::AddMember {
        id: team(t),
        user_id: user(u),
        role,
    }
}

fn remove(t: u128, u: u128) -> TeamCommand {
    TeamCommand::RemoveMember {
        id: team(t),
        user_id: user(u),
    }
}

fn member_added(t: u128, u: u128, role: TeamRole) -> crate::domain::TenantScopeEvent {
    tme(TeamEvent::MembershipAdded {
        id: team(t),
        user_id: user(u),
        role,
    })
}

/// user(1) invited, user(2) active, user(3) deactivated.
fn people() -> Vec<crate::domain::TenantScopeEvent> {
    world_and(cat([
        vec![invited(1)],
        active_user(2),
        active_user(3),
        vec![ue(UserEvent::UserDeactivated { id: user(3) })],
    ]))
}

#[test]
fn invited_and_active_users_join() {
    let scope = given(people())
        .when_team(add(1, 1, TeamRole::Member))
        .then_events([member_added(1, 1, TeamRole::Member)]);
    let scope = given_scope(scope)
        .when_team(add(1, 2, TeamRole::Lead))
        .then_events([member_added(1, 2, TeamRole::Lead)]);
    let t = scope.team(team(1)).expect("team");
    assert_eq!(t.members.len(), 2);
    assert_eq!(t.members.get(&user(2)), Some(&TeamRole::Lead));
    assert_eq!(t.version, 3);
}

#[test]
fn the_same_role_again_is_a_no_op_and_another_role_replaces_it() {
    let events = cat([people(), vec![member_added(1, 2, TeamRole::Member)]]);
    given(events.clone())
        .when_team(add(1, 2, TeamRole::Member))
        .then_nothing();
    let scope = given(events)
        .when_team(add(1, 2, TeamRole::Lead))
        .then_events([member_added(1, 2, TeamRole::Lead)]);
    assert_eq!(scope.team(team(1)).map(|t| t.members.len()), Some(1));
    assert_eq!(
        scope
            .team(team(1))
            .and_then(|t| t.members.get(&user(2)).copied()),
        Some(TeamRole::Lead)
    );
}

#[test]
fn unknown_users_are_not_found() {
    given(people())
        .when_team(add(1, 99, TeamRole::Member))
        .then_error(DomainError::NotFound {
            resource: ResourceKind::User,
            id: user(99).to_string(),
        });
}

#[test]
fn deactivated_users_are_not_eligible() {
    let message = given(people())
        .when_team(add(1, 3, TeamRole::Member))
        .then_invalid_state("USER_NOT_ELIGIBLE");
    assert!(message.contains("deactivated"), "{message}");
}

#[test]
fn the_team_must_be_live() {
    let missing = DomainError::NotFound {
        resource: ResourceKind::Team,
        id: team(1).to_string(),
    };
    let events = cat([people(), vec![team_deleted(team(1), None)]]);
    given(events.clone())
        .when_team(add(1, 2, TeamRole::Member))
        .then_error(missing.clone());
    given(events).when_team(remove(1, 2)).then_error(missing);
}

#[test]
fn removes_a_member_and_ignores_non_members() {
    let events = cat([people(), vec![member_added(1, 2, TeamRole::Member)]]);
    let scope = given(events.clone())
        .when_team(remove(1, 2))
        .then_events([tme(TeamEvent::MembershipRemoved {
            id: team(1),
            user_id: user(2),
        })]);
    assert!(scope.team(team(1)).is_some_and(|t| t.members.is_empty()));
    given(events.clone()).when_team(remove(1, 1)).then_nothing();
    given(events).when_team(remove(1, 99)).then_nothing();
}
