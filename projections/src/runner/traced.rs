//! A span per event a batch applies, in the trace of the command that wrote it (the event's
//! stored `traceparent`), so that a trace runs from the gRPC call through the journal write to
//! the read models and the Kafka publish. Only while traces are exported.

use engine::telemetry::trace::{self, TraceParent};

use crate::Envelope;

/// One span per event of `events` that carries a sampled trace context, named after the read models
/// applying it (`projection users,teams`, `projection kafka-publisher`); empty unless traces
/// are exported. The spans end when the returned vector is dropped.
pub(super) fn event_spans(names: &[&str], events: &[Envelope]) -> Vec<tracing::Span> {
    if !trace::exporting() {
        return Vec::new();
    }
    let read_models = names.join(",");
    events
        .iter()
        .filter_map(|envelope| {
            let parent = TraceParent::parse(envelope.recorded.metadata.traceparent.as_deref()?)
                .filter(TraceParent::sampled)?;
            let span = tracing::info_span!(
                "projection.apply",
                otel.name = %format_args!("projection {read_models}"),
                otel.kind = "consumer",
                event.r#type = %envelope.recorded.event_type,
                event.position = envelope.recorded.position,
            );
            parent.adopt(&span);
            Some(span)
        })
        .collect()
}
