//! The large-tenant scenario: one tenant grown to many users (its whole scope lives in one
//! actor, and its snapshot is rewritten as the tenant's events accumulate) while many small
//! tenants take a modest open-loop load in the background. At each checkpoint size it
//! measures the big tenant's command latency at a steady open-loop rate, its snapshot (size
//! and time, read from the database), the node's RSS, and the first command after the tenant
//! passivated (cold activation) against the commands right after it (warm).

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use serde::Serialize;
use tokio::task::JoinHandle;

use crate::{
    LoadError,
    db::{Psql, SnapshotRow, StatementTotals},
    runner::{self, Ctx},
    scale::{NodeStatus, status},
    stats::{Recorder, Report},
    workload::{self, TenantState},
};

/// Options of the scenario.
pub struct LargeOptions {
    /// Users of the big tenant in the end (its owner included).
    pub users: usize,
    /// Sizes at which to measure (the last is `users`).
    pub checkpoints: Vec<usize>,
    /// Invitations in flight while growing the big tenant.
    pub growth_concurrency: usize,
    /// Small tenants created before (the background's).
    pub small_tenants: usize,
    /// Users invited into each small tenant (besides its owner).
    pub small_users_per_tenant: usize,
    /// Open-loop rate of the background mix over the small tenants.
    pub background_rate: f64,
    /// Open-loop rate of the big tenant's commands in the steady phase.
    pub rate: f64,
    /// Length of the steady phase.
    pub duration: Duration,
    /// Wait before a cold probe; longer than the server's idle timeout.
    pub idle_wait: Duration,
    /// Cold probes per checkpoint (each waits `idle_wait`).
    pub cold_samples: usize,
    /// Warm commands after each cold probe.
    pub warm_samples: usize,
    /// The node's database, read with `psql` for the snapshot figures (optional).
    pub database_url: Option<String>,
    /// How often the snapshot row is read during the growth and steady phases.
    pub poll: Duration,
}

/// Everything the scenario measured.
#[derive(Clone, Debug, Serialize)]
pub struct LargeReport {
    /// The big tenant's id.
    pub big_tenant_id: String,
    /// Node status before anything was created.
    pub fresh: NodeStatus,
    /// Creation of the small tenants (closed loop).
    pub small_setup: Report,
    /// Small tenants at the end (the background mix creates some).
    pub small_tenants: usize,
    /// The background's rate.
    pub background_rate: f64,
    /// The big tenant's steady rate.
    pub rate: f64,
    /// One entry per checkpoint.
    pub stages: Vec<Stage>,
}

/// What was measured at one size of the big tenant.
#[derive(Clone, Debug, Serialize)]
pub struct Stage {
    /// Users of the big tenant when the steady phase started.
    pub users: usize,
    /// Invitations that grew the tenant to this size (closed loop).
    pub growth: Report,
    /// The growth's rate over the stage, by slices.
    pub growth_curve: Vec<GrowthPoint>,
    /// Snapshots seen while growing.
    pub growth_snapshots: SnapshotStats,
    /// The background while growing.
    pub background_growth: Report,
    /// The big tenant's commands at the steady rate.
    pub steady: Report,
    /// Snapshots seen during the steady phase.
    pub steady_snapshots: SnapshotStats,
    /// The background during the steady phase.
    pub background_steady: Report,
    /// Node status right after the steady phase (the big tenant in memory).
    pub after_steady: NodeStatus,
    /// Node status after each idle wait (the big tenant passivated), before its cold probe.
    pub after_idle: Vec<NodeStatus>,
    /// The snapshot row after each idle wait (passivation saves one if events came after the
    /// last periodic snapshot).
    pub idle_snapshots: Vec<Option<SnapshotRow>>,
    /// First command after each idle wait, milliseconds (`None`: it failed).
    pub cold_ms: Vec<Option<f64>>,
    /// The commands right after each cold one (the same-run warm baseline).
    pub warm: Report,
    /// The background during the idle waits and probes.
    pub background_idle: Report,
}

/// The growth rate over one slice.
#[derive(Clone, Debug, Serialize)]
pub struct GrowthPoint {
    /// Users of the tenant at the end of the slice.
    pub users: usize,
    /// Invitations per second over the slice.
    pub per_sec: f64,
}

