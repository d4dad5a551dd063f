//! Kafka publishing throughput and commit-to-Kafka latency of the publisher projection, into
//! librdkafka's mock cluster (three brokers, in this process), from a PostgreSQL journal.
//!
//! Run: `ENTITY_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench
//! --bench kafka_publish` (any PostgreSQL admin URL; `scripts/test` starts a throwaway
//! server). The bench creates and drops its own database.
//!
//! - `kafka_publish/publisher`: the journal holds a workload of ~5,000 events (25 tenants:
//!   organizations and invitations); one iteration rebuilds the publisher (checkpoint to zero)
//!   and waits until it has republished everything: journal reads, decoding, opening personal
//!   values (keys loaded per batch), CloudEvents rendering, sends, acknowledgements and
//!   checkpoint commits.
//! - `kafka_publish/baseline_raw_producer` (same run): the same messages (same keys, values
//!   and headers, read back from the topic) sent by a bare idempotent `FutureProducer` with
//!   the publisher's settings, all enqueued then all awaited: the floor of any publisher.
//! - Latency (printed, not a criterion figure): writers issue commands at a steady pace while
//!   the publisher runs; for each event, from its `recorded_at` (the decision's clock, just
//!   before the journal commit) to a consumer receiving it. Baseline: a raw producer sending
//!   paced messages, from send to receive on the same consumer setup.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::{
    collections::{BTreeMap, HashSet},
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::Utc;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use engine::{
    domain::{
        Assignment, OrganizationCommand, OrganizationId, Scope, TenantId, TenantScopeCommand,
        UserCommand, UserId,
    },
    journal::{Journal, tail::JournalTail},
    runtime::{Engine, EngineConfig, RequestMeta},
    testing::TestDatabase,
};
use projections::{
    KafkaConfig, KafkaPublisher, Projection, ProjectionHandle, ProjectionService, ReadStore,
    RunnerConfig,
};
use rdkafka::{
    ClientConfig, Message, Offset, TopicPartitionList,
    consumer::{Consumer, StreamConsumer},
    message::{Header, Headers, OwnedHeaders},
    mocking::MockCluster,
    producer::{FutureProducer, FutureRecord},
};

const TOPIC: &str = "entity-events";
const PARTITIONS: i32 = 4;
const TENANTS: usize = 25;
const COMMANDS_PER_TENANT: usize = 200;
const WAIT: Duration = Duration::from_secs(120);

fn create_tenant(id: TenantId) -> TenantScopeCommand {
    engine::testing::create_tenant(id, "Bench")
}

/// Command `i` of a tenant: organizations (every third nested) and invitations.
fn command(i: usize, orgs: &mut Vec<OrganizationId>) -> TenantScopeCommand {
    if i.is_multiple_of(2) {
        let id = OrganizationId::new_v7();
        let parent = i.is_multiple_of(3).then(|| orgs.last().copied()).flatten();
        orgs.push(id);
        TenantScopeCommand::Organization(OrganizationCommand::Create {
            id,
            name: format!("Organization {i}"),
            description: "A benchmark organization".into(),
            parent_id: parent,
        })
    } else {
        let id = UserId::new_v7();
        let org = orgs.last().copied();
        TenantScopeCommand::User(UserCommand::Invite {
            id,
            email: format!("user.{i}.{}@bench.example.com", id.0.simple()),
            display_name: format!("User {i}"),
            roles: org
                .map(|o| Assignment {
                    role: "member".into(),
                    scope: Scope::Organization(o),
                })
                .into_iter()
                .collect(),
            organization_id: org,
            expires_in_days: 7,
            token_hash: engine::secrets::token_hash(&id.to_string()),
        })
    }
}

/// Runs `commands` commands on a new tenant, sleeping `pace` between them.
async fn run_tenant(engine: &Engine, commands: usize, pace: Option<Duration>) {
    let tenant = TenantId::new_v7();
    engine
        .execute(tenant, create_tenant(tenant), RequestMeta::default())
        .await
        .unwrap();
    let mut orgs = Vec::new();
    for i in 0..commands {
        engine
            .execute(tenant, command(i, &mut orgs), RequestMeta::default())
            .await
            .unwrap();
        if let Some(pace) = pace {
            tokio::time::sleep(pace).await;
        }
    }
}

fn producer_config(bootstrap: &str) -> ClientConfig {
    // The publisher's own settings (see `KafkaConfig`).
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", bootstrap)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("max.in.flight.requests.per.connection", "5")
        .set("message.timeout.ms", "30000")
        .set("linger.ms", "5");
    config
}

