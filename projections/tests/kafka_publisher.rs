//! The Kafka publisher projection against librdkafka's mock cluster (three brokers, in this
//! process) and PostgreSQL: every event arrives with its CloudEvents headers, in order per
//! tenant; broker outages lose nothing and duplicate only the unacknowledged window; a restart
//! resumes from the checkpoint; a consumer group deduplicating by `ce_id` reads back exactly
//! the journal. No timing assertions: waits are bounded and fail with a message.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use engine::{journal::CommitToken, runtime::Engine};
use futures::future::join_all;
use projections::{Error, KafkaConfig, KafkaPublisher, ProjectionHandle};
use support::{kafka::*, workload::run_tenant, *};

const NAME: &str = KafkaPublisher::NAME;
const WAIT: Duration = Duration::from_secs(120);

/// `tenants` random tenants with `commands` commands each, run concurrently (commits of
/// different tenants interleave and land out of order).
async fn workload(engine: &Engine, seed: u64, tenants: u64, commands: usize) {
    join_all((0..tenants).map(|i| run_tenant(engine, seed * 1_000 + i, commands))).await;
}

async fn caught_up_publisher(handle: &ProjectionHandle) {
    handle
        .wait_caught_up(WAIT)
        .await
        .unwrap_or_else(|e| panic!("publisher did not catch up: {e}"));
}

/// Asserts the deduplicated stream is exactly the journal, per tenant in journal order.
fn assert_exactly_journal_after_dedup(
    journal: &[engine::journal::RecordedEvent],
    received: &[Received],
) {
    let expected = journal_per_tenant(journal);
    let got = deduplicated_per_tenant(received);
    assert_eq!(
        got.len(),
        expected.len(),
        "tenants published vs in the journal"
    );
    for (tenant, ids) in &expected {
        assert_eq!(
            got.get(tenant),
            Some(ids),
            "tenant {tenant}: events after dedup by ce_id differ from the journal (order or \
             content)"
        );
    }
    assert_eq!(
        next_sequence_rule(received),
        journal_sequences(journal),
        "next-sequence consumer rule"
    );
}

#[test]
fn config_is_validated() {
    let mut config = KafkaConfig::new("");
    assert!(matches!(
        KafkaPublisher::new(&config),
        Err(Error::KafkaConfig(_))
    ));
    config.bootstrap_servers = "localhost:9092".into();
    config.topic = " ".into();
    assert!(matches!(
        KafkaPublisher::new(&config),
        Err(Error::KafkaConfig(_))
    ));
    config.topic = "t".into();
    assert!(KafkaPublisher::new(&config).is_ok());
}

/// No fault: every event once (zero duplicates), per-tenant order, headers and values.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_arrives_once_in_order_with_headers() {
    let kafka = MockKafka::start();
    let (_db, _journal, store) = postgres().await;
    let engine = start_engine(&store).await;
    let publisher = kafka.publisher(Duration::from_secs(30));
    let service = start_publisher(&store, &publisher).await;
    workload(&engine, 1, 16, 30).await;
    caught_up_publisher(&service.handle()).await;
    let journal = opened_events(&store).await;
    assert!(journal.len() > 200, "workload too small: {}", journal.len());
    assert!(
        journal
            .iter()
            .any(|e| e.payload.to_string().contains("\"token_hash\"")),
        "the journal holds secret hashes the messages must leave out"
    );

    let received = read_topic(&kafka.bootstrap, "no-fault").await;
    let messages = message_count(&journal);
    assert!(
        received.iter().any(is_customer_message),
        "customer events are published too"
    );
    assert_eq!(
        received.len(),
        messages,
        "no duplicates and nothing missing"
    );
    assert!(counts(&received).values().all(|n| *n == 1), "a duplicate");
    assert_messages_match(&journal, &received);
    assert_one_partition_per_tenant(&received);
    assert_exactly_journal_after_dedup(&journal, &received);
    let metrics = publisher.metrics();
    assert_eq!(metrics.delivered, messages as u64);
    assert_eq!((metrics.failed, metrics.failed_batches), (0, 0));
    service.stop().await;
}

