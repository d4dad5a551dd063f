//! UpdateTenant and ChangePlan.

use super::support::*;
use crate::domain::{
    Address, BusinessProfile, DomainError, OrganizationCommand, Plan, TenantCommand, TenantEvent,
    TenantSettings, UpdateTenant,
};

fn when_update(given_events: Vec<crate::domain::TenantScopeEvent>, u: UpdateTenant) -> Then {
    given(given_events).when_tenant(TenantCommand::Update(u))
}

fn updated(
    name: Option<&str>,
    settings: Option<TenantSettings>,
    products: Option<Vec<String>>,
    business_profile: Option<Option<BusinessProfile>>,
) -> crate::domain::TenantScopeEvent {
    te(TenantEvent::TenantUpdated {
        name: name.map(Into::into),
        settings,
        products,
        business_profile,
    })
}

#[test]
fn renames_with_the_trimmed_name() {
    let u = UpdateTenant {
        name: Some("  Acme Corp ".into()),
        ..Default::default()
    };
    let scope = when_update(vec![tenant_created(Plan::Gold)], u).then_events([updated(
        Some("Acme Corp"),
        None,
        None,
        None,
    )]);
    let t = scope.tenant().expect("tenant");
    assert_eq!(t.name, "Acme Corp");
    assert_eq!(t.version, 2);
}

#[test]
fn an_update_without_fields_is_invalid() {
    when_update(vec![tenant_created(Plan::Gold)], UpdateTenant::default())
        .then_invalid(&["update_mask"]);
}

#[test]
fn unchanged_values_decide_nothing() {
    let u = UpdateTenant {
        name: Some(" Acme ".into()),
        settings: Some(TenantSettings::default()),
        products: Some(vec![]),
        business_profile: Some(None),
    };
    when_update(vec![tenant_created(Plan::Gold)], u).then_nothing();
}

#[test]
fn only_changed_fields_are_carried() {
    let u = UpdateTenant {
        name: Some("Acme".into()),
        settings: Some(TenantSettings {
            session_expiration_seconds: Some(600),
        }),
        products: Some(vec![]),
        business_profile: None,
    };
    let scope = when_update(vec![tenant_created(Plan::Gold)], u).then_events([updated(
        None,
        Some(TenantSettings {
            session_expiration_seconds: Some(600),
        }),
        None,
        None,
    )]);
    assert_eq!(
        scope
            .tenant()
            .and_then(|t| t.settings.session_expiration_seconds),
        Some(600)
    );
}

#[test]
fn products_change() {
    let u = UpdateTenant {
        products: Some(vec!["crm".into()]),
        ..Default::default()
    };
    let scope = when_update(vec![tenant_created(Plan::Gold)], u).then_events([updated(
        None,
        None,
        Some(vec!["crm".into()]),
        None,
    )]);
    assert_eq!(
        scope.tenant().map(|t| t.products.clone()),
        Some(vec!["crm".to_owned()])
    );
}

#[test]
fn profile_is_set_then_cleared() {
    let set = UpdateTenant {
        business_profile: Some(Some(profile())),
        ..Default::default()
    };
    let scope = when_update(vec![tenant_created(Plan::Gold)], set.clone()).then_events([updated(
        None,
        None,
        None,
        Some(Some(profile())),
    )]);
    assert_eq!(
        scope.tenant().and_then(|t| t.business_profile.clone()),
        Some(profile())
    );

    let events = vec![
        tenant_created(Plan::Gold),
        updated(None, None, None, Some(Some(profile()))),
    ];
    when_update(events.clone(), set).then_nothing();
    let clear = UpdateTenant {
        business_profile: Some(None),
        ..Default::default()
    };
    let scope = when_update(events, clear).then_events([updated(None, None, None, Some(None))]);
    assert_eq!(
        scope.tenant().and_then(|t| t.business_profile.clone()),
        None
    );
}

