//! Customers over the real gRPC API (seed 004's profile boundary): register, read and update a
//! customer by field mask; what a customer shows (its profile, never the owner, plan, products
//! or settings) and that it is its tenant seen through that boundary; idempotent registration;
//! invalid input named field by field and never written; a tenant's caller reaches its own
//! customer only. Needs `ENTITY_TEST_DATABASE_URL`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

#[path = "support/grpc.rs"]
mod grpc_support;

use entity_proto::v1 as pb;
use gateway::AuthMode;
use grpc_support::{
    Clients, PgNode, bearer, claims, expecting, hs256_token, jwt_node, reason, slug,
    violation_fields, with_request_id,
};
use tonic::Code;

fn register_request(name: &str) -> pb::RegisterCustomerRequest {
    let slug = slug("cust");
    pb::RegisterCustomerRequest {
        name: name.into(),
        owner_email: format!("owner@{slug}.test"),
        slug,
        kind: pb::CustomerKind::Business as i32,
        business_profile: Some(pb::BusinessProfile {
            legal_name: format!("{name} Inc."),
            industry_sector: pb::IndustrySector::InformationTechnology as i32,
            address: Some(pb::Address {
                city: "Springfield".into(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn mask(paths: &[&str]) -> Option<prost_types::FieldMask> {
    Some(prost_types::FieldMask {
        paths: paths.iter().map(|p| (*p).to_owned()).collect(),
    })
}

fn get(id: &str, token: &str) -> pb::GetCustomerRequest {
    pb::GetCustomerRequest {
        customer_id: id.into(),
        consistency_token: token.into(),
    }
}

/// An UpdateCustomer request renaming customer `id` to `name`, the mask naming `paths`.
fn update(id: &str, paths: &[&str], name: &str) -> pb::UpdateCustomerRequest {
    pb::UpdateCustomerRequest {
        customer_id: id.into(),
        customer: Some(pb::CustomerUpdate {
            name: name.into(),
            business_profile: None,
        }),
        update_mask: mask(paths),
        ..Default::default()
    }
}

/// Customer `id` as of consistency token `token`.
async fn read_customer(c: &mut Clients, id: &str, token: &str) -> pb::Customer {
    c.customers
        .get_customer(get(id, token))
        .await
        .unwrap()
        .into_inner()
}

/// Tenant `id` as of consistency token `token`.
async fn read_tenant(c: &mut Clients, id: &str, token: &str) -> pb::Tenant {
    c.tenants
        .get_tenant(pb::GetTenantRequest {
            tenant_id: id.into(),
            consistency_token: token.into(),
        })
        .await
        .unwrap()
        .into_inner()
}

async fn register(c: &mut Clients, name: &str) -> pb::CustomerResponse {
    c.customers
        .register_customer(register_request(name))
        .await
        .expect("register customer")
        .into_inner()
}

#[tokio::test]
async fn a_customer_is_registered_read_and_updated_through_its_profile() {
    let node = PgNode::start(AuthMode::DevIdentity).await;
    let mut c = node.clients.clone();
    let request = pb::RegisterCustomerRequest {
        options: with_request_id("register-acme"),
        ..register_request("Acme")
    };
    let registered = c
        .customers
        .register_customer(request.clone())
        .await
        .unwrap()
        .into_inner();
    let customer = registered.customer.clone().unwrap();
    let result = registered.result.clone().unwrap();
    assert!(!result.replayed);
    assert!(result.consistency_token.starts_with("ct1."));
    assert_eq!(
        (customer.name.as_str(), customer.slug.as_str()),
        ("Acme", request.slug.as_str())
    );
    assert_eq!(customer.kind, pb::CustomerKind::Business as i32);
    assert_eq!(customer.status, pb::CustomerStatus::Active as i32);
    let profile = customer.business_profile.clone().unwrap();
    assert_eq!(profile.legal_name, "Acme Inc.");
    assert_eq!(
        profile.address.unwrap().country,
        "US",
        "defaults as for tenants"
    );
    assert_eq!(customer.version, result.version);
    assert!(customer.create_time.is_some() && customer.update_time.is_some());
    assert!(
        !format!("{registered:?}").contains(&request.owner_email),
        "the owner is identity's, not the profile's: {registered:?}"
    );

    // the same request id: the first answer, nothing written
    let events = node.events().await.len();
    let replay = c
        .customers
        .register_customer(request.clone())
        .await
        .unwrap()
        .into_inner();
    assert!(replay.result.unwrap().replayed);
    assert_eq!(replay.customer.unwrap().id, customer.id);
    assert_eq!(node.events().await.len(), events);

    // it is the tenant, through the profile boundary; onboarding invited the owner
    let tenant = read_tenant(&mut c, &customer.id, "").await;
    assert_eq!(
        (tenant.name.as_str(), tenant.slug.as_str()),
        ("Acme", customer.slug.as_str())
    );
    assert_eq!(tenant.plan, pb::Plan::Bronze as i32);
    assert_eq!(tenant.onboarding.unwrap().owner_email, request.owner_email);

    let read = read_customer(&mut c, &customer.id, &result.consistency_token).await;
    assert_eq!(read.name, "Acme");
    assert_eq!(read.business_profile, customer.business_profile);
    assert!(
        read.version >= customer.version,
        "onboarding may have moved on"
    );

    // rename only: the mask leaves the profile alone
    let renamed = c
        .customers
        .update_customer(update(&customer.id, &["name"], "Acme Corporation"))
        .await
        .unwrap()
        .into_inner();
    let after = renamed.customer.unwrap();
    assert_eq!(after.name, "Acme Corporation");
    assert_eq!(after.business_profile, read.business_profile);
    assert_eq!(after.version, read.version + 1);

    // a new profile, with the expected version
    let new_profile = pb::BusinessProfile {
        legal_name: "Acme Corporation".into(),
        size_range: pb::SizeRange::SizeRange51200 as i32,
        ..Default::default()
    };
    let profile_update = |change| pb::UpdateCustomerRequest {
        options: expecting(after.version),
        customer_id: customer.id.clone(),
        customer: Some(change),
        update_mask: mask(&["business_profile"]),
    };
    let updated = c
        .customers
        .update_customer(profile_update(pb::CustomerUpdate {
            name: "ignored: not in the mask".into(),
            business_profile: Some(new_profile.clone()),
        }))
        .await
        .unwrap()
        .into_inner();
    let token = updated.result.unwrap().consistency_token;
    let read = read_customer(&mut c, &customer.id, &token).await;
    assert_eq!(read.name, "Acme Corporation");
    let profile = read.business_profile.unwrap();
    assert_eq!(
        (profile.legal_name.as_str(), profile.size_range()),
        ("Acme Corporation", pb::SizeRange::SizeRange51200)
    );

    // a stale version is refused
    let stale = c
        .customers
        .update_customer(profile_update(pb::CustomerUpdate::default()))
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::Aborted, "{stale:?}");

    // the update is the tenant's too, and the tenant's own fields are untouched
    let tenant = read_tenant(&mut c, &customer.id, &token).await;
    assert_eq!(tenant.name, "Acme Corporation");
    assert_eq!(
        tenant.business_profile.unwrap().size_range(),
        pb::SizeRange::SizeRange51200
    );
    assert_eq!(tenant.plan, pb::Plan::Bronze as i32);
    node.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn invalid_customer_requests_name_their_fields_and_write_nothing() {
    let node = PgNode::start(AuthMode::DevIdentity).await;
    let mut c = node.clients.clone();
    let existing = register(&mut c, "Initech").await.customer.unwrap();
    let before = node.events().await.len();
    let unknown = uuid::Uuid::now_v7().to_string();

    let invalid = [
        (
            "register: unspecified kind, no owner",
            pb::RegisterCustomerRequest {
                kind: 0,
                owner_email: String::new(),
                ..register_request("Acme")
            },
            vec!["kind", "owner_email"],
        ),
        (
            "register: unknown kind",
            pb::RegisterCustomerRequest {
                kind: 42,
                ..register_request("Acme")
            },
            vec!["kind"],
        ),
        (
            "register: empty name, bad slug",
            pb::RegisterCustomerRequest {
                slug: "Not A Slug!".into(),
                ..register_request("")
            },
            vec!["name", "slug"],
        ),
        (
            "register: bad logo URL and country",
            pb::RegisterCustomerRequest {
                business_profile: Some(pb::BusinessProfile {
                    logo_url: "javascript:alert(1)".into(),
                    address: Some(pb::Address {
                        country: "usa".into(),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..register_request("Acme")
            },
            vec![
                "business_profile.logo_url",
                "business_profile.address.country",
            ],
        ),
        (
            "register: the taken slug of another customer",
            pb::RegisterCustomerRequest {
                slug: existing.slug.clone(),
                ..register_request("Copycat")
            },
            vec![],
        ),
    ];
    for (label, request, fields) in invalid {
        let err = c
            .customers
            .register_customer(request)
            .await
            .expect_err(label);
        if fields.is_empty() {
            assert_eq!(err.code(), Code::AlreadyExists, "{label}: {err:?}");
            continue;
        }
        assert_eq!(err.code(), Code::InvalidArgument, "{label}: {err:?}");
        let got = violation_fields(&err);
        for f in fields {
            assert!(got.iter().any(|g| g == f), "{label}: {f} not in {got:?}");
        }
    }

    let id = existing.id.as_str();
    for (label, request, fields) in [
        ("update: no mask", update(id, &[], "X"), vec!["update_mask"]),
        (
            "update: a tenant-only path",
            update(id, &["products"], "X"),
            vec!["update_mask"],
        ),
        (
            "update: malformed id, slug path",
            update("nope", &["slug"], "X"),
            vec!["customer_id", "update_mask"],
        ),
        (
            "update: empty name",
            update(id, &["name"], "  "),
            vec!["customer.name"],
        ),
    ] {
        let err = c.customers.update_customer(request).await.expect_err(label);
        assert_eq!(err.code(), Code::InvalidArgument, "{label}: {err:?}");
        assert_eq!(violation_fields(&err), fields, "{label}");
    }
    let err = c
        .customers
        .update_customer(update(&unknown, &["name"], "X"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{err:?}");

    let err = c.customers.get_customer(get("123", "")).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(violation_fields(&err), ["customer_id"]);
    let err = c
        .customers
        .get_customer(get(id, "not-a-token"))
        .await
        .unwrap_err();
    assert_eq!(violation_fields(&err), ["consistency_token"]);
    let err = c
        .customers
        .get_customer(get(&unknown, ""))
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), reason(&err).as_str()),
        (Code::NotFound, "NOT_FOUND")
    );

    assert_eq!(node.events().await.len(), before, "nothing was written");
    node.server.shutdown().await.unwrap();
}

/// The owner of customer A (a tenant-scoped caller) reads and updates A, is refused B and
/// cannot register customers (platform admins only).
#[tokio::test]
async fn a_tenant_caller_reaches_only_its_own_customer() {
    let node = jwt_node().await;
    let mut c = node.clients.clone();
    let a = register(&mut c, "Alpha").await.customer.unwrap();
    let b = register(&mut c, "Beta").await.customer.unwrap();

    // the owner's invitation is identity's: a platform admin issues a token for it
    let tenant = read_tenant(&mut c, &a.id, "").await;
    let owner_id = tenant.onboarding.unwrap().owner_user_id;
    let invitation = c
        .users
        .resend_invitation(pb::ResendInvitationRequest {
            tenant_id: a.id.clone(),
            user_id: owner_id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    grpc_support::accept(&mut c, &a.id, &invitation.invitation_token).await;
    let owner = hs256_token(&claims(&owner_id, Some(&a.id)));

    let own = c
        .customers
        .get_customer(bearer(get(&a.id, ""), &owner))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(own.name, "Alpha");
    let rename = |id: &str| update(id, &["name"], "Renamed");
    c.customers
        .update_customer(bearer(rename(&a.id), &owner))
        .await
        .unwrap();

    let before = node.events().await.len();
    let err = c
        .customers
        .get_customer(bearer(get(&b.id, ""), &owner))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    let err = c
        .customers
        .update_customer(bearer(rename(&b.id), &owner))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    let err = c
        .customers
        .register_customer(bearer(register_request("Gamma"), &owner))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    assert_eq!(node.events().await.len(), before, "nothing was written");

    let b_now = read_customer(&mut c, &b.id, "").await;
    assert_eq!(b_now.name, "Beta");
    node.server.shutdown().await.unwrap();
}
