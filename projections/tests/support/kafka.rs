//! Kafka test helpers: a three-broker librdkafka mock cluster, the publisher under the runner,
//! a consumer-group reader, and the checks every Kafka test shares.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    sync::Arc,
    time::Duration,
};

use engine::journal::{CommitToken, RecordedEvent};
use projections::{
    Envelope, KafkaConfig, KafkaPublisher, Projection, ProjectionService, RunnerConfig,
    kafka::{
        CustomerEvent, SECRET_HASH_FIELDS, ce_id, ce_type, customer_ce_id, customer_subject,
        subject, without_secret_hashes,
    },
};
use rdkafka::{
    ClientConfig, Message,
    consumer::{Consumer, StreamConsumer},
    message::Headers,
    mocking::MockCluster,
    producer::DefaultProducerContext,
};

use super::Store;

pub const TOPIC: &str = "entity-events";
pub const PARTITIONS: i32 = 4;
pub const BROKERS: i32 = 3;
pub const SOURCE: &str = "//entity-engine/test";

/// A three-broker mock cluster with the topic created (4 partitions, replication 3).
pub struct MockKafka {
    pub cluster: MockCluster<'static, DefaultProducerContext>,
    pub bootstrap: String,
}

impl MockKafka {
    pub fn start() -> Self {
        let cluster = MockCluster::new(BROKERS).unwrap();
        cluster.create_topic(TOPIC, PARTITIONS, BROKERS).unwrap();
        let bootstrap = cluster.bootstrap_servers();
        Self { cluster, bootstrap }
    }

    /// Broker ids of the mock (1-based).
    pub fn broker_ids() -> impl Iterator<Item = i32> {
        1..=BROKERS
    }

    pub fn config(&self, delivery_timeout: Duration) -> KafkaConfig {
        let mut config = KafkaConfig::new(self.bootstrap.clone());
        config.ce_source = SOURCE.to_owned();
        config.delivery_timeout = delivery_timeout;
        config
    }

    pub fn publisher(&self, delivery_timeout: Duration) -> Arc<KafkaPublisher> {
        Arc::new(KafkaPublisher::new(&self.config(delivery_timeout)).unwrap())
    }
}

/// Runner settings for fault tests: quick retries.
pub fn runner_config() -> RunnerConfig {
    RunnerConfig {
        batch_size: 100,
        retry_initial: Duration::from_millis(50),
        retry_max: Duration::from_millis(500),
        ..RunnerConfig::default()
    }
}

/// Runs only the publisher.
pub async fn start_publisher(store: &Store, publisher: &Arc<KafkaPublisher>) -> ProjectionService {
    let projection: Arc<dyn Projection> = publisher.clone();
    ProjectionService::start(
        store.read.clone(),
        store.tail.clone(),
        store.vault.clone(),
        vec![projection],
        runner_config(),
    )
    .await
    .unwrap()
}

/// One message as read back.
#[derive(Clone, Debug)]
pub struct Received {
    pub partition: i32,
    pub offset: i64,
    pub key: String,
    pub headers: BTreeMap<String, String>,
    pub value: serde_json::Value,
}

impl Received {
    pub fn ce_id(&self) -> &str {
        self.headers.get("ce_id").map_or("", String::as_str)
    }
}

/// Reads the whole topic with a consumer group (`StreamConsumer`, `auto.offset.reset =
/// earliest`), up to the high watermarks as they are now; messages in offset order per
/// partition, partitions one after another.
pub async fn read_topic(bootstrap: &str, group: &str) -> Vec<Received> {
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", group)
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .set("session.timeout.ms", "6000")
        .set("heartbeat.interval.ms", "500")
        .create()
        .unwrap();
    consumer.subscribe(&[TOPIC]).unwrap();
    let mut high = BTreeMap::new();
    for partition in 0..PARTITIONS {
        let (low, hi) = tokio::task::block_in_place(|| {
            consumer.fetch_watermarks(TOPIC, partition, Duration::from_secs(30))
        })
        .unwrap();
        assert_eq!(low, 0, "partition {partition} was truncated");
        high.insert(partition, hi);
    }
    let mut next: BTreeMap<i32, i64> = (0..PARTITIONS).map(|p| (p, 0)).collect();
    let mut by_partition: BTreeMap<i32, Vec<Received>> = BTreeMap::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while next.iter().any(|(p, n)| *n < high[p]) {
        let message = tokio::time::timeout_at(deadline, consumer.recv())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "consumer group {group} did not read the topic within 120 s: at {next:?}, \
                     high watermarks {high:?}"
                )
            })
            .unwrap();
        let partition = message.partition();
        let offset = message.offset();
        if offset < next[&partition] {
            continue; // re-delivered after a rebalance
        }
        assert_eq!(
            offset, next[&partition],
            "offsets must be read without a hole"
        );
        next.insert(partition, offset + 1);
        let headers = message
            .headers()
            .map(|h| {
                h.iter()
                    .map(|h| {
                        let value = h.value.map(|v| String::from_utf8(v.to_vec()).unwrap());
                        (h.key.to_owned(), value.unwrap_or_default())
                    })
                    .collect()
            })
            .unwrap_or_default();
        by_partition.entry(partition).or_default().push(Received {
            partition,
            offset,
            key: String::from_utf8(message.key().unwrap().to_vec()).unwrap(),
            headers,
            value: serde_json::from_slice(message.payload().unwrap()).unwrap(),
        });
    }
    by_partition.into_values().flatten().collect()
}

