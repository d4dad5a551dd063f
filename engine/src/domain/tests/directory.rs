//! Directory records: departments, locations and contacts of the tenant or its clients — one
//! headquarters per owner, a contact's location of the same owner, a disabled client's records
//! frozen, a client's deletion removing its records, headquarters from an onboarding address.

use super::support::*;
use crate::domain::{
    Address, BusinessProfile, ClientCommand, ClientEvent, Contact, Department, DomainError, Effect,
    Location, Plan, RecordCommand, RecordEvent, RecordFields, RecordKind, ResourceKind,
    TenantCommand, TenantScopeCommand, headquarters_at, headquarters_id,
};

fn when_record(given: Given, command: RecordCommand) -> Then {
    given.when(TenantScopeCommand::Record(command))
}

fn department(name: &str) -> RecordFields {
    RecordFields::Department(Department {
        name: name.into(),
        code: String::new(),
    })
}

fn location(hq: bool) -> RecordFields {
    RecordFields::Location(Location {
        name: "Office".into(),
        address: Address {
            city: "Springfield".into(),
            country: "US".into(),
            ..Address::default()
        },
        headquarters: hq,
        ..Location::default()
    })
}

fn contact(location_id: Option<crate::domain::RecordId>) -> RecordFields {
    RecordFields::Contact(Contact {
        contact_type: "billing".into(),
        name: "Ada Lovelace".into(),
        email: "ada@globex.test".into(),
        phone: "+1 555 0100".into(),
        location_id,
    })
}

fn created(
    n: u128,
    client_id: Option<crate::domain::ClientId>,
    fields: RecordFields,
) -> crate::domain::TenantScopeEvent {
    rce(RecordEvent::RecordCreated {
        id: rec(n),
        client_id,
        fields,
    })
}

fn create(
    n: u128,
    client_id: Option<crate::domain::ClientId>,
    fields: RecordFields,
) -> RecordCommand {
    RecordCommand::Create {
        id: rec(n),
        client_id,
        fields,
    }
}

fn with_client() -> Vec<crate::domain::TenantScopeEvent> {
    vec![
        tenant_created(Plan::Silver),
        client_created(client(1), "Globex"),
    ]
}

#[test]
fn creates_records_of_the_tenant_and_of_a_client() {
    let scope = when_record(given(with_client()), create(1, None, department(" Sales ")))
        .then_events([created(1, None, department("Sales"))]);
    let r = scope
        .record(RecordKind::Department, rec(1))
        .expect("created");
    assert_eq!(
        (r.active, r.deleted, r.version, r.client_id),
        (true, false, 1, None)
    );
    // the same id is not a record of another kind
    assert!(scope.record(RecordKind::Location, rec(1)).is_none());

    when_record(
        given(with_client()),
        create(2, Some(client(1)), location(true)),
    )
    .then_events([created(2, Some(client(1)), location(true))]);
    when_record(
        given(with_client()),
        create(3, Some(client(9)), department("x")),
    )
    .then_error(DomainError::NotFound {
        resource: ResourceKind::Client,
        id: client(9).to_string(),
    });
}

#[test]
fn bad_fields_are_reported_and_the_mask_checked() {
    when_record(
        given(with_client()),
        create(
            1,
            None,
            RecordFields::Contact(Contact {
                contact_type: "Night shift".into(),
                name: String::new(),
                email: "nope".into(),
                phone: "x".into(),
                location_id: None,
            }),
        ),
    )
    .then_invalid(&["type", "name", "email", "phone"]);
    let mut events = with_client();
    events.push(created(1, None, department("Sales")));
    when_record(
        given(events),
        RecordCommand::Update {
            id: rec(1),
            fields: department("x"),
            active: false,
            mask: vec!["website".into()],
        },
    )
    .then_invalid(&["update_mask"]);
}

#[test]
fn at_most_one_headquarters_per_owner() {
    let mut events = with_client();
    events.push(created(1, None, location(true)));
    let taken = DomainError::AlreadyExists {
        resource: ResourceKind::Location,
        field: "headquarters",
        value: rec(1).to_string(),
    };
    when_record(given(events.clone()), create(2, None, location(true))).then_error(taken.clone());
    // a client's headquarters is its own
    when_record(
        given(events.clone()),
        create(2, Some(client(1)), location(true)),
    )
    .then_events([created(2, Some(client(1)), location(true))]);
    // an update may not make a second one either
    events.push(created(2, None, location(false)));
    when_record(
        given(events.clone()),
        RecordCommand::Update {
            id: rec(2),
            fields: location(true),
            active: true,
            mask: vec!["headquarters".into()],
        },
    )
    .then_error(taken);
    // once the first is deleted, the flag is free
    events.push(rce(RecordEvent::RecordDeleted {
        id: rec(1),
        kind: RecordKind::Location,
    }));
    when_record(given(events), create(3, None, location(true))).then_events([created(
        3,
        None,
        location(true),
    )]);
}