/// Snapshot rows of the big tenant seen during one phase (each a distinct save).
#[derive(Clone, Debug, Default, Serialize)]
pub struct SnapshotStats {
    /// Distinct snapshots seen (polling may miss some when they come faster than the poll).
    pub observed: usize,
    /// Size of the last one seen (encoded state).
    pub bytes: u64,
    /// Its stored size (after TOAST compression).
    pub stored_bytes: u64,
    /// `taken_at` minus the triggering event's `recorded_at`: the command's append plus the
    /// snapshot's encoding, in the actor, before the command is answered. Median, ms.
    pub encode_ms_p50: f64,
    /// The same, largest.
    pub encode_ms_max: f64,
    /// Encoded bytes of the snapshots taken during the phase (every one seen after the first,
    /// which stood when the phase began), added up.
    pub bytes_written: u64,
    /// `bytes_written` per successful command of the phase (invitations write two events).
    pub bytes_per_command: f64,
    /// `INSERT INTO snapshots` in PostgreSQL during the phase (all tenants; needs
    /// `pg_stat_statements`): executions.
    pub pg_save_calls: Option<u64>,
    /// Their mean execution time, ms.
    pub pg_save_mean_ms: Option<f64>,
}

/// A background load over the small tenants, running until finished.
struct Background {
    stop: Arc<AtomicBool>,
    task: JoinHandle<Report>,
}

impl Background {
    fn start(ctx: &Arc<Ctx>, rate: f64) -> Background {
        let stop = Arc::new(AtomicBool::new(false));
        let task = {
            let ctx = ctx.clone();
            let stop = stop.clone();
            tokio::spawn(async move { runner::open_loop_until(&ctx, rate, stop).await })
        };
        Background { stop, task }
    }

    async fn finish(self) -> Result<Report, LoadError> {
        self.stop.store(true, Ordering::Relaxed);
        self.task
            .await
            .map_err(|e| LoadError::Rpc(format!("background load: {e}")))
    }
}

/// Reads the big tenant's snapshot row every `poll` until finished; keeps each distinct one.
struct Watcher {
    stop: Arc<AtomicBool>,
    task: JoinHandle<Vec<SnapshotRow>>,
    save_before: Option<StatementTotals>,
    db: Arc<Psql>,
}

impl Watcher {
    async fn start(db: &Arc<Psql>, tenant_id: &str, poll: Duration) -> Watcher {
        let save_before = db.statement_totals("INSERT INTO snapshots").await;
        let stop = Arc::new(AtomicBool::new(false));
        let task = {
            let db = db.clone();
            let stop = stop.clone();
            let tenant_id = tenant_id.to_owned();
            tokio::spawn(async move {
                let mut seen: Vec<SnapshotRow> = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    if let Ok(Some(row)) = db.snapshot(&tenant_id).await
                        && seen
                            .last()
                            .is_none_or(|last| last.last_position != row.last_position)
                    {
                        seen.push(row);
                    }
                    tokio::time::sleep(poll).await;
                }
                seen
            })
        };
        Watcher {
            stop,
            task,
            save_before,
            db: db.clone(),
        }
    }

    async fn finish(self, commands: u64) -> SnapshotStats {
        self.stop.store(true, Ordering::Relaxed);
        let rows = self.task.await.unwrap_or_default();
        let save_after = self.db.statement_totals("INSERT INTO snapshots").await;
        let mut stats = summarize(&rows, commands);
        if let (Some(before), Some(after)) = (self.save_before, save_after) {
            let calls = after.calls.saturating_sub(before.calls);
            stats.pg_save_calls = Some(calls);
            stats.pg_save_mean_ms =
                (calls > 0).then(|| (after.total_ms - before.total_ms) / calls as f64);
        }
        stats
    }
}

