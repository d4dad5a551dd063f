//! CreateOrganization.

use super::support::*;
use crate::domain::{
    DomainError, MAX_DEPTH, OrganizationCommand, OrganizationEvent, OrganizationStatus, Plan,
    ResourceKind, TenantScopeEvent,
};

fn gold() -> Vec<TenantScopeEvent> {
    vec![tenant_created(Plan::Gold)]
}

fn plus(
    mut events: Vec<TenantScopeEvent>,
    more: impl IntoIterator<Item = TenantScopeEvent>,
) -> Vec<TenantScopeEvent> {
    events.extend(more);
    events
}

#[test]
fn creates_a_root() {
    let scope = given(gold())
        .when_org(OrganizationCommand::Create {
            id: org(1),
            name: "  Sales ".into(),
            description: "All of sales".into(),
            parent_id: None,
        })
        .then_events([oe(OrganizationEvent::OrganizationCreated {
            id: org(1),
            name: "Sales".into(),
            description: "All of sales".into(),
            parent_id: None,
        })]);
    let o = scope.organization(org(1)).expect("created");
    assert_eq!(
        (o.tenant_id, o.version, o.status),
        (tid(), 1, OrganizationStatus::Active)
    );
    assert_eq!((o.created_at, o.updated_at), (t0(), t0()));
    assert_eq!(scope.depth_of(org(1)), Some(1));
}

#[test]
fn creates_a_child() {
    let scope = given(plus(gold(), [org_created(org(1), "Sales", None)]))
        .when_org(create_org(org(2), "EMEA", Some(org(1))))
        .then_events([org_created(org(2), "EMEA", Some(org(1)))]);
    assert_eq!(scope.depth_of(org(2)), Some(2));
}

#[test]
fn refuses_an_existing_id_even_a_deleted_one() {
    let taken = DomainError::AlreadyExists {
        resource: ResourceKind::Organization,
        field: "id",
        value: org(1).to_string(),
    };
    let live = plus(gold(), [org_created(org(1), "Sales", None)]);
    given(live.clone())
        .when_org(create_org(org(1), "Other", None))
        .then_error(taken.clone());
    given(plus(live, [org_deleted(org(1), None)]))
        .when_org(create_org(org(1), "Other", None))
        .then_error(taken);
}

#[test]
fn parent_must_be_a_live_organization_of_the_scope() {
    let not_found = DomainError::NotFound {
        resource: ResourceKind::Organization,
        id: org(7).to_string(),
    };
    given(gold())
        .when_org(create_org(org(1), "X", Some(org(7))))
        .then_error(not_found.clone());
    let tombstone = plus(
        gold(),
        [org_created(org(7), "Gone", None), org_deleted(org(7), None)],
    );
    given(tombstone)
        .when_org(create_org(org(1), "X", Some(org(7))))
        .then_error(not_found);
}

#[test]
fn parent_cannot_be_the_new_organization_itself() {
    given(gold())
        .when_org(create_org(org(1), "X", Some(org(1))))
        .then_invalid(&["parent_id"]);
}

#[test]
fn names_are_unique_among_live_siblings_case_insensitively() {
    let events = plus(
        gold(),
        [
            org_created(org(1), "Sales", None),
            org_created(org(2), "EMEA", Some(org(1))),
            org_created(org(3), "Old", None),
            org_deleted(org(3), None),
        ],
    );
    let taken = |name: &str| DomainError::AlreadyExists {
        resource: ResourceKind::Organization,
        field: "name",
        value: name.into(),
    };
    given(events.clone())
        .when_org(create_org(org(9), "  SALES ", None))
        .then_error(taken("SALES"));
    given(events.clone())
        .when_org(create_org(org(9), "emea", Some(org(1))))
        .then_error(taken("emea"));
    // Same name elsewhere in the tree, or as a tombstone, is fine.
    given(events.clone())
        .when_org(create_org(org(9), "EMEA", None))
        .then_events([org_created(org(9), "EMEA", None)]);
    given(events.clone())
        .when_org(create_org(org(9), "Sales", Some(org(1))))
        .then_events([org_created(org(9), "Sales", Some(org(1)))]);
    given(events)
        .when_org(create_org(org(9), "old", None))
        .then_events([org_created(org(9), "old", None)]);
}

