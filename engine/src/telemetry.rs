//! A node's metrics (issue 18): one Prometheus registry per node, scraped at `/metrics`.
//!
//! Every metric of the node is a field of [`Metrics`], registered once, so the names a
//! dashboard or an alert rule uses are the names here (`tests/metrics_scrape.rs` checks the
//! operations kit against a scrape). **No label takes a value from a tenant, a user or a
//! request's text**: label values come from fixed sets (the API's methods, gRPC codes,
//! command kinds, outcomes), so the number of series is bounded whatever callers send.
//!
//! Names follow OpenTelemetry's semantic conventions in Prometheus form: `rpc.server.call.
//! duration` is `rpc_server_call_duration_seconds`, a histogram in seconds.

use std::sync::Arc;

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, histogram::Histogram},
    registry::Registry,
};

/// Buckets of the call-duration histogram, in seconds: 0.5 ms to ~16 s, doubling (the
/// service levels of the spec are around 2 ms, 50 ms and 250 ms).
fn duration_buckets() -> impl Iterator<Item = f64> {
    prometheus_client::metrics::histogram::exponential_buckets(0.000_5, 2.0, 16)
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
pub struct Metrics {
    registry: Registry,
    /// `rpc_server_call_duration_seconds`: every gRPC call, by method and status code, from
    /// its first byte in to its last byte out.
    pub rpc_duration: Family<RpcLabels, Histogram>,
    /// `entity_commands_total`: commands executed by the engine, by kind and outcome.
    pub commands: Family<CommandLabels, Counter>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// A registry with every metric of the node, all at zero.
    pub fn new() -> Arc<Self> {
        let mut registry = Registry::default();
        let rpc_duration =
            Family::<RpcLabels, Histogram>::new_with_constructor(new_duration_histogram);
        registry.register(
            "rpc_server_call_duration_seconds",
            "Duration of gRPC calls served, by method and status code",
            rpc_duration.clone(),
        );
        let commands = Family::<CommandLabels, Counter>::default();
        registry.register(
            "entity_commands",
            "Commands executed by the engine, by kind and outcome",
            commands.clone(),
        );
        Arc::new(Self {
            registry,
            rpc_duration,
            commands,
        })
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
}
