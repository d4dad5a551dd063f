//! Setup (closed loop, bounded concurrency), the open-loop phase and the search for the highest
//! rate meeting a p99 target.
//!
//! Open loop: request `i` is due at `start + i / rate`, whatever happened to earlier requests,
//! and its latency is measured from that due time. A server that stalls therefore shows the
//! whole stall in the latency of every request that should have been sent during it (no
//! coordinated omission).

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use serde::Serialize;
use tokio::task::JoinSet;

use crate::{
    client::Cluster,
    stats::{Recorder, Report},
    workload::{self, Mix, Pool, splitmix},
};

/// What every phase shares.
pub struct Ctx {
    /// Connections.
    pub cluster: Cluster,
    /// Tenants.
    pub pool: Pool,
    /// Operation mix of the load phases.
    pub mix: Mix,
    /// Per-request timeout (counted as `CLIENT_TIMEOUT`).
    pub timeout: Duration,
    /// Seed of the request random numbers.
    pub seed: u64,
}

/// Creates `tenants` tenants, `users_per_tenant` users (besides the owner) and
/// `clients_per_tenant` clients in each, with at most `concurrency` requests in flight; when
/// the mix has `verify`, also one partition and one admin API key per tenant (right after the
/// tenant, in the same work item). Returns the setup's report.
pub async fn setup(
    ctx: &Arc<Ctx>,
    tenants: usize,
    users_per_tenant: usize,
    clients_per_tenant: usize,
    concurrency: usize,
    progress: bool,
) -> Report {
    let recorder = Arc::new(Recorder::new());
    let started = Instant::now();
    let first = ctx.pool.len();
    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicU64::new(0));
    let per_tenant = 1 + users_per_tenant + clients_per_tenant;
    let total = tenants * per_tenant;
    let with_keys = ctx.mix.contains(workload::Op::VerifyApiKey);
    let mut workers = JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let ctx = ctx.clone();
        let recorder = recorder.clone();
        let next = next.clone();
        let done = done.clone();
        workers.spawn(async move {
            // Work item k: tenant k / (1 + u + c); item 0 of each tenant creates it, the next
            // u invite, the rest create clients. Items are handed out in order, so a tenant
            // exists before its invites (whose items come later) unless its creation failed.
            loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                if k >= total {
                    break;
                }
                let (tenant, item) = (k / per_tenant, k % per_tenant);
                let t0 = Instant::now();
                if item == 0 {
                    let created = workload::create_tenant(&ctx.cluster, &ctx.pool).await;
                    let outcome = created.as_ref().map(|_| ()).map_err(Clone::clone);
                    recorder.record("create_tenant", t0.elapsed(), outcome);
                    if let (true, Ok(state)) = (with_keys, created) {
                        add_api_key(&ctx, &recorder, &state).await;
                    }
                } else {
                    let state = wait_for_tenant(&ctx.pool, first + tenant).await;
                    let invites = item <= users_per_tenant;
                    let outcome = match (state, invites) {
                        (Some(state), true) => {
                            workload::invite_user(&ctx.cluster, &ctx.pool, &state).await
                        }
                        (Some(state), false) => {
                            workload::create_client(&ctx.cluster, &ctx.pool, &state).await
                        }
                        (None, _) => Err("NO_TENANT".to_owned()),
                    };
                    let op = if invites {
                        "invite_user"
                    } else {
                        "create_client"
                    };
                    recorder.record(op, t0.elapsed(), outcome);
                }
                let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                if progress && n.is_multiple_of(10_000) {
                    eprintln!(
                        "setup: {n}/{total} requests, {:.0}/s",
                        n as f64 / started.elapsed().as_secs_f64()
                    );
                }
            }
        });
    }
    while workers.join_next().await.is_some() {}
    recorder.report(None, started.elapsed())
}

/// CreatePartition then CreateApiKey (admin) for `tenant`, each recorded on its own; the key
/// is kept as the tenant's.
async fn add_api_key(ctx: &Ctx, recorder: &Recorder, tenant: &Arc<workload::TenantState>) {
    let t0 = Instant::now();
    let partition = workload::create_partition(&ctx.cluster, &ctx.pool, tenant).await;
    recorder.record(
        "create_partition",
        t0.elapsed(),
        partition.as_ref().map(|_| ()).map_err(Clone::clone),
    );
    let Ok(partition) = partition else {
        return;
    };
    let t0 = Instant::now();
    let key = workload::create_api_key(&ctx.cluster, &ctx.pool, tenant, partition).await;
    recorder.record("create_api_key", t0.elapsed(), key);
}

