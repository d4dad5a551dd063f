//! `/metrics` for real (issue 18): `entityd` with `--metrics-listen`, driven by a gRPC client;
//! the scrape before and after a workload must differ by exactly the calls, commands,
//! journal appends, activations, refusals and (on PostgreSQL, as a one-node cluster with Kafka)
//! passivations, snapshots, shard hand-overs and deliveries made, and no label may carry a
//! tenant's or user's value. The serve-mode test needs `ENTITY_TEST_DATABASE_URL`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

#[path = "support/grpc.rs"]
mod grpc_support;

use std::collections::BTreeMap;

use std::time::{Duration, Instant};

use engine::testing::TestDatabase;
use entity_proto::v1 as pb;
use grpc_support::{
    Clients, Entityd, TEST_HS256_SECRET, bearer, claims, create_org, create_tenant_request,
    hs256_token, scrape_text, serve_args,
};
use rdkafka::mocking::MockCluster;
use tonic::Code;

/// A scrape: every sample line as `name{labels}` → value.
type Scrape = BTreeMap<String, f64>;

async fn scrape(url: &str) -> Scrape {
    scrape_text(url)
        .await
        .lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').expect("a sample line");
            (series.to_owned(), value.parse().expect("a number"))
        })
        .collect()
}

/// Scrapes until `done` holds (within 30 s), returning that scrape.
async fn scrape_until(url: &str, what: &str, done: impl Fn(&Scrape) -> bool) -> Scrape {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let now = scrape(url).await;
        if done(&now) {
            return now;
        }
        assert!(Instant::now() < deadline, "{what}: never in {now:#?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn value(scrape: &Scrape, series: &str) -> f64 {
    scrape.get(series).copied().unwrap_or(0.0)
}

fn delta(before: &Scrape, after: &Scrape, series: &str) -> f64 {
    after.get(series).copied().unwrap_or(0.0) - before.get(series).copied().unwrap_or(0.0)
}

fn calls(method: &str, code: Code) -> String {
    let service = if method.starts_with("Check") {
        "grpc.health.v1.Health"
    } else {
        "entity.v1.TenantService"
    };
    format!(
        "rpc_server_call_duration_seconds_count{{rpc_system=\"grpc\",rpc_service=\"{service}\",\
         rpc_method=\"{method}\",rpc_grpc_status_code=\"{}\"}}",
        i32::from(code)
    )
}

fn commands(command: &str, outcome: &str) -> String {
    format!("entity_commands_total{{command=\"{command}\",outcome=\"{outcome}\"}}")
}

#[tokio::test]
async fn a_scrape_counts_every_call_and_command_and_names_no_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let node = Entityd::embedded_with_metrics(dir.path()).await;
    let url = node.metrics_url();
    let mut c = Clients::connect(&node.endpoint()).await;
    let before = scrape(&url).await;
    // Nothing has run yet: no tenant actor, every shard held by the single node.
    assert_eq!(value(&before, "entity_live_entities"), 0.0);
    assert_eq!(
        value(&before, "entity_recovery_duration_seconds_count"),
        0.0
    );
    assert!(value(&before, "entity_shards_held") > 0.0);

    let mut created = Vec::new();
    let mut token = String::new();
    for _ in 0..3 {
        let answer = c
            .tenants
            .create_tenant(create_tenant_request("Metrics Co", pb::Plan::Gold))
            .await
            .unwrap()
            .into_inner();
        created.push(answer.tenant.unwrap().id);
        token = answer.result.unwrap().consistency_token;
    }
    for _ in 0..2 {
        let refused = c
            .tenants
            .create_tenant(create_tenant_request("", pb::Plan::Gold))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::InvalidArgument);
    }
    let missing = c
        .tenants
        .get_tenant(pb::GetTenantRequest {
            tenant_id: uuid::Uuid::now_v7().to_string(),
            consistency_token: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    let got = c
        .tenants
        .get_tenant(pb::GetTenantRequest {
            tenant_id: created[2].clone(),
            consistency_token: token,
        })
        .await;
    assert!(got.is_ok(), "{got:?}");

    let after = scrape(&url).await;
    assert_eq!(
        delta(&before, &after, &calls("CreateTenant", Code::Ok)),
        3.0
    );
    assert_eq!(
        delta(
            &before,
            &after,
            &calls("CreateTenant", Code::InvalidArgument)
        ),
        2.0
    );
    assert_eq!(
        delta(&before, &after, &calls("GetTenant", Code::NotFound)),
        1.0
    );
    assert_eq!(delta(&before, &after, &calls("GetTenant", Code::Ok)), 1.0);
    // The nameless tenants were refused by the domain's rules (INVALID_ARGUMENT), nothing
    // written: commands rejected, not failed.
    assert_eq!(delta(&before, &after, &commands("tenant", "ok")), 3.0);
    assert_eq!(delta(&before, &after, &commands("tenant", "rejected")), 2.0);
    assert_eq!(delta(&before, &after, &commands("tenant", "failed")), 0.0);
    // Every call of the histogram also fell in its +Inf bucket, and took some time.
    let sum = calls("CreateTenant", Code::Ok).replace("_count{", "_sum{");
    assert!(delta(&before, &after, &sum) > 0.0);

    // An actor started (recovered from nothing) once for each tenant id called: the three
    // created, the two refused and the unknown one.
    assert_eq!(
        delta(&before, &after, "entity_recovery_duration_seconds_count"),
        6.0
    );
    // … and each stays live until it has been idle for the idle timeout (5 min by default).
    assert_eq!(value(&after, "entity_live_entities"), 6.0);

    // Organizations: one command, one append each, counted in the journal's transactions.
    let quiet = scrape_until(&url, "the journal at rest", |s| {
        value(s, "entity_journal_queue_depth") == 0.0
    })
    .await;
    for i in 0..5 {
        create_org(&mut c, &created[0], &format!("Org {i}"), "").await;
    }
    // A request larger than the message limit is refused before anything is held.
    let huge = c
        .tenants
        .create_tenant(create_tenant_request(&"x".repeat(2 << 20), pb::Plan::Gold))
        .await
        .unwrap_err();
    assert_eq!(huge.code(), Code::ResourceExhausted, "{huge:?}");
    let later = scrape(&url).await;
    assert_eq!(
        delta(&quiet, &later, "entity_journal_group_commands_sum"),
        5.0
    );
    let transactions = delta(
        &quiet,
        &later,
        "entity_journal_append_duration_seconds_count",
    );
    assert!((1.0..=5.0).contains(&transactions), "{transactions}");
    assert_eq!(delta(&quiet, &later, &commands("organization", "ok")), 5.0);
    assert_eq!(
        delta(
            &quiet,
            &later,
            r#"entity_requests_rejected_total{reason="request_too_large"}"#
        ),
        1.0
    );
    assert_eq!(
        delta(
            &quiet,
            &later,
            r#"entity_requests_rejected_total{reason="rate_limited"}"#
        ),
        0.0
    );
    // The projections catch up: no lag left, on every read model.
    let caught_up = scrape_until(&url, "projections caught up", |s| {
        let lags: Vec<f64> = s
            .iter()
            .filter(|(k, _)| k.starts_with("entity_projection_lag_events{"))
            .map(|(_, v)| *v)
            .collect();
        lags.len() >= 10 && lags.iter().all(|v| *v == 0.0)
    })
    .await;
    assert_eq!(
        value(
            &caught_up,
            r#"entity_projection_lag_seconds{projection="users"}"#
        ),
        0.0
    );
    assert!(value(&caught_up, "process_resident_memory_bytes") > 1e6);
    // jemalloc's own figures: what the node holds within what it has mapped.
    let allocated = value(&caught_up, "entity_allocator_allocated_bytes");
    assert!(allocated > 1e6, "{allocated}");
    assert!(value(&caught_up, "entity_allocator_active_bytes") >= allocated);
    assert!(value(&caught_up, "entity_allocator_metadata_bytes") > 0.0);
    assert!(value(&caught_up, "entity_allocator_resident_bytes") > allocated);
    assert!(value(&caught_up, "process_cpu_seconds_total") > 0.0);

    // No label value is a tenant's, a user's or any id.
    for series in after.keys() {
        for id in &created {
            assert!(!series.contains(id.as_str()), "{series} names tenant {id}");
        }
        let labels = series.split_once('{').map_or("", |(_, l)| l);
        for value in labels.split('"').skip(1).step_by(2) {
            assert!(
                uuid::Uuid::parse_str(value).is_err() && !value.contains('@'),
                "{series}: label value {value:?} looks like an id or an email"
            );
        }
    }
}

/// `entityd serve` on PostgreSQL as a one-node cluster publishing to Kafka (a librdkafka mock
/// cluster in this process), tenant actors passivated after 1 s idle.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_node_counts_leases_passivations_snapshots_and_deliveries() {
    let db = TestDatabase::create().await;
    let kafka = MockCluster::new(1).unwrap();
    kafka.create_topic("entity-events", 2, 1).unwrap();
    let secret = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(secret.path(), TEST_HS256_SECRET).unwrap();
    let brokers = kafka.bootstrap_servers();
    let mut args = serve_args(db.url(), secret.path().to_str().unwrap());
    args.extend([
        "--node-id",
        "metrics-1",
        "--shard-count",
        "16",
        "--idle-timeout-secs",
        "1",
        "--kafka-brokers",
        &brokers,
        "--metrics-listen",
        "127.0.0.1:0",
    ]);
    let node = Entityd::start(&args).await;
    let url = node.metrics_url();
    let token = hs256_token(&claims("metrics-test", None));
    let c = Clients::connect(&node.endpoint()).await;

    // The node takes all 16 shards and renews their leases every round.
    let held = scrape_until(&url, "every shard held and renewed", |s| {
        value(s, "entity_shards_held") == 16.0
            && value(s, "entity_lease_renewal_duration_seconds_count") >= 1.0
    })
    .await;
    assert_eq!(
        value(
            &held,
            r#"entity_shard_handovers_total{direction="acquired"}"#
        ),
        16.0
    );
    assert_eq!(
        value(
            &held,
            r#"entity_shard_handovers_total{direction="released"}"#
        ),
        0.0
    );

    let mut tenants = Vec::new();
    for _ in 0..2 {
        let answer = c
            .tenants
            .clone()
            .create_tenant(bearer(
                create_tenant_request("Leases Co", pb::Plan::Gold),
                &token,
            ))
            .await
            .unwrap()
            .into_inner();
        tenants.push(answer.tenant.unwrap().id);
    }
    // Both actors go idle, write their final snapshot and stop.
    let passivated = scrape_until(&url, "both tenants passivated", |s| {
        value(s, "entity_passivations_total") == 2.0 && value(s, "entity_live_entities") == 0.0
    })
    .await;
    assert_eq!(value(&passivated, "entity_snapshot_bytes_count"), 2.0);
    assert!(value(&passivated, "entity_snapshot_bytes_sum") > 0.0);
    assert_eq!(
        value(&passivated, "entity_recovery_duration_seconds_count"),
        2.0
    );
    assert_eq!(value(&passivated, "entity_fencing_refusals_total"), 0.0);

    // Every event of the journal reaches Kafka, once.
    let events: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events")
        .fetch_one(&db.journal().await.pool().clone())
        .await
        .unwrap();
    assert!(events > 0);
    #[allow(clippy::cast_precision_loss)]
    let events = events as f64;
    // Each event, and for each TenantCreated a CustomerRegistered derived from it.
    let messages = events + 2.0;
    let delivered = scrape_until(&url, "every event delivered", |s| {
        value(s, "entity_kafka_delivered_total") >= messages
            && value(s, "entity_kafka_in_flight") == 0.0
    })
    .await;
    assert_eq!(value(&delivered, "entity_kafka_delivered_total"), messages);
    assert_eq!(value(&delivered, "entity_kafka_failed_total"), 0.0);
    assert_eq!(value(&delivered, "entity_kafka_in_flight"), 0.0);
    assert_eq!(
        value(
            &delivered,
            r#"entity_projection_lag_events{projection="kafka-publisher"}"#
        ),
        0.0
    );
    for series in delivered.keys() {
        for id in &tenants {
            assert!(!series.contains(id.as_str()), "{series} names tenant {id}");
        }
    }
    node.kill9().await;
}
