//! Clients: creation, updates, the disable/enable/delete lifecycle, the external id's
//! uniqueness and the plan's client count.

use super::support::*;
use crate::domain::{
    BusinessProfile, ClientCommand, ClientEvent, ClientStatus, DomainError, Plan, ResourceKind,
    TenantScopeEvent,
};

fn with_client() -> Vec<TenantScopeEvent> {
    vec![
        tenant_created(Plan::Silver),
        client_created(client(1), "Globex"),
    ]
}

fn update_name(id: u128, name: &str) -> ClientCommand {
    ClientCommand::Update {
        id: client(id),
        name: Some(name.into()),
        external_id: None,
        business_profile: None,
    }
}

#[test]
fn creates_a_client_with_a_normalized_profile() {
    let mut p = profile();
    p.address = Some(crate::domain::Address {
        city: "Springfield".into(),
        ..Default::default()
    });
    let scope = given([tenant_created(Plan::Silver)])
        .when_client(ClientCommand::Create {
            id: client(1),
            name: "  Globex ".into(),
            external_id: " crm-42 ".into(),
            business_profile: Some(p.clone()),
        })
        .then_events(
            [ce(ClientEvent::ClientCreated {
                id: client(1),
                name: "Globex".into(),
                external_id: "crm-42".into(),
                business_profile: Some(BusinessProfile {
                    address: Some(crate::domain::Address {
                        city: "Springfield".into(),
                        country: "US".into(),
                        ..Default::default()
                    }),
                    ..p
                }),
            })]
            .into_iter()
            .chain([rce(crate::domain::RecordEvent::RecordCreated {
                id: crate::domain::headquarters_id(client(1).0),
                client_id: Some(client(1)),
                fields: crate::domain::headquarters_at(&crate::domain::Address {
                    city: "Springfield".into(),
                    country: "US".into(),
                    ..Default::default()
                }),
            })]),
        );
    let c = scope.client(client(1)).expect("created");
    assert_eq!(
        (c.tenant_id, c.version, c.status, c.provisioned_tenant_id),
        (tid(), 1, ClientStatus::Active, None)
    );
    assert_eq!((c.created_at, c.updated_at), (t0(), t0()));
}

#[test]
fn bad_fields_are_all_reported() {
    given([tenant_created(Plan::Silver)])
        .when_client(ClientCommand::Create {
            id: client(1),
            name: " ".into(),
            external_id: repeat('x', 201),
            business_profile: Some(BusinessProfile {
                logo_url: "ftp://x".into(),
                ..BusinessProfile::default()
            }),
        })
        .then_invalid(&["name", "external_id", "business_profile.logo_url"]);
    given(with_client())
        .when_client(ClientCommand::Update {
            id: client(1),
            name: None,
            external_id: None,
            business_profile: None,
        })
        .then_invalid(&["update_mask"]);
}

#[test]
fn the_id_and_a_set_external_id_are_unique() {
    given(with_client())
        .when_client(create_client(client(1), "Again"))
        .then_error(DomainError::AlreadyExists {
            resource: ResourceKind::Client,
            field: "id",
            value: client(1).to_string(),
        });
    let with_external = vec![
        tenant_created(Plan::Silver),
        ce(ClientEvent::ClientCreated {
            id: client(1),
            name: "Globex".into(),
            external_id: "crm-1".into(),
            business_profile: None,
        }),
    ];
    let taken = DomainError::AlreadyExists {
        resource: ResourceKind::Client,
        field: "external_id",
        value: "crm-1".into(),
    };
    given(with_external.clone())
        .when_client(ClientCommand::Create {
            id: client(2),
            name: "Initech".into(),
            external_id: "crm-1".into(),
            business_profile: None,
        })
        .then_error(taken.clone());
    // empty external ids never clash
    let mut events = with_external.clone();
    events.push(client_created(client(2), "Initech"));
    let scope = given(events)
        .when_client(create_client(client(3), "Hooli"))
        .then_events([client_created(client(3), "Hooli")]);
    // an update to a taken external id is refused; a deleted client's id is free again
    given_scope(scope.clone())
        .when_client(ClientCommand::Update {
            id: client(2),
            name: None,
            external_id: Some("crm-1".into()),
            business_profile: None,
        })
        .then_error(taken);
    let mut events = with_external;
    events.push(ce(ClientEvent::ClientDeleted {
        id: client(1),
        provisioned_tenant_id: None,
    }));
    given(events)
        .when_client(ClientCommand::Create {
            id: client(2),
            name: "Initech".into(),
            external_id: "crm-1".into(),
            business_profile: None,
        })
        .then_events([ce(ClientEvent::ClientCreated {
            id: client(2),
            name: "Initech".into(),
            external_id: "crm-1".into(),
            business_profile: None,
        })]);
}