/// Tenants are created concurrently and pushed in completion order, so index `i` exists once
/// `i + 1` creations have finished; waits (briefly) for it.
async fn wait_for_tenant(pool: &Pool, index: usize) -> Option<Arc<workload::TenantState>> {
    for _ in 0..3000 {
        if let Some(state) = pool.get(index) {
            return Some(state);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    None
}

/// Runs the mix open loop at `rate` requests/s for `duration`, then waits (at most the
/// request timeout) for the requests still in flight.
pub async fn open_loop(ctx: &Arc<Ctx>, rate: f64, duration: Duration) -> Report {
    open_loop_with(ctx, &ctx.mix, rate, duration).await
}

/// [`open_loop`] with another mix (the health-check baseline, say).
pub async fn open_loop_with(ctx: &Arc<Ctx>, mix: &Mix, rate: f64, duration: Duration) -> Report {
    drive(ctx, mix, rate, Some(duration), None).await
}

/// [`open_loop`] until `stop` is set (checked before each request): a background load whose
/// length is not known in advance. The report covers the time until it stopped.
pub async fn open_loop_until(ctx: &Arc<Ctx>, rate: f64, stop: Arc<AtomicBool>) -> Report {
    drive(ctx, &ctx.mix, rate, None, Some(stop)).await
}

async fn drive(
    ctx: &Arc<Ctx>,
    mix: &Mix,
    rate: f64,
    duration: Option<Duration>,
    stop: Option<Arc<AtomicBool>>,
) -> Report {
    let recorder = Arc::new(Recorder::new());
    let rate = rate.max(0.1);
    let start = Instant::now();
    let end = duration.map(|d| start + d);
    let mut in_flight = JoinSet::new();
    let mut i: u64 = 0;
    loop {
        let due = start + Duration::from_secs_f64(i as f64 / rate);
        if end.is_some_and(|end| due >= end) {
            break;
        }
        if due > Instant::now() {
            tokio::time::sleep_until(due.into()).await;
        }
        if stop.as_ref().is_some_and(|s| s.load(Ordering::Relaxed)) {
            break;
        }
        let ctx = ctx.clone();
        let recorder = recorder.clone();
        let r = splitmix(ctx.seed ^ i);
        let op = mix.pick(r);
        in_flight.spawn(async move {
            let (name, outcome) =
                workload::run_op(&ctx.cluster, &ctx.pool, op, splitmix(r), ctx.timeout).await;
            recorder.record(name, due.elapsed(), outcome);
        });
        // Reap finished tasks without waiting, so the set does not grow without bound.
        while in_flight.try_join_next().is_some() {}
        i += 1;
    }
    let elapsed = duration.unwrap_or_else(|| start.elapsed());
    let _ = tokio::time::timeout(ctx.timeout + Duration::from_secs(1), async {
        while in_flight.join_next().await.is_some() {}
    })
    .await;
    in_flight.abort_all();
    recorder.report(Some(rate), elapsed)
}

/// One step of the search.
#[derive(Clone, Debug, Serialize)]
pub struct Step {
    /// Scheduled rate.
    pub rate: f64,
    /// Did it meet the p99 target with under 1 % errors and at least 95 % of the rate served?
    pub passed: bool,
    /// What was measured.
    pub report: Report,
}

/// Raises the rate from `start_rate` by `factor` per step (each `step` long) until a step
/// misses `p99_target_ms` (or errors ≥ 1 %, or under 95 % of the scheduled rate succeeded),
/// or `max_rate` is passed. Returns every step; the last passing one is the answer.
pub async fn find_max(
    ctx: &Arc<Ctx>,
    start_rate: f64,
    factor: f64,
    max_rate: f64,
    step: Duration,
    p99_target_ms: f64,
    mut on_step: impl FnMut(&Step),
) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut rate = start_rate;
    while rate <= max_rate {
        let report = open_loop(ctx, rate, step).await;
        let total = report.overall.ok + report.overall.error_count();
        let errors_ok = (report.overall.error_count() as f64) < 0.01 * total.max(1) as f64;
        let served = report.overall.throughput >= 0.95 * rate;
        let passed = report.overall.p99_ms <= p99_target_ms && errors_ok && served;
        let s = Step {
            rate,
            passed,
            report,
        };
        on_step(&s);
        steps.push(s);
        if !passed {
            break;
        }
        rate *= factor.max(1.01);
    }
    steps
}
