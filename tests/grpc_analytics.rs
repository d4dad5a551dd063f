//! ExportChanges (AnalyticsService, issue 20) over real gRPC on PostgreSQL: the history streams
//! in position order with every field of a change, a call capped by `max_changes` resumes
//! exactly after its last page, filters by tenant, kind and time select what they say, and a
//! consistency token makes the export hold a write. A tenant's caller exports only its own
//! tenant with `analytics:export`; all tenants at once is a platform admin's. Streams are
//! bounded: a tenant (or the platform callers) holds at most 4 at once, and a stream whose
//! client stops reading gives its slot back by its deadline, one whose client goes away at
//! once. Needs `ENTITY_TEST_DATABASE_URL`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

#[path = "support/grpc.rs"]
mod grpc_support;

use std::time::Duration;

use entity_proto::v1::{self as pb, export_changes_request::Since};
use gateway::AuthMode;
use grpc_support::{
    Clients, PgNode, accept, bearer, claims, create_org, create_tenant_answer, hs256_token, invite,
    jwt_node, reason, role_at, tenant_with_owner,
};
use tonic::{Code, Status};

/// Every page of one export.
async fn export(
    c: &Clients,
    request: impl tonic::IntoRequest<pb::ExportChangesRequest>,
) -> Result<Vec<pb::ExportChangesResponse>, Status> {
    let mut stream = c
        .analytics
        .clone()
        .export_changes(request)
        .await?
        .into_inner();
    let mut pages = Vec::new();
    while let Some(page) = stream.message().await? {
        pages.push(page);
    }
    Ok(pages)
}

fn after(position: i64) -> Option<Since> {
    Some(Since::AfterPosition(position))
}

fn changes(pages: &[pb::ExportChangesResponse]) -> Vec<pb::AnalyticsChange> {
    pages.iter().flat_map(|p| p.changes.clone()).collect()
}

/// A tenant with an organization, a user invited into it and accepted; returns its id and the
/// consistency token of the last write.
async fn populated(c: &mut Clients, email: &str) -> (String, String) {
    let answer = create_tenant_answer(c, pb::Plan::Gold).await;
    let tenant = answer.tenant.unwrap().id;
    accept(c, &tenant, &answer.owner_invitation_token).await;
    let org = create_org(c, &tenant, "Sales", "").await;
    let invited = invite(c, &tenant, email, &org.id, vec![]).await;
    let token = accept_with_token(c, &tenant, &invited.invitation_token).await;
    (tenant, token)
}

