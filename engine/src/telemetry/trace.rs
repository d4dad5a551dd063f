//! Trace context (issue 18): the W3C `traceparent` of the span a piece of work runs in, kept
//! with the events it wrote so that the work they cause later (projections, the Kafka publish)
//! joins the same trace.
//!
//! Spans are `tracing` spans everywhere; they become OpenTelemetry spans only when `entityd`
//! installs its exporter (then [`set_exporting`] is on). Without it every function here is a
//! cheap no-op: no context is recorded, no per-event span is made.

use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry::{
    Context,
    trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState},
};
use tracing_opentelemetry::OpenTelemetrySpanExt;

static EXPORTING: AtomicBool = AtomicBool::new(false);

/// Marks spans as exported (`entityd` calls it once its OpenTelemetry layer is installed).
pub fn set_exporting(on: bool) {
    EXPORTING.store(on, Ordering::Relaxed);
}

/// Whether spans are exported: work that exists only to be traced can be skipped otherwise.
pub fn exporting() -> bool {
    EXPORTING.load(Ordering::Relaxed)
}

/// The span `make` makes while traces are exported, else a disabled one (no cost, and logs keep
/// their usual shape).
pub fn traced(make: impl FnOnce() -> tracing::Span) -> tracing::Span {
    if exporting() {
        make()
    } else {
        tracing::Span::none()
    }
}

/// A valid W3C trace context (`00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`), the only
/// form in which one is stored or sent; parsing is the only way to get one from text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceParent(SpanContext);

impl TraceParent {
    /// The context of `span`, if it is being traced.
    pub fn of(span: &tracing::Span) -> Option<Self> {
        if !exporting() {
            return None;
        }
        let context = span.context();
        let span_context = context.span().span_context().clone();
        span_context.is_valid().then_some(Self(span_context))
    }

    /// The context of the current span, if it is being traced.
    pub fn current() -> Option<Self> {
        Self::of(&tracing::Span::current())
    }

    /// Parses a `traceparent` value (version 00; a later version's first four fields); `None`
    /// for anything else, including all-zero ids.
    pub fn parse(text: &str) -> Option<Self> {
        let mut fields = text.trim().split('-');
        let version = fields.next()?;
        let (trace, span, flags) = (fields.next()?, fields.next()?, fields.next()?);
        let known = version == "00" && fields.next().is_none();
        let hex = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit());
        if !(hex(version, 2) && version != "ff" && hex(trace, 32) && hex(span, 16) && hex(flags, 2))
            || (version == "00" && !known)
        {
            return None;
        }
        let trace_id = TraceId::from_hex(trace).ok()?;
        let span_id = SpanId::from_hex(span).ok()?;
        let flags = TraceFlags::new(u8::from_str_radix(flags, 16).ok()? & 1);
        let span_context = SpanContext::new(trace_id, span_id, flags, true, TraceState::default());
        span_context.is_valid().then_some(Self(span_context))
    }

    /// Makes this context the parent of `span` (which must not have been entered yet).
    pub fn adopt(&self, span: &tracing::Span) {
        let parent = Context::new().with_remote_span_context(self.0.clone());
        if let Err(error) = span.set_parent(parent) {
            tracing::debug!(%error, "trace parent not set");
        }
    }
}

impl std::fmt::Display for TraceParent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "00-{}-{}-{:02x}",
            self.0.trace_id(),
            self.0.span_id(),
            self.0.trace_flags().to_u8()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_traceparent_round_trips_and_nothing_else_parses() {
        let text = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let parsed = TraceParent::parse(text).unwrap();
        assert_eq!(parsed.to_string(), text);
        // a later version's first four fields are read
        assert!(
            TraceParent::parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-xyz")
                .is_some()
        );
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
            "00-4bf92f3577b34da6a3ce929d0e0e4736\0-00f067aa0ba902b7-01",
        ] {
            assert_eq!(TraceParent::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn without_an_exporter_no_context_is_taken() {
        let span = tracing::info_span!("quiet");
        assert_eq!(TraceParent::of(&span), None);
    }
}