/// `ce_id` of a journal event.
pub fn id_of(event: &RecordedEvent) -> String {
    ce_id(&event.stream, event.sequence)
}

/// The customer event the publisher derives from a journal event, if any.
pub fn customer_event_of(event: &RecordedEvent) -> Option<CustomerEvent> {
    let envelope = Envelope::decode(event.clone()).unwrap();
    CustomerEvent::of(&envelope.event).unwrap()
}

/// `ce_id`s of the messages published for a journal event: its own, then its customer
/// event's, if any.
pub fn message_ids_of(event: &RecordedEvent) -> Vec<String> {
    let derived = customer_event_of(event).map(|_| customer_ce_id(&event.stream, event.sequence));
    std::iter::once(id_of(event)).chain(derived).collect()
}

/// How many messages the publisher sends for `events`.
pub fn message_count<'a>(events: impl IntoIterator<Item = &'a RecordedEvent>) -> usize {
    events.into_iter().map(|e| message_ids_of(e).len()).sum()
}

/// Whether a message is a customer event (derived, not a journal event).
pub fn is_customer_message(m: &Received) -> bool {
    m.headers.contains_key("ce_customerid")
}

pub fn token_of(event: &RecordedEvent) -> CommitToken {
    CommitToken {
        transaction_id: event.transaction_id,
        position: event.position,
    }
}

/// Every message carries the CloudEvents headers and value of its journal event (or of the
/// customer event derived from it), and every message is of a journal event.
pub fn assert_messages_match(journal: &[RecordedEvent], received: &[Received]) {
    let by_id: HashMap<String, &RecordedEvent> = journal.iter().map(|e| (id_of(e), e)).collect();
    let customers: HashMap<String, (&RecordedEvent, CustomerEvent)> = journal
        .iter()
        .filter_map(|e| {
            let derived = customer_event_of(e)?;
            Some((customer_ce_id(&e.stream, e.sequence), (e, derived)))
        })
        .collect();
    for m in received {
        if is_customer_message(m) {
            let (event, derived) = customers
                .get(m.ce_id())
                .unwrap_or_else(|| panic!("customer message {m:?} is of no tenant event"));
            assert_customer_message_matches(event, derived, m);
            continue;
        }
        let event = by_id
            .get(m.ce_id())
            .unwrap_or_else(|| panic!("message {m:?} is of no journal event"));
        let h = &m.headers;
        let tenant = event.tenant_id.to_string();
        assert_eq!(m.key, tenant, "key");
        assert_eq!(h["ce_specversion"], "1.0");
        assert_eq!(h["ce_source"], SOURCE);
        assert_eq!(h["ce_type"], ce_type(&event.event_type));
        assert!(h["ce_type"].starts_with("io.entity.v1."));
        assert_eq!(h["ce_subject"], subject(event.tenant_id, &event.stream));
        assert!(h["ce_subject"].starts_with(&format!("tenants/{tenant}")));
        let time = chrono::DateTime::parse_from_rfc3339(&h["ce_time"]).unwrap();
        assert_eq!(time, event.recorded_at, "ce_time");
        assert_eq!(h["ce_tenantid"], tenant);
        assert_eq!(h["ce_sequence"], event.sequence.to_string());
        assert_eq!(h["content-type"], "application/json");
        let v = &m.value;
        // the stored payload, but the hashes of issued secrets
        assert_eq!(
            v["payload"],
            without_secret_hashes(&event.payload),
            "payload of {}",
            m.ce_id()
        );
        let text = v.to_string();
        for field in SECRET_HASH_FIELDS {
            assert!(
                !text.contains(&format!("\"{field}\"")),
                "{field} published: {text}"
            );
        }
        assert_eq!(v["event_type"], event.event_type.as_str());
        assert_eq!(v["sequence"], event.sequence);
        assert_eq!(v["position"], event.position);
        assert_eq!(v["schema_version"], event.schema_version);
        assert_eq!(v["stream"]["kind"], event.stream.kind.as_str());
        assert_eq!(
            serde_json::from_value::<engine::journal::EventMetadata>(v["metadata"].clone())
                .unwrap(),
            event.metadata
        );
    }
}

