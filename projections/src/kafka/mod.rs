//! The Kafka publisher: a [`Projection`] that publishes every journal event to one topic as a
//! CloudEvent in binary content mode (SPEC §8, DESIGN §6).
//!
//! # What is published
//! One Kafka message per journal event, of every stream kind, in journal order
//! (`(transaction, position)`), to [`KafkaConfig::topic`] (default `entity-events`), each
//! tenant event followed by the customer event it implies, if any (see Customer events).
//!
//! - key: the tenant id (hyphenated UUID);
//! - `ce_specversion`: `1.0`;
//! - `ce_id`: `<stream uuid>:<sequence>`, unique (stream ids are) and the same every time the
//!   event is published again;
//! - `ce_source`: [`KafkaConfig::ce_source`] (default `//entity-engine`);
//! - `ce_type`: `io.entity.v1.<event type>`, e.g. `io.entity.v1.TenantCreated`;
//! - `ce_subject`: the resource name, `tenants/<t>`, `tenants/<t>/organizations/<o>`,
//!   `…/teams/<id>`, `…/users/<id>` or `…/roles/<id>`;
//! - `ce_time`: when the event was recorded, RFC 3339 UTC with microseconds (also the
//!   message timestamp, in milliseconds);
//! - extensions `ce_tenantid` (the tenant id) and `ce_sequence` (the event's sequence in its
//!   stream, decimal);
//! - `content-type`: `application/json`, or `application/protobuf` in protobuf format, which
//!   adds `ce_dataschema`: the value's message as a protobuf type URL,
//!   `type.googleapis.com/entity.v1.events.JournalEvent` (see Formats).
//!
//! The value is a JSON object: `position` and `transaction_id` (where it sits in the journal),
//! `tenant_id`, `stream` (`{"kind", "id"}`), `sequence`, `event_type`, `schema_version`,
//! `recorded_at`, `metadata` (the actor — subject, on-behalf-of, credential kind and id — and
//! the request, correlation, causation and trace ids, as stored) and `payload` (the event's
//! fields as stored in the journal, at its stored schema version, no upcasting; except that
//! personal values are opened, see below).
//!
//! **Personal data.** The journal stores personal values sealed (SPEC §6); the runner opens
//! them before the publisher sees a batch
//! ([`Envelope::open_personal`](crate::Envelope::open_personal)), so user events
//! (invitations, profile updates, acceptances), tenant onboarding and deactivation events
//! carry email addresses, display names and the requester in plain text (never ciphertext),
//! and metadata carries subject ids: the topic holds personal data. Once a person
//! (`UserErased`) or a whole tenant (`TenantErased`) is erased, their values are published as
//! "" (a rebuild republishes their old events that way), but messages published before the
//! erasure stay readable on the topic for its retention: consumers must act on the erasure
//! events (or the topic be compacted/expired accordingly). Events written before encryption
//! (schema version 1) hold plaintext in the journal itself and are published as stored.
//!
//! # Formats (issue 20)
//! [`KafkaConfig::format`] (`--kafka-format json|protobuf`): JSON is the default and the
//! canonical form. Protobuf sends the same content as `entity.v1.events.JournalEvent`
//! (`proto/entity/v1/events.proto`): the envelope's fields, and the payload as the member of
//! its `event` oneof that its type names. The payload converted is the decoded event
//! re-serialized, i.e. upcast to today's shape (JSON sends the payload as stored), without
//! the secret hashes; the conversion goes through the descriptors ([`EventCodec`]), so it
//! has no per-event code and a unit test converts one event of every type of the domain. An
//! event that does not convert (a type without a message: a build defect the test catches)
//! is a poison event: the batch fails with [`Error::Decode`] before anything of it is sent,
//! the runner logs and counts it and retries with backoff, and the publisher stays at that
//! event (counted in [`KafkaMetrics::failed_batches`]) rather than skip it or send another
//! format to a protobuf topic. Customer events are `CustomerRegistered` and
//! `CustomerUpdated` messages.
//!
//! # Customer events (seed 004)
//! The customer profile boundary (`CustomerService`) has events of its own, which a
//! subscriber reads without knowing tenants. They are not journal events: the publisher
//! derives them from tenant events as it publishes them ([`CustomerEvent::of`]), and sends
//! each right after its tenant event, to the same topic with the same key (the customer's id
//! is its tenant's), so they share the tenant's partition and order:
//!
//! - `TenantCreated` → `io.entity.v1.CustomerRegistered`;
//! - `TenantUpdated` changing the name or the business profile, and `TenantSuspended`,
//!   `TenantReactivated`, `TenantDeactivated`, `TenantDeleted` (the customer's status) →
//!   `io.entity.v1.CustomerUpdated`; plan, products, settings and onboarding changes publish
//!   none.
//!
//! Attributes: `ce_id` `<customer id>:<sequence>:customer` ([`customer_ce_id`]; deterministic,
//! so a republished one is deduplicated like any other), `ce_subject` `customers/<id>`,
//! `ce_customerid`, `ce_sequence` (the customer's version after the change: increasing, with
//! gaps), and `ce_specversion`, `ce_source`, `ce_time`, `content-type` (and
//! `ce_dataschema`) as above. The value is
//! `{"customer_id", "version", "recorded_at", "customer": {"id", …fields}}`, plus `update_mask`
//! (the changed fields) for CustomerUpdated; registered customers carry `name`, `slug`, `kind`,
//! `status` and `business_profile`, updates only the changed ones. Never in them: the owner's
//! email and anything else personal, credentials, users, plan, products, settings, metadata.
//!
//! # Delivery: at least once, ordered per tenant
//! The runner hands [`deliver`](Projection::deliver) one batch at a time, in journal order, and
//! moves the checkpoint only if it returns `Ok`. `deliver` enqueues every event of the batch
//! in order, then awaits every delivery report; if any event was not acknowledged it returns
//! [`Error::KafkaDelivery`], the checkpoint stays, and the runner retries the whole batch with
//! backoff. So no committed event is ever skipped (the tail is gap-safe, even when writers
//! commit out of order), and duplicates come only from the batch that was in flight when
//! something failed (or from a crash between the broker's acknowledgement and the checkpoint
//! commit).
//!
//! Ordering: key = tenant id, so a tenant's events land in one partition. The producer is
//! idempotent (`enable.idempotence=true`, which implies `acks=all`, infinite internal retries
//! and at most 5 requests in flight per connection): the broker accepts a partition's
//! messages only in producer-sequence order, so librdkafka's internal retries neither reorder
//! nor duplicate, and several requests in flight are safe (no need for
//! `max.in.flight=1`). What idempotence cannot cover is a message that times out
//! (`message.timeout.ms` = [`KafkaConfig::delivery_timeout`]) while later messages of the
//! same partition still get through after librdkafka bumps the producer epoch: the failed
//! attempt then leaves a hole followed by later events. The retry republishes the whole batch
//! from the checkpoint, i.e. from before the hole, in order. Hence the consumer rule that
//! gives exactly-once, in-order processing per stream: keep the last applied `ce_sequence` per
//! stream (streams start at 1); apply an event iff it is the next one; drop anything else
//! (an older one is a duplicate, a newer one will be published again after the missing one).
//! A consumer that only deduplicates by `ce_id` gets every event, in order except around such
//! a hole. (The mock-cluster tests check both; the mock's idempotence is not faithful, so they
//! prove the publisher's side, not the broker's.)
//!
//! The publisher never reads the topic and never decides what was delivered from it: only the
//! stored checkpoint counts, so a restart resumes from it (republishing at most the batch in
//! flight). [`reset`](Projection::reset) deletes nothing: a rebuild republishes everything
//! from the start of the journal, and consumers deduplicate by `ce_id`.
//!
//! Operator view: lag in events and milliseconds and failed batches come from the runner
//! ([`ProjectionHandle::status_of`](crate::ProjectionHandle::status_of) with
//! [`KafkaPublisher::NAME`]); delivered and failed message counts from
//! [`KafkaPublisher::metrics`].

