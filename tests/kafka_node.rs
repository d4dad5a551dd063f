//! A node configured with Kafka publishes every event (a three-broker librdkafka mock
//! cluster), and operators see the publisher's delivery counters (`GetNodeStatus`) and lag
//! (`ListProjections`, projection `kafka-publisher`); a node without Kafka says it is off.
//! Needs `ENTITY_TEST_DATABASE_URL`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

#[path = "support/grpc.rs"]
mod grpc_support;

use std::{sync::Arc, time::Duration};

use engine::testing::TestDatabase;
use entity_proto::v1 as pb;
use gateway::{AuthMode, Node, NodeOptions, Storage};
use grpc_support::{Clients, PgNode, create_org, create_tenant};
use projections::{KafkaConfig, KafkaPublisher};
use rdkafka::mocking::MockCluster;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_publishes_to_kafka_and_reports_it() {
    let kafka = MockCluster::new(3).unwrap();
    kafka.create_topic("entity-events", 4, 3).unwrap();
    let publisher =
        Arc::new(KafkaPublisher::new(&KafkaConfig::new(kafka.bootstrap_servers())).unwrap());

    let db = TestDatabase::create().await;
    let journal = db.journal().await;
    let node = Node::start(
        &Storage::Postgres(journal.clone()),
        NodeOptions {
            kafka: Some(publisher),
            ..NodeOptions::default()
        },
    )
    .await
    .unwrap();
    let server = gateway::spawn_server(node, AuthMode::DevIdentity, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let mut c = Clients::connect(&server.endpoint()).await;
    let (tenant, _) = create_tenant(&mut c, pb::Plan::Gold).await;
    for name in ["Sales", "Support", "Research"] {
        create_org(&mut c, &tenant.id, name, "").await;
    }
    let written = grpc_support::all_events(&journal).await.len() as u64;

    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let status = c
            .admin
            .get_node_status(pb::GetNodeStatusRequest {})
            .await
            .unwrap()
            .into_inner();
        let k = status.kafka.expect("kafka status on a publishing node");
        let projections = c
            .admin
            .list_projections(pb::ListProjectionsRequest {})
            .await
            .unwrap()
            .into_inner()
            .projections;
        let publisher = projections
            .iter()
            .find(|p| p.name == "kafka-publisher")
            .expect("the publisher is a projection");
        if k.delivered >= written && publisher.events_behind == 0 {
            assert_eq!(k.failed, 0, "{k:?}");
            assert_eq!(publisher.lag_ms, 0, "{publisher:?}");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not everything published: {k:?} {publisher:?} (written {written})"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn without_brokers_kafka_is_off() {
    let node = PgNode::start(AuthMode::DevIdentity).await;
    let mut c = node.clients.clone();
    let status = c
        .admin
        .get_node_status(pb::GetNodeStatusRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(status.kafka.is_none(), "{status:?}");
    assert!(status.cluster.is_none(), "{status:?}");
    let projections = c
        .admin
        .list_projections(pb::ListProjectionsRequest {})
        .await
        .unwrap()
        .into_inner()
        .projections;
    assert!(projections.iter().all(|p| p.name != "kafka-publisher"));
    node.server.shutdown().await.unwrap();
}
