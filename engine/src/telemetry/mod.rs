//! A node's metrics (issue 18): one Prometheus registry per node, scraped at `/metrics`.
//!
//! Every metric of the node is a field of [`Metrics`], registered once, so the names a
//! dashboard or an alert rule uses are the names here (`tests/operations_kit.rs` checks the
//! operations kit's names against a scrape). **No label takes a value from a tenant, a user or a
//! request's text**: label values come from fixed sets (the API's methods, gRPC codes,
//! command kinds, outcomes), so the number of series is bounded whatever callers send.
//!
//! Names follow OpenTelemetry's semantic conventions in Prometheus form: `rpc.server.call.
//! duration` is `rpc_server_call_duration_seconds`, a histogram in seconds.

pub mod trace;

use std::sync::{Arc, Mutex};

use prometheus_client::{
    collector::Collector,
    encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric},
    metrics::{
        counter::{ConstCounter, Counter},
        family::Family,
        gauge::ConstGauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::{Metric, Registry},
};

/// Buckets of the call-duration histogram, in seconds: 0.5 ms to ~16 s, doubling (the
/// service levels of the spec are around 2 ms, 50 ms and 250 ms).
fn duration_buckets() -> impl Iterator<Item = f64> {
    exponential_buckets(0.000_5, 2.0, 16)
}

/// Buckets of the commands per journal transaction: 1 to 1,024, doubling.
fn group_buckets() -> impl Iterator<Item = f64> {
    exponential_buckets(1.0, 2.0, 11)
}

/// Buckets of the snapshot sizes: 1 KiB to 1 GiB, by fours.
fn size_buckets() -> impl Iterator<Item = f64> {
    exponential_buckets(1024.0, 4.0, 11)
}

/// The labels of one RPC method and outcome.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RpcLabels {
    /// `rpc.system`: always `grpc`.
    pub rpc_system: &'static str,
    /// `rpc.service`, e.g. `entity.v1.TenantService` (`other` for a path the API lacks).
    pub rpc_service: Arc<str>,
    /// `rpc.method`, e.g. `CreateTenant`.
    pub rpc_method: Arc<str>,
    /// `rpc.grpc.status_code`: the gRPC code's number (`0` is OK).
    pub rpc_grpc_status_code: u8,
}

/// The labels of a command's outcome.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CommandLabels {
    /// What the command is about: `tenant`, `organization`, `team`, `user`, `role`,
    /// `client`, `record`, `api_key`, `registration`.
    pub command: &'static str,
    /// [`Outcome`] as text.
    pub outcome: &'static str,
}

/// The labels of a call refused by the admission limits.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RejectionLabels {
    /// The refusal's `ErrorInfo` reason in lower case: `rate_limited`, `tenant_concurrency`,
    /// `overloaded`, `request_too_large`, `request_body_timeout` ([`REJECTION_REASONS`]).
    pub reason: &'static str,
}

/// Every value of [`RejectionLabels::reason`].
pub const REJECTION_REASONS: [&str; 6] = [
    "rate_limited",
    "tenant_concurrency",
    "overloaded",
    "request_too_large",
    "request_body_timeout",
    "other",
];

/// The labels of a shard changing hands.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HandoverLabels {
    /// `acquired` (this node took the shard) or `released` (handed over or lost).
    pub direction: &'static str,
}

/// The labels of a call to another node, or of a mesh session event.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PeerLabels {
    /// A call's `outcome` (`ok`, `no_route`, `lost`) or a session's `event` (`opened`,
    /// `ready`, `closed`, `refused`).
    pub outcome: &'static str,
}

/// Outcomes of calls to other nodes.
pub const PEER_CALL_OUTCOMES: [&str; 3] = ["ok", "no_route", "lost"];

/// Events of mesh sessions: a connection handed to the mesh, authenticated and ready, closed
/// (for any reason: a peer gone, a malformed or oversized frame, a failed handshake), or
/// refused before the mesh saw it (TLS failed or timed out).
pub const MESH_SESSION_EVENTS: [&str; 4] = ["opened", "ready", "closed", "refused"];

/// How a command ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Applied (events written, or none needed).
    Ok,
    /// Refused by the domain's rules, a version or request-id conflict: the caller's to fix.
    Rejected,
    /// The caller lacked a permission or its API key did not verify.
    Denied,
    /// Refused for load (in flight per shard, fencing): retry.
    Overloaded,
    /// The store or the node could not serve it, or a bug.
    Failed,
}