mod cloudevent;
mod customer;
mod format;
mod protobuf;

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use async_trait::async_trait;
use engine::domain::StreamKind;
use rdkafka::{
    ClientConfig,
    producer::{FutureProducer, Producer},
};

use crate::{Envelope, Error, Projection, Result, store::Tx};

pub use cloudevent::{
    SECRET_HASH_FIELDS, ce_id, ce_type, event_time, subject, without_secret_hashes,
};
pub use customer::{
    CUSTOMER_REGISTERED, CUSTOMER_UPDATED, CustomerEvent, customer_ce_id, customer_subject,
};
pub use format::{KafkaFormat, UnknownFormat};
pub use protobuf::{
    EVENTS_PACKAGE, EventCodec, JOURNAL_EVENT, ProtobufError, TYPE_URL_PREFIX, from_json, to_json,
};

/// Default topic.
pub const DEFAULT_TOPIC: &str = "entity-events";
/// Default `ce_source`.
pub const DEFAULT_SOURCE: &str = "//entity-engine";

/// Where and how to publish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KafkaConfig {
    /// `bootstrap.servers`: comma-separated `host:port` list.
    pub bootstrap_servers: String,
    /// Topic for every event.
    pub topic: String,
    /// `ce_source` of every event (a URI reference naming this deployment).
    pub ce_source: String,
    /// How long librdkafka tries to deliver a message before reporting it failed
    /// (`message.timeout.ms`); a failed batch is retried by the runner.
    pub delivery_timeout: Duration,
    /// Further librdkafka properties (security, compression, `linger.ms`, …), applied last.
    /// `enable.idempotence` cannot be turned off.
    pub properties: Vec<(String, String)>,
    /// How values are encoded (default JSON).
    pub format: KafkaFormat,
}

