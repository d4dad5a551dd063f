//! UpdateOrganization.

use super::support::*;
use crate::domain::{
    DomainError, OrganizationCommand, OrganizationEvent, Plan, ResourceKind, TenantScopeEvent,
};

fn tree() -> Vec<TenantScopeEvent> {
    vec![
        tenant_created(Plan::Gold),
        org_created(org(1), "Sales", None),
        org_created(org(2), "Support", None),
        org_created(org(3), "EMEA", Some(org(1))),
        org_created(org(4), "Gone", None),
        org_deleted(org(4), None),
    ]
}

fn update(id: u128, name: Option<&str>, description: Option<&str>) -> OrganizationCommand {
    OrganizationCommand::Update {
        id: org(id),
        name: name.map(Into::into),
        description: description.map(Into::into),
    }
}

fn updated(id: u128, name: Option<&str>, description: Option<&str>) -> TenantScopeEvent {
    oe(OrganizationEvent::OrganizationUpdated {
        id: org(id),
        name: name.map(Into::into),
        description: description.map(Into::into),
    })
}

#[test]
fn renames_with_the_trimmed_name() {
    let scope = given(tree())
        .when_org(update(1, Some("  Revenue "), None))
        .then_events([updated(1, Some("Revenue"), None)]);
    let o = scope.organization(org(1)).expect("org");
    assert_eq!((o.name.as_str(), o.version), ("Revenue", 2));
}

#[test]
fn changes_the_description_only() {
    let scope = given(tree())
        .when_org(update(1, None, Some("All of sales")))
        .then_events([updated(1, None, Some("All of sales"))]);
    assert_eq!(
        scope.organization(org(1)).map(|o| o.description.as_str()),
        Some("All of sales")
    );
}

#[test]
fn carries_only_what_changes() {
    given(tree())
        .when_org(update(1, Some("Sales"), Some("new")))
        .then_events([updated(1, None, Some("new"))]);
    given(tree())
        .when_org(update(1, Some("Renamed"), Some("")))
        .then_events([updated(1, Some("Renamed"), None)]);
}

#[test]
fn unchanged_values_decide_nothing() {
    given(tree())
        .when_org(update(1, Some(" Sales  "), Some("")))
        .then_nothing();
}

#[test]
fn renaming_to_another_case_of_its_own_name_is_fine() {
    given(tree())
        .when_org(update(1, Some("SALES"), None))
        .then_events([updated(1, Some("SALES"), None)]);
}

#[test]
fn name_must_stay_unique_among_live_siblings() {
    given(tree())
        .when_org(update(1, Some("support"), None))
        .then_error(DomainError::AlreadyExists {
            resource: ResourceKind::Organization,
            field: "name",
            value: "support".into(),
        });
    // A cousin or a tombstone with that name is no clash.
    given(tree())
        .when_org(update(1, Some("EMEA"), None))
        .then_events([updated(1, Some("EMEA"), None)]);
    given(tree())
        .when_org(update(1, Some("gone"), None))
        .then_events([updated(1, Some("gone"), None)]);
    given(tree())
        .when_org(update(3, Some("Support"), None))
        .then_events([updated(3, Some("Support"), None)]);
}

#[test]
fn target_must_be_live() {
    for id in [4, 99] {
        given(tree())
            .when_org(update(id, Some("X"), None))
            .then_error(DomainError::NotFound {
                resource: ResourceKind::Organization,
                id: org(id).to_string(),
            });
    }
}

#[test]
fn input_rules() {
    given(tree())
        .when_org(update(1, None, None))
        .then_invalid(&["update_mask"]);
    given(tree())
        .when_org(update(1, Some(""), None))
        .then_invalid(&["name"]);
    given(tree())
        .when_org(update(1, Some(&repeat('n', 201)), None))
        .then_invalid(&["name"]);
    given(tree())
        .when_org(update(1, Some("a\u{1}b"), None))
        .then_invalid(&["name"]);
    given(tree())
        .when_org(update(1, None, Some(&repeat('d', 2001))))
        .then_invalid(&["description"]);
    given(tree())
        .when_org(update(1, Some(" "), Some(&repeat('d', 2001))))
        .then_invalid(&["name", "description"]);
}

#[test]
fn input_is_checked_before_existence() {
    given(tree())
        .when_org(update(99, Some(""), None))
        .then_invalid(&["name"]);
}
