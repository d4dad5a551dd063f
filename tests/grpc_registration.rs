//! Self-registration over gRPC, end to end: a domain is added (pending, with its TXT record),
//! verified through the node's DNS seam (fixed records here: present, absent, wrong) or by a
//! platform admin by hand; one tenant per domain platform-wide, released with the domain;
//! ResolveRegistration and RegisterUser find the tenant by email domain or custom host; the
//! registered person is active with the automatic roles; GetUserClaims follows every write.
//! Needs `ENTITY_TEST_DATABASE_URL`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

#[path = "support/grpc.rs"]
mod grpc_support;

use entity_proto::v1 as pb;
use gateway::AuthMode;
use grpc_support::{Clients, PgNode, create_org, create_tenant, reason};
use tonic::Code;

fn add(tenant: &str, domain: &str) -> pb::AddRegistrationDomainRequest {
    pb::AddRegistrationDomainRequest {
        tenant_id: tenant.into(),
        domain: domain.into(),
        ..Default::default()
    }
}

fn verify(tenant: &str, domain: &str, manual: bool) -> pb::VerifyRegistrationDomainRequest {
    pb::VerifyRegistrationDomainRequest {
        tenant_id: tenant.into(),
        domain: domain.into(),
        manual,
        ..Default::default()
    }
}

fn register(email: &str) -> pb::RegisterUserRequest {
    pb::RegisterUserRequest {
        email: email.into(),
        display_name: "Jo".into(),
        ..Default::default()
    }
}

async fn configure(c: &mut Clients, tenant: &str, roles: Vec<pb::RoleAssignment>, host: &str) {
    c.registration
        .configure_registration(pb::ConfigureRegistrationRequest {
            tenant_id: tenant.into(),
            enabled: true,
            auto_roles: roles,
            custom_host: host.into(),
            ..Default::default()
        })
        .await
        .unwrap();
}

async fn claims_of(c: &mut Clients, tenant: &str, user: &str) -> pb::UserClaims {
    c.users
        .get_user_claims(pb::GetUserClaimsRequest {
            tenant_id: tenant.into(),
            user_id: user.into(),
        })
        .await
        .unwrap()
        .into_inner()
}

fn domain<'a>(settings: &'a pb::RegistrationSettings, name: &str) -> &'a pb::RegistrationDomain {
    settings.domains.iter().find(|d| d.domain == name).unwrap()
}