#[test]
fn updates_record_only_what_changes() {
    let scope = given(with_client())
        .when_client(ClientCommand::Update {
            id: client(1),
            name: Some("Globex Corp".into()),
            external_id: Some(String::new()),
            business_profile: Some(Some(profile())),
        })
        .then_events([ce(ClientEvent::ClientUpdated {
            id: client(1),
            name: Some("Globex Corp".into()),
            external_id: None,
            business_profile: Some(Some(profile())),
        })]);
    let c = scope.client(client(1)).expect("client");
    assert_eq!(
        (c.name.as_str(), c.business_profile.clone(), c.version),
        ("Globex Corp", Some(profile()), 2)
    );
    let scope = given_scope(scope)
        .when_client(ClientCommand::Update {
            id: client(1),
            name: None,
            external_id: None,
            business_profile: Some(None),
        })
        .then_events([ce(ClientEvent::ClientUpdated {
            id: client(1),
            name: None,
            external_id: None,
            business_profile: Some(None),
        })]);
    assert_eq!(
        scope.client(client(1)).expect("client").business_profile,
        None
    );
    given_scope(scope)
        .when_client(update_name(1, "Globex Corp"))
        .then_nothing();
}

#[test]
fn a_disabled_client_refuses_changes_but_enabling_and_deletion() {
    let mut events = with_client();
    events.push(ce(ClientEvent::ClientDisabled {
        id: client(1),
        provisioned_tenant_id: None,
    }));
    given(events.clone())
        .when_client(update_name(1, "Renamed"))
        .then_invalid_state("CLIENT_DISABLED");
    given(events.clone())
        .when_client(ClientCommand::Disable { id: client(1) })
        .then_nothing();
    let scope = given(events.clone())
        .when_client(ClientCommand::Enable { id: client(1) })
        .then_events([ce(ClientEvent::ClientEnabled {
            id: client(1),
            provisioned_tenant_id: None,
        })]);
    assert_eq!(
        scope.client(client(1)).map(|c| (c.status, c.version)),
        Some((ClientStatus::Active, 3))
    );
    given_scope(scope)
        .when_client(update_name(1, "Renamed"))
        .then_events([ce(ClientEvent::ClientUpdated {
            id: client(1),
            name: Some("Renamed".into()),
            external_id: None,
            business_profile: None,
        })]);
    let scope = given(events)
        .when_client(ClientCommand::Delete { id: client(1) })
        .then_events([ce(ClientEvent::ClientDeleted {
            id: client(1),
            provisioned_tenant_id: None,
        })]);
    assert_eq!(
        scope.client(client(1)).map(|c| c.status),
        Some(ClientStatus::Deleted)
    );
}

#[test]
fn enabling_an_active_client_changes_nothing_and_deleted_clients_are_gone() {
    given(with_client())
        .when_client(ClientCommand::Enable { id: client(1) })
        .then_nothing();
    let mut events = with_client();
    events.push(ce(ClientEvent::ClientDeleted {
        id: client(1),
        provisioned_tenant_id: None,
    }));
    let gone = DomainError::NotFound {
        resource: ResourceKind::Client,
        id: client(1).to_string(),
    };
    for command in [
        update_name(1, "X"),
        ClientCommand::Disable { id: client(1) },
        ClientCommand::Enable { id: client(1) },
        ClientCommand::Delete { id: client(1) },
    ] {
        given(events.clone())
            .when_client(command)
            .then_error(gone.clone());
    }
    given([tenant_created(Plan::Silver)])
        .when_client(ClientCommand::Delete { id: client(9) })
        .then_error(DomainError::NotFound {
            resource: ResourceKind::Client,
            id: client(9).to_string(),
        });
}