/// All brokers down, then the leader of every partition down, while writes go on: afterwards
/// nothing is missing, order holds, and only events not yet acknowledged when the fault began
/// were published twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_outages_lose_nothing_and_duplicate_only_the_unacknowledged_window() {
    let kafka = MockKafka::start();
    // Partition leaders: broker 1 for all, so taking broker 1 down takes every leader down.
    for partition in 0..PARTITIONS {
        kafka
            .cluster
            .partition_leader(TOPIC, partition, Some(1))
            .unwrap();
    }
    let (_db, _journal, store) = postgres().await;
    let engine = start_engine(&store).await;
    let publisher = kafka.publisher(Duration::from_millis(1_500));
    let service = start_publisher(&store, &publisher).await;
    let handle = service.handle();

    workload(&engine, 2, 6, 20).await;
    caught_up_publisher(&handle).await;
    let acknowledged = handle.checkpoint(NAME).unwrap();

    // Outage 1: every broker.
    for broker in MockKafka::broker_ids() {
        kafka.cluster.broker_down(broker).unwrap();
    }
    workload(&engine, 3, 6, 20).await;
    eventually("a batch to fail while all brokers are down", WAIT, || {
        publisher.metrics().failed_batches > 0
    })
    .await;
    for broker in MockKafka::broker_ids() {
        kafka.cluster.broker_up(broker).unwrap();
    }
    caught_up_publisher(&handle).await;
    let failed_after_first = publisher.metrics().failed_batches;

    // Outage 2: the leader of every partition, with writes before, during and after.
    let writes = workload(&engine, 4, 6, 30);
    let fault = async {
        let start = publisher.metrics().delivered;
        eventually("the publisher to publish before the fault", WAIT, || {
            publisher.metrics().delivered > start
        })
        .await;
        kafka.cluster.broker_down(1).unwrap();
    };
    tokio::join!(writes, fault);
    workload(&engine, 10, 3, 10).await;
    eventually("a batch to fail while the leader is down", WAIT, || {
        let m = publisher.metrics();
        m.failed_batches > failed_after_first
    })
    .await;
    kafka.cluster.broker_up(1).unwrap();
    workload(&engine, 5, 3, 10).await;
    caught_up_publisher(&handle).await;
    let status = handle.status_of(NAME).await.unwrap();
    assert!(
        status.failures >= 2,
        "the runner saw the failures: {status:?}"
    );

    let journal = opened_events(&store).await;
    let received = read_topic(&kafka.bootstrap, "faults").await;
    assert_messages_match(&journal, &received);
    assert_one_partition_per_tenant(&received);
    assert_exactly_journal_after_dedup(&journal, &received);
    let counts = counts(&received);
    for event in &journal {
        let n = counts[&id_of(event)];
        if token_of(event) <= acknowledged {
            assert_eq!(
                n,
                1,
                "event {} was acknowledged before the fault, yet published {n} times",
                id_of(event)
            );
        }
    }
    service.stop().await;
}

