//! The client-cascade saga over real gRPC on one node, on PostgreSQL and on the embedded
//! SQLite store: ProvisionClientTenant creates a tenant linked both ways (its owner accepts the
//! token the provisioning call returned); disabling the client suspends that tenant, enabling
//! reactivates it, deleting deletes it — each exactly once, also when a step is run again; a
//! provisioning whose slug is taken drops the client's link. The PostgreSQL test needs
//! `ENTITY_TEST_DATABASE_URL`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

#[path = "support/grpc.rs"]
mod grpc_support;

use std::time::Duration;

use engine::testing::TestDatabase;
use entity_proto::v1 as pb;
use gateway::{AuthMode, Node, NodeOptions, RunningServer, Storage};
use grpc_support::{Clients, accept, create_client, create_tenant};

struct SagaNode {
    server: RunningServer,
    clients: Clients,
    _db: Option<TestDatabase>,
    _dir: Option<tempfile::TempDir>,
}

async fn start(storage: Storage) -> (RunningServer, Clients) {
    let mut options = NodeOptions::default();
    options.sagas.poll = Duration::from_millis(20);
    let node = Node::start(&storage, options).await.expect("node starts");
    let server = gateway::spawn_server(node, AuthMode::DevIdentity, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("server starts");
    let clients = Clients::connect(&server.endpoint()).await;
    (server, clients)
}

async fn postgres_node() -> SagaNode {
    let db = TestDatabase::create().await;
    let (server, clients) = start(Storage::Postgres(db.journal().await)).await;
    SagaNode {
        server,
        clients,
        _db: Some(db),
        _dir: None,
    }
}

async fn sqlite_node() -> SagaNode {
    let dir = tempfile::tempdir().unwrap();
    let journal = engine::testing::sqlite_journal(dir.path()).await;
    let (server, clients) = start(Storage::Sqlite(journal)).await;
    SagaNode {
        server,
        clients,
        _db: None,
        _dir: Some(dir),
    }
}

/// The tenant once `done` holds for it (the saga runs in the background), or a panic after 10 s.
async fn tenant_when(c: &mut Clients, id: &str, done: impl Fn(&pb::Tenant) -> bool) -> pb::Tenant {
    for _ in 0..500 {
        if let Ok(t) = c
            .tenants
            .get_tenant(pb::GetTenantRequest {
                tenant_id: id.into(),
                consistency_token: String::new(),
            })
            .await
            && done(&t.get_ref().clone())
        {
            return t.into_inner();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("tenant {id} never reached the expected state");
}

/// The types of the events of a tenant's own stream.
async fn tenant_event_types(c: &mut Clients, tenant: &str) -> Vec<String> {
    let page = c
        .audit
        .list_audit_events(pb::ListAuditEventsRequest {
            tenant_id: tenant.into(),
            entity: Some(pb::EntityRef {
                kind: pb::EntityKind::Tenant as i32,
                id: tenant.into(),
            }),
            page_size: 500,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut types: Vec<String> = page.events.into_iter().map(|e| e.event_type).collect();
    types.reverse();
    types
}

fn status(t: &pb::Tenant) -> pb::TenantStatus {
    pb::TenantStatus::try_from(t.status).unwrap()
}

async fn cascade(node: SagaNode) {
    let mut c = node.clients.clone();
    let (parent, _) = create_tenant(&mut c, pb::Plan::Gold).await;
    let p = parent.id.as_str();
    let client = create_client(&mut c, p, "Globex").await;
    let provision = |slug: &str| pb::ProvisionClientTenantRequest {
        tenant_id: p.into(),
        client_id: client.id.clone(),
        slug: slug.into(),
        plan: pb::Plan::Silver as i32,
        owner_email: "owner@globex.test".into(),
        ..Default::default()
    };
    let slug = format!("globex-{}", uuid::Uuid::new_v4().simple());
    let provisioned = c
        .clients
        .provision_client_tenant(provision(&slug))
        .await
        .unwrap()
        .into_inner();
    let t = provisioned.tenant_id.clone();
    assert_eq!(provisioned.client.unwrap().provisioned_tenant_id, t);
    let again = c
        .clients
        .provision_client_tenant(provision("other-slug"))
        .await
        .unwrap_err();
    assert_eq!(again.code(), tonic::Code::FailedPrecondition, "{again:?}");

    // the saga creates the tenant, linked back, onboarded with the returned owner token
    let tenant = tenant_when(&mut c, &t, |t| {
        t.onboarding.as_ref().is_some_and(|o| o.completed)
    })
    .await;
    assert_eq!(
        (
            tenant.name.as_str(),
            tenant.slug.as_str(),
            tenant.parent_tenant_id.as_str(),
            tenant.parent_client_id.as_str(),
            tenant.plan
        ),
        (
            "Globex",
            slug.as_str(),
            p,
            client.id.as_str(),
            pb::Plan::Silver as i32
        )
    );
    let owner = accept(&mut c, &t, &provisioned.owner_invitation_token).await;
    assert_eq!(owner.email, "owner@globex.test");

    // disable → suspended, enable → active, delete → deleted
    let id = || client.id.clone();
    c.clients
        .disable_client(pb::DisableClientRequest {
            tenant_id: p.into(),
            client_id: id(),
            ..Default::default()
        })
        .await
        .unwrap();
    tenant_when(&mut c, &t, |t| status(t) == pb::TenantStatus::Suspended).await;
    c.clients
        .enable_client(pb::EnableClientRequest {
            tenant_id: p.into(),
            client_id: id(),
            ..Default::default()
        })
        .await
        .unwrap();
    tenant_when(&mut c, &t, |t| status(t) == pb::TenantStatus::Active).await;
    c.clients
        .delete_client(pb::DeleteClientRequest {
            tenant_id: p.into(),
            client_id: id(),
            ..Default::default()
        })
        .await
        .unwrap();
    tenant_when(&mut c, &t, |t| status(t) == pb::TenantStatus::Deleted).await;
    let types = tenant_event_types(&mut c, &t).await;
    let count = |name: &str| types.iter().filter(|t| *t == name).count();
    assert_eq!(
        (
            count("TenantCreated"),
            count("TenantSuspended"),
            count("TenantReactivated"),
            count("TenantDeleted")
        ),
        (1, 1, 1, 1),
        "{types:?}"
    );

    // a taken slug: the saga reports back and the client names no tenant again
    let other = create_client(&mut c, p, "Initech").await;
    let refused = c
        .clients
        .provision_client_tenant(pb::ProvisionClientTenantRequest {
            client_id: other.id.clone(),
            ..provision(&slug)
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!refused.tenant_id.is_empty());
    for _ in 0..500 {
        let now = c
            .clients
            .get_client(pb::GetClientRequest {
                tenant_id: p.into(),
                client_id: other.id.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        if now.provisioned_tenant_id.is_empty() {
            node.server.shutdown().await.unwrap();
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the failed provisioning was never reported back");
}

#[tokio::test]
async fn the_cascade_follows_the_client_on_postgres() {
    cascade(postgres_node().await).await;
}

#[tokio::test]
async fn the_cascade_follows_the_client_on_sqlite() {
    cascade(sqlite_node().await).await;
}