impl Outcome {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Rejected => "rejected",
            Outcome::Denied => "denied",
            Outcome::Overloaded => "overloaded",
            Outcome::Failed => "failed",
        }
    }
}

/// The metrics of one node. Cheap to share (`Arc`); every handle is lock-free to update.
///
/// Counted where they happen (the fields); read from the node's parts at each scrape: the
/// [`Sample`] the metrics endpoint sets before encoding, and the process's RSS and CPU time.
pub struct Metrics {
    registry: Registry,
    /// `rpc_server_call_duration_seconds`: every gRPC call, by method and status code, from
    /// its first byte in to its last byte out.
    pub rpc_duration: Family<RpcLabels, Histogram>,
    /// `entity_commands_total`: commands executed by the engine, by kind and outcome.
    pub commands: Family<CommandLabels, Counter>,
    /// `entity_journal_append_duration_seconds`: one group-commit transaction, from its first
    /// statement to its commit (or refusal).
    pub journal_append: Histogram,
    /// `entity_journal_group_commands`: the commands (appends) in each of those transactions.
    pub journal_group: Histogram,
    /// `entity_passivations_total`: tenant actors stopped after their final snapshot.
    pub passivations: Counter,
    /// `entity_recovery_duration_seconds`: each activation of a tenant actor (snapshot and
    /// later events); its count is the number of recoveries.
    pub recovery: Histogram,
    /// `entity_snapshot_bytes`: each snapshot saved, encoded.
    pub snapshot_bytes: Histogram,
    /// `entity_fencing_refusals_total`: writes refused by fencing (a command for a shard this
    /// node does not hold, an append the journal refused for a stale lease).
    pub fencing_refusals: Counter,
    /// `entity_requests_rejected_total`: calls refused by the admission limits, by reason.
    pub rejections: Family<RejectionLabels, Counter>,
    /// `entity_lease_renewal_duration_seconds`: each renewal of this node's shard leases.
    pub lease_renewal: Histogram,
    /// `entity_shard_handovers_total`: shards this node acquired or released.
    pub handovers: Family<HandoverLabels, Counter>,
    /// `entity_peer_calls_total`: calls this node sent to the node holding a shard, by
    /// outcome.
    pub peer_calls: Family<PeerLabels, Counter>,
    /// `entity_peer_call_duration_seconds`: each call answered by another node, round trip.
    pub peer_call_duration: Histogram,
    /// `entity_mesh_sessions_total`: node-mesh session events (label `outcome`: the event).
    pub mesh_sessions: Family<PeerLabels, Counter>,
    sample: Arc<SampleCollector>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

/// Registers `metric` under `name` with `help` and returns it (a handle to the same values).
fn registered<M: Metric + Clone>(registry: &mut Registry, name: &str, help: &str, metric: M) -> M {
    registry.register(name, help, metric.clone());
    metric
}

impl Metrics {
    /// A registry with every metric of the node, all at zero.
    pub fn new() -> Arc<Self> {
        let mut registry = Registry::default();
        let rpc_duration = registered(
            &mut registry,
            "rpc_server_call_duration_seconds",
            "Duration of gRPC calls served, by method and status code",
            Family::<RpcLabels, Histogram>::new_with_constructor(new_duration_histogram),
        );
        let commands = registered(
            &mut registry,
            "entity_commands",
            "Commands executed by the engine, by kind and outcome",
            Family::<CommandLabels, Counter>::default(),
        );
        let journal_append = registered(
            &mut registry,
            "entity_journal_append_duration_seconds",
            "Duration of each group-commit transaction of the journal",
            new_duration_histogram(),
        );
        let journal_group = registered(
            &mut registry,
            "entity_journal_group_commands",
            "Commands appended in each group-commit transaction",
            Histogram::new(group_buckets()),
        );
        let passivations = registered(
            &mut registry,
            "entity_passivations",
            "Tenant actors passivated",
            Counter::default(),
        );
        let recovery = registered(
            &mut registry,
            "entity_recovery_duration_seconds",
            "Duration of each tenant actor's recovery from its snapshot and events",
            new_duration_histogram(),
        );
        let snapshot_bytes = registered(
            &mut registry,
            "entity_snapshot_bytes",
            "Encoded size of each snapshot saved",
            Histogram::new(size_buckets()),
        );
        let fencing_refusals = registered(
            &mut registry,
            "entity_fencing_refusals",
            "Writes refused because this node does not (or no longer) hold the shard's lease",
            Counter::default(),
        );
        let rejections = registered(
            &mut registry,
            "entity_requests_rejected",
            "Calls refused by the admission limits (rate, concurrency, size), by reason",
            Family::<RejectionLabels, Counter>::default(),
        );
        let lease_renewal = registered(
            &mut registry,
            "entity_lease_renewal_duration_seconds",
            "Duration of each renewal of this node's shard leases",
            new_duration_histogram(),
        );
        let handovers = registered(
            &mut registry,
            "entity_shard_handovers",
            "Shards this node acquired or released",
            Family::<HandoverLabels, Counter>::default(),
        );
        let peer_calls = registered(
            &mut registry,
            "entity_peer_calls",
            "Calls sent to the node holding a tenant's shard, by outcome",
            Family::<PeerLabels, Counter>::default(),
        );
        let peer_call_duration = registered(
            &mut registry,
            "entity_peer_call_duration_seconds",
            "Round trip of each call answered by another node",
            new_duration_histogram(),
        );
        let mesh_sessions = registered(
            &mut registry,
            "entity_mesh_sessions",
            "Node-mesh session events: opened, ready (authenticated), closed, refused",
            Family::<PeerLabels, Counter>::default(),
        );
        // Every series of a fixed label set exists from the start, at zero, so that a rate or
        // an alert over it has a value before the first event.
        for reason in REJECTION_REASONS {
            drop(rejections.get_or_create(&RejectionLabels { reason }));
        }
        for direction in ["acquired", "released"] {
            drop(handovers.get_or_create(&HandoverLabels { direction }));
        }
        for outcome in PEER_CALL_OUTCOMES {
            drop(peer_calls.get_or_create(&PeerLabels { outcome }));
        }
        for outcome in MESH_SESSION_EVENTS {
            drop(mesh_sessions.get_or_create(&PeerLabels { outcome }));
        }
        let sample = Arc::new(SampleCollector::default());
        registry.register_collector(Box::new(sample.clone()));
        Arc::new(Self {
            registry,
            rpc_duration,
            commands,
            journal_append,
            journal_group,
            passivations,
            recovery,
            snapshot_bytes,
            fencing_refusals,
            rejections,
            lease_renewal,
            handovers,
            peer_calls,
            peer_call_duration,
            mesh_sessions,
            sample,
        })
    }