#[tokio::test]
async fn a_domain_is_verified_by_its_txt_record_and_admits_registrations() {
    let node = PgNode::start(AuthMode::DevIdentity).await;
    let mut c = node.clients.clone();
    let (tenant, _) = create_tenant(&mut c, pb::Plan::Gold).await;
    let sales = create_org(&mut c, &tenant.id, "Sales", "").await;
    let member = pb::RoleAssignment {
        role: "member".into(),
        scope: None,
    };
    let sales_admin = pb::RoleAssignment {
        role: "org-admin".into(),
        scope: Some(pb::Scope {
            kind: pb::ScopeKind::Organization as i32,
            id: sales.id.clone(),
        }),
    };
    configure(
        &mut c,
        &tenant.id,
        vec![member.clone(), sales_admin.clone()],
        "",
    )
    .await;

    // Added: pending, with the record to publish.
    let settings = c
        .registration
        .add_registration_domain(add(&tenant.id, "Acme.Example"))
        .await
        .unwrap()
        .into_inner()
        .settings
        .unwrap();
    let pending = domain(&settings, "acme.example");
    assert_eq!(pending.status, pb::DomainStatus::Pending as i32);
    assert!(
        pending
            .txt_record
            .starts_with("entity-engine-verification=")
    );
    let record = pending.txt_record.clone();

    // Unverified: nobody registers through it.
    let err = c
        .users
        .register_user(register("jo@acme.example"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert_eq!(
        reason(&err),
        "DOMAIN_NOT_ALLOWED",
        "not claimed until verified"
    );
    let err = c
        .users
        .register_user(pb::RegisterUserRequest {
            tenant_id: tenant.id.clone(),
            ..register("jo@acme.example")
        })
        .await
        .unwrap_err();
    assert_eq!(reason(&err), "DOMAIN_NOT_VERIFIED");

    // TXT absent, then wrong: refused, and the message says what was found.
    let err = c
        .registration
        .verify_registration_domain(verify(&tenant.id, "acme.example", false))
        .await
        .unwrap_err();
    assert_eq!(reason(&err), "DOMAIN_VERIFICATION_FAILED");
    assert!(err.message().contains("no TXT record"), "{err:?}");
    node.dns.set(
        "acme.example",
        vec![
            "v=spf1 -all".into(),
            "entity-engine-verification=wrong".into(),
        ],
    );
    let err = c
        .registration
        .verify_registration_domain(verify(&tenant.id, "acme.example", false))
        .await
        .unwrap_err();
    assert_eq!(reason(&err), "DOMAIN_VERIFICATION_FAILED");
    assert!(err.message().contains("another token"), "{err:?}");

    // TXT present: verified.
    node.dns
        .set("acme.example", vec!["v=spf1 -all".into(), record.clone()]);
    let settings = c
        .registration
        .verify_registration_domain(verify(&tenant.id, "acme.example", false))
        .await
        .unwrap()
        .into_inner()
        .settings
        .unwrap();
    let verified = domain(&settings, "acme.example");
    assert_eq!(verified.status, pb::DomainStatus::Verified as i32);
    assert_eq!(
        verified.verification_method,
        pb::VerificationMethod::Dns as i32
    );

    // Resolve: which tenant, and nothing else.
    let resolved = c
        .registration
        .resolve_registration(pb::ResolveRegistrationRequest {
            email: "someone@ACME.example".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        resolved,
        pb::ResolveRegistrationResponse {
            accepted: true,
            tenant_id: tenant.id.clone(),
            tenant_name: tenant.name.clone(),
            reason: String::new(),
        }
    );

    // Register by email alone: active, with the automatic roles at their scopes.
    let jo = c
        .users
        .register_user(register("Jo@acme.example"))
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert_eq!(jo.tenant_id, tenant.id);
    assert_eq!(jo.status, pb::UserStatus::Active as i32);
    assert_eq!(jo.roles.len(), 2);
    let claims = claims_of(&mut c, &tenant.id, &jo.id).await;
    assert_eq!(claims.user_id, jo.id);
    assert_eq!(claims.status, pb::UserStatus::Active as i32);
    assert_eq!(claims.session_expiration_seconds, 28_800);
    assert_eq!(claims.roles.len(), 2);
    assert!(claims.roles.contains(&pb::RoleAssignment {
        role: "member".into(),
        scope: Some(pb::Scope {
            kind: pb::ScopeKind::Tenant as i32,
            id: String::new()
        }),
    }));
    let allowed = c
        .access
        .check_permission(pb::CheckPermissionRequest {
            tenant_id: tenant.id.clone(),
            user_id: jo.id.clone(),
            permission: "organization:update".into(),
            scope: Some(sales_admin.scope.clone().unwrap()),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        allowed.allowed,
        "org-admin of Sales, granted at registration"
    );

    // The same person again: ALREADY_EXISTS; another domain: DOMAIN_NOT_ALLOWED.
    let err = c
        .users
        .register_user(register("JO@acme.example"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists);
    let err = c
        .users
        .register_user(register("jo@elsewhere.example"))
        .await
        .unwrap_err();
    assert_eq!(reason(&err), "DOMAIN_NOT_ALLOWED");

    // Claims follow the tenant's session setting at once.
    c.tenants
        .update_tenant(pb::UpdateTenantRequest {
            tenant_id: tenant.id.clone(),
            tenant: Some(pb::TenantUpdate {
                settings: Some(pb::TenantSettings {
                    session_expiration_seconds: Some(3_600),
                }),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["settings".into()],
            }),
            ..Default::default()
        })
        .await
        .unwrap();
    let claims = claims_of(&mut c, &tenant.id, &jo.id).await;
    assert_eq!(claims.session_expiration_seconds, 3_600);

    // Closed registration: REGISTRATION_DISABLED, and Resolve says so.
    c.registration
        .configure_registration(pb::ConfigureRegistrationRequest {
            tenant_id: tenant.id.clone(),
            enabled: false,
            ..Default::default()
        })
        .await
        .unwrap();
    let err = c
        .users
        .register_user(register("ann@acme.example"))
        .await
        .unwrap_err();
    assert_eq!(reason(&err), "REGISTRATION_DISABLED");
    let resolved = c
        .registration
        .resolve_registration(pb::ResolveRegistrationRequest {
            email: "ann@acme.example".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!resolved.accepted);
    assert_eq!(resolved.reason, "REGISTRATION_DISABLED");
    assert!(resolved.tenant_id.is_empty() && resolved.tenant_name.is_empty());
    node.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_domain_belongs_to_one_tenant_until_released_and_a_host_finds_its_tenant() {
    let node = PgNode::start(AuthMode::DevIdentity).await;
    let mut c = node.clients.clone();
    let (first, _) = create_tenant(&mut c, pb::Plan::Gold).await;
    let (second, _) = create_tenant(&mut c, pb::Plan::Gold).await;
    for tenant in [&first, &second] {
        c.registration
            .add_registration_domain(add(&tenant.id, "shared.example"))
            .await
            .unwrap();
    }
    c.registration
        .verify_registration_domain(verify(&first.id, "shared.example", true))
        .await
        .unwrap();
    let err = c
        .registration
        .verify_registration_domain(verify(&second.id, "shared.example", true))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists, "{err:?}");

    // Consumer mail domains are refused outright.
    let err = c
        .registration
        .add_registration_domain(add(&second.id, "gmail.com"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(grpc_support::violation_fields(&err), ["domain"]);

    // Released by its removal: the second tenant may verify it now.
    c.registration
        .remove_registration_domain(pb::RemoveRegistrationDomainRequest {
            tenant_id: first.id.clone(),
            domain: "shared.example".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    c.registration
        .verify_registration_domain(verify(&second.id, "shared.example", true))
        .await
        .unwrap();

    // A custom host is one tenant's too, and finds it.
    // A custom host is a name under one of the tenant's verified domains (proven, like them),
    // and one tenant's.
    configure(&mut c, &second.id, vec![], "join.shared.example").await;
    let err = c
        .registration
        .configure_registration(pb::ConfigureRegistrationRequest {
            tenant_id: first.id.clone(),
            enabled: true,
            custom_host: "JOIN.shared.example".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(reason(&err), "HOST_NOT_VERIFIED", "{err:?}");
    let resolved = c
        .registration
        .resolve_registration(pb::ResolveRegistrationRequest {
            host: "join.shared.example".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(resolved.tenant_id, second.id);
    let user = c
        .users
        .register_user(pb::RegisterUserRequest {
            host: "join.shared.example".into(),
            ..register("kim@shared.example")
        })
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert_eq!(user.tenant_id, second.id);

    // Deleting the tenant releases its domain and host for others.
    c.tenants
        .delete_tenant(pb::DeleteTenantRequest {
            tenant_id: second.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    c.registration
        .add_registration_domain(add(&first.id, "shared.example"))
        .await
        .unwrap();
    c.registration
        .verify_registration_domain(verify(&first.id, "shared.example", true))
        .await
        .unwrap();
    configure(&mut c, &first.id, vec![], "join.shared.example").await;
    node.server.shutdown().await.unwrap();
}
