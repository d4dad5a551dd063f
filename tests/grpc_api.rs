//! The gRPC API end to end: a real server on 127.0.0.1:0 over an engine on PostgreSQL, driven
//! by real tonic clients with the dev identity. Needs `ENTITY_TEST_DATABASE_URL`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

#[path = "support/grpc.rs"]
mod grpc_support;

use std::time::Duration;

use chrono::Utc;
use engine::journal::CommitToken;
use entity_proto::v1 as pb;
use futures::StreamExt;
use gateway::AuthMode;
use grpc_support::{
    PgNode, create_org, create_tenant, expecting, reason, violation_fields, with_request_id,
};
use tonic::Code;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

fn grace(days: i64) -> Option<prost_types::Timestamp> {
    let t = Utc::now() + chrono::Duration::days(days);
    Some(prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: 0,
    })
}

#[tokio::test]
async fn tenant_lifecycle() {
    let node = PgNode::start(AuthMode::DevIdentity).await;
    let mut c = node.clients.clone();

    // create: the onboarding saga (default organization, owner invitation) ran before the
    // answer, so the tenant's version counts its events too
    let (tenant, result) = create_tenant(&mut c, pb::Plan::Unspecified).await;
    assert_eq!(result.version, tenant.version);
    assert!(result.version >= 1);
    assert!(!result.replayed);
    let onboarding = tenant.onboarding.clone().expect("onboarding recorded");
    assert!(onboarding.completed, "{onboarding:?}");
    assert!(onboarding.owner_email.starts_with("owner@"));
    assert_eq!(
        tenant.plan,
        pb::Plan::Bronze as i32,
        "UNSPECIFIED plan defaults to bronze"
    );
    assert_eq!(tenant.status, pb::TenantStatus::Active as i32);
    assert_eq!(
        uuid::Uuid::parse_str(&tenant.id).unwrap().get_version_num(),
        7
    );
    let id = tenant.id.clone();

    // get
    let got = c
        .tenants
        .get_tenant(pb::GetTenantRequest {
            tenant_id: id.clone(),
            consistency_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got, tenant);

    // update with a mask: only the masked fields change
    let updated = c
        .tenants
        .update_tenant(pb::UpdateTenantRequest {
            tenant_id: id.clone(),
            tenant: Some(pb::TenantUpdate {
                name: "Acme Renamed".into(),
                products: vec!["crm".into(), "billing".into()],
                settings: Some(pb::TenantSettings {
                    session_expiration_seconds: Some(3600),
                }),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["name".into(), "products".into()],
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let t = updated.tenant.unwrap();
    assert_eq!(t.name, "Acme Renamed");
    assert_eq!(t.products, ["crm", "billing"]);
    assert_eq!(
        t.settings.unwrap().session_expiration_seconds,
        None,
        "settings not in the mask"
    );
    assert_eq!(updated.result.unwrap().version, tenant.version + 1);

    // change plan
    let r = c
        .tenants
        .change_plan(pb::ChangePlanRequest {
            tenant_id: id.clone(),
            plan: pb::Plan::Silver as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.tenant.unwrap().plan, pb::Plan::Silver as i32);

    // suspend; organization commands are refused while suspended
    let r = c
        .tenants
        .suspend_tenant(pb::SuspendTenantRequest {
            tenant_id: id.clone(),
            reason: "invoice overdue".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let t = r.tenant.unwrap();
    assert_eq!(t.status, pb::TenantStatus::Suspended as i32);
    assert_eq!(t.suspension_reason, "invoice overdue");
    let err = c
        .orgs
        .create_organization(pb::CreateOrganizationRequest {
            tenant_id: id.clone(),
            name: "Sales".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert_eq!(reason(&err), "TENANT_SUSPENDED");

    // reactivate → deactivate → reactivate
    let r = c
        .tenants
        .reactivate_tenant(pb::ReactivateTenantRequest {
            tenant_id: id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.tenant.unwrap().status, pb::TenantStatus::Active as i32);
    let r = c
        .tenants
        .deactivate_tenant(pb::DeactivateTenantRequest {
            tenant_id: id.clone(),
            grace_period_ends_at: grace(30),
            feedback: Some(pb::DeactivationFeedback {
                reason_code: "too-expensive".into(),
                recommendation_score: Some(7),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let t = r.tenant.unwrap();
    assert_eq!(t.status, pb::TenantStatus::Deactivated as i32);
    assert!(t.grace_period_ends_at.is_some());
    assert_eq!(
        t.deactivation_feedback.unwrap().recommendation_score,
        Some(7)
    );
    let r = c
        .tenants
        .reactivate_tenant(pb::ReactivateTenantRequest {
            tenant_id: id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.tenant.unwrap().status, pb::TenantStatus::Active as i32);

    // delete; Get still answers, with the status
    let r = c
        .tenants
        .delete_tenant(pb::DeleteTenantRequest {
            tenant_id: id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let deleted_version = r.result.unwrap().version;
    let got = c
        .tenants
        .get_tenant(pb::GetTenantRequest {
            tenant_id: id.clone(),
            consistency_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.status, pb::TenantStatus::Deleted as i32);
    assert_eq!(got.version, deleted_version);

    // the journal records who did it: the caller, or the engine for its onboarding saga
    let events = node.events().await;
    assert!(!events.is_empty());
    for e in &events {
        let actor = (
            e.metadata.actor.subject.as_str(),
            e.metadata.actor.credential_kind.as_str(),
        );
        assert!(
            actor == ("dev", "dev") || actor == ("entity-engine", "engine"),
            "{} by {actor:?}",
            e.event_type
        );
    }
    assert_eq!(events[0].metadata.actor.subject, "dev", "TenantCreated");
}

#[tokio::test]
async fn organization_hierarchy() {
    let node = PgNode::start(AuthMode::DevIdentity).await;
    let mut c = node.clients.clone();
    let (tenant, _) = create_tenant(&mut c, pb::Plan::Gold).await;
    let t = tenant.id.as_str();
    let default_org = tenant.onboarding.clone().unwrap().default_organization_id;

    let a = create_org(&mut c, t, "A", "").await;
    let b = create_org(&mut c, t, "B", &a.id).await;
    let cc = create_org(&mut c, t, "C", &b.id).await;
    assert_eq!((a.depth, b.depth, cc.depth), (1, 2, 3));
    assert_eq!(b.parent_id, a.id);

    // move C to the root
    let moved = c
        .orgs
        .move_organization(pb::MoveOrganizationRequest {
            tenant_id: t.into(),
            organization_id: cc.id.clone(),
            new_parent_id: String::new(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let m = moved.organization.unwrap();
    assert_eq!((m.parent_id.as_str(), m.depth), ("", 1));
    assert_eq!(moved.result.unwrap().version, 2);

    // moving A under its child B is a cycle
    let err = c
        .orgs
        .move_organization(pb::MoveOrganizationRequest {
            tenant_id: t.into(),
            organization_id: a.id.clone(),
            new_parent_id: b.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert_eq!(reason(&err), "HIERARCHY_CYCLE");

    // A(1) > B(2) > L3 > L4 > L5: a sixth level is refused, by create and by move
    let l3 = create_org(&mut c, t, "L3", &b.id).await;
    let l4 = create_org(&mut c, t, "L4", &l3.id).await;
    let l5 = create_org(&mut c, t, "L5", &l4.id).await;
    assert_eq!(l5.depth, 5);
    let err = c
        .orgs
        .create_organization(pb::CreateOrganizationRequest {
            tenant_id: t.into(),
            name: "L6".into(),
            parent_id: l5.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert_eq!(reason(&err), "HIERARCHY_TOO_DEEP");
    let err = c
        .orgs
        .move_organization(pb::MoveOrganizationRequest {
            tenant_id: t.into(),
            organization_id: cc.id.clone(),
            new_parent_id: l5.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(reason(&err), "HIERARCHY_TOO_DEEP");

    // update with a mask
    let r = c
        .orgs
        .update_organization(pb::UpdateOrganizationRequest {
            tenant_id: t.into(),
            organization_id: b.id.clone(),
            organization: Some(pb::OrganizationUpdate {
                name: "ignored".into(),
                description: "The B team".into(),
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["description".into()],
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let ub = r.organization.unwrap();
    assert_eq!(
        (ub.name.as_str(), ub.description.as_str()),
        ("B", "The B team")
    );
    // Lists are answered from the read models: the write's token makes them reflect it.
    let written = r.result.unwrap().consistency_token;

    // list: every live organization by id, in pages; children of B only
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = c
            .orgs
            .list_organizations(pb::ListOrganizationsRequest {
                tenant_id: t.into(),
                page_size: 2,
                page_token: token.clone(),
                consistency_token: written.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert!(page.organizations.len() <= 2);
        seen.extend(page.organizations.into_iter().map(|o| (o.id, o.depth)));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    let mut expected: Vec<(String, i32)> = vec![
        (default_org.clone(), 1),
        (a.id.clone(), 1),
        (b.id.clone(), 2),
        (cc.id.clone(), 1),
        (l3.id.clone(), 3),
        (l4.id.clone(), 4),
        (l5.id.clone(), 5),
    ];
    expected.sort();
    assert_eq!(seen, expected);
    let children = c
        .orgs
        .list_organizations(pb::ListOrganizationsRequest {
            tenant_id: t.into(),
            parent_id: b.id.clone(),
            consistency_token: written.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let names: Vec<_> = children
        .organizations
        .iter()
        .map(|o| (o.name.as_str(), o.depth))
        .collect();
    assert_eq!(names, [("L3", 3)]);

    // deleting a parent is refused without cascade, then cascades
    let err = c
        .orgs
        .delete_organization(pb::DeleteOrganizationRequest {
            tenant_id: t.into(),
            organization_id: b.id.clone(),
            cascade: false,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    let r = c
        .orgs
        .delete_organization(pb::DeleteOrganizationRequest {
            tenant_id: t.into(),
            organization_id: b.id.clone(),
            cascade: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        r.organization.unwrap().status,
        pb::OrganizationStatus::Deleted as i32
    );
    let deleted = r.result.unwrap().consistency_token;
    let got = c
        .orgs
        .get_organization(pb::GetOrganizationRequest {
            tenant_id: t.into(),
            organization_id: l5.id.clone(),
            consistency_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        got.status,
        pb::OrganizationStatus::Deleted as i32,
        "descendants deleted too"
    );
    let live = c
        .orgs
        .list_organizations(pb::ListOrganizationsRequest {
            tenant_id: t.into(),
            consistency_token: deleted,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut live_ids: Vec<_> = live.organizations.into_iter().map(|o| o.id).collect();
    live_ids.sort();
    let mut expected = vec![default_org, a.id.clone(), cc.id.clone()];
    expected.sort();
    assert_eq!(live_ids, expected);
}

#[tokio::test]
async fn bronze_plan_allows_one_organization() {
    let node = PgNode::start(AuthMode::DevIdentity).await;
    let mut c = node.clients.clone();
    let (tenant, created) = create_tenant(&mut c, pb::Plan::Bronze).await;
    // the default organization is the one a bronze tenant may have
    let orgs = c
        .orgs
        .list_organizations(pb::ListOrganizationsRequest {
            tenant_id: tenant.id.clone(),
            consistency_token: created.consistency_token,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .organizations;
    let names: Vec<_> = orgs.iter().map(|o| (o.name.as_str(), o.depth)).collect();
    assert_eq!(names, [("Default", 1)]);
    assert_eq!(
        orgs[0].id,
        tenant.onboarding.unwrap().default_organization_id
    );
    let before = node.events().await.len();
    let err = c
        .orgs
        .create_organization(pb::CreateOrganizationRequest {
            tenant_id: tenant.id.clone(),
            name: "Second".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert_eq!(reason(&err), "PLAN_LIMIT_EXCEEDED");
    let info = tonic_types::StatusExt::get_details_error_info(&err).unwrap();
    assert_eq!(info.metadata["limit"], "organizations");
    assert_eq!(info.metadata["plan"], "bronze");
    assert_eq!(info.metadata["allowed"], "1");
    assert_eq!(
        node.events().await.len(),
        before,
        "a refusal writes nothing"
    );
}

/// Every event records a request id (SPEC §5.3): without an idempotency key it is the
/// caller's `x-request-id` or a generated one, and it never deduplicates.
#[tokio::test]
async fn calls_without_an_idempotency_key_still_record_a_request_id() {
    let node = PgNode::start(AuthMode::DevIdentity).await;
    let mut c = node.clients.clone();
    let tenant = c
        .tenants
        .create_tenant(grpc_support::create_tenant_request("Ids", pb::Plan::Gold))
        .await
        .unwrap()
        .into_inner()
        .tenant
        .unwrap()
        .id;
    let create = |name: &str, idempotency_key: Option<&str>, header: Option<&str>| {
        let mut request = tonic::Request::new(pb::CreateOrganizationRequest {
            options: idempotency_key.and_then(with_request_id),
            tenant_id: tenant.clone(),
            name: name.into(),
            ..Default::default()
        });
        if let Some(header) = header {
            request
                .metadata_mut()
                .insert("x-request-id", header.parse().unwrap());
        }
        request
    };
    let before = node.events().await.len();
    for name in ["A", "B"] {
        let done = c
            .orgs
            .create_organization(create(name, None, Some("req-7")))
            .await
            .unwrap()
            .into_inner();
        assert!(!done.result.unwrap().replayed, "x-request-id never replays");
    }
    c.orgs
        .create_organization(create("C", None, None))
        .await
        .unwrap();
    // An idempotency key equal to an earlier call's x-request-id is a new request.
    let keyed = c
        .orgs
        .create_organization(create("D", Some("req-7"), None))
        .await
        .unwrap()
        .into_inner();
    assert!(!keyed.result.unwrap().replayed);

    let events = node.events().await.split_off(before);
    assert_eq!(events.len(), 4, "{events:#?}");
    let ids: Vec<_> = events
        .iter()
        .map(|e| {
            (
                e.metadata.request_id.clone().unwrap(),
                e.metadata.request_hash.is_some(),
            )
        })
        .collect();
    assert_eq!(ids[0], ("req-7".to_owned(), false));
    assert_eq!(ids[1], ("req-7".to_owned(), false));
    assert!(
        uuid::Uuid::parse_str(&ids[2].0).is_ok() && !ids[2].1,
        "{ids:?}"
    );
    assert_eq!(ids[3], ("req-7".to_owned(), true), "the idempotency key");
}

#[tokio::test]
async fn request_id_retries_replay_and_write_nothing() {
    let node = PgNode::start(AuthMode::DevIdentity).await;
    let mut c = node.clients.clone();

    // CreateTenant retried with the same key
    let mut request = grpc_support::create_tenant_request("Acme", pb::Plan::Gold);
    request.options = with_request_id("create-acme-1");
    let first = c
        .tenants
        .create_tenant(request.clone())
        .await
        .unwrap()
        .into_inner();
    let before = node.events().await.len();
    let again = c
        .tenants
        .create_tenant(request.clone())
        .await
        .unwrap()
        .into_inner();
    assert!(
        first.owner_invitation_token.starts_with("inv1."),
        "the first answer carries the owner's token"
    );
    assert_eq!(
        again.owner_invitation_token, "",
        "a replay cannot show the token again"
    );
    let (r1, r2) = (first.result.unwrap(), again.result.unwrap());
    assert!(!r1.replayed);
    assert!(r2.replayed);
    assert_eq!(
        (r1.version, &r1.consistency_token),
        (r2.version, &r2.consistency_token)
    );
    assert_eq!(first.tenant.unwrap().id, again.tenant.as_ref().unwrap().id);
    assert_eq!(node.events().await.len(), before, "a replay writes nothing");
    let tenant_id = again.tenant.unwrap().id;

    // CreateOrganization retried with the same key
    let org_request = pb::CreateOrganizationRequest {
        options: with_request_id("create-sales-1"),
        tenant_id: tenant_id.clone(),
        name: "Sales".into(),
        ..Default::default()
    };
    let first = c
        .orgs
        .create_organization(org_request.clone())
        .await
        .unwrap()
        .into_inner();
    let before = node.events().await.len();
    let again = c
        .orgs
        .create_organization(org_request.clone())
        .await
        .unwrap()
        .into_inner();
    assert!(again.result.as_ref().unwrap().replayed);
    assert_eq!(
        first.result.unwrap().consistency_token,
        again.result.unwrap().consistency_token
    );
    assert_eq!(
        first.organization.unwrap().id,
        again.organization.unwrap().id
    );
    assert_eq!(node.events().await.len(), before);

    // the same key with a different request is refused, and writes nothing
    let reused = pb::CreateOrganizationRequest {
        name: "Marketing".into(),
        ..org_request
    };
    let err = c.orgs.create_organization(reused).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert_eq!(reason(&err), "REQUEST_ID_REUSED");
    assert_eq!(violation_fields(&err), ["options.request_id"]);
    let err = c
        .tenants
        .suspend_tenant(pb::SuspendTenantRequest {
            options: with_request_id("create-sales-1"),
            tenant_id: tenant_id.clone(),
            reason: "x".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(reason(&err), "REQUEST_ID_REUSED");
    assert_eq!(node.events().await.len(), before);
}

#[tokio::test]
async fn expected_version_and_consistency_tokens() {
    let node = PgNode::start(AuthMode::DevIdentity).await;
    let mut c = node.clients.clone();
    let (tenant, result) = create_tenant(&mut c, pb::Plan::Silver).await;

    // the token parses, and reads accept it
    let token: CommitToken = result.consistency_token.parse().expect("token parses");
    assert!(token.position > 0);
    let got = c
        .tenants
        .get_tenant(pb::GetTenantRequest {
            tenant_id: tenant.id.clone(),
            consistency_token: result.consistency_token.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.version, result.version);

    // a stale expected version is ABORTED and writes nothing
    let before = node.events().await.len();
    let err = c
        .tenants
        .change_plan(pb::ChangePlanRequest {
            options: expecting(result.version + 7),
            tenant_id: tenant.id.clone(),
            plan: pb::Plan::Gold as i32,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Aborted);
    assert_eq!(reason(&err), "VERSION_MISMATCH");
    assert_eq!(node.events().await.len(), before);

    // the right one passes, and the new token names a later write
    let r = c
        .tenants
        .change_plan(pb::ChangePlanRequest {
            options: expecting(result.version),
            tenant_id: tenant.id.clone(),
            plan: pb::Plan::Gold as i32,
        })
        .await
        .unwrap()
        .into_inner()
        .result
        .unwrap();
    assert_eq!(r.version, result.version + 1);
    let later: CommitToken = r.consistency_token.parse().unwrap();
    assert!(later.position > token.position);

    // organizations too
    let org = create_org(&mut c, &tenant.id, "Ops", "").await;
    let err = c
        .orgs
        .update_organization(pb::UpdateOrganizationRequest {
            options: expecting(2),
            tenant_id: tenant.id.clone(),
            organization_id: org.id.clone(),
            organization: Some(pb::OrganizationUpdate {
                name: "Ops2".into(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["name".into()],
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Aborted);
}

#[tokio::test]
async fn health_and_reflection() {
    let node = PgNode::start(AuthMode::Unconfigured).await;
    let channel = node.clients.channel.clone();

    // every entity.v1 service of the contract is served and reported
    let mut in_contract: Vec<String> = entity_proto::rpc_methods()
        .unwrap()
        .into_iter()
        .map(|(service, _)| service)
        .collect();
    in_contract.dedup();
    let mut served: Vec<String> = gateway::SERVICE_NAMES.map(String::from).to_vec();
    served.sort();
    in_contract.sort();
    assert_eq!(served, in_contract);

    // health: outside the auth layer, SERVING overall and per service
    let mut health = HealthClient::new(channel.clone());
    for service in [""].into_iter().chain(gateway::SERVICE_NAMES) {
        let status = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap_or_else(|s| panic!("health {service:?}: {s:?}"))
            .into_inner()
            .status;
        assert_eq!(status, ServingStatus::Serving as i32, "{service:?}");
    }

    // reflection v1
    use tonic_reflection::pb::v1 as r1;
    let mut client = r1::server_reflection_client::ServerReflectionClient::new(channel.clone());
    let request = r1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(r1::server_reflection_request::MessageRequest::ListServices(
            String::new(),
        )),
    };
    let mut stream = client
        .server_reflection_info(futures::stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let response = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let Some(r1::server_reflection_response::MessageResponse::ListServicesResponse(list)) =
        response.message_response
    else {
        panic!("unexpected reflection answer");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    for expected in gateway::SERVICE_NAMES
        .into_iter()
        .chain(["grpc.health.v1.Health"])
    {
        assert!(
            names.iter().any(|n| n == expected),
            "v1 lists {expected}: {names:?}"
        );
    }

    // reflection v1alpha
    use tonic_reflection::pb::v1alpha as ra;
    let mut client = ra::server_reflection_client::ServerReflectionClient::new(channel);
    let request = ra::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(ra::server_reflection_request::MessageRequest::ListServices(
            String::new(),
        )),
    };
    let mut stream = client
        .server_reflection_info(futures::stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let response = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let Some(ra::server_reflection_response::MessageResponse::ListServicesResponse(list)) =
        response.message_response
    else {
        panic!("unexpected reflection answer");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    for expected in gateway::SERVICE_NAMES {
        assert!(
            names.iter().any(|n| n == expected),
            "v1alpha lists {expected}: {names:?}"
        );
    }

    node.server.shutdown().await.unwrap();
}

/// Test authenticator: `Bearer admin` is a platform admin; `Bearer tenant:<id>` a member of
/// that tenant; anything else is UNAUTHENTICATED.
struct TokenAuth;

#[async_trait::async_trait]
impl gateway::Authenticator for TokenAuth {
    async fn authenticate(
        &self,
        metadata: &tonic::metadata::MetadataMap,
    ) -> Result<gateway::Caller, tonic::Status> {
        let token = metadata
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| tonic::Status::unauthenticated("no token"))?;
        let (subject, tenant_id, platform_admin) = match token.strip_prefix("tenant:") {
            Some(id) => ("member".to_owned(), Some(id.parse().unwrap()), false),
            None if token == "admin" => ("alice".to_owned(), None, true),
            None => return Err(tonic::Status::unauthenticated("bad token")),
        };
        Ok(gateway::Caller {
            subject,
            tenant_id,
            platform_admin,
            credential_kind: "test".into(),
            credential_id: Some(format!("token-of-{token}")),
            on_behalf_of: None,
            api_key: None,
            verified_email: None,
            search_grant: None,
        })
    }
}

fn authed<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    request
}

#[tokio::test]
async fn the_auth_seam_carries_the_caller_to_the_journal_and_the_authorizer() {
    let auth = AuthMode::Custom {
        authenticator: std::sync::Arc::new(TokenAuth),
        authorizer: std::sync::Arc::new(gateway::auth::TenantBoundary),
    };
    let node = PgNode::start(auth).await;
    let mut c = node.clients.clone();
    let create = grpc_support::create_tenant_request("Seam", pb::Plan::Gold);

    // no credential
    let err = c.tenants.create_tenant(create.clone()).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);

    // the admin creates; the journal records who, with which credential
    let tenant = c
        .tenants
        .create_tenant(authed(create.clone(), "admin"))
        .await
        .unwrap()
        .into_inner()
        .tenant
        .unwrap();
    let events = node.events().await;
    let after_creation = events.len();
    assert_eq!(events[0].metadata.actor.subject, "alice");
    assert_eq!(events[0].metadata.actor.credential_kind, "test");
    assert_eq!(
        events[0].metadata.actor.credential_id.as_deref(),
        Some("token-of-admin")
    );

    // a member acts in its own tenant only, and never on platform-wide RPCs
    let own = format!("tenant:{}", tenant.id);
    let get = pb::GetTenantRequest {
        tenant_id: tenant.id.clone(),
        consistency_token: String::new(),
    };
    c.tenants
        .get_tenant(authed(get.clone(), &own))
        .await
        .unwrap();
    let other = format!("tenant:{}", uuid::Uuid::now_v7());
    let err = c.tenants.get_tenant(authed(get, &other)).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    assert_eq!(reason(&err), "TENANT_MISMATCH");
    let err = c
        .tenants
        .create_tenant(authed(create, &own))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let org = pb::CreateOrganizationRequest {
        tenant_id: tenant.id.clone(),
        name: "Mine".into(),
        ..Default::default()
    };
    c.orgs
        .create_organization(authed(org.clone(), &own))
        .await
        .unwrap();
    let err = c
        .orgs
        .create_organization(authed(org, &other))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let last = node.events().await.pop().unwrap();
    assert_eq!(last.metadata.actor.subject, "member");
    assert_eq!(
        node.events().await.len(),
        after_creation + 1,
        "refused calls wrote nothing"
    );
}
