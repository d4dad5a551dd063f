//! Bad input never reaches the journal: every malformed, oversized or unknown-target request
//! is refused with INVALID_ARGUMENT (naming the right field) or NOT_FOUND, and the journal is
//! exactly the same afterwards. Also: with authentication unconfigured, every RPC is
//! UNAUTHENTICATED and nothing is written. Needs `ENTITY_TEST_DATABASE_URL`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

#[path = "support/grpc.rs"]
mod grpc_support;

use std::{future::Future, pin::Pin};

use chrono::Utc;
use entity_proto::v1 as pb;
use gateway::AuthMode;
use grpc_support::{Clients, PgNode, create_org, create_tenant, violation_fields};
use tonic::{Code, Status};

type Call = Pin<Box<dyn Future<Output = Result<(), Status>> + Send>>;

/// What a case must be answered with.
enum Expect {
    /// INVALID_ARGUMENT whose violations include these fields.
    Invalid(&'static [&'static str]),
    /// NOT_FOUND.
    NotFound,
    /// Refused by the message size limit.
    TooLarge,
}

struct Case {
    label: &'static str,
    call: Call,
    expect: Expect,
}

fn mask(paths: &[&str]) -> Option<prost_types::FieldMask> {
    Some(prost_types::FieldMask {
        paths: paths.iter().map(|p| p.to_string()).collect(),
    })
}

fn opts(request_id: &str, expected_version: Option<i64>) -> Option<pb::MutationOptions> {
    Some(pb::MutationOptions {
        request_id: request_id.into(),
        expected_version,
    })
}

fn ts(t: chrono::DateTime<Utc>) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: 0,
    })
}

macro_rules! call {
    ($client:expr, $method:ident, $request:expr) => {{
        let mut client = $client.clone();
        let request = $request;
        Box::pin(async move { client.$method(request).await.map(|_| ()) }) as Call
    }};
}

