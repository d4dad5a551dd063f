//! Latency histograms (HdrHistogram, microseconds) per operation, errors by gRPC code, and the
//! report as text or JSON.

use std::{collections::BTreeMap, sync::Mutex, time::Duration};

use hdrhistogram::Histogram;
use serde::Serialize;

/// Highest recordable latency: one minute, in microseconds (larger values are clamped).
const MAX_MICROS: u64 = 60_000_000;

/// Collects the outcome of every request of one phase.
pub struct Recorder {
    ops: Mutex<BTreeMap<&'static str, OpStats>>,
}

struct OpStats {
    ok: Histogram<u64>,
    errors: BTreeMap<String, u64>,
}

fn histogram() -> Histogram<u64> {
    // Bounds are constants that hdrhistogram accepts, so this cannot fail.
    #[allow(clippy::expect_used)]
    Histogram::new_with_bounds(1, MAX_MICROS, 3).expect("valid histogram bounds")
}

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}

impl Recorder {
    /// An empty recorder.
    pub fn new() -> Recorder {
        Recorder {
            ops: Mutex::new(BTreeMap::new()),
        }
    }

    /// Records one request of `op`: its latency if it succeeded, its code if not.
    pub fn record(&self, op: &'static str, latency: Duration, outcome: Result<(), String>) {
        let mut ops = self.ops.lock().unwrap_or_else(|p| p.into_inner());
        let stats = ops.entry(op).or_insert_with(|| OpStats {
            ok: histogram(),
            errors: BTreeMap::new(),
        });
        match outcome {
            Ok(()) => {
                let micros = u64::try_from(latency.as_micros()).unwrap_or(MAX_MICROS);
                stats.ok.saturating_record(micros.clamp(1, MAX_MICROS));
            }
            Err(code) => *stats.errors.entry(code).or_default() += 1,
        }
    }

    /// The report of everything recorded over `elapsed`.
    pub fn report(&self, target_rate: Option<f64>, elapsed: Duration) -> Report {
        let ops = self.ops.lock().unwrap_or_else(|p| p.into_inner());
        let secs = elapsed.as_secs_f64().max(1e-9);
        let mut all = histogram();
        let mut all_errors = BTreeMap::new();
        let mut per_op = BTreeMap::new();
        for (name, stats) in ops.iter() {
            // Same bounds on both sides: adding cannot fail.
            let _ = all.add(&stats.ok);
            for (code, n) in &stats.errors {
                *all_errors.entry(code.clone()).or_insert(0) += n;
            }
            per_op.insert(
                (*name).to_owned(),
                Summary::of(&stats.ok, &stats.errors, secs),
            );
        }
        Report {
            target_rate,
            elapsed_secs: secs,
            overall: Summary::of(&all, &all_errors, secs),
            operations: per_op,
        }
    }
}

/// Figures of one operation (or of all).
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// Successful requests.
    pub ok: u64,
    /// Failed requests, by gRPC code (or `CLIENT_TIMEOUT`).
    pub errors: BTreeMap<String, u64>,
    /// Successful requests per second.
    pub throughput: f64,
    /// Latency percentiles of the successful requests, in milliseconds, measured from the
    /// scheduled send time.
    pub p50_ms: f64,
    /// 95th percentile.
    pub p95_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// 99.9th percentile.
    pub p999_ms: f64,
    /// Largest.
    pub max_ms: f64,
}

impl Summary {
    fn of(h: &Histogram<u64>, errors: &BTreeMap<String, u64>, secs: f64) -> Summary {
        let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
        Summary {
            ok: h.len(),
            errors: errors.clone(),
            throughput: h.len() as f64 / secs,
            p50_ms: ms(0.50),
            p95_ms: ms(0.95),
            p99_ms: ms(0.99),
            p999_ms: ms(0.999),
            max_ms: h.max() as f64 / 1000.0,
        }
    }

    /// Failed requests of every code.
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }
}

/// Everything measured in one phase.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The scheduled rate (requests/s), if the phase was open loop.
    pub target_rate: Option<f64>,
    /// Length of the phase.
    pub elapsed_secs: f64,
    /// All operations together.
    pub overall: Summary,
    /// Per operation.
    pub operations: BTreeMap<String, Summary>,
}

impl Report {
    /// The report as an aligned text table.
    pub fn to_text(&self, title: &str) -> String {
        let mut out = format!(
            "== {title}: {:.1} s{}\n{:<22} {:>9} {:>8} {:>10} {:>9} {:>9} {:>9} {:>9} {:>9}\n",
            self.elapsed_secs,
            self.target_rate
                .map(|r| format!(", scheduled {r:.0}/s"))
                .unwrap_or_default(),
            "operation",
            "ok",
            "errors",
            "ok/s",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "p99.9 ms",
            "max ms"
        );
        let mut line = |name: &str, s: &Summary| {
            out.push_str(&format!(
                "{name:<22} {:>9} {:>8} {:>10.1} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>9.2}\n",
                s.ok,
                s.error_count(),
                s.throughput,
                s.p50_ms,
                s.p95_ms,
                s.p99_ms,
                s.p999_ms,
                s.max_ms
            ));
        };
        for (name, s) in &self.operations {
            line(name, s);
        }
        line("ALL", &self.overall);
        for (name, s) in &self.operations {
            for (code, n) in &s.errors {
                out.push_str(&format!("  error {name}: {code} × {n}\n"));
            }
        }
        out
    }
}