impl KafkaConfig {
    /// Defaults for `bootstrap_servers`: topic `entity-events`, source `//entity-engine`,
    /// 30 s delivery timeout, no extra properties, JSON values.
    pub fn new(bootstrap_servers: impl Into<String>) -> Self {
        Self {
            bootstrap_servers: bootstrap_servers.into(),
            topic: DEFAULT_TOPIC.to_owned(),
            ce_source: DEFAULT_SOURCE.to_owned(),
            delivery_timeout: Duration::from_secs(30),
            properties: Vec::new(),
            format: KafkaFormat::Json,
        }
    }

    /// Checks what can be checked without a broker.
    ///
    /// # Errors
    /// [`Error::KafkaConfig`] for empty brokers, topic or source, a zero delivery timeout, or
    /// an attempt to turn idempotence off.
    pub fn validate(&self) -> Result<()> {
        let invalid = |m: &str| Err(Error::KafkaConfig(m.to_owned()));
        if self
            .bootstrap_servers
            .split(',')
            .all(|s| s.trim().is_empty())
        {
            return invalid("bootstrap servers are empty");
        }
        if self.topic.trim().is_empty() {
            return invalid("topic is empty");
        }
        if self.ce_source.trim().is_empty() {
            return invalid("ce_source is empty");
        }
        if self.delivery_timeout.is_zero() {
            return invalid("delivery timeout must be positive");
        }
        if self.properties.iter().any(|(k, v)| {
            k == "enable.idempotence" && !v.eq_ignore_ascii_case("true")
                || k == "acks" && v != "all" && v != "-1"
        }) {
            return invalid("the publisher needs enable.idempotence=true and acks=all");
        }
        Ok(())
    }

    fn client_config(&self) -> ClientConfig {
        let timeout_ms = self.delivery_timeout.as_millis().max(1).to_string();
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", &self.bootstrap_servers)
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("max.in.flight.requests.per.connection", "5")
            .set("message.timeout.ms", &timeout_ms)
            .set("linger.ms", "5");
        for (key, value) in &self.properties {
            config.set(key, value);
        }
        config
    }
}

/// Delivery counters since the publisher was created.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KafkaMetrics {
    /// Messages the broker acknowledged (republished ones count again).
    pub delivered: u64,
    /// Messages that failed (not acknowledged in time, refused, or not enqueued).
    pub failed: u64,
    /// Batches handed back to the runner as failed (not delivered, or holding an event that
    /// does not encode).
    pub failed_batches: u64,
    /// Messages handed to the producer and not acknowledged (or failed) yet.
    pub in_flight: u64,
}