/// A consumer assigned to every partition from the current high watermarks (no group join).
fn consumer_at_end(bootstrap: &str) -> StreamConsumer {
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "bench-latency")
        .set("enable.auto.commit", "false")
        .set("fetch.wait.max.ms", "5")
        .create()
        .unwrap();
    let mut assignment = TopicPartitionList::new();
    for partition in 0..PARTITIONS {
        let (_, high) = consumer
            .fetch_watermarks(TOPIC, partition, Duration::from_secs(30))
            .unwrap();
        assignment
            .add_partition_offset(TOPIC, partition, Offset::Offset(high))
            .unwrap();
    }
    consumer.assign(&assignment).unwrap();
    consumer
}

/// One message as published: key, value, headers.
struct Published {
    key: Vec<u8>,
    value: Vec<u8>,
    headers: Vec<(String, Vec<u8>)>,
}

/// Reads `n` messages from the start of the topic (assigned, no group).
async fn read_back(bootstrap: &str, n: usize) -> Vec<Published> {
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "bench-read-back")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut assignment = TopicPartitionList::new();
    for partition in 0..PARTITIONS {
        assignment
            .add_partition_offset(TOPIC, partition, Offset::Beginning)
            .unwrap();
    }
    consumer.assign(&assignment).unwrap();
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let m = tokio::time::timeout(WAIT, consumer.recv())
            .await
            .expect("reading the topic back timed out")
            .unwrap();
        out.push(Published {
            key: m.key().unwrap_or_default().to_vec(),
            value: m.payload().unwrap_or_default().to_vec(),
            headers: m
                .headers()
                .map(|h| {
                    h.iter()
                        .map(|h| (h.key.to_owned(), h.value.unwrap_or_default().to_vec()))
                        .collect()
                })
                .unwrap_or_default(),
        });
    }
    out
}