#[test]
fn unicode_names_compare_case_insensitively() {
    let events = plus(gold(), [org_created(org(1), "Ärzte", None)]);
    given(events)
        .when_org(create_org(org(2), "ärzte", None))
        .then_error(DomainError::AlreadyExists {
            resource: ResourceKind::Organization,
            field: "name",
            value: "ärzte".into(),
        });
}

#[test]
fn depth_is_limited() {
    let at_limit = plus(gold(), chain(MAX_DEPTH as u128));
    given(plus(gold(), chain(4)))
        .when_org(create_org(org(5), "L5", Some(org(4))))
        .then_events([org_created(org(5), "L5", Some(org(4)))]);
    given(at_limit)
        .when_org(create_org(org(6), "L6", Some(org(5))))
        .then_error(DomainError::HierarchyTooDeep { depth: 6, max: 5 });
}

#[test]
fn bronze_allows_one_organization() {
    let bronze = vec![tenant_created(Plan::Bronze)];
    given(bronze.clone())
        .when_org(create_org(org(1), "A", None))
        .then_events([org_created(org(1), "A", None)]);
    given(plus(bronze.clone(), [org_created(org(1), "A", None)]))
        .when_org(create_org(org(2), "B", None))
        .then_error(DomainError::PlanLimitExceeded {
            limit: "organizations",
            plan: Plan::Bronze,
            allowed: 1,
        });
    // Deleted organizations do not count.
    given(plus(
        bronze,
        [org_created(org(1), "A", None), org_deleted(org(1), None)],
    ))
    .when_org(create_org(org(2), "B", None))
    .then_events([org_created(org(2), "B", None)]);
}

#[test]
fn silver_allows_ten_organizations() {
    let nine: Vec<_> = (1..=9)
        .map(|i| org_created(org(i), &format!("O{i}"), None))
        .collect();
    let silver = plus(vec![tenant_created(Plan::Silver)], nine);
    given(silver.clone())
        .when_org(create_org(org(10), "O10", None))
        .then_events([org_created(org(10), "O10", None)]);
    given(plus(silver, [org_created(org(10), "O10", None)]))
        .when_org(create_org(org(11), "O11", None))
        .then_error(DomainError::PlanLimitExceeded {
            limit: "organizations",
            plan: Plan::Silver,
            allowed: 10,
        });
}

#[test]
fn gold_is_unlimited() {
    let many: Vec<_> = (1..=500)
        .map(|i| org_created(org(i), &format!("O{i}"), None))
        .collect();
    given(plus(gold(), many))
        .when_org(create_org(org(501), "O501", None))
        .then_events([org_created(org(501), "O501", None)]);
}

#[test]
fn input_rules() {
    let create = |name: &str, description: &str| OrganizationCommand::Create {
        id: org(1),
        name: name.into(),
        description: description.into(),
        parent_id: None,
    };
    given(gold())
        .when_org(create("", ""))
        .then_invalid(&["name"]);
    given(gold())
        .when_org(create("  ", ""))
        .then_invalid(&["name"]);
    given(gold())
        .when_org(create(&repeat('n', 201), ""))
        .then_invalid(&["name"]);
    given(gold())
        .when_org(create("Sa\u{0}les", ""))
        .then_invalid(&["name"]);
    given(gold())
        .when_org(create("Sales", &repeat('d', 2001)))
        .then_invalid(&["description"]);
    assert!(
        given(gold())
            .when_org(create(&repeat('n', 200), &repeat('d', 2000)))
            .result
            .is_ok()
    );
    assert!(
        given(gold())
            .when_org(create("Sales", "line one\nline two"))
            .result
            .is_ok()
    );
    given(gold())
        .when_org(create("", &repeat('d', 2001)))
        .then_invalid(&["name", "description"]);
}
