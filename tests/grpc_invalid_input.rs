//! Bad input never reaches the journal: every malformed, oversized or unknown-target request
//! is refused with INVALID_ARGUMENT (naming the right field) or NOT_FOUND, and the journal is
//! exactly the same afterwards. Also: with authentication unconfigured, every RPC of every
//! service is UNAUTHENTICATED and nothing is written. Needs `ENTITY_TEST_DATABASE_URL`.
//!
//! The case tables of the newer services live in `grpc_invalid_input/`; the list of every RPC
//! in `grpc_invalid_input/every_rpc.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

#[path = "support/grpc.rs"]
mod grpc_support;

use std::{future::Future, pin::Pin};

use chrono::Utc;
use entity_proto::v1 as pb;
use gateway::AuthMode;
use grpc_support::{Clients, Fixtures, PgNode, violation_fields};
use tonic::{Code, Status};
use tonic_types::StatusExt;

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

#[path = "grpc_invalid_input/analytics.rs"]
mod analytics;
#[path = "grpc_invalid_input/classification.rs"]
mod classification;
#[path = "grpc_invalid_input/client.rs"]
mod client;
#[path = "grpc_invalid_input/customer.rs"]
mod customer;
#[path = "grpc_invalid_input/every_rpc.rs"]
mod every_rpc;
#[path = "grpc_invalid_input/reads.rs"]
mod reads;
#[path = "grpc_invalid_input/registration.rs"]
mod registration;
#[path = "grpc_invalid_input/role_access.rs"]
mod role_access;
#[path = "grpc_invalid_input/team.rs"]
mod team;
#[path = "grpc_invalid_input/user.rs"]
mod user;

fn cases(c: &Clients, f: &Fixtures) -> Vec<Case> {
    let mut all = tenant_and_organization_cases(c, &f.tenant, &f.org);
    all.extend(team::cases(c, f));
    all.extend(user::cases(c, f));
    all.extend(role_access::cases(c, f));
    all.extend(reads::cases(c, f));
    all.extend(client::cases(c, f));
    all.extend(classification::cases(c, f));
    all.extend(customer::cases(c, f));
    all.extend(registration::cases(c, f));
    all.extend(analytics::cases(c, f));
    all
}

fn tenant_and_organization_cases(c: &Clients, tenant: &str, org: &str) -> Vec<Case> {
    let unknown = uuid::Uuid::now_v7().to_string();
    let t = tenant.to_owned();
    let o = org.to_owned();
    let create = |name: &str, slug: &str| pb::CreateTenantRequest {
        name: name.into(),
        slug: slug.into(),
        kind: pb::TenantKind::Business as i32,
        owner_email: "owner@example.com".into(),
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
            label: "create tenant: no owner email",
            call: call!(
                c.tenants,
                create_tenant,
                pb::CreateTenantRequest {
                    owner_email: String::new(),
                    ..create("Acme", "valid-slug-7")
                }
            ),
            expect: Expect::Invalid(&["owner_email"]),
        },
        Case {
            label: "create tenant: malformed owner email",
            call: call!(
                c.tenants,
                create_tenant,
                pb::CreateTenantRequest {
                    owner_email: "owner at example".into(),
                    ..create("Acme", "valid-slug-8")
                }
            ),
            expect: Expect::Invalid(&["owner_email"]),
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
        Case {
            label: "erase tenant: malformed id",
            call: call!(
                c.tenants,
                erase_tenant,
                pb::EraseTenantRequest {
                    tenant_id: "nope".into(),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["tenant_id"]),
        },
        Case {
            label: "erase tenant: unknown tenant",
            call: call!(
                c.tenants,
                erase_tenant,
                pb::EraseTenantRequest {
                    tenant_id: unknown.clone(),
                    ..Default::default()
                }
            ),
            expect: Expect::NotFound,
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

/// What is wrong with a NOT_FOUND answer, if anything: the code, the stable reason
/// `NOT_FOUND` in `ErrorInfo` (with the resource kind) and a `ResourceInfo` naming the same
/// resource and id.
fn not_found_problem(s: &Status) -> Option<String> {
    const KINDS: [&str; 9] = [
        "tenant",
        "client",
        "organization",
        "team",
        "user",
        "role",
        "invitation",
        "projection",
        "registration_domain",
    ];
    let seen = || {
        format!(
            "{:?} {:?} {:?}",
            s.code(),
            s.message(),
            s.get_error_details()
        )
    };
    if s.code() != Code::NotFound {
        return Some(seen());
    }
    let Some(info) = s.get_details_error_info() else {
        return Some(format!("no ErrorInfo: {}", seen()));
    };
    if info.reason != "NOT_FOUND" {
        return Some(format!("reason {:?}: {}", info.reason, seen()));
    }
    let resource = info.metadata.get("resource").map(String::as_str);
    if !resource.is_some_and(|r| KINDS.contains(&r)) {
        return Some(format!("ErrorInfo resource {resource:?}: {}", seen()));
    }
    let Some(ri) = s.get_details_resource_info() else {
        return Some(format!("no ResourceInfo: {}", seen()));
    };
    let id = info.metadata.get("id").cloned().unwrap_or_default();
    (Some(ri.resource_type.as_str()) != resource
        || ri.resource_name != id
        || ri.description != "not found")
        .then(|| format!("ResourceInfo {ri:?} vs ErrorInfo {info:?}"))
}

#[tokio::test]
async fn bad_input_is_refused_and_never_reaches_the_journal() {
    let node = PgNode::start(AuthMode::DevIdentity).await;
    let mut c = node.clients.clone();
    let fixtures = Fixtures::create(&mut c).await;
    let before = node.events().await;

    let mut failures = Vec::new();
    for case in cases(&c, &fixtures) {
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
            (Expect::NotFound, Err(s)) => not_found_problem(&s),
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
            tenant_id: fixtures.tenant.clone(),
            consistency_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.status, pb::TenantStatus::Active as i32);
}

#[tokio::test]
async fn unconfigured_auth_refuses_every_rpc() {
    let node = PgNode::start(AuthMode::Unconfigured).await;
    let calls = every_rpc::calls(&node.clients);

    // the list covers exactly the RPCs of the compiled contract
    let mut called: Vec<String> = calls.iter().map(|(name, _)| name.to_string()).collect();
    let mut contract: Vec<String> = entity_proto::rpc_methods()
        .unwrap()
        .into_iter()
        .map(|(service, method)| format!("{}/{method}", service.trim_start_matches("entity.v1.")))
        .collect();
    called.sort();
    contract.sort();
    assert_eq!(called, contract, "every RPC of every service is called");

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