    /// Replaces the values read from the node's parts (the metrics endpoint does, just before
    /// each [`Metrics::encode`]).
    pub fn set_sample(&self, sample: Sample) {
        *self.sample.0.lock().unwrap_or_else(|p| p.into_inner()) = sample;
    }

    /// Counts a call refused by the admission limits.
    pub fn rejected(&self, reason: &'static str) {
        self.rejections
            .get_or_create(&RejectionLabels { reason })
            .inc();
    }

    /// Counts a shard that changed hands.
    pub fn handover(&self, acquired: bool) {
        let direction = if acquired { "acquired" } else { "released" };
        self.handovers
            .get_or_create(&HandoverLabels { direction })
            .inc();
    }

    /// Counts one command.
    pub fn command(&self, command: &'static str, outcome: Outcome) {
        self.commands
            .get_or_create(&CommandLabels {
                command,
                outcome: outcome.as_str(),
            })
            .inc();
    }

    /// Every metric in the Prometheus text format (version 0.0.4), as `/metrics` serves it.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry);
        text
    }
}

/// The `Content-Type` of [`Metrics::encode`].
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

fn new_duration_histogram() -> Histogram {
    Histogram::new(duration_buckets())
}

/// What the node's parts report at a scrape (the metrics endpoint fills it in).
#[derive(Clone, Debug, Default)]
pub struct Sample {
    /// `entity_journal_queue_depth`: appends waiting for the group-commit writer (read at the
    /// scrape, so a writer stuck on the store shows a growing queue).
    pub journal_queue: u64,
    /// `entity_live_entities`: tenant actors running on this node.
    pub live_entities: u64,
    /// `entity_shards_held`: shards this node holds (every shard on a single node).
    pub shards_held: u64,
    /// `entity_projection_lag_events` and `entity_projection_lag_seconds`, per projection
    /// running on (or, in a cluster, followed by) this node.
    pub projections: Vec<ProjectionSample>,
    /// `entity_saga_steps_pending` and `entity_saga_lag_seconds`.
    pub sagas: SagaSample,
    /// `entity_kafka_*`: all zero without Kafka.
    pub kafka: KafkaSample,
}

