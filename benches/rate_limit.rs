//! The per-tenant rate limit of the admission layer (step 3 of `gateway::limits`) on its own:
//! the hand-written token buckets it used before (copied here as the same-run baseline) against
//! `governor`'s keyed GCRA limiters (`gateway::limits::TenantRates`, one per plan). Run:
//! `cargo bench --bench rate_limit -- --warm-up-time 1 --measurement-time 3`.
//!
//! Every variant is asked about a gold tenant (5,000/s, a burst of 5,000) per call, by one
//! thread or by two at once, about one tenant or about 10,000 in turn (each thread starting
//! at its own place in the list). One tenant asked millions of times a second is refused
//! nearly always (a tenant far over its rate); 10,000 tenants in turn stay under their rate,
//! so nearly every call is let through (and the states no longer fit in the caches). The
//! share let through is printed after each benchmark: compare variants only where it is the
//! same. `1_tenant_under_rate` gives one tenant a rate no loop reaches (2^32-1/s on both
//! sides), to time the let-through path with a hot cache.
//!
//! The figure is wall time divided by calls, over all threads: the inverse of throughput. With
//! two threads the time to start them is a constant per sample, which criterion's slope leaves
//! out. `forget_idle` times the sweep that forgets idle tenants (no counterpart before: the
//! buckets were never forgotten).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::{
    collections::HashMap,
    hint::black_box,
    num::NonZeroU32,
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use engine::domain::{Plan, TenantId};
use gateway::limits::{TenantRates, plan_rate};
use governor::clock::{Clock, FakeRelativeClock, MonotonicClock};

/// The bucket of the hand-written limiter.
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// The hand-written limiter `gateway::limits` used before `governor`, as it was: one token
/// bucket per tenant in a map behind one mutex, refilled at `rate` per second up to `rate`.
#[derive(Default)]
struct Buckets {
    buckets: Mutex<HashMap<TenantId, Bucket>>,
}

impl Buckets {
    /// Takes one token of `tenant`'s bucket; the wait until the next one when empty.
    fn take(&self, tenant: TenantId, rate: f64) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let bucket = buckets.entry(tenant).or_insert(Bucket {
            tokens: rate,
            last: now,
        });
        let elapsed = now.duration_since(bucket.last).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(rate);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / rate))
        }
    }
}

/// One of the limiters compared, at a fixed rate.
trait Limiter: Sync {
    fn take(&self, tenant: TenantId) -> Result<(), Duration>;
}

/// The baseline, asked at `rate` per second (as the layer did with `plan_rate(plan)`).
struct HandWritten {
    buckets: Buckets,
    rate: f64,
}

impl Limiter for HandWritten {
    fn take(&self, tenant: TenantId) -> Result<(), Duration> {
        self.buckets.take(tenant, self.rate)
    }
}

/// `governor`, as the layer asks it.
struct Governor<C: Clock> {
    rates: TenantRates<C>,
    plan: Plan,
}

impl<C: Clock + Clone + Sync> Limiter for Governor<C>
where
    C::Instant: Sync,
{
    fn take(&self, tenant: TenantId) -> Result<(), Duration> {
        self.rates.take(tenant, self.plan)
    }
}

/// A rate no loop reaches.
const UNREACHABLE_RATE: u32 = u32::MAX;

/// The three variants at `rate` (`None`: the gold plan's).
fn variants(rate: Option<NonZeroU32>) -> Vec<(&'static str, Box<dyn Limiter>)> {
    let plan = Plan::Gold;
    let quota = move |p| match rate {
        Some(rate) => governor::Quota::per_second(rate),
        None => gateway::limits::plan_quota(p),
    };
    vec![
        (
            "hand_written",
            Box::new(HandWritten {
                buckets: Buckets::default(),
                rate: rate.map_or(plan_rate(plan), |r| f64::from(r.get())),
            }),
        ),
        (
            "governor",
            Box::new(Governor {
                rates: TenantRates::with_clock_and_quotas(
                    governor::clock::DefaultClock::default(),
                    quota,
                ),
                plan,
            }),
        ),
        (
            "governor_std_clock",
            Box::new(Governor {
                rates: TenantRates::with_clock_and_quotas(MonotonicClock, quota),
                plan,
            }),
        ),
    ]
}