#[test]
fn the_plan_caps_live_clients() {
    let allowed = Plan::Bronze.limits().max_clients.expect("bronze is capped");
    let mut events = vec![tenant_created(Plan::Bronze)];
    for n in 0..allowed {
        events.push(client_created(client(u128::from(n)), "C"));
    }
    let over = DomainError::PlanLimitExceeded {
        limit: "clients",
        plan: Plan::Bronze,
        allowed,
    };
    given(events.clone())
        .when_client(create_client(client(999), "One too many"))
        .then_error(over.clone());
    // disabled clients count, deleted ones do not
    events.push(ce(ClientEvent::ClientDisabled {
        id: client(0),
        provisioned_tenant_id: None,
    }));
    given(events.clone())
        .when_client(create_client(client(999), "Still too many"))
        .then_error(over);
    events.push(ce(ClientEvent::ClientDeleted {
        id: client(0),
        provisioned_tenant_id: None,
    }));
    given(events)
        .when_client(create_client(client(999), "Fits"))
        .then_events([client_created(client(999), "Fits")]);
    assert_eq!(Plan::Gold.limits().max_clients, None);
}

#[test]
fn a_client_gets_one_provisioned_tenant_named_by_its_cascading_events() {
    let provision = |n| ClientCommand::ProvisionTenant {
        id: client(1),
        tenant: crate::domain::ProvisionedTenant {
            onboarding: crate::domain::OnboardingPlan {
                owner_email: " Owner@Client.test ".into(),
                ..provisioned(n).onboarding
            },
            ..provisioned(n)
        },
    };
    let scope = given(with_client())
        .when_client(provision(1))
        .then_events([ce(ClientEvent::ClientTenantProvisioned {
            id: client(1),
            tenant: crate::domain::ProvisionedTenant {
                onboarding: crate::domain::OnboardingPlan {
                    owner_email: "Owner@Client.test".into(),
                    ..provisioned(1).onboarding
                },
                ..provisioned(1)
            },
            name: "Globex".into(),
            business_profile: None,
        })]);
    let t = provisioned(1).tenant_id;
    assert_eq!(
        scope
            .client(client(1))
            .and_then(|c| c.provisioned_tenant_id),
        Some(t)
    );
    given_scope(scope.clone())
        .when_client(provision(2))
        .then_invalid_state("CLIENT_ALREADY_PROVISIONED");
    let scope = given_scope(scope)
        .when_client(ClientCommand::Disable { id: client(1) })
        .then_events([ce(ClientEvent::ClientDisabled {
            id: client(1),
            provisioned_tenant_id: Some(t),
        })]);
    given_scope(scope.clone())
        .when_client(provision(2))
        .then_invalid_state("CLIENT_DISABLED");
    given_scope(scope)
        .when_client(ClientCommand::Delete { id: client(1) })
        .then_events([ce(ClientEvent::ClientDeleted {
            id: client(1),
            provisioned_tenant_id: Some(t),
        })]);
}

#[test]
fn provisioning_input_is_checked() {
    let bad = ClientCommand::ProvisionTenant {
        id: client(1),
        tenant: crate::domain::ProvisionedTenant {
            tenant_id: tid(),
            slug: "Not A Slug".into(),
            onboarding: crate::domain::OnboardingPlan {
                owner_email: "nobody".into(),
                ..provisioned(1).onboarding
            },
            ..provisioned(1)
        },
    };
    given(with_client()).when_client(bad).then_invalid(&[
        "tenant.tenant_id",
        "slug",
        "owner_email",
    ]);
}

#[test]
fn a_provisioning_failure_drops_the_link_and_is_never_gated() {
    let t = provisioned(1).tenant_id;
    let mut events = with_client();
    events.push(ce(ClientEvent::ClientTenantProvisioned {
        id: client(1),
        tenant: provisioned(1),
        name: "Globex".into(),
        business_profile: None,
    }));
    events.push(suspended());
    let failure = |tenant_id| ClientCommand::RecordProvisioningFailure {
        id: client(1),
        tenant_id,
        reason: "slug\ntaken".into(),
    };
    let scope = given(events.clone())
        .when_client(failure(t))
        .then_events([ce(ClientEvent::ClientTenantProvisioningFailed {
            id: client(1),
            tenant_id: t,
            reason: "slug taken".into(),
        })]);
    assert_eq!(
        scope
            .client(client(1))
            .and_then(|c| c.provisioned_tenant_id),
        None
    );
    given_scope(scope).when_client(failure(t)).then_nothing();
    given(events)
        .when_client(failure(provisioned(2).tenant_id))
        .then_nothing();
}