/// One projection's lag.
#[derive(Clone, Debug, Default)]
pub struct ProjectionSample {
    /// The projection's name (one of the node's fixed set).
    pub name: String,
    /// Committed events after its checkpoint, if the journal answered.
    pub lag_events: Option<i64>,
    /// Seconds since the newest event it applied while events are behind (0 when none is).
    pub lag_seconds: Option<f64>,
    /// Failed batch attempts since the start (each retried).
    pub failures: u64,
}

/// The saga outbox.
#[derive(Clone, Copy, Debug, Default)]
pub struct SagaSample {
    /// Steps not done yet.
    pub pending: i64,
    /// Age of the oldest of those, in seconds (0 when none).
    pub lag_seconds: f64,
}

/// The Kafka publisher's counts.
#[derive(Clone, Copy, Debug, Default)]
pub struct KafkaSample {
    /// Messages the brokers acknowledged.
    pub delivered: u64,
    /// Messages not acknowledged in time, refused, or not enqueued.
    pub failed: u64,
    /// Batches handed back to be published again (not delivered).
    pub failed_batches: u64,
    /// Messages handed to the producer and not yet acknowledged.
    pub in_flight: u64,
}

/// Encodes the last [`Sample`] and the process's RSS and CPU time at each scrape.
#[derive(Debug, Default)]
struct SampleCollector(Mutex<Sample>);

impl Collector for SampleCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let sample = self.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
        gauge(
            &mut encoder,
            "entity_journal_queue_depth",
            "Appends waiting for the group-commit writer",
            sample.journal_queue,
        )?;
        gauge(
            &mut encoder,
            "entity_live_entities",
            "Tenant actors running on this node",
            sample.live_entities,
        )?;
        gauge(
            &mut encoder,
            "entity_shards_held",
            "Shards this node holds",
            sample.shards_held,
        )?;
        let per_projection = |encoder: &mut DescriptorEncoder,
                              name: &str,
                              help: &str,
                              value: &dyn Fn(&ProjectionSample) -> Option<f64>|
         -> Result<(), std::fmt::Error> {
            let mut family =
                encoder.encode_descriptor(name, help, None, ConstGauge::new(0.0).metric_type())?;
            for p in &sample.projections {
                if let Some(v) = value(p) {
                    let labels = [("projection", p.name.as_str())];
                    ConstGauge::new(v).encode(family.encode_family(&labels)?)?;
                }
            }
            Ok(())
        };
        #[allow(clippy::cast_precision_loss)] // event counts far below 2^52
        per_projection(
            &mut encoder,
            "entity_projection_lag_events",
            "Committed events a projection has not applied yet",
            &|p| p.lag_events.map(|v| v as f64),
        )?;
        per_projection(
            &mut encoder,
            "entity_projection_lag_seconds",
            "Seconds since the newest event a projection applied, while events are behind",
            &|p| p.lag_seconds,
        )?;
        {
            let counter = ConstCounter::new(0_u64);
            let mut family = encoder.encode_descriptor(
                "entity_projection_failures",
                "Failed batch attempts of a projection (each retried, never skipped)",
                None,
                counter.metric_type(),
            )?;
            for p in &sample.projections {
                let labels = [("projection", p.name.as_str())];
                ConstCounter::new(p.failures).encode(family.encode_family(&labels)?)?;
            }
        }
        gauge(
            &mut encoder,
            "entity_saga_steps_pending",
            "Saga steps not done yet",
            sample.sagas.pending,
        )?;
        gauge(
            &mut encoder,
            "entity_saga_lag_seconds",
            "Age of the oldest saga step not done yet",
            sample.sagas.lag_seconds,
        )?;
        counter(
            &mut encoder,
            "entity_kafka_delivered",
            "Messages the Kafka brokers acknowledged",
            sample.kafka.delivered,
        )?;
        counter(
            &mut encoder,
            "entity_kafka_failed",
            "Messages not delivered to Kafka (not acknowledged in time, refused, not enqueued)",
            sample.kafka.failed,
        )?;
        counter(
            &mut encoder,
            "entity_kafka_failed_batches",
            "Batches of events not delivered to Kafka (published again)",
            sample.kafka.failed_batches,
        )?;
        gauge(
            &mut encoder,
            "entity_kafka_in_flight",
            "Messages handed to the Kafka producer and not yet acknowledged",
            sample.kafka.in_flight,
        )?;
        if let Some(heap) = allocator::read() {
            for (name, help, value) in [
                (
                    "entity_allocator_allocated_bytes",
                    "Bytes the process holds in allocations (the global allocator's count)",
                    heap.allocated,
                ),
                (
                    "entity_allocator_active_bytes",
                    "Bytes in the allocator's pages that hold allocations (allocated plus the unused slots of those pages)",
                    heap.active,
                ),
                (
                    "entity_allocator_metadata_bytes",
                    "Bytes of the allocator's own bookkeeping (never given back)",
                    heap.metadata,
                ),
                (
                    "entity_allocator_resident_bytes",
                    "Bytes of the allocator's pages mapped in memory, at most: active, metadata and freed pages not yet returned",
                    heap.resident,
                ),
                (
                    "entity_allocator_retained_bytes",
                    "Address space the allocator returned the pages of but keeps for reuse (not in the RSS)",
                    heap.retained,
                ),
            ] {
                gauge(&mut encoder, name, help, value)?;
            }
        }
        if let Some(process) = process::read() {
            gauge(
                &mut encoder,
                "process_resident_memory_bytes",
                "Resident memory size in bytes",
                process.resident_bytes,
            )?;
            counter(
                &mut encoder,
                "process_cpu_seconds",
                "User and system CPU time spent in seconds",
                process.cpu_seconds,
            )?;
        }
        Ok(())
    }
}