/// Asks `limiter` about `calls` tenants of `tenants` in turn from `start`; how many were let
/// through.
fn ask(limiter: &dyn Limiter, tenants: &[TenantId], start: usize, calls: u64) -> u64 {
    let mut at = start;
    let mut allowed = 0;
    for _ in 0..calls {
        allowed += u64::from(black_box(limiter.take(black_box(tenants[at]))).is_ok());
        at += 1;
        if at == tenants.len() {
            at = 0;
        }
    }
    allowed
}

/// `iters` calls shared by `threads` threads; the wall time.
fn run(
    limiter: &dyn Limiter,
    tenants: &[TenantId],
    threads: usize,
    iters: u64,
    counts: &(AtomicU64, AtomicU64),
) -> Duration {
    let per_thread = iters.div_ceil(threads as u64);
    let started = Instant::now();
    let allowed: u64 = if threads == 1 {
        ask(limiter, tenants, 0, iters)
    } else {
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads)
                .map(|i| {
                    let start = i * tenants.len() / threads;
                    scope.spawn(move || ask(limiter, tenants, start, per_thread))
                })
                .collect();
            workers.into_iter().map(|w| w.join().unwrap()).sum()
        })
    };
    let elapsed = started.elapsed();
    let calls = if threads == 1 {
        iters
    } else {
        per_thread * threads as u64
    };
    counts.0.fetch_add(calls, Ordering::Relaxed);
    counts.1.fetch_add(allowed, Ordering::Relaxed);
    elapsed
}

fn bench(c: &mut Criterion) {
    let many: Vec<TenantId> = (0..10_000).map(|_| TenantId::new_v7()).collect();
    let one = vec![TenantId::new_v7()];
    let unreachable = NonZeroU32::new(UNREACHABLE_RATE);
    let scenarios: [(&str, &[TenantId], Option<NonZeroU32>); 3] = [
        ("1_tenant", &one, None),
        ("1_tenant_under_rate", &one, unreachable),
        ("10k_tenants", &many, None),
    ];
    for (scenario, tenants, rate) in scenarios {
        for threads in [1, 2] {
            let mut group = c.benchmark_group(format!("rate_limit/{scenario}/{threads}_threads"));
            for (name, limiter) in variants(rate) {
                let counts = (AtomicU64::new(0), AtomicU64::new(0));
                group.bench_function(name, |b| {
                    b.iter_custom(|iters| run(limiter.as_ref(), tenants, threads, iters, &counts));
                });
                let (calls, allowed) = (
                    counts.0.load(Ordering::Relaxed),
                    counts.1.load(Ordering::Relaxed),
                );
                #[allow(clippy::cast_precision_loss)]
                let share = 100.0 * allowed as f64 / calls.max(1) as f64;
                println!("  {scenario}/{threads}_threads/{name}: {share:.2} % let through");
            }
            group.finish();
        }
    }

    // The sweep, over 10,000 tenants of the bronze plan (on a fake clock): kept (each took a
    // call just now) or all forgotten (the clock moved on by two seconds).
    let mut group = c.benchmark_group("rate_limit/forget_idle/10k_tenants");
    group.bench_function("kept", |b| {
        b.iter_batched(
            || {
                // a clock that stands still: however slow the setup, none is idle yet
                let rates = TenantRates::with_clock(FakeRelativeClock::default());
                for tenant in &many {
                    rates.take(*tenant, Plan::Bronze).unwrap();
                }
                rates
            },
            |rates| {
                rates.forget_idle();
                assert_eq!(rates.tenants(), many.len());
                rates
            },
            BatchSize::PerIteration,
        );
    });
    group.bench_function("forgotten", |b| {
        b.iter_batched(
            || {
                let clock = FakeRelativeClock::default();
                let rates = TenantRates::with_clock(clock.clone());
                for tenant in &many {
                    rates.take(*tenant, Plan::Bronze).unwrap();
                }
                clock.advance(Duration::from_secs(2));
                rates
            },
            |rates| {
                rates.forget_idle();
                assert_eq!(rates.tenants(), 0);
                rates
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