fn cases(c: &Clients, tenant: &str, org: &str) -> Vec<Case> {
    let unknown = uuid::Uuid::now_v7().to_string();
    let t = tenant.to_owned();
    let o = org.to_owned();
    let create = |name: &str, slug: &str| pb::CreateTenantRequest {
        name: name.into(),
        slug: slug.into(),
        kind: pb::TenantKind::Business as i32,
        ..Default::default()
    };
    let huge = "x".repeat(10_000);
    let two_mib = "y".repeat(2 * 1024 * 1024);
    vec![
        // tenants
        Case {
            label: "create tenant: empty name",
            call: call!(c.tenants, create_tenant, create("", "valid-slug-1")),
            expect: Expect::Invalid(&["name"]),
        },
        Case {
            label: "create tenant: bad slug",
            call: call!(c.tenants, create_tenant, create("Acme", "Not A Slug!")),
            expect: Expect::Invalid(&["slug"]),
        },
        Case {
            label: "create tenant: short slug",
            call: call!(c.tenants, create_tenant, create("Acme", "ab")),
            expect: Expect::Invalid(&["slug"]),
        },
        Case {
            label: "create tenant: 10,000-char name",
            call: call!(c.tenants, create_tenant, create(&huge, "valid-slug-2")),
            expect: Expect::Invalid(&["name"]),
        },
        Case {
            label: "create tenant: kind unspecified, unknown plan",
            call: call!(
                c.tenants,
                create_tenant,
                pb::CreateTenantRequest {
                    kind: 0,
                    plan: 99,
                    ..create("Acme", "valid-slug-3")
                }
            ),
            expect: Expect::Invalid(&["kind", "plan"]),
        },
        Case {
            label: "create tenant: non-ASCII request id",
            call: call!(
                c.tenants,
                create_tenant,
                pb::CreateTenantRequest {
                    options: opts("clé", None),
                    ..create("Acme", "valid-slug-4")
                }
            ),
            expect: Expect::Invalid(&["options.request_id"]),
        },
        Case {
            label: "create tenant: 129-char request id, negative expected version",
            call: call!(
                c.tenants,
                create_tenant,
                pb::CreateTenantRequest {
                    options: opts(&"r".repeat(129), Some(-1)),
                    ..create("Acme", "valid-slug-5")
                }
            ),
            expect: Expect::Invalid(&["options.request_id", "options.expected_version"]),
        },
        Case {
            label: "create tenant: 2 MiB request",
            call: call!(c.tenants, create_tenant, create(&two_mib, "valid-slug-6")),
            expect: Expect::TooLarge,
        },
        Case {
            label: "get tenant: malformed id",
            call: call!(
                c.tenants,
                get_tenant,
                pb::GetTenantRequest {
                    tenant_id: "1234".into(),
                    consistency_token: String::new()
                }
            ),
            expect: Expect::Invalid(&["tenant_id"]),
        },
        Case {
            label: "get tenant: bad consistency token",
            call: call!(
                c.tenants,
                get_tenant,
                pb::GetTenantRequest {
                    tenant_id: t.clone(),
                    consistency_token: "ct9.x".into()
                }
            ),
            expect: Expect::Invalid(&["consistency_token"]),
        },
        Case {
            label: "get tenant: unknown id",
            call: call!(
                c.tenants,
                get_tenant,
                pb::GetTenantRequest {
                    tenant_id: unknown.clone(),
                    consistency_token: String::new()
                }
            ),
            expect: Expect::NotFound,
        },
        Case {
            label: "update tenant: no mask",
            call: call!(
                c.tenants,
                update_tenant,
                pb::UpdateTenantRequest {
                    tenant_id: t.clone(),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["update_mask"]),
        },
        Case {
            label: "update tenant: unknown mask path",
            call: call!(
                c.tenants,
                update_tenant,
                pb::UpdateTenantRequest {
                    tenant_id: t.clone(),
                    update_mask: mask(&["slug"]),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["update_mask"]),
        },
        Case {
            label: "update tenant: empty name",
            call: call!(
                c.tenants,
                update_tenant,
                pb::UpdateTenantRequest {
                    tenant_id: t.clone(),
                    tenant: Some(pb::TenantUpdate::default()),
                    update_mask: mask(&["name"]),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["tenant.name"]),
        },
        Case {
            label: "update tenant: unknown tenant",
            call: call!(
                c.tenants,
                update_tenant,
                pb::UpdateTenantRequest {
                    tenant_id: unknown.clone(),
                    tenant: Some(pb::TenantUpdate {
                        name: "X".into(),
                        ..Default::default()
                    }),
                    update_mask: mask(&["name"]),
                    ..Default::default()
                }
            ),
            expect: Expect::NotFound,
        },
        Case {
            label: "change plan: unspecified",
            call: call!(
                c.tenants,
                change_plan,
                pb::ChangePlanRequest {
                    tenant_id: t.clone(),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["plan"]),
        },
        Case {
            label: "suspend: empty reason",
            call: call!(
                c.tenants,
                suspend_tenant,
                pb::SuspendTenantRequest {
                    tenant_id: t.clone(),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["reason"]),
        },
        Case {
            label: "suspend: unknown tenant",
            call: call!(
                c.tenants,
                suspend_tenant,
                pb::SuspendTenantRequest {
                    tenant_id: unknown.clone(),
                    reason: "r".into(),
                    ..Default::default()
                }
            ),
            expect: Expect::NotFound,
        },
        Case {
            label: "deactivate: no grace period",
            call: call!(
                c.tenants,
                deactivate_tenant,
                pb::DeactivateTenantRequest {
                    tenant_id: t.clone(),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["grace_period_ends_at"]),
        },
        Case {
            label: "deactivate: grace period in the past",
            call: call!(
                c.tenants,
                deactivate_tenant,
                pb::DeactivateTenantRequest {
                    tenant_id: t.clone(),
                    grace_period_ends_at: ts(Utc::now() - chrono::Duration::days(1)),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["grace_period_ends_at"]),
        },
        Case {
            label: "deactivate: score above 10",
            call: call!(
                c.tenants,
                deactivate_tenant,
                pb::DeactivateTenantRequest {
                    tenant_id: t.clone(),
                    grace_period_ends_at: ts(Utc::now() + chrono::Duration::days(10)),
                    feedback: Some(pb::DeactivationFeedback {
                        recommendation_score: Some(11),
                        ..Default::default()
                    }),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["feedback.recommendation_score"]),
        },
        Case {
            label: "delete tenant: malformed id",
            call: call!(
                c.tenants,
                delete_tenant,
                pb::DeleteTenantRequest {
                    tenant_id: "nope".into(),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["tenant_id"]),
        },
        // organizations
        Case {
            label: "create org: empty name",
            call: call!(
                c.orgs,
                create_organization,
                pb::CreateOrganizationRequest {
                    tenant_id: t.clone(),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["name"]),
        },
        Case {
            label: "create org: 10,000-char name",
            call: call!(
                c.orgs,
                create_organization,
                pb::CreateOrganizationRequest {
                    tenant_id: t.clone(),
                    name: huge.clone(),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["name"]),
        },
        Case {
            label: "create org: malformed tenant and parent",
            call: call!(
                c.orgs,
                create_organization,
                pb::CreateOrganizationRequest {
                    tenant_id: "t".into(),
                    name: "N".into(),
                    parent_id: "p".into(),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["tenant_id", "parent_id"]),
        },
        Case {
            label: "create org: unknown parent",
            call: call!(
                c.orgs,
                create_organization,
                pb::CreateOrganizationRequest {
                    tenant_id: t.clone(),
                    name: "N".into(),
                    parent_id: unknown.clone(),
                    ..Default::default()
                }
            ),
            expect: Expect::NotFound,
        },
        Case {
            label: "create org: unknown tenant",
            call: call!(
                c.orgs,
                create_organization,
                pb::CreateOrganizationRequest {
                    tenant_id: unknown.clone(),
                    name: "N".into(),
                    ..Default::default()
                }
            ),
            expect: Expect::NotFound,
        },
        Case {
            label: "get org: malformed id",
            call: call!(
                c.orgs,
                get_organization,
                pb::GetOrganizationRequest {
                    tenant_id: t.clone(),
                    organization_id: "o".into(),
                    consistency_token: String::new(),
                }
            ),
            expect: Expect::Invalid(&["organization_id"]),
        },
        Case {
            label: "get org: unknown id",
            call: call!(
                c.orgs,
                get_organization,
                pb::GetOrganizationRequest {
                    tenant_id: t.clone(),
                    organization_id: unknown.clone(),
                    consistency_token: String::new(),
                }
            ),
            expect: Expect::NotFound,
        },
        Case {
            label: "update org: empty name",
            call: call!(
                c.orgs,
                update_organization,
                pb::UpdateOrganizationRequest {
                    tenant_id: t.clone(),
                    organization_id: o.clone(),
                    organization: Some(pb::OrganizationUpdate::default()),
                    update_mask: mask(&["name"]),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["organization.name"]),
        },
        Case {
            label: "update org: bad mask",
            call: call!(
                c.orgs,
                update_organization,
                pb::UpdateOrganizationRequest {
                    tenant_id: t.clone(),
                    organization_id: o.clone(),
                    update_mask: mask(&["parent_id"]),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["update_mask"]),
        },
        Case {
            label: "move org: malformed new parent",
            call: call!(
                c.orgs,
                move_organization,
                pb::MoveOrganizationRequest {
                    tenant_id: t.clone(),
                    organization_id: o.clone(),
                    new_parent_id: "zz".into(),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["new_parent_id"]),
        },
        Case {
            label: "move org: unknown new parent",
            call: call!(
                c.orgs,
                move_organization,
                pb::MoveOrganizationRequest {
                    tenant_id: t.clone(),
                    organization_id: o.clone(),
                    new_parent_id: unknown.clone(),
                    ..Default::default()
                }
            ),
            expect: Expect::NotFound,
        },
        Case {
            label: "delete org: unknown id",
            call: call!(
                c.orgs,
                delete_organization,
                pb::DeleteOrganizationRequest {
                    tenant_id: t.clone(),
                    organization_id: unknown.clone(),
                    ..Default::default()
                }
            ),
            expect: Expect::NotFound,
        },
        Case {
            label: "list orgs: negative page size, tampered token",
            call: call!(
                c.orgs,
                list_organizations,
                pb::ListOrganizationsRequest {
                    tenant_id: t.clone(),
                    page_size: -3,
                    page_token: "00ff".into(),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["page_size", "page_token"]),
        },
        Case {
            label: "list orgs: bad consistency token",
            call: call!(
                c.orgs,
                list_organizations,
                pb::ListOrganizationsRequest {
                    tenant_id: t.clone(),
                    consistency_token: "not-a-token".into(),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["consistency_token"]),
        },
    ]
}

#[tokio::test]
async fn bad_input_is_refused_and_never_reaches_the_journal() {
    let node = PgNode::start(AuthMode::DevIdentity).await;
    let mut c = node.clients.clone();
    let (tenant, _) = create_tenant(&mut c, pb::Plan::Gold).await;
    let org = create_org(&mut c, &tenant.id, "Sales", "").await;
    let before = node.events().await;

    let mut failures = Vec::new();
    for case in cases(&c, &tenant.id, &org.id) {
        let outcome = case.call.await;
        match &outcome {
            Ok(()) => println!("{}: accepted", case.label),
            Err(s) => println!("{}: {:?} {:?}", case.label, s.code(), violation_fields(s)),
        }
        let problem = match (&case.expect, outcome) {
            (_, Ok(())) => Some("accepted".to_owned()),
            (Expect::Invalid(fields), Err(s)) => {
                let got = violation_fields(&s);
                (s.code() != Code::InvalidArgument
                    || fields.iter().any(|f| !got.iter().any(|g| g == f)))
                .then(|| format!("{:?} {:?} fields {got:?}", s.code(), s.message()))
            }
            (Expect::NotFound, Err(s)) => {
                (s.code() != Code::NotFound).then(|| format!("{:?} {:?}", s.code(), s.message()))
            }
            (Expect::TooLarge, Err(s)) => {
                (!matches!(s.code(), Code::ResourceExhausted | Code::InvalidArgument))
                    .then(|| format!("{:?} {:?}", s.code(), s.message()))
            }
        };
        if let Some(p) = problem {
            failures.push(format!("{}: {p}", case.label));
        }
    }
    assert!(
        failures.is_empty(),
        "unexpected answers:\n{}",
        failures.join("\n")
    );
    assert_eq!(node.events().await, before, "the journal changed");

    // the node is still fine
    let got = c
        .tenants
        .get_tenant(pb::GetTenantRequest {
            tenant_id: tenant.id.clone(),
            consistency_token: String::new(),
        })
        .await
        .unwrap();
    assert_eq!(got.into_inner().version, 1);
}

#[tokio::test]
async fn unconfigured_auth_refuses_every_rpc() {
    let node = PgNode::start(AuthMode::Unconfigured).await;
    let c = node.clients.clone();
    let t = uuid::Uuid::now_v7().to_string();
    let calls: Vec<(&str, Call)> = vec![
        (
            "CreateTenant",
            call!(
                c.tenants,
                create_tenant,
                grpc_support::create_tenant_request("A", pb::Plan::Gold)
            ),
        ),
        (
            "GetTenant",
            call!(
                c.tenants,
                get_tenant,
                pb::GetTenantRequest {
                    tenant_id: t.clone(),
                    ..Default::default()
                }
            ),
        ),
        (
            "ListTenants",
            call!(c.tenants, list_tenants, pb::ListTenantsRequest::default()),
        ),
        (
            "UpdateTenant",
            call!(
                c.tenants,
                update_tenant,
                pb::UpdateTenantRequest {
                    tenant_id: t.clone(),
                    update_mask: mask(&["name"]),
                    ..Default::default()
                }
            ),
        ),
        (
            "ChangePlan",
            call!(
                c.tenants,
                change_plan,
                pb::ChangePlanRequest {
                    tenant_id: t.clone(),
                    plan: 2,
                    ..Default::default()
                }
            ),
        ),
        (
            "SuspendTenant",
            call!(
                c.tenants,
                suspend_tenant,
                pb::SuspendTenantRequest {
                    tenant_id: t.clone(),
                    reason: "r".into(),
                    ..Default::default()
                }
            ),
        ),
        (
            "ReactivateTenant",
            call!(
                c.tenants,
                reactivate_tenant,
                pb::ReactivateTenantRequest {
                    tenant_id: t.clone(),
                    ..Default::default()
                }
            ),
        ),
        (
            "DeactivateTenant",
            call!(
                c.tenants,
                deactivate_tenant,
                pb::DeactivateTenantRequest {
                    tenant_id: t.clone(),
                    grace_period_ends_at: ts(Utc::now() + chrono::Duration::days(3)),
                    ..Default::default()
                }
            ),
        ),
        (
            "DeleteTenant",
            call!(
                c.tenants,
                delete_tenant,
                pb::DeleteTenantRequest {
                    tenant_id: t.clone(),
                    ..Default::default()
                }
            ),
        ),
        (
            "CreateOrganization",
            call!(
                c.orgs,
                create_organization,
                pb::CreateOrganizationRequest {
                    tenant_id: t.clone(),
                    name: "N".into(),
                    ..Default::default()
                }
            ),
        ),
        (
            "GetOrganization",
            call!(
                c.orgs,
                get_organization,
                pb::GetOrganizationRequest {
                    tenant_id: t.clone(),
                    organization_id: t.clone(),
                    ..Default::default()
                }
            ),
        ),
        (
            "ListOrganizations",
            call!(
                c.orgs,
                list_organizations,
                pb::ListOrganizationsRequest {
                    tenant_id: t.clone(),
                    ..Default::default()
                }
            ),
        ),
        (
            "UpdateOrganization",
            call!(
                c.orgs,
                update_organization,
                pb::UpdateOrganizationRequest {
                    tenant_id: t.clone(),
                    organization_id: t.clone(),
                    update_mask: mask(&["name"]),
                    ..Default::default()
                }
            ),
        ),
        (
            "MoveOrganization",
            call!(
                c.orgs,
                move_organization,
                pb::MoveOrganizationRequest {
                    tenant_id: t.clone(),
                    organization_id: t.clone(),
                    ..Default::default()
                }
            ),
        ),
        (
            "DeleteOrganization",
            call!(
                c.orgs,
                delete_organization,
                pb::DeleteOrganizationRequest {
                    tenant_id: t.clone(),
                    organization_id: t.clone(),
                    ..Default::default()
                }
            ),
        ),
    ];
    for (rpc, call) in calls {
        let err = call.await.expect_err(rpc);
        assert_eq!(err.code(), Code::Unauthenticated, "{rpc}: {err:?}");
        assert!(
            err.message().contains("not configured"),
            "{rpc}: {}",
            err.message()
        );
    }
    assert!(node.events().await.is_empty(), "nothing written");
}