fn gauge<N>(encoder: &mut DescriptorEncoder, name: &str, help: &str, value: N) -> std::fmt::Result
where
    ConstGauge<N>: EncodeMetric,
{
    let gauge = ConstGauge::new(value);
    gauge.encode(encoder.encode_descriptor(name, help, None, gauge.metric_type())?)
}

fn counter<N>(encoder: &mut DescriptorEncoder, name: &str, help: &str, value: N) -> std::fmt::Result
where
    ConstCounter<N>: EncodeMetric,
{
    let counter = ConstCounter::new(value);
    counter.encode(encoder.encode_descriptor(name, help, None, counter.metric_type())?)
}

/// The global allocator's own figures, for the binary whose allocator reports them (`entityd`
/// installs jemalloc's at start); where none is installed, a scrape leaves them out. They tell
/// what the RSS is made of: what the process holds, what the allocator keeps for itself, and
/// what it has freed but not returned yet.
pub mod allocator {
    use std::sync::OnceLock;

    /// The allocator's figures, in bytes, read at a scrape.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct Figures {
        /// Bytes in allocations.
        pub allocated: u64,
        /// Bytes of the pages that hold allocations.
        pub active: u64,
        /// Bytes of the allocator's own bookkeeping.
        pub metadata: u64,
        /// Bytes of the allocator's pages mapped in memory, at most.
        pub resident: u64,
        /// Address space whose pages went back to the system, kept for reuse.
        pub retained: u64,
    }

    static SOURCE: OnceLock<fn() -> Option<Figures>> = OnceLock::new();

    /// Installs the reader of the process's allocator (once; later calls are ignored).
    pub fn install(read: fn() -> Option<Figures>) {
        let _ = SOURCE.set(read);
    }

    pub(super) fn read() -> Option<Figures> {
        SOURCE.get().and_then(|read| read())
    }
}

/// The process's own figures, from Linux's `/proc/self` (absent elsewhere).
pub mod process {
    /// RSS and CPU time.
    pub(super) struct Process {
        pub resident_bytes: u64,
        pub cpu_seconds: f64,
    }

    pub(super) fn read() -> Option<Process> {
        Some(Process {
            resident_bytes: resident_bytes()?,
            cpu_seconds: cpu_seconds()?,
        })
    }

