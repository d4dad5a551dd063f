//! Logs and traces of `entityd` (issue 18).
//!
//! Logs go to stderr as text, or as JSON lines with `ENTITYD_LOG_FORMAT=json`, filtered by
//! `ENTITYD_LOG` (default `info`). Traces are exported over OTLP/gRPC when the standard
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT` is set (and
//! `OTEL_SDK_DISABLED` is not `true`); the SDK reads the other standard variables itself
//! (`OTEL_SERVICE_NAME`, default `entityd`; `OTEL_RESOURCE_ATTRIBUTES`, e.g.
//! `service.instance.id=node-1`; `OTEL_TRACES_SAMPLER`, default parent-based always-on;
//! `OTEL_BSP_*`). Only this workspace's spans are exported (the gRPC call, the engine's
//! command, the actor, the journal append, the forward to another node, each projection batch
//! and Kafka publish of an event): never the HTTP/2 and database libraries' own.
//!
//! A caller's W3C `traceparent` becomes the parent of the call's server span
//! ([`server_span`]); a call forwarded to another node carries the forwarding span's context
//! ([`inject_current`]); events keep theirs in their metadata (see
//! `engine::telemetry::trace`).

use engine::telemetry::trace;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::{Resource, propagation::TraceContextPropagator, trace::SdkTracerProvider};
use tonic::codegen::http;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::{EnvFilter, Layer, layer::SubscriberExt, util::SubscriberInitExt};

/// The crates whose spans are exported, at the level they are made at.
const EXPORTED_SPANS: &str = "engine=info,gateway=info,projections=info,cluster=info";

/// The tracer provider while traces are exported; shut it down on exit to send what is queued.
#[must_use = "shut it down on exit, or the last spans are lost"]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Installs the global subscriber: logs, and the trace exporter when configured. Call it
    /// inside the tokio runtime (the exporter's channel is made there). A second call (never in
    /// the binary) leaves the first subscriber in place.
    pub fn init() -> Self {
        let json =
            std::env::var("ENTITYD_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
        let filter =
            || EnvFilter::try_from_env("ENTITYD_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
        let logs = if json {
            tracing_subscriber::fmt::layer()
                .json()
                .with_writer(std::io::stderr)
                .with_filter(filter())
                .boxed()
        } else {
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
                .with_filter(filter())
                .boxed()
        };
        let (provider, problem) = if otlp_configured() {
            match provider() {
                Ok(provider) => (Some(provider), None),
                Err(error) => (None, Some(error.to_string())),
            }
        } else {
            (None, None)
        };
        let spans = provider.as_ref().map(|provider| {
            tracing_opentelemetry::layer()
                .with_tracer(provider.tracer("entity-engine"))
                .with_location(false)
                .with_threads(false)
                .with_tracked_inactivity(false)
                .with_target(false)
                .with_filter(EnvFilter::new(EXPORTED_SPANS))
        });
        let installed = tracing_subscriber::registry()
            .with(logs)
            .with(spans)
            .try_init()
            .is_ok();
        if let Some(problem) = problem {
            tracing::error!(%problem, "traces are not exported: the OTLP exporter did not start");
        }
        if installed && provider.is_some() {
            opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
            trace::set_exporting(true);
            tracing::info!("exporting traces over OTLP");
        }
        Self { provider }
    }

    /// Sends the spans still queued and stops the exporter (waits at most its 5 s timeout).
    pub async fn shutdown(self) {
        if let Some(provider) = self.provider {
            trace::set_exporting(false);
            let stopped = tokio::task::spawn_blocking(move || provider.shutdown()).await;
            if let Ok(Err(error)) = stopped {
                eprintln!("entityd: the trace exporter did not stop cleanly: {error}");
            }
        }
    }
}

/// Whether an OTLP endpoint is configured and the SDK is not disabled.
fn otlp_configured() -> bool {
    let set = |name: &str| std::env::var(name).is_ok_and(|v| !v.trim().is_empty());
    let disabled =
        std::env::var("OTEL_SDK_DISABLED").is_ok_and(|v| v.trim().eq_ignore_ascii_case("true"));
    !disabled && (set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") || set("OTEL_EXPORTER_OTLP_ENDPOINT"))
}

/// The OTLP/gRPC exporter (endpoint from the environment) behind a batch processor.
fn provider() -> Result<SdkTracerProvider, opentelemetry_otlp::ExporterBuildError> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .build()?;
    let mut resource = Resource::builder();
    if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
        resource = resource.with_service_name("entityd");
    }
    Ok(SdkTracerProvider::builder()
        .with_resource(resource.build())
        .with_batch_exporter(exporter)
        .build())
}

/// The span of one gRPC call served, a child of the caller's `traceparent` if it sent a valid
/// one; a disabled span unless traces are exported (then a call costs nothing here).
pub fn server_span(request: &http::Request<()>) -> tracing::Span {
    if !trace::exporting() {
        return tracing::Span::none();
    }
    let path = request.uri().path();
    let (service, method) = path
        .trim_start_matches('/')
        .split_once('/')
        .unwrap_or(("", ""));
    let span = tracing::info_span!(
        "grpc.server",
        otel.name = %path.trim_start_matches('/'),
        otel.kind = "server",
        rpc.system = "grpc",
        rpc.service = %service,
        rpc.method = %method,
    );
    let parent = opentelemetry::global::get_text_map_propagator(|p| {
        p.extract(&HeaderExtractor(request.headers()))
    });
    if let Err(error) = span.set_parent(parent) {
        tracing::debug!(%error, "trace parent not set");
    }
    span
}

struct HeaderExtractor<'a>(&'a http::HeaderMap);

impl opentelemetry::propagation::Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}
