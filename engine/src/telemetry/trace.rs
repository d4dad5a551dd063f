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

/// A child of the current span, made by `make` only while traces are exported and the current
/// span is sampled; else a disabled span. So a call the sampler leaves out, and every call while
/// traces are off, makes no span here (no cost, and logs keep their usual shape).
pub fn traced(make: impl FnOnce() -> tracing::Span) -> tracing::Span {
    traced_under(&tracing::Span::current(), make)
}

/// [`traced`] for a span whose parent is `parent` rather than the current span.
pub fn traced_under(parent: &tracing::Span, make: impl FnOnce() -> tracing::Span) -> tracing::Span {
    if exporting() && sampled(parent) {
        make()
    } else {
        tracing::Span::none()
    }
}

/// [`traced`], or a new root (the sampler decides) for work that runs outside any span: a
/// timer's or a saga's command.
pub fn traced_or_root(make: impl FnOnce() -> tracing::Span) -> tracing::Span {
    let current = tracing::Span::current();
    if exporting() && (current.is_none() || sampled(&current)) {
        make()
    } else {
        tracing::Span::none()
    }
}

/// Whether `span` is part of a trace being recorded (an enabled span whose context the sampler
/// kept).
fn sampled(span: &tracing::Span) -> bool {
    !span.is_disabled() && span.context().span().span_context().is_sampled()
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

    /// Whether the trace this context belongs to is being recorded (the `sampled` flag).
    pub fn sampled(&self) -> bool {
        self.0.is_sampled()
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

    /// One test, because it turns the process-wide switch on and off.
    #[test]
    fn child_spans_are_made_only_while_exporting_and_under_a_sampled_parent() {
        use opentelemetry::trace::TracerProvider as _;
        use tracing_subscriber::layer::SubscriberExt;

        let quiet = tracing::info_span!("quiet");
        assert_eq!(TraceParent::of(&quiet), None);
        assert!(traced(|| tracing::info_span!("child")).is_disabled());

        let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        tracing::subscriber::with_default(subscriber, || {
            set_exporting(true);
            let made_under = |flags: &str| {
                let root = tracing::info_span!("call");
                TraceParent::parse(&format!(
                    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-{flags}"
                ))
                .unwrap()
                .adopt(&root);
                let child = root.in_scope(|| traced(|| tracing::info_span!("child")));
                let under = traced_under(&root, || tracing::info_span!("other"));
                let stored = root.in_scope(TraceParent::current).unwrap();
                (!child.is_disabled(), !under.is_disabled(), stored.sampled())
            };
            assert_eq!(made_under("01"), (true, true, true));
            // The caller's sampler left this call out: no child span, the decision passed on.
            assert_eq!(made_under("00"), (false, false, false));
            // Outside any span only a root may start.
            assert!(traced(|| tracing::info_span!("child")).is_disabled());
            assert!(!traced_or_root(|| tracing::info_span!("timer")).is_disabled());
            set_exporting(false);
        });
    }
}
