//! ClaimsChanged reaches Kafka (librdkafka's mock cluster) for exactly the users whose claims
//! change: after a products change on a tenant of 1,000 users, each of them gets one (in
//! batches, re-synchronised by the tenant's actor); an unchanged product list yields none; a
//! role change yields one, for that user. Needs `ENTITY_TEST_DATABASE_URL`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

#[path = "support/grpc.rs"]
mod grpc_support;

use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
    time::Duration,
};

use engine::testing::TestDatabase;
use entity_proto::v1 as pb;
use futures::{StreamExt, stream};
use gateway::{AuthMode, Node, NodeOptions, Storage};
use grpc_support::{Clients, create_tenant};
use projections::{KafkaConfig, KafkaPublisher};
use rdkafka::{
    ClientConfig, Message,
    consumer::{Consumer, StreamConsumer},
    mocking::MockCluster,
};
use serde_json::Value;

const TOPIC: &str = "entity-events";
const PARTITIONS: i32 = 4;
const USERS: usize = 1_000;

/// Every message on the topic so far, as JSON values, read up to the high watermarks.
async fn read_topic(bootstrap: &str, group: &str) -> Vec<Value> {
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", group)
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    consumer.subscribe(&[TOPIC]).unwrap();
    let mut high = BTreeMap::new();
    for partition in 0..PARTITIONS {
        let (_, hi) = tokio::task::block_in_place(|| {
            consumer.fetch_watermarks(TOPIC, partition, Duration::from_secs(30))
        })
        .unwrap();
        high.insert(partition, hi);
    }
    let mut next: BTreeMap<i32, i64> = (0..PARTITIONS).map(|p| (p, 0)).collect();
    let mut values = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while next.iter().any(|(p, n)| *n < high[p]) {
        let message = tokio::time::timeout_at(deadline, consumer.recv())
            .await
            .expect("the topic is read within 120 s")
            .unwrap();
        if message.offset() < next[&message.partition()] {
            continue;
        }
        next.insert(message.partition(), message.offset() + 1);
        values.push(serde_json::from_slice(message.payload().unwrap()).unwrap());
    }
    values
}

/// The ClaimsChanged messages among `values`, by user, with their causes.
fn claims_changed(values: &[Value]) -> Vec<(String, Value)> {
    values
        .iter()
        .filter(|v| v["event_type"] == "ClaimsChanged")
        .map(|v| {
            (
                v["payload"]["id"].as_str().unwrap().to_owned(),
                v["payload"].clone(),
            )
        })
        .collect()
}