/// Stop the publisher mid-stream, keep writing, start a new one: it resumes from the
/// checkpoint (publishes only what came after), with no gap and, after a graceful stop, no
/// duplicate. Then a crash (the service dropped mid-stream): no gap, duplicates only after
/// the checkpoint the crash left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_resumes_from_the_checkpoint_without_a_gap() {
    let kafka = MockKafka::start();
    let (_db, _journal, store) = postgres().await;
    let engine = start_engine(&store).await;

    let first = kafka.publisher(Duration::from_secs(30));
    let service = start_publisher(&store, &first).await;
    let handle = service.handle();
    let writes = workload(&engine, 6, 8, 30);
    let stop = async {
        eventually("the publisher to publish something", WAIT, || {
            first.metrics().delivered > 0
        })
        .await;
        service.stop().await;
    };
    tokio::join!(writes, stop);
    let stopped_at = handle.checkpoint(NAME).unwrap();
    workload(&engine, 7, 4, 20).await;

    let second = kafka.publisher(Duration::from_secs(30));
    let service = start_publisher(&store, &second).await;
    let handle = service.handle();
    caught_up_publisher(&handle).await;
    let journal = opened_events(&store).await;
    let before = message_count(journal.iter().filter(|e| token_of(e) <= stopped_at)) as u64;
    let messages = message_count(&journal) as u64;
    assert!(
        before > 0 && before < messages,
        "the stop happened mid-stream"
    );
    assert_eq!(
        first.metrics().delivered,
        before,
        "first run up to its checkpoint"
    );
    assert_eq!(
        second.metrics().delivered,
        messages - before,
        "the second run resumed from the checkpoint"
    );
    let received = read_topic(&kafka.bootstrap, "restart").await;
    assert_eq!(received.len() as u64, messages, "no gap, no duplicate");
    assert_exactly_journal_after_dedup(&journal, &received);

    // Crash: drop the service while it publishes.
    let writes = workload(&engine, 8, 8, 30);
    let crash = async {
        let start = second.metrics().delivered;
        eventually("the publisher to publish more", WAIT, || {
            second.metrics().delivered > start
        })
        .await;
        drop(service);
    };
    tokio::join!(writes, crash);
    let crashed_at = store.read.checkpoint(NAME).await.unwrap().unwrap();
    let third = kafka.publisher(Duration::from_secs(30));
    let service = start_publisher(&store, &third).await;
    caught_up_publisher(&service.handle()).await;
    let journal = opened_events(&store).await;
    let received = read_topic(&kafka.bootstrap, "crash").await;
    assert_messages_match(&journal, &received);
    assert_exactly_journal_after_dedup(&journal, &received);
    let counts = counts(&received);
    for event in journal.iter().filter(|e| token_of(e) <= crashed_at) {
        assert_eq!(
            counts[&id_of(event)],
            1,
            "duplicate before the crash checkpoint"
        );
    }
    service.stop().await;
}

/// A consumer group reading the topic and deduplicating by `ce_id` gets exactly the journal,
/// even after a rebuild republished everything (every event then twice).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumer_group_deduplicates_to_exactly_the_journal() {
    let kafka = MockKafka::start();
    let (_db, _journal, store) = postgres().await;
    let engine = start_engine(&store).await;
    let publisher = kafka.publisher(Duration::from_secs(30));
    let service = start_publisher(&store, &publisher).await;
    let handle = service.handle();
    workload(&engine, 9, 10, 25).await;
    caught_up_publisher(&handle).await;
    let head = handle.checkpoint(NAME).unwrap();
    handle.rebuild(NAME).await.unwrap();
    assert_eq!(
        handle.checkpoint(NAME).unwrap(),
        CommitToken {
            transaction_id: 0,
            position: 0
        }
    );
    caught_up_publisher(&handle).await;
    assert!(handle.checkpoint(NAME).unwrap() >= head);

    let journal = opened_events(&store).await;
    let received = read_topic(&kafka.bootstrap, "dedup-group").await;
    let messages = message_count(&journal);
    assert_eq!(received.len(), 2 * messages, "published twice");
    assert_messages_match(&journal, &received);
    assert_exactly_journal_after_dedup(&journal, &received);
    // The consumer's view: dedup by ce_id, then compare with the journal event by event.
    let mut seen = std::collections::HashSet::new();
    let deduped: Vec<&Received> = received
        .iter()
        .filter(|m| seen.insert(m.ce_id().to_owned()))
        .collect();
    assert_eq!(deduped.len(), messages);
    let mut deduped_ids: Vec<String> = deduped.iter().map(|m| m.ce_id().to_owned()).collect();
    let mut journal_ids: Vec<String> = journal.iter().flat_map(message_ids_of).collect();
    deduped_ids.sort();
    journal_ids.sort();
    assert_eq!(deduped_ids, journal_ids);
    assert_eq!(publisher.metrics().delivered, 2 * messages as u64);
    service.stop().await;
}