#[test]
fn profile_country_is_normalized_before_comparing() {
    let with_country = |c: &str| BusinessProfile {
        address: Some(Address {
            country: c.into(),
            ..Address::default()
        }),
        ..profile()
    };
    let events = vec![
        tenant_created(Plan::Gold),
        updated(None, None, None, Some(Some(with_country("US")))),
    ];
    let u = UpdateTenant {
        business_profile: Some(Some(with_country(""))),
        ..Default::default()
    };
    when_update(events, u.clone()).then_nothing();
    when_update(vec![tenant_created(Plan::Gold)], u).then_events([updated(
        None,
        None,
        None,
        Some(Some(with_country("US"))),
    )]);
}

#[test]
fn update_input_rules() {
    let base = || vec![tenant_created(Plan::Gold)];
    when_update(
        base(),
        UpdateTenant {
            name: Some(" ".into()),
            ..Default::default()
        },
    )
    .then_invalid(&["name"]);
    when_update(
        base(),
        UpdateTenant {
            name: Some(repeat('n', 201)),
            ..Default::default()
        },
    )
    .then_invalid(&["name"]);
    when_update(
        base(),
        UpdateTenant {
            settings: Some(TenantSettings {
                session_expiration_seconds: Some(59),
            }),
            ..Default::default()
        },
    )
    .then_invalid(&["settings.session_expiration_seconds"]);
    when_update(
        base(),
        UpdateTenant {
            products: Some(vec!["a".into(), "b".into(), "a".into()]),
            ..Default::default()
        },
    )
    .then_invalid(&["products[2]"]);
    let bad = BusinessProfile {
        logo_url: "ftp://x".into(),
        ..profile()
    };
    when_update(
        base(),
        UpdateTenant {
            business_profile: Some(Some(bad)),
            ..Default::default()
        },
    )
    .then_invalid(&["business_profile.logo_url"]);
    when_update(
        base(),
        UpdateTenant {
            name: Some(String::new()),
            products: Some(vec![String::new()]),
            ..Default::default()
        },
    )
    .then_invalid(&["name", "products[0]"]);
}

// ---- ChangePlan ----

#[test]
fn changes_plan() {
    let scope = given([tenant_created(Plan::Bronze)])
        .when_tenant(TenantCommand::ChangePlan { plan: Plan::Gold })
        .then_events([te(TenantEvent::TenantPlanChanged {
            from: Plan::Bronze,
            to: Plan::Gold,
        })]);
    assert_eq!(scope.tenant().map(|t| t.plan), Some(Plan::Gold));
}

#[test]
fn changing_to_the_same_plan_decides_nothing() {
    given([tenant_created(Plan::Silver)])
        .when_tenant(TenantCommand::ChangePlan { plan: Plan::Silver })
        .then_nothing();
}

#[test]
fn downgrading_keeps_everything_and_blocks_new_organizations() {
    let mut events = vec![tenant_created(Plan::Gold)];
    events.extend((1..=3).map(|i| org_created(org(i), &format!("O{i}"), None)));
    let scope = given(events.clone())
        .when_tenant(TenantCommand::ChangePlan { plan: Plan::Bronze })
        .then_events([te(TenantEvent::TenantPlanChanged {
            from: Plan::Gold,
            to: Plan::Bronze,
        })]);
    assert_eq!(
        (1..=3)
            .filter(|&i| scope.depth_of(org(i)).is_some())
            .count(),
        3
    );

    events.push(te(TenantEvent::TenantPlanChanged {
        from: Plan::Gold,
        to: Plan::Bronze,
    }));
    given(events.clone())
        .when_org(create_org(org(9), "More", None))
        .then_error(DomainError::PlanLimitExceeded {
            limit: "organizations",
            plan: Plan::Bronze,
            allowed: 1,
        });
    // Existing organizations stay fully usable.
    given(events.clone())
        .when_org(OrganizationCommand::Move {
            id: org(2),
            new_parent_id: Some(org(1)),
        })
        .result
        .expect("move still allowed");
    given(events)
        .when_org(OrganizationCommand::Delete {
            id: org(3),
            cascade: false,
        })
        .result
        .expect("delete allowed");
}