async fn accept_with_token(c: &mut Clients, tenant: &str, token: &str) -> String {
    c.users
        .accept_invitation(pb::AcceptInvitationRequest {
            tenant_id: tenant.to_owned(),
            token: token.to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .result
        .unwrap()
        .consistency_token
}

#[tokio::test]
async fn the_history_streams_in_order_and_resumes_after_a_position() {
    let node = PgNode::start(AuthMode::DevIdentity).await;
    let mut c = node.clients.clone();
    let (a, _) = populated(&mut c, "ann@a.test").await;
    let before_b = chrono::Utc::now();
    let (b, token) = populated(&mut c, "bob@b.test").await;

    // everything, once the last write is in
    let all = export(
        &c,
        pb::ExportChangesRequest {
            since: after(0),
            consistency_token: token.clone(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let last = all.last().unwrap();
    assert!(last.complete, "{last:?}");
    assert!(all[..all.len() - 1].iter().all(|p| !p.complete));
    let rows = changes(&all);
    assert_eq!(last.resume_after, rows.last().unwrap().position);
    let positions: Vec<i64> = rows.iter().map(|r| r.position).collect();
    assert_eq!(positions, (1..=rows.len() as i64).collect::<Vec<_>>());
    for row in &rows {
        assert!(row.tenant_id == a || row.tenant_id == b, "{row:?}");
        assert_eq!(row.event_id, format!("{}:{}", row.entity_id, row.version));
        assert!(row.time.is_some() && !row.event_type.is_empty());
        let state: serde_json::Value = serde_json::from_str(&row.state_json).unwrap();
        assert_eq!(state["version"], row.version, "{row:?}");
        assert_ne!(row.operation, pb::ChangeOperation::Unspecified as i32);
    }
    let first = &rows[0];
    assert_eq!(
        (
            first.entity_kind,
            first.operation,
            first.event_type.as_str()
        ),
        (
            pb::EntityKind::Tenant as i32,
            pb::ChangeOperation::Create as i32,
            "TenantCreated"
        )
    );
    // Bob's own changes: invited, into Sales, accepted
    let bob: Vec<_> = rows
        .iter()
        .filter(|r| r.state_json.contains("bob@b.test"))
        .collect();
    assert!(bob.len() >= 3, "{bob:?}");
    assert!(
        bob.iter()
            .all(|r| r.entity_kind == pb::EntityKind::User as i32)
    );
    assert!(
        bob.last()
            .unwrap()
            .state_json
            .contains("\"status\":\"active\"")
    );

    // a capped call resumes exactly after its last page
    let capped = export(
        &c,
        pb::ExportChangesRequest {
            since: after(0),
            max_changes: 5,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(changes(&capped), rows[..5]);
    let resume = capped.last().unwrap();
    assert!(!resume.complete);
    assert_eq!(resume.resume_after, 5);
    let rest = export(
        &c,
        pb::ExportChangesRequest {
            since: after(resume.resume_after),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(rest.last().unwrap().complete);
    assert_eq!(changes(&rest), rows[5..]);

    // one tenant's, one kind's
    let only_b = changes(
        &export(
            &c,
            pb::ExportChangesRequest {
                tenant_id: b.clone(),
                since: after(0),
                ..Default::default()
            },
        )
        .await
        .unwrap(),
    );
    let expected: Vec<_> = rows.iter().filter(|r| r.tenant_id == b).cloned().collect();
    assert_eq!(only_b, expected);
    assert!(!only_b.iter().any(|r| r.state_json.contains(&a)));
    let users = changes(
        &export(
            &c,
            pb::ExportChangesRequest {
                since: after(0),
                entity_kinds: vec![pb::EntityKind::User as i32],
                ..Default::default()
            },
        )
        .await
        .unwrap(),
    );
    let expected: Vec<_> = rows
        .iter()
        .filter(|r| r.entity_kind == pb::EntityKind::User as i32)
        .cloned()
        .collect();
    assert_eq!(users, expected);

    // since a time: from B's first change on
    let since_b = changes(
        &export(
            &c,
            pb::ExportChangesRequest {
                since: Some(Since::SinceTime(prost_types::Timestamp {
                    seconds: before_b.timestamp(),
                    nanos: before_b.timestamp_subsec_nanos() as i32,
                })),
                ..Default::default()
            },
        )
        .await
        .unwrap(),
    );
    let first_b = rows.iter().position(|r| r.tenant_id == b).unwrap();
    assert_eq!(since_b, rows[first_b..]);

    // past the end: nothing, complete, resuming where it asked
    let none = export(
        &c,
        pb::ExportChangesRequest {
            since: after(10_000),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(none.len(), 1);
    assert!(none[0].complete && none[0].changes.is_empty());
    node.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_tenant_exports_only_its_own_history_with_the_permission() {
    let node = jwt_node().await;
    let mut c = node.clients.clone();
    let admin = hs256_token(&claims("platform-ops", None));
    let (a, a_owner) = tenant_with_owner(&mut c, &admin, "A Corp", pb::Plan::Gold).await;
    let (b, _) = tenant_with_owner(&mut c, &admin, "B Corp", pb::Plan::Gold).await;
    // the history holds B's newest write before anything is exported
    let token = c
        .orgs
        .create_organization(pb::CreateOrganizationRequest {
            tenant_id: b.id.clone(),
            name: "Sales".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .result
        .unwrap()
        .consistency_token;
    let request = |tenant: &str| pb::ExportChangesRequest {
        tenant_id: tenant.to_owned(),
        since: after(0),
        consistency_token: token.clone(),
        ..Default::default()
    };

    let own = changes(&export(&c, bearer(request(&a.id), &a_owner)).await.unwrap());
    assert!(!own.is_empty());
    assert!(own.iter().all(|r| r.tenant_id == a.id));
    assert!(!own.iter().any(|r| r.state_json.contains(&b.id)));
    for (what, tenant) in [("B's history", b.id.as_str()), ("every tenant's", "")] {
        let err = export(&c, bearer(request(tenant), &a_owner))
            .await
            .expect_err(what);
        assert_eq!(err.code(), Code::PermissionDenied, "{what}: {err:?}");
    }
    // a viewer of A holds no `analytics:export`
    let viewer = invite(
        &mut c,
        &a.id,
        "viewer@a.test",
        "",
        vec![role_at("viewer", None)],
    )
    .await;
    let viewer = accept(&mut c, &a.id, &viewer.invitation_token).await;
    let err = export(
        &c,
        bearer(
            request(&a.id),
            &hs256_token(&claims(&viewer.id, Some(&a.id))),
        ),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let info = tonic_types::StatusExt::get_details_error_info(&err).unwrap();
    assert_eq!(info.metadata["permission"], "analytics:export");
    // a platform admin may export every tenant's
    let all = changes(&export(&c, bearer(request(""), &admin)).await.unwrap());
    assert!(all.iter().any(|r| r.tenant_id == a.id));
    assert!(all.iter().any(|r| r.tenant_id == b.id));
    node.server.shutdown().await.unwrap();
}

/// Starts an export of at most `timeout` on a connection of its own (unread streams hold
/// their connection's HTTP/2 window) and reads nothing of it.
async fn unread(
    node: &PgNode,
    timeout: Duration,
) -> Result<tonic::Streaming<pb::ExportChangesResponse>, Status> {
    let mut request = tonic::Request::new(pb::ExportChangesRequest {
        since: after(0),
        ..Default::default()
    });
    request.set_timeout(timeout);
    Clients::connect(&node.server.endpoint())
        .await
        .analytics
        .export_changes(request)
        .await
        .map(tonic::Response::into_inner)
}

/// Retries an export until one is admitted (or fails after `within`).
async fn admitted_within(c: &Clients, within: Duration) -> Vec<pb::ExportChangesResponse> {
    let until = tokio::time::Instant::now() + within;
    loop {
        match export(
            c,
            pb::ExportChangesRequest {
                since: after(0),
                ..Default::default()
            },
        )
        .await
        {
            Ok(pages) => return pages,
            Err(s)
                if s.code() == Code::ResourceExhausted && tokio::time::Instant::now() < until =>
            {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(s) => panic!("not admitted: {s:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unread_streams_end_by_their_deadline_and_abandoned_ones_at_once() {
    let node = PgNode::start(AuthMode::DevIdentity).await;
    let c = node.clients.clone();
    // A history of about 11 MiB, more than the client's window and the stream's buffers
    // hold: four tenants' organizations, each described 1,250 times, concurrently.
    let text = "analytics ".repeat(199);
    let writers = (0..4).map(|_| {
        let mut c = c.clone();
        let text = text.clone();
        async move {
            let answer = create_tenant_answer(&mut c, pb::Plan::Gold).await;
            let tenant = answer.tenant.unwrap().id;
            let org = create_org(&mut c, &tenant, "Sales", "").await;
            for i in 0..1_250 {
                c.orgs
                    .update_organization(pb::UpdateOrganizationRequest {
                        tenant_id: tenant.clone(),
                        organization_id: org.id.clone(),
                        organization: Some(pb::OrganizationUpdate {
                            description: format!("{i} {text}"),
                            ..Default::default()
                        }),
                        update_mask: Some(prost_types::FieldMask {
                            paths: vec!["description".into()],
                        }),
                        ..Default::default()
                    })
                    .await
                    .unwrap();
            }
        }
    });
    futures::future::join_all(writers).await;
    node.projections
        .handle()
        .unwrap()
        .wait_caught_up(Duration::from_secs(60))
        .await
        .unwrap();

    // The platform callers' four exports, unread: a fifth is refused at once.
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(unread(&node, Duration::from_secs(60)).await.unwrap());
    }
    let refused = unread(&node, Duration::from_secs(60)).await.unwrap_err();
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    assert_eq!(reason(&refused), "TENANT_CONCURRENCY");
    // Their client goes away: the slots come back at once, not after a minute.
    drop(held);
    let pages = admitted_within(&c, Duration::from_secs(5)).await;
    assert!(pages.last().unwrap().complete);
    assert!(changes(&pages).len() > 5_000);

    // Four unread with a 6 s deadline (room for opening them on a busy box): their slots come
    // back by it, the streams unfinished.
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(unread(&node, Duration::from_secs(6)).await.unwrap());
    }
    assert_eq!(
        unread(&node, Duration::from_secs(6))
            .await
            .unwrap_err()
            .code(),
        Code::ResourceExhausted
    );
    tokio::time::sleep(Duration::from_secs(7)).await;
    let pages = admitted_within(&c, Duration::from_secs(2)).await;
    assert!(pages.last().unwrap().complete);
    // what the late reader finds: some pages, never the end
    for mut stream in held {
        let mut complete = false;
        while let Ok(Some(page)) = stream.message().await {
            complete |= page.complete;
        }
        assert!(!complete, "a stream past its deadline was finished");
    }
    node.server.shutdown().await.unwrap();
}