/// Seed 004: each tenant event that registers a customer or changes one of its fields is
/// followed, in the tenant's partition, by a CustomerRegistered or CustomerUpdated CloudEvent
/// whose value holds the customer's fields only (never the owner's email, plan, products or
/// settings); other tenant events publish no customer event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_events_follow_their_tenant_events() {
    use engine::domain::{BusinessProfile, Plan, TenantCommand, TenantScopeCommand, UpdateTenant};

    let kafka = MockKafka::start();
    let (_db, _journal, store) = postgres().await;
    let engine = start_engine(&store).await;
    let publisher = kafka.publisher(Duration::from_secs(30));
    let service = start_publisher(&store, &publisher).await;
    let (tenant, _) = new_tenant(&engine).await;
    let profile = BusinessProfile {
        legal_name: "Renamed Inc".into(),
        ..BusinessProfile::default()
    };
    for command in [
        TenantCommand::Update(UpdateTenant {
            name: Some("Renamed".into()),
            business_profile: Some(Some(profile)),
            ..UpdateTenant::default()
        }),
        // not the customer's: no customer event
        TenantCommand::Update(UpdateTenant {
            products: Some(vec!["crm".into()]),
            ..UpdateTenant::default()
        }),
        TenantCommand::ChangePlan { plan: Plan::Silver },
        TenantCommand::Suspend {
            reason: "payment overdue".into(),
        },
    ] {
        engine
            .execute(tenant, TenantScopeCommand::Tenant(command), meta())
            .await
            .unwrap();
    }
    caught_up_publisher(&service.handle()).await;
    let journal = opened_events(&store).await;
    let received = read_topic(&kafka.bootstrap, "customers").await;
    assert_messages_match(&journal, &received);
    assert_one_partition_per_tenant(&received);
    assert_eq!(received.len(), journal.len() + 3);
    assert_eq!(publisher.metrics().delivered, received.len() as u64);

    let customer: Vec<(usize, &Received)> = received
        .iter()
        .enumerate()
        .filter(|(_, m)| is_customer_message(m))
        .collect();
    let types: Vec<&str> = customer
        .iter()
        .map(|(_, m)| m.headers["ce_type"].as_str())
        .collect();
    assert_eq!(
        types,
        [
            "io.entity.v1.CustomerRegistered",
            "io.entity.v1.CustomerUpdated",
            "io.entity.v1.CustomerUpdated"
        ]
    );
    // each right after the tenant event it derives from
    let sources: Vec<&str> = customer
        .iter()
        .map(|(i, _)| received[i - 1].value["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        sources,
        ["TenantCreated", "TenantUpdated", "TenantSuspended"]
    );
    for (i, m) in &customer {
        assert_eq!(m.ce_id(), format!("{}:customer", received[i - 1].ce_id()));
        assert_eq!(m.headers["ce_subject"], format!("customers/{tenant}"));
    }

    let created = journal
        .iter()
        .find(|e| e.event_type == "TenantCreated")
        .unwrap();
    let registered = &customer[0].1.value;
    assert_eq!(
        registered["customer"],
        serde_json::json!({
            "id": tenant.to_string(),
            "name": created.payload["name"],
            "slug": created.payload["slug"],
            "kind": "business",
            "status": "active",
            "business_profile": null,
        })
    );
    assert_eq!(registered["version"], 1);
    let owner_email = journal
        .iter()
        .find(|e| e.event_type == "OnboardingStarted")
        .unwrap()
        .payload["plan"]["owner_email"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(owner_email.contains('@'), "opened: {owner_email}");
    for (_, m) in &customer {
        let text = m.value.to_string();
        for absent in [
            owner_email.as_str(),
            "plan",
            "products",
            "settings",
            "metadata",
        ] {
            assert!(!text.contains(absent), "{absent} in {text}");
        }
    }

    let updated = &customer[1].1.value;
    assert_eq!(
        updated["update_mask"],
        serde_json::json!(["business_profile", "name"])
    );
    assert_eq!(updated["customer"]["name"], "Renamed");
    assert_eq!(
        updated["customer"]["business_profile"]["legal_name"],
        "Renamed Inc"
    );
    let suspended = &customer[2].1.value;
    assert_eq!(suspended["update_mask"], serde_json::json!(["status"]));
    assert_eq!(
        suspended["customer"],
        serde_json::json!({"id": tenant.to_string(), "status": "suspended"})
    );
    service.stop().await;
    engine.shutdown().await;
}