#[derive(Debug, Default)]
struct Counters {
    delivered: AtomicU64,
    failed: AtomicU64,
    failed_batches: AtomicU64,
}

/// The publisher projection (see the module doc). Share it as `Arc<KafkaPublisher>` to read
/// [`metrics`](Self::metrics) while the runner owns a clone.
pub struct KafkaPublisher {
    producer: FutureProducer,
    topic: String,
    source: String,
    encoding: format::Encoding,
    counters: Arc<Counters>,
}

impl std::fmt::Debug for KafkaPublisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaPublisher")
            .field("topic", &self.topic)
            .field("source", &self.source)
            .field("format", &self.format())
            .field("metrics", &self.metrics())
            .finish_non_exhaustive()
    }
}

impl KafkaPublisher {
    /// Name of the projection (its checkpoint row).
    pub const NAME: &'static str = "kafka-publisher";

    /// Validates `config` and creates the producer (it connects lazily).
    ///
    /// # Errors
    /// [`Error::KafkaConfig`] if the configuration is invalid or librdkafka rejects it (or,
    /// in protobuf format, the event descriptors cannot be read).
    pub fn new(config: &KafkaConfig) -> Result<Self> {
        config.validate()?;
        let encoding = format::Encoding::new(config.format)?;
        let producer: FutureProducer = config
            .client_config()
            .create()
            .map_err(|e| Error::KafkaConfig(e.to_string()))?;
        Ok(Self {
            producer,
            topic: config.topic.clone(),
            source: config.ce_source.clone(),
            encoding,
            counters: Arc::default(),
        })
    }

    /// The format values are encoded in.
    pub fn format(&self) -> KafkaFormat {
        match self.encoding {
            format::Encoding::Json => KafkaFormat::Json,
            format::Encoding::Protobuf(_) => KafkaFormat::Protobuf,
        }
    }

    /// Delivery counters (cheap: three atomic loads and the producer's queue length).
    pub fn metrics(&self) -> KafkaMetrics {
        KafkaMetrics {
            delivered: self.counters.delivered.load(Ordering::Relaxed),
            failed: self.counters.failed.load(Ordering::Relaxed),
            failed_batches: self.counters.failed_batches.load(Ordering::Relaxed),
            in_flight: u64::try_from(self.producer.in_flight_count()).unwrap_or(0),
        }
    }

    /// Waits up to `timeout` for queued messages to be delivered (for a graceful shutdown;
    /// anything undelivered is republished after the restart anyway).
    ///
    /// # Errors
    /// [`Error::KafkaDelivery`] if messages are still queued at the timeout.
    pub fn flush(&self, timeout: Duration) -> Result<()> {
        self.producer
            .flush(timeout)
            .map_err(|e| Error::KafkaDelivery {
                failed: usize::try_from(self.producer.in_flight_count()).unwrap_or(0),
                total: usize::try_from(self.producer.in_flight_count()).unwrap_or(0),
                message: e.to_string(),
            })
    }
}

#[async_trait]
impl Projection for KafkaPublisher {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn wants(&self, _kind: StreamKind) -> bool {
        true
    }

    fn shares_batches(&self) -> bool {
        false
    }

