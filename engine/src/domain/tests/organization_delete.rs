//! DeleteOrganization, with and without cascade.
//!
//! ```text
//! A(1) ─┬─ B(2) ── C(3)
//!       └─ D(4)
//! E(5)
//! ```

use super::support::*;
use crate::domain::{
    DomainError, OrganizationCommand, OrganizationStatus, Plan, ResourceKind, StreamId, StreamKind,
    TenantScopeEvent,
};

fn tree() -> Vec<TenantScopeEvent> {
    vec![
        tenant_created(Plan::Gold),
        org_created(org(1), "A", None),
        org_created(org(2), "B", Some(org(1))),
        org_created(org(3), "C", Some(org(2))),
        org_created(org(4), "D", Some(org(1))),
        org_created(org(5), "E", None),
    ]
}

fn delete(id: u128, cascade: bool) -> OrganizationCommand {
    OrganizationCommand::Delete {
        id: org(id),
        cascade,
    }
}

#[test]
fn deletes_a_leaf_and_keeps_a_tombstone() {
    let scope = given(tree())
        .when_org(delete(3, false))
        .then_events([org_deleted(org(3), None)]);
    let c = scope.organization(org(3)).expect("tombstone");
    assert_eq!((c.status, c.version), (OrganizationStatus::Deleted, 2));
    assert_eq!(scope.depth_of(org(3)), None);
}

#[test]
fn cascade_on_a_leaf_deletes_just_the_leaf() {
    given(tree())
        .when_org(delete(5, true))
        .then_events([org_deleted(org(5), None)]);
}

#[test]
fn refuses_while_live_children_exist() {
    let message = given(tree())
        .when_org(delete(1, false))
        .then_invalid_state("HAS_CHILDREN");
    assert!(message.contains("2 child organizations"), "{message}");
    let message = given(tree())
        .when_org(delete(2, false))
        .then_invalid_state("HAS_CHILDREN");
    assert!(message.contains("1 child organization"), "{message}");
}

#[test]
fn deleted_children_do_not_block() {
    let mut events = tree();
    events.push(org_deleted(org(3), None));
    given(events)
        .when_org(delete(2, false))
        .then_events([org_deleted(org(2), None)]);
}

#[test]
fn cascade_deletes_deepest_first_and_the_target_last() {
    let then = given(tree()).when_org(delete(1, true));
    let events = then.result.clone().expect("accepted");
    assert_eq!(events.len(), 4);
    assert_eq!(events.first(), Some(&org_deleted(org(3), Some(org(1)))));
    assert_eq!(events.last(), Some(&org_deleted(org(1), None)));
    let mut middle = events[1..3].to_vec();
    middle.sort_by_key(|e| e.stream(tid()));
    assert_eq!(
        middle,
        vec![
            org_deleted(org(2), Some(org(1))),
            org_deleted(org(4), Some(org(1)))
        ]
    );
    // One event per stream.
    let mut streams: Vec<StreamId> = events.iter().map(|e| e.stream(tid())).collect();
    streams.sort();
    streams.dedup();
    assert_eq!(streams.len(), 4);
    assert!(streams.iter().all(|s| s.kind == StreamKind::Organization));

    let scope = then.after;
    for i in 1..=4 {
        let o = scope.organization(org(i)).expect("tombstone");
        assert_eq!(
            (o.status, o.version),
            (OrganizationStatus::Deleted, 2),
            "org {i}"
        );
    }
    assert_eq!(scope.depth_of(org(5)), Some(1), "unrelated tree untouched");
}

#[test]
fn cascade_skips_already_deleted_descendants() {
    let mut events = tree();
    events.push(org_deleted(org(3), None));
    given(events).when_org(delete(1, true)).then_events([
        org_deleted(org(2), Some(org(1))),
        org_deleted(org(4), Some(org(1))),
        org_deleted(org(1), None),
    ]);
}

#[test]
fn target_must_be_live() {
    for (id, cascade) in [(99, false), (99, true)] {
        given(tree())
            .when_org(delete(id, cascade))
            .then_error(DomainError::NotFound {
                resource: ResourceKind::Organization,
                id: org(id).to_string(),
            });
    }
    let mut events = tree();
    events.push(org_deleted(org(5), None));
    given(events)
        .when_org(delete(5, false))
        .then_error(DomainError::NotFound {
            resource: ResourceKind::Organization,
            id: org(5).to_string(),
        });
}

