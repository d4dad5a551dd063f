//! Departments, locations and contacts over the real gRPC API: owners (the tenant or a client),
//! one headquarters per owner, a contact's location of the same owner, a disabled client's
//! records frozen, a client's deletion removing its records and taking its users out of it,
//! the headquarters a business account gets from its address, lists with their filters.
//! Needs `ENTITY_TEST_DATABASE_URL`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

#[path = "support/grpc.rs"]
mod grpc_support;

use entity_proto::v1 as pb;
use gateway::AuthMode;
use grpc_support::{
    Clients, PgNode, accept, create_tenant, create_tenant_request, invite, reason, violation_fields,
};
use tonic::Code;

fn address(city: &str) -> pb::Address {
    pb::Address {
        line1: "1 Main St".into(),
        city: city.into(),
        ..Default::default()
    }
}

fn mask(paths: &[&str]) -> Option<prost_types::FieldMask> {
    Some(prost_types::FieldMask {
        paths: paths.iter().map(|p| (*p).to_owned()).collect(),
    })
}

async fn create_location(
    c: &mut Clients,
    tenant: &str,
    client: &str,
    hq: bool,
) -> Result<pb::LocationResponse, tonic::Status> {
    c.locations
        .create_location(pb::CreateLocationRequest {
            tenant_id: tenant.into(),
            location: Some(pb::Location {
                client_id: client.into(),
                name: "Office".into(),
                address: Some(address("Springfield")),
                headquarters: hq,
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .map(tonic::Response::into_inner)
}

async fn create_contact(
    c: &mut Clients,
    tenant: &str,
    client: &str,
    location: &str,
    kind: &str,
) -> Result<pb::ContactResponse, tonic::Status> {
    c.contacts
        .create_contact(pb::CreateContactRequest {
            tenant_id: tenant.into(),
            contact: Some(pb::Contact {
                client_id: client.into(),
                r#type: kind.into(),
                name: "Ada Lovelace".into(),
                email: "ada@globex.test".into(),
                phone: "+1 555 0100".into(),
                location_id: location.into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .map(tonic::Response::into_inner)
}

async fn list_locations(c: &mut Clients, tenant: &str, owner: &str, token: &str) -> Vec<String> {
    c.locations
        .list_locations(pb::ListRecordsRequest {
            tenant_id: tenant.into(),
            owner: owner.into(),
            consistency_token: token.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .locations
        .into_iter()
        .map(|l| l.id)
        .collect()
}

/// A client with an address, its headquarters, a contact there; the rules; its deletion.
#[tokio::test]
async fn a_clients_records_follow_the_rules_and_go_with_it() {
    let node = PgNode::start(AuthMode::DevIdentity).await;
    let mut c = node.clients.clone();
    let (tenant, _) = create_tenant(&mut c, pb::Plan::Gold).await;
    let t = tenant.id.as_str();

    // a client created with an address gets its headquarters location
    let client = c
        .clients
        .create_client(pb::CreateClientRequest {
            tenant_id: t.into(),
            name: "Globex".into(),
            business_profile: Some(pb::BusinessProfile {
                address: Some(address("Cypress Creek")),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let g = client.client.unwrap().id;
    let token = client.result.unwrap().consistency_token;
    let hq_ids = list_locations(&mut c, t, &g, &token).await;
    assert_eq!(hq_ids.len(), 1, "the client's headquarters");
    let hq = c
        .locations
        .get_location(pb::GetRecordRequest {
            tenant_id: t.into(),
            id: hq_ids[0].clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(hq.headquarters);
    assert_eq!(hq.client_id, g);
    let hq_address = hq.address.unwrap();
    assert_eq!(
        (hq_address.city.as_str(), hq_address.country.as_str()),
        ("Cypress Creek", "US")
    );

    // one headquarters per owner
    let err = create_location(&mut c, t, &g, true).await.unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists, "{err:?}");
    // the tenant's own headquarters is another owner's
    let tenant_hq = create_location(&mut c, t, "", true).await.unwrap();
    let tenant_hq = tenant_hq.location.unwrap().id;

    // a contact's location belongs to the contact's owner
    let err = create_contact(&mut c, t, &g, &tenant_hq, "billing")
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), reason(&err).as_str()),
        (Code::FailedPrecondition, "LOCATION_OF_ANOTHER_OWNER"),
        "{err:?}"
    );
    let contact = create_contact(&mut c, t, &g, &hq.id, "Billing")
        .await
        .unwrap()
        .contact
        .unwrap();
    assert_eq!(
        (
            contact.r#type.as_str(),
            contact.name.as_str(),
            contact.location_id.as_str()
        ),
        ("billing", "Ada Lovelace", hq.id.as_str())
    );
    let technical = create_contact(&mut c, t, &g, "", "technical")
        .await
        .unwrap();

    // a location a contact names cannot be deleted
    let err = c
        .locations
        .delete_location(pb::DeleteRecordRequest {
            tenant_id: t.into(),
            id: hq.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(reason(&err), "LOCATION_IN_USE", "{err:?}");

    // contacts filtered by type
    let billing = c
        .contacts
        .list_contacts(pb::ListRecordsRequest {
            tenant_id: t.into(),
            r#type: "billing".into(),
            consistency_token: technical.result.unwrap().consistency_token,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .contacts;
    assert_eq!(
        billing.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        [contact.id.as_str()]
    );

    // a disabled client's records refuse changes
    c.clients
        .disable_client(pb::DisableClientRequest {
            tenant_id: t.into(),
            client_id: g.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    let err = c
        .contacts
        .update_contact(pb::UpdateContactRequest {
            tenant_id: t.into(),
            id: contact.id.clone(),
            contact: Some(pb::Contact {
                phone: "+1 555 0199".into(),
                ..Default::default()
            }),
            update_mask: mask(&["phone"]),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(reason(&err), "CLIENT_DISABLED", "{err:?}");

    // its deletion deletes its records (and only its)
    let deleted = c
        .clients
        .delete_client(pb::DeleteClientRequest {
            tenant_id: t.into(),
            client_id: g.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let token = deleted.result.unwrap().consistency_token;
    assert!(list_locations(&mut c, t, &g, &token).await.is_empty());
    assert_eq!(
        list_locations(&mut c, t, "tenant", &token).await,
        [tenant_hq]
    );
    let err = c
        .contacts
        .get_contact(pb::GetRecordRequest {
            tenant_id: t.into(),
            id: contact.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{err:?}");
}

/// Departments: create, update by mask (`active` among the paths), list by active, delete.
#[tokio::test]
async fn departments_update_by_mask_and_filter_by_active() {
    let node = PgNode::start(AuthMode::DevIdentity).await;
    let mut c = node.clients.clone();
    let (tenant, _) = create_tenant(&mut c, pb::Plan::Gold).await;
    let t = tenant.id.as_str();
    let mut ids = Vec::new();
    for name in ["Sales", "Support"] {
        let d = c
            .departments
            .create_department(pb::CreateDepartmentRequest {
                tenant_id: t.into(),
                department: Some(pb::Department {
                    name: format!(" {name} "),
                    code: "D-1".into(),
                    ..Default::default()
                }),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .department
            .unwrap();
        assert_eq!((d.name.as_str(), d.active, d.version), (name, true, 1));
        ids.push(d.id);
    }
    let updated = c
        .departments
        .update_department(pb::UpdateDepartmentRequest {
            tenant_id: t.into(),
            id: ids[1].clone(),
            department: Some(pb::Department {
                name: "ignored: not in the mask".into(),
                code: "D-2".into(),
                active: false,
                ..Default::default()
            }),
            update_mask: mask(&["code", "active"]),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let d = updated.department.unwrap();
    assert_eq!(
        (d.name.as_str(), d.code.as_str(), d.active, d.version),
        ("Support", "D-2", false, 2)
    );
    let inactive = c
        .departments
        .list_departments(pb::ListRecordsRequest {
            tenant_id: t.into(),
            active: Some(false),
            consistency_token: updated.result.unwrap().consistency_token,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .departments;
    assert_eq!(
        inactive.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(),
        [ids[1].as_str()]
    );

    // an unknown mask path, a bad owner filter: INVALID_ARGUMENT naming the field
    let err = c
        .departments
        .update_department(pb::UpdateDepartmentRequest {
            tenant_id: t.into(),
            id: ids[0].clone(),
            department: Some(pb::Department::default()),
            update_mask: mask(&["phone"]),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(violation_fields(&err), ["update_mask"]);
    let err = c
        .departments
        .list_departments(pb::ListRecordsRequest {
            tenant_id: t.into(),
            owner: "nobody".into(),
            r#type: "billing".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(violation_fields(&err), ["owner", "type"]);

    c.departments
        .delete_department(pb::DeleteRecordRequest {
            tenant_id: t.into(),
            id: ids[0].clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    let err = c
        .departments
        .get_department(pb::GetRecordRequest {
            tenant_id: t.into(),
            id: ids[0].clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{err:?}");
    // a location id is not a department
    let err = c
        .locations
        .get_location(pb::GetRecordRequest {
            tenant_id: t.into(),
            id: ids[1].clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{err:?}");
}

/// Bad record fields are INVALID_ARGUMENT naming the request's own field paths.
#[tokio::test]
async fn bad_fields_name_their_request_paths() {
    let node = PgNode::start(AuthMode::DevIdentity).await;
    let mut c = node.clients.clone();
    let (tenant, _) = create_tenant(&mut c, pb::Plan::Gold).await;
    let err = c
        .locations
        .create_location(pb::CreateLocationRequest {
            tenant_id: tenant.id.clone(),
            location: Some(pb::Location {
                address: Some(pb::Address {
                    country: "Germany".into(),
                    ..Default::default()
                }),
                website: "ftp://example.test".into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(
        violation_fields(&err),
        ["location.address.country", "location.website"]
    );
    // malformed ids are all reported at once, before the domain's rules
    let err = create_contact(&mut c, &tenant.id, "not-an-id", "nor-this", "not a type!")
        .await
        .unwrap_err();
    assert_eq!(
        violation_fields(&err),
        ["contact.client_id", "contact.location_id"]
    );
    let err = create_contact(&mut c, &tenant.id, "", "", "not a type!")
        .await
        .unwrap_err();
    assert_eq!(violation_fields(&err), ["contact.type"]);
}

/// A business tenant created with an address has its headquarters at once.
#[tokio::test]
async fn a_business_tenant_gets_its_headquarters_from_its_address() {
    let node = PgNode::start(AuthMode::DevIdentity).await;
    let mut c = node.clients.clone();
    let mut request = create_tenant_request("Acme", pb::Plan::Bronze);
    request.business_profile = Some(pb::BusinessProfile {
        address: Some(pb::Address {
            country: "DE".into(),
            ..address("Berlin")
        }),
        ..Default::default()
    });
    let created = c.tenants.create_tenant(request).await.unwrap().into_inner();
    let t = created.tenant.unwrap().id;
    let token = created.result.unwrap().consistency_token;
    let ids = list_locations(&mut c, &t, "tenant", &token).await;
    assert_eq!(ids.len(), 1);
    let hq = c
        .locations
        .get_location(pb::GetRecordRequest {
            tenant_id: t.clone(),
            id: ids[0].clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(hq.headquarters);
    assert_eq!(hq.address.unwrap().country, "DE");
}

/// A user belongs to a client: shown by GetUser and ListUsers, cleared by the client's
/// deletion.
#[tokio::test]
async fn a_user_belongs_to_a_client_until_it_is_deleted() {
    let node = PgNode::start(AuthMode::DevIdentity).await;
    let mut c = node.clients.clone();
    let (tenant, _) = create_tenant(&mut c, pb::Plan::Gold).await;
    let t = tenant.id.as_str();
    let g = grpc_support::create_client(&mut c, t, "Globex").await.id;
    let invited = invite(&mut c, t, "ada@globex.test", "", vec![]).await;
    let user = accept(&mut c, t, &invited.invitation_token).await;
    let set = c
        .users
        .set_user_client(pb::SetUserClientRequest {
            tenant_id: t.into(),
            user_id: user.id.clone(),
            client_id: g.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(set.user.unwrap().client_id, g);
    let listed = c
        .users
        .list_users(pb::ListUsersRequest {
            tenant_id: t.into(),
            consistency_token: set.result.unwrap().consistency_token,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .users;
    let row = listed.iter().find(|u| u.id == user.id).unwrap();
    assert_eq!(row.client_id, g);
    // an unknown client is NOT_FOUND
    let err = c
        .users
        .set_user_client(pb::SetUserClientRequest {
            tenant_id: t.into(),
            user_id: user.id.clone(),
            client_id: uuid::Uuid::now_v7().to_string(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{err:?}");

    c.clients
        .delete_client(pb::DeleteClientRequest {
            tenant_id: t.into(),
            client_id: g.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    let after = c
        .users
        .get_user(pb::GetUserRequest {
            tenant_id: t.into(),
            user_id: user.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(after.client_id, "");
}