#[test]
fn a_contacts_location_is_a_live_location_of_the_same_owner() {
    let mut events = with_client();
    events.push(created(1, Some(client(1)), location(false)));
    events.push(created(2, None, department("Sales")));
    when_record(
        given(events.clone()),
        create(3, None, contact(Some(rec(1)))),
    )
    .then_invalid_state("LOCATION_OF_ANOTHER_OWNER");
    when_record(
        given(events.clone()),
        create(3, None, contact(Some(rec(2)))),
    )
    .then_error(DomainError::NotFound {
        resource: ResourceKind::Location,
        id: rec(2).to_string(),
    });
    let scope = when_record(
        given(events.clone()),
        create(3, Some(client(1)), contact(Some(rec(1)))),
    )
    .then_events([created(3, Some(client(1)), contact(Some(rec(1))))]);
    // the location is in use: it cannot be deleted while the contact names it
    let message = when_record(
        given_scope(scope),
        RecordCommand::Delete {
            id: rec(1),
            kind: RecordKind::Location,
        },
    )
    .then_invalid_state("LOCATION_IN_USE");
    assert!(message.contains(&rec(3).to_string()));
}

#[test]
fn updates_merge_the_masked_fields_and_record_the_whole_state() {
    let mut events = with_client();
    events.push(created(
        1,
        None,
        RecordFields::Department(Department {
            name: "Sales".into(),
            code: "S-1".into(),
        }),
    ));
    let scope = when_record(
        given(events.clone()),
        RecordCommand::Update {
            id: rec(1),
            fields: RecordFields::Department(Department {
                name: "ignored".into(),
                code: " S-2 ".into(),
            }),
            active: false,
            mask: vec!["code".into(), "active".into()],
        },
    )
    .then_events([rce(RecordEvent::RecordUpdated {
        id: rec(1),
        fields: RecordFields::Department(Department {
            name: "Sales".into(),
            code: "S-2".into(),
        }),
        active: false,
    })]);
    let r = scope.record(RecordKind::Department, rec(1)).expect("kept");
    assert_eq!((r.active, r.version), (false, 2));
    // nothing changes: nothing recorded
    when_record(
        given(events),
        RecordCommand::Update {
            id: rec(1),
            fields: department("Sales"),
            active: true,
            mask: vec!["name".into(), "active".into()],
        },
    )
    .then_nothing();
}

#[test]
fn a_disabled_clients_records_refuse_changes_and_its_deletion_removes_them() {
    let mut events = with_client();
    events.push(created(1, Some(client(1)), location(true)));
    events.push(created(2, Some(client(1)), contact(Some(rec(1)))));
    events.push(created(3, None, department("Sales")));
    let mut disabled = events.clone();
    disabled.push(ce(ClientEvent::ClientDisabled {
        id: client(1),
        provisioned_tenant_id: None,
    }));
    when_record(
        given(disabled.clone()),
        create(4, Some(client(1)), department("x")),
    )
    .then_invalid_state("CLIENT_DISABLED");
    when_record(
        given(disabled.clone()),
        RecordCommand::Delete {
            id: rec(2),
            kind: RecordKind::Contact,
        },
    )
    .then_invalid_state("CLIENT_DISABLED");
    // the client's deletion deletes its records, contacts first, the client last
    let scope = given(disabled)
        .when_client(ClientCommand::Delete { id: client(1) })
        .then_events([
            rce(RecordEvent::RecordDeleted {
                id: rec(2),
                kind: RecordKind::Contact,
            }),
            rce(RecordEvent::RecordDeleted {
                id: rec(1),
                kind: RecordKind::Location,
            }),
            ce(ClientEvent::ClientDeleted {
                id: client(1),
                provisioned_tenant_id: None,
            }),
        ]);
    let contact = scope
        .record(RecordKind::Contact, rec(2))
        .expect("tombstone");
    assert!(contact.deleted);
    assert_eq!(contact.fields.contact_location(), Some(rec(1)));
    let RecordFields::Contact(c) = &contact.fields else {
        panic!("kind changed")
    };
    assert!(c.name.is_empty() && c.email.is_empty() && c.phone.is_empty());
    // the tenant's own record stays
    assert!(
        !scope
            .record(RecordKind::Department, rec(3))
            .expect("kept")
            .deleted
    );
}

#[test]
fn deleting_a_contact_destroys_its_key() {
    let event = rce(RecordEvent::RecordDeleted {
        id: rec(2),
        kind: RecordKind::Contact,
    });
    assert!(event.is_erasure());
    assert_eq!(
        event.effects(),
        vec![Effect::ShredPersonKey { subject: rec(2).0 }]
    );
    let department_deleted = rce(RecordEvent::RecordDeleted {
        id: rec(3),
        kind: RecordKind::Department,
    });
    assert!(!department_deleted.is_erasure());
    assert!(department_deleted.effects().is_empty());
}

