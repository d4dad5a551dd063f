//! UpdateTeam and DeleteTeam.

use super::support::*;
use crate::domain::{DomainError, ResourceKind, TeamCommand, TeamEvent, TeamStatus};

fn update(id: u128, name: Option<&str>, description: Option<&str>) -> TeamCommand {
    TeamCommand::Update {
        id: team(id),
        name: name.map(Into::into),
        description: description.map(Into::into),
    }
}

fn missing(n: u128) -> DomainError {
    DomainError::NotFound {
        resource: ResourceKind::Team,
        id: team(n).to_string(),
    }
}

#[test]
fn renames_and_describes() {
    let scope = given(world())
        .when_team(update(1, Some(" Crimson "), Some("the red team")))
        .then_events([tme(TeamEvent::TeamUpdated {
            id: team(1),
            name: Some("Crimson".into()),
            description: Some("the red team".into()),
        })]);
    let t = scope.team(team(1)).expect("team");
    assert_eq!(
        (t.name.as_str(), t.description.as_str(), t.version),
        ("Crimson", "the red team", 2)
    );
}

#[test]
fn only_changed_fields_are_recorded() {
    given(world())
        .when_team(update(1, Some("Red"), Some("new")))
        .then_events([tme(TeamEvent::TeamUpdated {
            id: team(1),
            name: None,
            description: Some("new".into()),
        })]);
    given(world())
        .when_team(update(1, Some("Red"), Some("")))
        .then_nothing();
}

#[test]
fn an_empty_update_is_refused() {
    given(world())
        .when_team(update(1, None, None))
        .then_invalid(&["update_mask"]);
    given(world())
        .when_team(update(1, Some(""), None))
        .then_invalid(&["name"]);
}

#[test]
fn a_new_name_must_be_free_in_the_organization() {
    given(world())
        .when_team(update(1, Some("BLUE"), None))
        .then_error(DomainError::AlreadyExists {
            resource: ResourceKind::Team,
            field: "name",
            value: "BLUE".into(),
        });
    // "Green" lives in another organization.
    assert!(
        given(world())
            .when_team(update(1, Some("Green"), None))
            .result
            .is_ok()
    );
    // Changing only the case of its own name is fine.
    assert!(
        given(world())
            .when_team(update(1, Some("RED"), None))
            .result
            .is_ok()
    );
}

#[test]
fn update_needs_a_live_team() {
    given(world())
        .when_team(update(99, Some("X"), None))
        .then_error(missing(99));
    given(world_and([team_deleted(team(1), None)]))
        .when_team(update(1, Some("X"), None))
        .then_error(missing(1));
}

#[test]
fn deletes_a_team_and_keeps_a_tombstone() {
    let scope = given(world())
        .when_team(TeamCommand::Delete { id: team(1) })
        .then_events([team_deleted(team(1), None)]);
    let t = scope.team(team(1)).expect("tombstone");
    assert_eq!((t.status, t.version), (TeamStatus::Deleted, 2));
}

#[test]
fn delete_needs_a_live_team() {
    given(world())
        .when_team(TeamCommand::Delete { id: team(99) })
        .then_error(missing(99));
    given(world_and([team_deleted(team(1), None)]))
        .when_team(TeamCommand::Delete { id: team(1) })
        .then_error(missing(1));
}