fn summarize(rows: &[SnapshotRow], commands: u64) -> SnapshotStats {
    let mut encode: Vec<f64> = rows
        .iter()
        .filter_map(|r| r.event_recorded_at.map(|at| (r.taken_at - at) * 1000.0))
        .collect();
    encode.sort_by(f64::total_cmp);
    let last = rows.last();
    let bytes = last.map_or(0, |r| r.bytes);
    let bytes_written = rows.iter().skip(1).map(|r| r.bytes).sum::<u64>();
    SnapshotStats {
        observed: rows.len(),
        bytes,
        stored_bytes: last.map_or(0, |r| r.stored_bytes),
        encode_ms_p50: encode.get(encode.len() / 2).copied().unwrap_or_default(),
        encode_ms_max: encode.last().copied().unwrap_or_default(),
        bytes_written,
        bytes_per_command: bytes_written as f64 / commands.max(1) as f64,
        pg_save_calls: None,
        pg_save_mean_ms: None,
    }
}

async fn watch(db: Option<&Arc<Psql>>, tenant_id: &str, poll: Duration) -> Option<Watcher> {
    match db {
        Some(db) => Some(Watcher::start(db, tenant_id, poll).await),
        None => None,
    }
}

async fn finish_watch(watcher: Option<Watcher>, commands: u64) -> SnapshotStats {
    match watcher {
        Some(w) => w.finish(commands).await,
        None => SnapshotStats::default(),
    }
}

/// Invites `count` users into `tenant`, `concurrency` at a time; logs the rate by slices.
async fn grow(
    big: &Arc<Ctx>,
    tenant: &Arc<TenantState>,
    count: usize,
    concurrency: usize,
    log: &(impl Fn(&str) + Sync),
) -> (Report, Vec<GrowthPoint>) {
    let recorder = Arc::new(Recorder::new());
    let started = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let big = big.clone();
        let tenant = tenant.clone();
        let recorder = recorder.clone();
        let next = next.clone();
        workers.spawn(async move {
            while next.fetch_add(1, Ordering::Relaxed) < count {
                let t0 = Instant::now();
                let outcome = tokio::time::timeout(
                    big.timeout,
                    workload::invite_user(&big.cluster, &big.pool, &tenant),
                )
                .await
                .unwrap_or_else(|_| Err("CLIENT_TIMEOUT".to_owned()));
                recorder.record("invite_user", t0.elapsed(), outcome);
            }
        });
    }
    // Progress by slices of about a tenth of the stage (at least 1,000 users).
    let slice = (count / 10).max(1_000);
    let mut curve = Vec::new();
    let (mut mark_users, mut mark_at) = (tenant.user_count(), Instant::now());
    let mut ticker = tokio::time::interval(Duration::from_millis(200));
    while !workers.is_empty() {
        tokio::select! {
            joined = workers.join_next() => { if joined.is_none() { break; } }
            _ = ticker.tick() => {}
        }
        let users = tenant.user_count();
        if users >= mark_users + slice || (workers.is_empty() && users > mark_users) {
            let per_sec = (users - mark_users) as f64 / mark_at.elapsed().as_secs_f64().max(1e-9);
            log(&format!(
                "growing: {users} users, {per_sec:.0} invitations/s"
            ));
            curve.push(GrowthPoint { users, per_sec });
            (mark_users, mark_at) = (users, Instant::now());
        }
    }
    (recorder.report(None, started.elapsed()), curve)
}

/// One command to the big tenant, timed from its send (an invitation: the cold probe).
async fn probe(big: &Ctx, tenant: &TenantState) -> (Duration, Result<(), String>) {
    let started = Instant::now();
    let outcome = tokio::time::timeout(
        big.timeout,
        workload::invite_user(&big.cluster, &big.pool, tenant),
    )
    .await
    .unwrap_or_else(|_| Err("CLIENT_TIMEOUT".to_owned()));
    (started.elapsed(), outcome)
}

