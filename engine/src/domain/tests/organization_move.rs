//! MoveOrganization.
//!
//! The tree used here:
//! ```text
//! A(1) ─┬─ B(2) ── C(3) ── D(4)
//!       └─ E(5)
//! F(6) ── G(7) ── H(8)          Dead(9) deleted under F
//! ```

use super::support::*;
use crate::domain::{
    DomainError, OrganizationCommand, OrganizationEvent, Plan, ResourceKind, TenantScopeEvent,
};

fn tree() -> Vec<TenantScopeEvent> {
    vec![
        tenant_created(Plan::Gold),
        org_created(org(1), "A", None),
        org_created(org(2), "B", Some(org(1))),
        org_created(org(3), "C", Some(org(2))),
        org_created(org(4), "D", Some(org(3))),
        org_created(org(5), "E", Some(org(1))),
        org_created(org(6), "F", None),
        org_created(org(7), "G", Some(org(6))),
        org_created(org(8), "H", Some(org(7))),
        org_created(org(9), "Dead", Some(org(6))),
        org_deleted(org(9), None),
    ]
}

fn mv(id: u128, to: Option<u128>) -> OrganizationCommand {
    OrganizationCommand::Move {
        id: org(id),
        new_parent_id: to.map(org),
    }
}

fn moved(id: u128, from: Option<u128>, to: Option<u128>) -> TenantScopeEvent {
    oe(OrganizationEvent::OrganizationMoved {
        id: org(id),
        from_parent_id: from.map(org),
        to_parent_id: to.map(org),
    })
}

fn cycle(id: u128, to: u128) -> DomainError {
    DomainError::HierarchyCycle {
        organization: org(id).to_string(),
        new_parent: org(to).to_string(),
    }
}

fn not_found(id: u128) -> DomainError {
    DomainError::NotFound {
        resource: ResourceKind::Organization,
        id: org(id).to_string(),
    }
}

#[test]
fn moves_a_subtree_under_another_parent() {
    let scope = given(tree())
        .when_org(mv(2, Some(5)))
        .then_events([moved(2, Some(1), Some(5))]);
    assert_eq!(scope.depth_of(org(2)), Some(3));
    assert_eq!(scope.depth_of(org(4)), Some(5));
    assert_eq!(scope.organization(org(2)).map(|o| o.version), Some(2));
    assert_eq!(
        scope.organization(org(3)).map(|o| o.version),
        Some(1),
        "descendants' streams untouched"
    );
}

#[test]
fn moves_to_the_root_level() {
    let scope = given(tree())
        .when_org(mv(3, None))
        .then_events([moved(3, Some(2), None)]);
    assert_eq!(scope.depth_of(org(3)), Some(1));
    assert_eq!(scope.depth_of(org(4)), Some(2));
}

#[test]
fn moving_to_the_current_parent_decides_nothing() {
    given(tree()).when_org(mv(2, Some(1))).then_nothing();
    given(tree()).when_org(mv(1, None)).then_nothing();
}

#[test]
fn moving_under_itself_or_a_descendant_is_a_cycle() {
    given(tree())
        .when_org(mv(1, Some(1)))
        .then_error(cycle(1, 1));
    given(tree())
        .when_org(mv(1, Some(2)))
        .then_error(cycle(1, 2));
    given(tree())
        .when_org(mv(1, Some(4)))
        .then_error(cycle(1, 4));
    given(tree())
        .when_org(mv(2, Some(4)))
        .then_error(cycle(2, 4));
}

#[test]
fn target_and_new_parent_must_be_live() {
    given(tree())
        .when_org(mv(99, None))
        .then_error(not_found(99));
    given(tree()).when_org(mv(9, None)).then_error(not_found(9));
    given(tree())
        .when_org(mv(2, Some(99)))
        .then_error(not_found(99));
    given(tree())
        .when_org(mv(2, Some(9)))
        .then_error(not_found(9));
}

#[test]
fn the_deepest_node_of_the_moved_subtree_must_fit() {
    // B's subtree has height 3 (B, C, D). Under H (depth 3) D would land at depth 6.
    given(tree())
        .when_org(mv(2, Some(8)))
        .then_error(DomainError::HierarchyTooDeep { depth: 6, max: 5 });
    // Under G (depth 2) D lands exactly at depth 5.
    let scope = given(tree())
        .when_org(mv(2, Some(7)))
        .then_events([moved(2, Some(1), Some(7))]);
    assert_eq!(scope.depth_of(org(4)), Some(5));
    // A whole tree of height 4 under a root gives depth 5; under depth 2, 6.
    given(tree())
        .when_org(mv(1, Some(6)))
        .then_events([moved(1, None, Some(6))]);
    given(tree())
        .when_org(mv(1, Some(7)))
        .then_error(DomainError::HierarchyTooDeep { depth: 6, max: 5 });
}

#[test]
fn deleted_descendants_do_not_count_for_depth() {
    let mut events = tree();
    events.push(org_created(org(10), "Deep", Some(org(4))));
    events.push(org_deleted(org(10), None));
    given(events)
        .when_org(mv(2, Some(7)))
        .then_events([moved(2, Some(1), Some(7))]);
}

#[test]
fn the_name_must_be_free_among_the_new_siblings() {
    let mut events = tree();
    events.push(org_created(org(11), "b", Some(org(6))));
    given(events.clone())
        .when_org(mv(2, Some(6)))
        .then_error(DomainError::AlreadyExists {
            resource: ResourceKind::Organization,
            field: "name",
            value: "B".into(),
        });
    // A root named like a root-to-be clashes too.
    events.push(org_created(org(12), "c", None));
    given(events.clone())
        .when_org(mv(3, None))
        .then_error(DomainError::AlreadyExists {
            resource: ResourceKind::Organization,
            field: "name",
            value: "C".into(),
        });
    // A deleted sibling with that name does not.
    events.push(org_deleted(org(12), None));
    given(events)
        .when_org(mv(3, None))
        .then_events([moved(3, Some(2), None)]);
}

#[test]
fn a_wide_subtree_moves_and_its_height_counts() {
    // W(100) with 200 children, one of which has a child: height 3.
    let mut events = tree();
    events.push(org_created(org(100), "W", None));
    for i in 0..200 {
        events.push(org_created(org(200 + i), &format!("W{i}"), Some(org(100))));
    }
    events.push(org_created(org(500), "Leaf", Some(org(399))));
    given(events.clone())
        .when_org(mv(100, Some(7)))
        .then_events([moved(100, None, Some(7))]);
    given(events.clone())
        .when_org(mv(100, Some(8)))
        .then_error(DomainError::HierarchyTooDeep { depth: 6, max: 5 });
    given(events)
        .when_org(mv(100, Some(500)))
        .then_error(cycle(100, 500));
}