    /// Resident set size (`VmRSS` of `/proc/self/status`).
    pub fn resident_bytes() -> Option<u64> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let kib = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse::<u64>()
            .ok()?;
        kib.checked_mul(1024)
    }

    /// User and system CPU time: fields 14 and 15 of `/proc/self/stat`, in clock ticks of
    /// `USER_HZ`, which Linux fixes at 100 for this interface on x86-64 and aarch64.
    fn cpu_seconds() -> Option<f64> {
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        // The command name may hold spaces; field 3 (state) is the first after its `)`.
        let fields: Vec<&str> = stat[stat.rfind(')')? + 1..].split_whitespace().collect();
        let field = |n: usize| fields.get(n - 3)?.parse::<u64>().ok();
        let ticks = field(14)?.checked_add(field(15)?)?;
        #[allow(clippy::cast_precision_loss)] // far below 2^52 ticks
        Some(ticks as f64 / 100.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scrape_names_each_metric_with_its_labels() {
        let metrics = Metrics::new();
        metrics.command("tenant", Outcome::Ok);
        metrics.command("tenant", Outcome::Ok);
        metrics
            .rpc_duration
            .get_or_create(&RpcLabels {
                rpc_system: "grpc",
                rpc_service: "entity.v1.TenantService".into(),
                rpc_method: "CreateTenant".into(),
                rpc_grpc_status_code: 3,
            })
            .observe(0.003);
        let text = metrics.encode();
        assert!(
            text.contains(r#"entity_commands_total{command="tenant",outcome="ok"} 2"#),
            "{text}"
        );
        let series = r#"rpc_system="grpc",rpc_service="entity.v1.TenantService",rpc_method="CreateTenant",rpc_grpc_status_code="3""#;
        for (line, value) in [
            (
                format!("rpc_server_call_duration_seconds_count{{{series}}}"),
                1,
            ),
            (
                format!(r#"rpc_server_call_duration_seconds_bucket{{{series},le="0.002"}}"#),
                0,
            ),
            (
                format!(r#"rpc_server_call_duration_seconds_bucket{{{series},le="0.004"}}"#),
                1,
            ),
        ] {
            assert!(
                text.contains(&format!("{line} {value}\n")),
                "{line} in {text}"
            );
        }
    }

    #[test]
    fn a_sample_is_encoded_with_the_process_figures() {
        let metrics = Metrics::new();
        metrics.set_sample(Sample {
            journal_queue: 4,
            live_entities: 7,
            shards_held: 16,
            projections: vec![ProjectionSample {
                name: "users".into(),
                lag_events: Some(3),
                lag_seconds: Some(0.25),
                failures: 2,
            }],
            sagas: SagaSample {
                pending: 1,
                lag_seconds: 4.5,
            },
            kafka: KafkaSample {
                delivered: 10,
                failed: 1,
                failed_batches: 1,
                in_flight: 5,
            },
        });
        let text = metrics.encode();
        for line in [
            "entity_journal_queue_depth 4",
            "entity_live_entities 7",
            "entity_shards_held 16",
            r#"entity_projection_lag_events{projection="users"} 3.0"#,
            r#"entity_projection_lag_seconds{projection="users"} 0.25"#,
            r#"entity_projection_failures_total{projection="users"} 2"#,
            "entity_saga_steps_pending 1",
            "entity_saga_lag_seconds 4.5",
            "entity_kafka_delivered_total 10",
            "entity_kafka_failed_total 1",
            "entity_kafka_failed_batches_total 1",
            "entity_kafka_in_flight 5",
            r#"entity_requests_rejected_total{reason="rate_limited"} 0"#,
            r#"entity_shard_handovers_total{direction="released"} 0"#,
        ] {
            assert!(text.contains(&format!("{line}\n")), "{line} in {text}");
        }
        if cfg!(target_os = "linux") {
            let rss = text
                .lines()
                .find_map(|l| l.strip_prefix("process_resident_memory_bytes "))
                .and_then(|v| v.parse::<f64>().ok());
            assert!(rss.is_some_and(|v| v > 0.0), "{text}");
            assert!(text.contains("process_cpu_seconds_total "));
        }
    }

    #[test]
    fn the_installed_allocator_figures_are_in_a_scrape() {
        fn figures() -> Option<allocator::Figures> {
            Some(allocator::Figures {
                allocated: 1_000,
                active: 4_096,
                metadata: 300,
                resident: 8_192,
                retained: 65_536,
            })
        }
        allocator::install(figures);
        let text = Metrics::new().encode();
        for line in [
            "entity_allocator_allocated_bytes 1000",
            "entity_allocator_active_bytes 4096",
            "entity_allocator_metadata_bytes 300",
            "entity_allocator_resident_bytes 8192",
            "entity_allocator_retained_bytes 65536",
        ] {
            assert!(text.contains(&format!("{line}\n")), "{line} in {text}");
        }
        assert!(text.contains("# TYPE entity_allocator_metadata_bytes gauge\n"));
    }
}