#[test]
fn names_of_deleted_organizations_are_free_again() {
    let mut events = tree();
    events.push(org_deleted(org(5), None));
    given(events)
        .when_org(create_org(org(6), "e", None))
        .then_events([org_created(org(6), "e", None)]);
}

#[test]
fn cascade_deletes_a_wide_subtree() {
    // Root 1 with 300 children (1000..1300), each with one grandchild (2000..2300).
    let mut events = vec![
        tenant_created(Plan::Gold),
        org_created(org(1), "Root", None),
    ];
    for i in 0..300 {
        events.push(org_created(org(1000 + i), &format!("C{i}"), Some(org(1))));
        events.push(org_created(org(2000 + i), "G", Some(org(1000 + i))));
    }
    let message = given(events.clone())
        .when_org(delete(1, false))
        .then_invalid_state("HAS_CHILDREN");
    assert!(message.contains("300 child organizations"), "{message}");

    let then = given(events).when_org(delete(1, true));
    let deleted = then.result.expect("accepted");
    assert_eq!(deleted.len(), 601);
    let grandchildren: Vec<_> = (0..300)
        .map(|i| org_deleted(org(2000 + i), Some(org(1))))
        .collect();
    let children: Vec<_> = (0..300)
        .map(|i| org_deleted(org(1000 + i), Some(org(1))))
        .collect();
    assert_eq!(deleted[..300], grandchildren[..]);
    assert_eq!(deleted[300..600], children[..]);
    assert_eq!(deleted[600], org_deleted(org(1), None));
    assert_eq!(
        then.after
            .organizations()
            .filter(|o| o.status == OrganizationStatus::Active)
            .count(),
        0
    );
}

// ---- teams ----

#[test]
fn refuses_while_live_teams_exist() {
    // E(5) has no child organization but one team; B(2) has a child and two teams.
    let mut events = tree();
    events.push(team_created(team(1), org(5), "Red"));
    events.push(team_created(team(2), org(2), "Blue"));
    events.push(team_created(team(3), org(2), "Green"));
    let message = given(events.clone())
        .when_org(delete(5, false))
        .then_invalid_state("HAS_CHILDREN");
    assert!(message.contains("1 team;"), "{message}");
    let message = given(events)
        .when_org(delete(2, false))
        .then_invalid_state("HAS_CHILDREN");
    assert!(
        message.contains("1 child organization and 2 teams"),
        "{message}"
    );
}

#[test]
fn deleted_teams_do_not_block() {
    let mut events = tree();
    events.push(team_created(team(1), org(5), "Red"));
    events.push(team_deleted(team(1), None));
    given(events)
        .when_org(delete(5, false))
        .then_events([org_deleted(org(5), None)]);
}

#[test]
fn cascade_deletes_the_teams_of_every_deleted_organization_before_their_organization() {
    let mut events = tree();
    events.push(team_created(team(1), org(3), "InC"));
    events.push(team_created(team(2), org(1), "InA"));
    events.push(team_created(team(3), org(1), "AlsoInA"));
    events.push(team_created(team(4), org(5), "InE"));
    events.push(team_created(team(5), org(4), "Gone"));
    events.push(team_deleted(team(5), None));
    let then = given(events).when_org(delete(1, true));
    let got = then.result.clone().expect("accepted");
    assert_eq!(
        got,
        vec![
            team_deleted(team(1), Some(org(1))),
            org_deleted(org(3), Some(org(1))),
            org_deleted(org(2), Some(org(1))),
            org_deleted(org(4), Some(org(1))),
            team_deleted(team(2), Some(org(1))),
            team_deleted(team(3), Some(org(1))),
            org_deleted(org(1), None),
        ]
    );
    let scope = then.after;
    for n in 1..=3 {
        let t = scope.team(team(n)).expect("tombstone");
        assert_eq!(
            (t.status, t.version),
            (crate::domain::TeamStatus::Deleted, 2),
            "team {n}"
        );
    }
    assert_eq!(
        scope.team(team(4)).map(|t| t.status),
        Some(crate::domain::TeamStatus::Active),
        "teams of other trees untouched"
    );
    assert_eq!(
        scope.team(team(5)).map(|t| t.version),
        Some(2),
        "already deleted, untouched"
    );
}