/// Runs the scenario: `ctx` holds the small tenants (and the background mix), `big` the big
/// tenant alone (and its steady mix); each has its own connections. `log` gets progress.
pub async fn run(
    ctx: &Arc<Ctx>,
    big: &Arc<Ctx>,
    options: &LargeOptions,
    log: impl Fn(&str) + Sync,
) -> Result<LargeReport, LoadError> {
    let t0 = Instant::now();
    let db = match &options.database_url {
        Some(url) => Some(Arc::new(Psql::connect(url).await?)),
        None => None,
    };
    let fresh = status(ctx, t0).await?;
    log(&format!("fresh node: {fresh:?}"));

    log(&format!(
        "creating {} small tenants with {} users each",
        options.small_tenants,
        options.small_users_per_tenant + 1
    ));
    let small_setup = runner::setup(
        ctx,
        options.small_tenants,
        options.small_users_per_tenant,
        0,
        options.growth_concurrency,
        false,
    )
    .await;
    log(&small_setup.to_text("small tenants (closed loop)"));
    if ctx.pool.len() == 0 {
        return Err(LoadError::Rpc(format!(
            "no small tenant could be created: {:?}",
            small_setup.overall.errors
        )));
    }
    let tenant = workload::create_tenant(&big.cluster, &big.pool)
        .await
        .map_err(|code| LoadError::Rpc(format!("creating the big tenant: {code}")))?;
    log(&format!("big tenant {}", tenant.id));

    let mut checkpoints: Vec<usize> = options
        .checkpoints
        .iter()
        .copied()
        .filter(|&c| c > 1 && c < options.users)
        .collect();
    checkpoints.push(options.users.max(1));
    checkpoints.sort_unstable();
    checkpoints.dedup();

    let mut stages = Vec::new();
    for target in checkpoints {
        // Growth (the steady phases' invitations count towards the size).
        let missing = target.saturating_sub(tenant.user_count());
        log(&format!(
            "growing the big tenant to {target} users ({missing} invitations, {} in flight)",
            options.growth_concurrency
        ));
        let background = Background::start(ctx, options.background_rate);
        let watcher = watch(db.as_ref(), &tenant.id, options.poll).await;
        let (growth, growth_curve) =
            grow(big, &tenant, missing, options.growth_concurrency, &log).await;
        let growth_snapshots = finish_watch(watcher, growth.overall.ok).await;
        let background_growth = background.finish().await?;
        log(&growth.to_text("growth (closed loop)"));

        // Steady open-loop commands on the big tenant.
        let users = tenant.user_count();
        log(&format!(
            "steady load on the big tenant ({users} users) at {}/s for {:?}",
            options.rate, options.duration
        ));
        let background = Background::start(ctx, options.background_rate);
        let watcher = watch(db.as_ref(), &tenant.id, options.poll).await;
        let steady = runner::open_loop(big, options.rate, options.duration).await;
        let steady_snapshots = finish_watch(watcher, steady.overall.ok).await;
        let background_steady = background.finish().await?;
        let after_steady = status(ctx, t0).await?;
        log(&steady.to_text("big tenant, steady (open loop)"));
        log(&background_steady.to_text("background during the steady phase"));
        log(&format!("snapshots: {steady_snapshots:?}"));
        log(&format!("after the steady phase: {after_steady:?}"));

        // Cold activation: wait past the idle timeout, time the first command.
        let background = Background::start(ctx, options.background_rate);
        let warm = Recorder::new();
        let mut after_idle = Vec::new();
        let mut idle_snapshots = Vec::new();
        let mut cold_ms = Vec::new();
        let warm_started = Instant::now();
        let mut warm_time = Duration::ZERO;
        for sample in 0..options.cold_samples.max(1) {
            log(&format!(
                "idle for {:?} (cold probe {} of {})",
                options.idle_wait,
                sample + 1,
                options.cold_samples.max(1)
            ));
            tokio::time::sleep(options.idle_wait).await;
            after_idle.push(status(ctx, t0).await?);
            idle_snapshots.push(match &db {
                Some(db) => db.snapshot(&tenant.id).await?,
                None => None,
            });
            let (latency, outcome) = probe(big, &tenant).await;
            let ms = latency.as_secs_f64() * 1000.0;
            log(&format!("cold first command: {ms:.1} ms ({outcome:?})"));
            cold_ms.push(outcome.is_ok().then_some(ms));
            let warm_phase = Instant::now();
            for _ in 0..options.warm_samples {
                let (latency, outcome) = probe(big, &tenant).await;
                warm.record("invite_user", latency, outcome);
            }
            warm_time += warm_phase.elapsed();
        }
        let warm = warm.report(None, warm_time.max(Duration::from_nanos(1)));
        let background_idle = background.finish().await?;
        log(&warm.to_text("warm (right after each cold probe)"));
        log(&format!(
            "after idle: {after_idle:?} (idle phase {:.0} s)",
            warm_started.elapsed().as_secs_f64()
        ));
        stages.push(Stage {
            users,
            growth,
            growth_curve,
            growth_snapshots,
            background_growth,
            steady,
            steady_snapshots,
            background_steady,
            after_steady,
            after_idle,
            idle_snapshots,
            cold_ms,
            warm,
            background_idle,
        });
    }
    Ok(LargeReport {
        big_tenant_id: tenant.id.clone(),
        fresh,
        small_setup,
        small_tenants: ctx.pool.len(),
        background_rate: options.background_rate,
        rate: options.rate,
        stages,
    })
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// The report as text: one line per checkpoint, then the details.
pub fn to_text(report: &LargeReport) -> String {
    let mut out = format!(
        "large tenant {}: {} small tenants in the background at {}/s, big tenant commands at \
         {}/s; fresh node RSS {:.1} MiB\n",
        report.big_tenant_id,
        report.small_tenants,
        report.background_rate,
        report.rate,
        mib(report.fresh.rss_bytes)
    );
    out.push_str(&format!(
        "{:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9} {:>9} {:>9} {:>8} {:>9} {:>9} {:>9} {:>9}\n",
        "users",
        "grow/s",
        "p50 ms",
        "p99 ms",
        "p999 ms",
        "max ms",
        "snap MiB",
        "stored",
        "snap ms",
        "B/cmd",
        "RSS MiB",
        "idle MiB",
        "cold ms",
        "warm p50"
    ));
    for s in &report.stages {
        let snap = &s.steady_snapshots;
        let cold = s
            .cold_ms
            .iter()
            .map(|c| c.map_or("err".to_owned(), |ms| format!("{ms:.0}")))
            .collect::<Vec<_>>()
            .join("/");
        out.push_str(&format!(
            "{:>8} {:>8.0} {:>8.2} {:>8.2} {:>8.2} {:>8.1} {:>9.2} {:>9.2} {:>9.1} {:>8.0} {:>9.1} \
             {:>9.1} {:>9} {:>9.2}\n",
            s.users,
            s.growth.overall.throughput,
            s.steady.overall.p50_ms,
            s.steady.overall.p99_ms,
            s.steady.overall.p999_ms,
            s.steady.overall.max_ms,
            mib(snap.bytes),
            mib(snap.stored_bytes),
            snap.encode_ms_p50,
            snap.bytes_per_command,
            mib(s.after_steady.rss_bytes),
            s.after_idle.last().map_or(0.0, |st| mib(st.rss_bytes)),
            cold,
            s.warm.overall.p50_ms,
        ));
    }
    out.push_str(
        "(grow/s: invitations/s while growing to this size; p50…max: the big tenant's commands \
         at the steady rate; snap: the last snapshot's encoded and stored size, and the median of \
         taken_at − the triggering event's recorded_at (append + encoding); B/cmd: snapshot \
         bytes written per command; RSS after the steady phase and after the idle wait; cold: \
         first command after each idle wait)\n",
    );
    for s in &report.stages {
        out.push_str(&format!("\n-- {} users\n", s.users));
        out.push_str(&s.steady.to_text("big tenant, steady (open loop)"));
        out.push_str(
            &s.background_steady
                .to_text("background during the steady phase"),
        );
        out.push_str(&format!(
            "snapshots while growing: {} seen, encode+append p50 {:.1} ms max {:.1} ms; during \
             the steady phase: {} seen, p50 {:.1} ms max {:.1} ms, PostgreSQL save mean {}\n",
            s.growth_snapshots.observed,
            s.growth_snapshots.encode_ms_p50,
            s.growth_snapshots.encode_ms_max,
            s.steady_snapshots.observed,
            s.steady_snapshots.encode_ms_p50,
            s.steady_snapshots.encode_ms_max,
            s.steady_snapshots
                .pg_save_mean_ms
                .map_or("n/a".to_owned(), |ms| format!("{ms:.2} ms")),
        ));
        out.push_str(&s.warm.to_text("warm (right after each cold probe)"));
    }
    out
}