/// A customer message carries the CloudEvents headers of its customer event and the
/// customer's fields, nothing of the tenant's.
pub fn assert_customer_message_matches(
    event: &RecordedEvent,
    derived: &CustomerEvent,
    m: &Received,
) {
    let h = &m.headers;
    let customer = event.tenant_id.to_string();
    assert_eq!(m.key, customer, "key");
    assert_eq!(h["ce_specversion"], "1.0");
    assert_eq!(h["ce_source"], SOURCE);
    assert_eq!(h["ce_type"], ce_type(derived.event_type));
    assert_eq!(h["ce_subject"], customer_subject(event.tenant_id));
    assert_eq!(h["ce_customerid"], customer);
    assert_eq!(h["ce_sequence"], event.sequence.to_string());
    assert!(!h.contains_key("ce_tenantid"));
    let time = chrono::DateTime::parse_from_rfc3339(&h["ce_time"]).unwrap();
    assert_eq!(time, event.recorded_at, "ce_time");
    assert_eq!(h["content-type"], "application/json");
    let v = &m.value;
    assert_eq!(v["customer_id"], customer.as_str());
    assert_eq!(v["version"], event.sequence);
    assert_eq!(v["customer"]["id"], customer.as_str());
    for (field, value) in &derived.fields {
        assert_eq!(&v["customer"][field], value, "{field} of {}", m.ce_id());
    }
    assert_eq!(
        v["customer"].as_object().unwrap().len(),
        derived.fields.len() + 1,
        "only the customer's fields: {v}"
    );
}

/// A tenant's messages all sit in one partition.
pub fn assert_one_partition_per_tenant(received: &[Received]) {
    let mut partition_of: HashMap<&str, i32> = HashMap::new();
    for m in received {
        let p = *partition_of.entry(&m.key).or_insert(m.partition);
        assert_eq!(p, m.partition, "tenant {} spans partitions", m.key);
    }
}

/// `ce_id`s per tenant in topic order, first occurrences only (what a consumer that
/// deduplicates by `ce_id` processes).
pub fn deduplicated_per_tenant(received: &[Received]) -> BTreeMap<String, Vec<String>> {
    let mut seen = HashSet::new();
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for m in received {
        if seen.insert(m.ce_id().to_owned()) {
            out.entry(m.key.clone())
                .or_default()
                .push(m.ce_id().to_owned());
        }
    }
    out
}

/// The `ce_id`s the journal's events are published as, per tenant in journal order (each
/// tenant event followed by its customer event, if any).
pub fn journal_per_tenant(journal: &[RecordedEvent]) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for e in journal {
        out.entry(e.tenant_id.to_string())
            .or_default()
            .extend(message_ids_of(e));
    }
    out
}

/// The consumer rule of the module doc: per stream, apply an event iff it is the next
/// sequence. Returns the applied `ce_id`s per stream (of journal events: customer events are
/// not of a stream).
pub fn next_sequence_rule(received: &[Received]) -> BTreeMap<String, Vec<i64>> {
    let mut applied: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for m in received.iter().filter(|m| !is_customer_message(m)) {
        let stream = m.value["stream"]["id"].as_str().unwrap().to_owned();
        let sequence: i64 = m.headers["ce_sequence"].parse().unwrap();
        let seqs = applied.entry(stream).or_default();
        if sequence == seqs.last().copied().unwrap_or(0) + 1 {
            seqs.push(sequence);
        }
    }
    applied
}

/// The journal's sequences per stream.
pub fn journal_sequences(journal: &[RecordedEvent]) -> BTreeMap<String, Vec<i64>> {
    let mut out: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for e in journal {
        out.entry(e.stream.id.to_string())
            .or_default()
            .push(e.sequence);
    }
    out
}

/// How often each `ce_id` was read.
pub fn counts(received: &[Received]) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    for m in received {
        *out.entry(m.ce_id().to_owned()).or_default() += 1;
    }
    out
}

/// Polls `check` every 20 ms until it holds; panics with `what` after `timeout`.
pub async fn eventually(what: &str, timeout: Duration, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + timeout;
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
