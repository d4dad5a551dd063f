//! CreateTeam: success, the plan's team entitlement, the organization, names and ids.

use super::support::*;
use crate::domain::{
    DomainError, Plan, ResourceKind, TeamCommand, TeamEvent, TeamStatus, TenantScopeEvent,
};

fn silver_with_org() -> Vec<TenantScopeEvent> {
    vec![tenant_created(Plan::Silver), org_created(org(1), "A", None)]
}

#[test]
fn creates_a_team_in_a_live_organization() {
    let scope = given(silver_with_org())
        .when_team(TeamCommand::Create {
            id: team(1),
            organization_id: org(1),
            name: "  Platform ".into(),
            description: "Runs the platform".into(),
        })
        .then_events([tme(TeamEvent::TeamCreated {
            id: team(1),
            organization_id: org(1),
            name: "Platform".into(),
            description: "Runs the platform".into(),
        })]);
    let t = scope.team(team(1)).expect("created");
    assert_eq!(
        (t.tenant_id, t.organization_id, t.version, t.status),
        (tid(), org(1), 1, TeamStatus::Active)
    );
    assert!(t.members.is_empty());
    assert_eq!((t.created_at, t.updated_at), (t0(), t0()));
}

#[test]
fn bronze_has_no_teams() {
    given([tenant_created(Plan::Bronze), org_created(org(1), "A", None)])
        .when_team(create_team(team(1), org(1), "Platform"))
        .then_error(DomainError::PlanLimitExceeded {
            limit: "teams",
            plan: Plan::Bronze,
            allowed: 0,
        });
}

#[test]
fn the_organization_must_be_live() {
    let not_found = |n| DomainError::NotFound {
        resource: ResourceKind::Organization,
        id: org(n).to_string(),
    };
    given(silver_with_org())
        .when_team(create_team(team(1), org(7), "Platform"))
        .then_error(not_found(7));
    let mut events = silver_with_org();
    events.push(org_deleted(org(1), None));
    given(events)
        .when_team(create_team(team(1), org(1), "Platform"))
        .then_error(not_found(1));
}

#[test]
fn names_are_unique_per_organization_case_insensitively() {
    let mut events = silver_with_org();
    events.push(org_created(org(2), "B", None));
    events.push(team_created(team(1), org(1), "Platform"));
    for clash in ["platform", " PLATFORM "] {
        given(events.clone())
            .when_team(create_team(team(2), org(1), clash))
            .then_error(DomainError::AlreadyExists {
                resource: ResourceKind::Team,
                field: "name",
                value: clash.trim().into(),
            });
    }
    given(events.clone())
        .when_team(create_team(team(2), org(2), "Platform"))
        .then_events([team_created(team(2), org(2), "Platform")]);
    events.push(team_deleted(team(1), None));
    given(events)
        .when_team(create_team(team(2), org(1), "platform"))
        .then_events([team_created(team(2), org(1), "platform")]);
}

#[test]
fn name_and_description_rules() {
    let with = |name: &str, description: &str| {
        given(silver_with_org()).when_team(TeamCommand::Create {
            id: team(1),
            organization_id: org(1),
            name: name.into(),
            description: description.into(),
        })
    };
    with("", "").then_invalid(&["name"]);
    with("  ", "").then_invalid(&["name"]);
    with(&repeat('a', 201), "").then_invalid(&["name"]);
    with("Plat\nform", "").then_invalid(&["name"]);
    with("Platform", &repeat('d', 2001)).then_invalid(&["description"]);
    with("", &repeat('d', 2001)).then_invalid(&["name", "description"]);
    assert!(with(&repeat('é', 200), &repeat('d', 2000)).result.is_ok());
}

#[test]
fn refuses_an_existing_id_even_a_deleted_one() {
    let taken = DomainError::AlreadyExists {
        resource: ResourceKind::Team,
        field: "id",
        value: team(1).to_string(),
    };
    let mut events = silver_with_org();
    events.push(team_created(team(1), org(1), "Platform"));
    given(events.clone())
        .when_team(create_team(team(1), org(1), "Other"))
        .then_error(taken.clone());
    events.push(team_deleted(team(1), None));
    given(events)
        .when_team(create_team(team(1), org(1), "Other"))
        .then_error(taken);
}

#[test]
fn input_rules_come_before_the_plan() {
    given([tenant_created(Plan::Bronze), org_created(org(1), "A", None)])
        .when_team(create_team(team(1), org(1), ""))
        .then_invalid(&["name"]);
}