    async fn deliver(&self, events: &[Envelope]) -> Result<()> {
        let mut messages = Vec::with_capacity(events.len());
        for envelope in events {
            let encoded = cloudevent::Message::new(envelope, &self.source, &self.encoding)
                .and_then(|message| {
                    let customer = customer::message(
                        &envelope.recorded,
                        &envelope.event,
                        &self.source,
                        &self.encoding,
                    )?;
                    Ok((message, customer))
                });
            match encoded {
                Ok((message, customer)) => {
                    messages.push(message);
                    messages.extend(customer);
                }
                Err(error) => {
                    // A poison event: nothing of the batch is sent (what follows must not
                    // overtake it); the runner logs the error, counts the failure and retries
                    // with backoff, so the publisher stops here, visibly, until a build that
                    // can encode the event runs.
                    self.counters.failed_batches.fetch_add(1, Ordering::Relaxed);
                    return Err(error);
                }
            }
        }
        let total = messages.len();
        let mut pending = Vec::with_capacity(total);
        let mut failed = 0_usize;
        let mut first_error: Option<String> = None;
        for message in &mut messages {
            match self.producer.send_result(message.record(&self.topic)) {
                Ok(delivery) => pending.push(delivery),
                Err((error, _)) => {
                    // Nothing after a refused message may be enqueued (it would overtake it);
                    // the whole batch is retried.
                    failed = total - pending.len();
                    first_error = Some(format!("cannot enqueue: {error}"));
                    break;
                }
            }
        }
        let mut delivered = 0_u64;
        for delivery in pending {
            match delivery.await {
                Ok(Ok(_)) => delivered += 1,
                Ok(Err((error, _))) => {
                    failed += 1;
                    first_error.get_or_insert_with(|| error.to_string());
                }
                Err(_) => {
                    failed += 1;
                    first_error.get_or_insert_with(|| "producer dropped the message".to_owned());
                }
            }
        }
        self.counters
            .delivered
            .fetch_add(delivered, Ordering::Relaxed);
        if failed == 0 {
            return Ok(());
        }
        self.counters
            .failed
            .fetch_add(failed as u64, Ordering::Relaxed);
        self.counters.failed_batches.fetch_add(1, Ordering::Relaxed);
        Err(Error::KafkaDelivery {
            failed,
            total,
            message: first_error.unwrap_or_default(),
        })
    }

    async fn apply(&self, _tx: &mut Tx<'_>, _events: &[Envelope]) -> Result<()> {
        Ok(())
    }

    async fn reset(&self, _tx: &mut Tx<'_>) -> Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use engine::{
        domain::{StreamId, TeamEvent, TeamId, TeamRole, TenantId, TenantScopeEvent, UserId},
        journal::{EventMetadata, RecordedEvent},
    };

    use super::*;

    /// An event protobuf cannot hold stops the batch before anything is sent: a team's
    /// membership recorded on a user stream (its fields are not a user membership's).
    #[tokio::test]
    async fn an_event_that_does_not_encode_fails_its_batch() {
        let mut config = KafkaConfig::new("127.0.0.1:9");
        config.format = KafkaFormat::Protobuf;
        let publisher = KafkaPublisher::new(&config).unwrap();
        let event = TenantScopeEvent::Team(TeamEvent::MembershipAdded {
            id: TeamId::new_v7(),
            user_id: UserId::new_v7(),
            role: TeamRole::Member,
        });
        let tenant = TenantId::new_v7();
        let recorded = RecordedEvent {
            position: 1,
            transaction_id: 1,
            tenant_id: tenant,
            stream: StreamId::new(StreamKind::User, tenant.0),
            sequence: 1,
            event_type: event.event_type().to_owned(),
            schema_version: TenantScopeEvent::SCHEMA_VERSION,
            payload: serde_json::to_value(&event).unwrap(),
            metadata: EventMetadata::default(),
            recorded_at: chrono::Utc::now(),
        };
        let error = publisher
            .deliver(&[Envelope { recorded, event }])
            .await
            .unwrap_err();
        assert!(
            matches!(&error, Error::Decode { position: 1, message, .. }
                if message.contains("as protobuf") && message.contains("UserMembershipAdded")),
            "{error}"
        );
        let metrics = publisher.metrics();
        assert_eq!((metrics.delivered, metrics.failed_batches), (0, 1));
    }

    #[test]
    fn config_validation() {
        assert!(KafkaConfig::new("localhost:9092").validate().is_ok());
        assert!(matches!(
            KafkaConfig::new(" , ").validate(),
            Err(Error::KafkaConfig(_))
        ));
        let mut c = KafkaConfig::new("b:1");
        c.topic = String::new();
        assert!(matches!(c.validate(), Err(Error::KafkaConfig(_))));
        let mut c = KafkaConfig::new("b:1");
        c.properties
            .push(("enable.idempotence".into(), "false".into()));
        assert!(matches!(c.validate(), Err(Error::KafkaConfig(_))));
        let mut c = KafkaConfig::new("b:1");
        c.properties.push(("no.such.property".into(), "1".into()));
        assert!(matches!(
            KafkaPublisher::new(&c),
            Err(Error::KafkaConfig(_))
        ));
    }
}