#[test]
fn a_contacts_name_email_and_phone_are_personal() {
    let mut event = created(2, None, contact(None));
    let slots = event.personal_fields_mut(tid().0);
    let fields: Vec<_> = slots.iter().map(|s| (s.subject, s.field.name())).collect();
    assert_eq!(
        fields,
        [
            (rec(2).0, "display_name"),
            (rec(2).0, "email"),
            (rec(2).0, "phone")
        ]
    );
    let mut department = created(3, None, department("Sales"));
    assert!(department.personal_fields_mut(tid().0).is_empty());
}

fn address() -> Address {
    Address {
        line1: "1 Main St".into(),
        city: "Springfield".into(),
        ..Address::default()
    }
}

#[test]
fn a_business_tenant_created_with_an_address_gets_its_headquarters() {
    let mut create = create_tenant(Plan::Bronze);
    create.business_profile = Some(BusinessProfile {
        address: Some(address()),
        ..profile()
    });
    let then = given([]).when_tenant(TenantCommand::Create(create));
    let scope = then.after;
    let events = then.result.expect("created");
    assert_eq!(events.len(), 3, "{events:?}");
    let hq = scope
        .record(RecordKind::Location, headquarters_id(tid().0))
        .expect("headquarters");
    let mut expected = address();
    expected.country = "US".into();
    assert_eq!(hq.fields, headquarters_at(&expected));
    assert_eq!(hq.client_id, None);
    // without an address, or for a consumer tenant: none
    let mut consumer = create_tenant(Plan::Bronze);
    consumer.kind = crate::domain::TenantKind::Consumer;
    consumer.business_profile = Some(BusinessProfile {
        address: Some(address()),
        ..profile()
    });
    let then = given([]).when_tenant(TenantCommand::Create(consumer));
    assert_eq!(then.result.expect("created").len(), 2);
    let then = given([]).when_tenant(TenantCommand::Create(create_tenant(Plan::Bronze)));
    assert_eq!(then.result.expect("created").len(), 2);
}

#[test]
fn a_client_created_with_an_address_gets_its_headquarters() {
    let scope = given([tenant_created(Plan::Silver)])
        .when_client(ClientCommand::Create {
            id: client(1),
            name: "Globex".into(),
            external_id: String::new(),
            business_profile: Some(BusinessProfile {
                address: Some(Address {
                    country: "DE".into(),
                    ..address()
                }),
                ..profile()
            }),
        })
        .after;
    let hq = scope
        .record(RecordKind::Location, headquarters_id(client(1).0))
        .expect("headquarters");
    assert_eq!(hq.client_id, Some(client(1)));
    assert!(hq.fields.is_headquarters());
}

#[test]
fn a_user_belongs_to_an_active_client_and_leaves_it_when_it_is_deleted() {
    use crate::domain::{UserCommand, UserEvent};
    let mut events = with_client();
    events.extend(active_user(1));
    let scope = given(events.clone())
        .when_user(UserCommand::SetClient {
            id: user(1),
            client_id: Some(client(1)),
        })
        .then_events([ue(UserEvent::UserClientChanged {
            id: user(1),
            client_id: Some(client(1)),
        })]);
    assert_eq!(
        scope.user(user(1)).expect("user").client_id,
        Some(client(1))
    );
    // the same client again: nothing
    given_scope(scope.clone())
        .when_user(UserCommand::SetClient {
            id: user(1),
            client_id: Some(client(1)),
        })
        .then_nothing();
    // an unknown or disabled client is refused
    given(events.clone())
        .when_user(UserCommand::SetClient {
            id: user(1),
            client_id: Some(client(7)),
        })
        .then_error(DomainError::NotFound {
            resource: ResourceKind::Client,
            id: client(7).to_string(),
        });
    let mut disabled = events.clone();
    disabled.push(ce(ClientEvent::ClientDisabled {
        id: client(1),
        provisioned_tenant_id: None,
    }));
    given(disabled)
        .when_user(UserCommand::SetClient {
            id: user(1),
            client_id: Some(client(1)),
        })
        .then_invalid_state("CLIENT_DISABLED");
    // the client's deletion takes its users out of it
    let after = given_scope(scope)
        .when_client(ClientCommand::Delete { id: client(1) })
        .then_events([
            ue(UserEvent::UserClientChanged {
                id: user(1),
                client_id: None,
            }),
            ce(ClientEvent::ClientDeleted {
                id: client(1),
                provisioned_tenant_id: None,
            }),
        ]);
    assert_eq!(after.user(user(1)).expect("user").client_id, None);
}