fn headers_of(published: &Published) -> OwnedHeaders {
    published
        .headers
        .iter()
        .fold(OwnedHeaders::new(), |h, (key, value)| {
            h.insert(Header {
                key,
                value: Some(value),
            })
        })
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn summary(mut ms: Vec<f64>) -> String {
    ms.sort_by(f64::total_cmp);
    format!(
        "n={} p50={:.1} ms p99={:.1} ms max={:.1} ms",
        ms.len(),
        percentile(&ms, 0.5),
        percentile(&ms, 0.99),
        ms[ms.len() - 1]
    )
}

async fn wait_caught_up(handle: &ProjectionHandle) {
    handle
        .wait_caught_up(WAIT)
        .await
        .expect("publisher did not catch up");
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let cluster = MockCluster::new(3).unwrap();
    cluster.create_topic(TOPIC, PARTITIONS, 3).unwrap();
    let bootstrap = cluster.bootstrap_servers();

    let (db, journal, engine) = runtime.block_on(async {
        let db = TestDatabase::create().await;
        let journal = Arc::new(db.journal().await);
        let engine = Engine::start(journal.clone() as Arc<dyn Journal>, EngineConfig::default())
            .await
            .unwrap();
        let started = Instant::now();
        futures::future::join_all(
            (0..TENANTS).map(|_| run_tenant(&engine, COMMANDS_PER_TENANT, None)),
        )
        .await;
        eprintln!("workload written in {:?}", started.elapsed());
        (db, journal, engine)
    });
    let publisher = Arc::new(KafkaPublisher::new(&KafkaConfig::new(bootstrap.clone())).unwrap());
    let projection: Arc<dyn Projection> = publisher.clone();
    let service = runtime.block_on(async {
        let service = ProjectionService::start(
            ReadStore::postgres(&journal),
            journal.clone() as Arc<dyn JournalTail>,
            engine.vault(),
            vec![projection],
            RunnerConfig::default(),
        )
        .await
        .unwrap();
        wait_caught_up(&service.handle()).await;
        service
    });
    let handle = service.handle();
    let events = publisher.metrics().delivered;
    let published = runtime.block_on(read_back(&bootstrap, events as usize));
    let bytes: usize = published.iter().map(|p| p.key.len() + p.value.len()).sum();
    eprintln!(
        "journal: {events} events, mean key+value {} bytes, {} headers each",
        bytes / published.len(),
        published[0].headers.len()
    );

    let mut group = c.benchmark_group("kafka_publish");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(15))
        .throughput(Throughput::Elements(events));
    group.bench_function("publisher", |b| {
        b.to_async(&runtime).iter_custom(|iters| {
            let handle = handle.clone();
            async move {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let started = Instant::now();
                    handle.rebuild(KafkaPublisher::NAME).await.unwrap();
                    wait_caught_up(&handle).await;
                    total += started.elapsed();
                }
                total
            }
        })
    });
    let raw: FutureProducer = producer_config(&bootstrap).create().unwrap();
    group.bench_function("baseline_raw_producer", |b| {
        b.to_async(&runtime).iter_custom(|iters| {
            let raw = &raw;
            let published = &published;
            async move {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let started = Instant::now();
                    let mut pending = Vec::with_capacity(published.len());
                    for p in published {
                        let record = FutureRecord::to(TOPIC)
                            .key(&p.key)
                            .payload(&p.value)
                            .headers(headers_of(p));
                        pending.push(raw.send_result(record).map_err(|(e, _)| e).unwrap());
                    }
                    for delivery in pending {
                        delivery.await.unwrap().map_err(|(e, _)| e).unwrap();
                    }
                    total += started.elapsed();
                }
                total
            }
        })
    });
    group.finish();

    // Commit-to-Kafka latency under a steady write rate.
    runtime.block_on(async {
        wait_caught_up(&handle).await;
        let consumer = consumer_at_end(&bootstrap);
        let writers = 8;
        let started = Instant::now();
        let write = futures::future::join_all(
            (0..writers).map(|_| run_tenant(&engine, 150, Some(Duration::from_millis(20)))),
        );
        let expected = writers * 151;
        let mut latencies = Vec::with_capacity(expected);
        let mut seen = HashSet::new();
        let receive = async {
            while latencies.len() < expected {
                let m = tokio::time::timeout(WAIT, consumer.recv())
                    .await
                    .expect("latency phase: consumer timed out")
                    .unwrap();
                let now = Utc::now();
                let headers: BTreeMap<String, String> = m
                    .headers()
                    .map(|h| {
                        h.iter()
                            .map(|h| {
                                (
                                    h.key.to_owned(),
                                    String::from_utf8_lossy(h.value.unwrap_or_default())
                                        .into_owned(),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                if !seen.insert(headers["ce_id"].clone()) {
                    continue;
                }
                let at = chrono::DateTime::parse_from_rfc3339(&headers["ce_time"]).unwrap();
                latencies.push(
                    (now - at.with_timezone(&Utc)).num_microseconds().unwrap() as f64 / 1_000.0,
                );
            }
        };
        tokio::join!(write, receive);
        let elapsed = started.elapsed();
        eprintln!(
            "commit-to-Kafka latency, publisher ({:.0} events/s written): {}",
            latencies.len() as f64 / elapsed.as_secs_f64(),
            summary(latencies)
        );

        // Baseline: the same consumer setup, a raw producer, the same pace per sender.
        let consumer = consumer_at_end(&bootstrap);
        let senders = writers;
        let per_sender = 150;
        let send = futures::future::join_all((0..senders).map(|s| {
            let raw = &raw;
            let published = &published;
            async move {
                for i in 0..per_sender {
                    let p = &published[(s * per_sender + i) % published.len()];
                    let sent_at = Utc::now().timestamp_micros().to_string();
                    let record = FutureRecord::to(TOPIC)
                        .key(&p.key)
                        .payload(&p.value)
                        .headers(headers_of(p).insert(Header {
                            key: "bench_sent_us",
                            value: Some(&sent_at),
                        }));
                    raw.send_result(record)
                        .map_err(|(e, _)| e)
                        .unwrap()
                        .await
                        .unwrap()
                        .map_err(|(e, _)| e)
                        .unwrap();
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }));
        let mut raw_latencies = Vec::new();
        let receive = async {
            while raw_latencies.len() < senders * per_sender {
                let m = tokio::time::timeout(WAIT, consumer.recv())
                    .await
                    .expect("latency baseline: consumer timed out")
                    .unwrap();
                let now = Utc::now().timestamp_micros();
                let Some(sent) = m.headers().and_then(|h| {
                    h.iter()
                        .find(|h| h.key == "bench_sent_us")
                        .and_then(|h| h.value)
                        .and_then(|v| std::str::from_utf8(v).ok()?.parse::<i64>().ok())
                }) else {
                    continue;
                };
                raw_latencies.push((now - sent) as f64 / 1_000.0);
            }
        };
        tokio::join!(send, receive);
        eprintln!(
            "send-to-receive latency, raw producer (baseline): {}",
            summary(raw_latencies)
        );
    });
    eprintln!("publisher metrics: {:?}", publisher.metrics());
    runtime.block_on(async {
        service.stop().await;
        engine.shutdown().await;
    });
    drop(db);
}

criterion_group!(benches, bench);
criterion_main!(benches);