/// Waits until the publisher has delivered every event of the journal.
async fn delivered(c: &mut Clients, journal: &dyn engine::journal::EventLog) {
    let written = grpc_support::all_events(journal).await.len() as u64;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let status = c
            .admin
            .get_node_status(pb::GetNodeStatusRequest {})
            .await
            .unwrap()
            .into_inner();
        let k = status.kafka.unwrap();
        // `delivered` also counts derived messages (one CustomerRegistered per tenant), so the
        // publisher's checkpoint must have reached the journal's end too.
        let behind = c
            .admin
            .list_projections(pb::ListProjectionsRequest {})
            .await
            .unwrap()
            .into_inner()
            .projections
            .iter()
            .find(|p| p.name == "kafka-publisher")
            .map(|p| p.events_behind);
        if k.delivered >= written && behind == Some(0) {
            assert_eq!(k.failed, 0, "{k:?}");
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "{k:?} of {written}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the tenant's claims re-synchronisation has reached every active user.
async fn resynced(journal: &dyn engine::journal::EventLog, since: usize, users: usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let events = grpc_support::all_events(journal).await;
        let done = events[since..]
            .iter()
            .filter(|e| e.event_type == "ClaimsChanged")
            .count();
        if done >= users {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "{done} of {users}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn products(tenant: &str, list: &[&str]) -> pb::UpdateTenantRequest {
    pb::UpdateTenantRequest {
        tenant_id: tenant.into(),
        tenant: Some(pb::TenantUpdate {
            products: list.iter().map(|p| (*p).to_owned()).collect(),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["products".into()],
        }),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_products_change_tells_every_user_once_and_an_unchanged_list_nobody() {
    let kafka = MockCluster::new(3).unwrap();
    kafka.create_topic(TOPIC, PARTITIONS, 3).unwrap();
    let publisher =
        Arc::new(KafkaPublisher::new(&KafkaConfig::new(kafka.bootstrap_servers())).unwrap());
    let db = TestDatabase::create().await;
    let journal = db.journal().await;
    let options = NodeOptions {
        kafka: Some(publisher),
        ..NodeOptions::default()
    };
    let node = Node::start(&Storage::Postgres(journal.clone()), options)
        .await
        .unwrap();
    let server = gateway::spawn_server(node, AuthMode::DevIdentity, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let mut c = Clients::connect(&server.endpoint()).await;
    let (tenant, _) = create_tenant(&mut c, pb::Plan::Gold).await;

    // 1,000 people register through acme.example (verified by hand, as the dev admin).
    c.registration
        .configure_registration(pb::ConfigureRegistrationRequest {
            tenant_id: tenant.id.clone(),
            enabled: true,
            auto_roles: vec![pb::RoleAssignment {
                role: "member".into(),
                scope: None,
            }],
            ..Default::default()
        })
        .await
        .unwrap();
    c.registration
        .add_registration_domain(pb::AddRegistrationDomainRequest {
            tenant_id: tenant.id.clone(),
            domain: "acme.example".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    c.registration
        .verify_registration_domain(pb::VerifyRegistrationDomainRequest {
            tenant_id: tenant.id.clone(),
            domain: "acme.example".into(),
            manual: true,
            ..Default::default()
        })
        .await
        .unwrap();
    let users: Vec<String> = stream::iter(0..USERS)
        .map(|i| {
            let mut users = c.users.clone();
            async move {
                users
                    .register_user(pb::RegisterUserRequest {
                        email: format!("person{i}@acme.example"),
                        ..Default::default()
                    })
                    .await
                    .unwrap()
                    .into_inner()
                    .user
                    .unwrap()
                    .id
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    assert_eq!(users.len(), USERS);

    // The products change: one ClaimsChanged per user, in batches, with the new products.
    let before = grpc_support::all_events(&journal).await.len();
    c.tenants
        .update_tenant(products(&tenant.id, &["crm", "billing"]))
        .await
        .unwrap();
    resynced(&journal, before, USERS).await;
    delivered(&mut c, &journal).await;
    let values = read_topic(&kafka.bootstrap_servers(), "claims-1").await;
    let resync: Vec<_> = claims_changed(&values)
        .into_iter()
        .filter(|(_, payload)| payload["cause"].get("tenant_resync").is_some())
        .collect();
    let mut per_user: HashMap<&str, usize> = HashMap::new();
    for (user, payload) in &resync {
        *per_user.entry(user.as_str()).or_default() += 1;
        assert_eq!(
            payload["claims"]["products"],
            serde_json::json!(["crm", "billing"])
        );
        assert_eq!(payload["claims"]["tenant_id"], tenant.id.as_str());
    }
    assert_eq!(per_user.len(), USERS, "every user");
    assert!(per_user.values().all(|n| *n == 1), "once each");
    assert!(users.iter().all(|u| per_user.contains_key(u.as_str())));
    let batches: std::collections::BTreeSet<i64> = values
        .iter()
        .filter(|v| {
            v["event_type"] == "ClaimsChanged"
                && v["payload"]["cause"].get("tenant_resync").is_some()
        })
        .map(|v| v["transaction_id"].as_i64().unwrap())
        .collect();
    assert!(
        batches.len() >= 2,
        "written in batches, not one transaction: {batches:?}"
    );

    // The same list again: nothing changes, nobody is told.
    let claims_before = claims_changed(&values).len();
    let written = grpc_support::all_events(&journal).await.len();
    c.tenants
        .update_tenant(products(&tenant.id, &["crm", "billing"]))
        .await
        .unwrap();
    assert_eq!(
        grpc_support::all_events(&journal).await.len(),
        written,
        "an unchanged product list writes nothing"
    );
    // A role change of one user: one ClaimsChanged, for that user.
    let one = users[7].clone();
    c.users
        .assign_role(pb::AssignRoleRequest {
            tenant_id: tenant.id.clone(),
            user_id: one.clone(),
            assignment: Some(pb::RoleAssignment {
                role: "viewer".into(),
                scope: None,
            }),
            ..Default::default()
        })
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    delivered(&mut c, &journal).await;
    let values = read_topic(&kafka.bootstrap_servers(), "claims-2").await;
    let changes = claims_changed(&values);
    let new: Vec<_> = changes[claims_before..].to_vec();
    assert_eq!(new.len(), 1, "only the role change: {new:?}");
    assert_eq!(new[0].0, one);
    assert_eq!(new[0].1["cause"], "user");
    let roles: Vec<&str> = new[0].1["claims"]["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["member", "viewer"]);
    server.shutdown().await.unwrap();
}
