//! The scale scenario: many tenants and users, a mixed load, then node status after
//! passivation and the latency of the first command to a cold tenant.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use entity_proto::v1 as pb;
use serde::Serialize;

use crate::{
    LoadError,
    runner::{self, Ctx},
    stats::{Recorder, Report},
    workload,
};

/// `AdminService.GetNodeStatus` of one endpoint at one moment.
#[derive(Clone, Debug, Serialize)]
pub struct NodeStatus {
    /// When, in seconds since the scenario started.
    pub at_secs: f64,
    /// Resident set size of the node process.
    pub rss_bytes: u64,
    /// Entity actors in memory.
    pub active_entities: u64,
}

/// Everything the scenario measured.
#[derive(Clone, Debug, Serialize)]
pub struct ScaleReport {
    /// Tenants created.
    pub tenants: usize,
    /// Users created (invited), owners included.
    pub users: usize,
    /// Status before anything was created (a fresh node's, if the node was started for the run).
    pub fresh: NodeStatus,
    /// The creation phase (closed loop).
    pub setup: Report,
    /// Status right after creation.
    pub after_setup: NodeStatus,
    /// The mixed load.
    pub mixed: Report,
    /// Status right after the mixed load.
    pub after_mixed: NodeStatus,
    /// Status after waiting for passivation.
    pub after_idle: NodeStatus,
    /// First command (InviteUser) to tenants idle for longer than the idle timeout.
    pub cold: Report,
    /// The same command to the same tenants right after (the same-run warm baseline).
    pub warm: Report,
}

/// Options of the scenario.
pub struct ScaleOptions {
    /// Tenants to create.
    pub tenants: usize,
    /// Users to create in all (spread evenly; owners count).
    pub users: usize,
    /// Requests in flight during creation.
    pub concurrency: usize,
    /// Rate of the mixed load.
    pub rate: f64,
    /// Length of the mixed load.
    pub duration: Duration,
    /// Wait after the load, longer than the server's idle timeout.
    pub idle_wait: Duration,
    /// Cold tenants to probe.
    pub cold_samples: usize,
}

/// Reads `AdminService.GetNodeStatus` of one endpoint; `at_secs` counts from `t0`.
pub async fn status(ctx: &Ctx, t0: Instant) -> Result<NodeStatus, LoadError> {
    let status = ctx
        .cluster
        .pick()
        .admin
        .get_node_status(ctx.cluster.request(pb::GetNodeStatusRequest {}))
        .await
        .map_err(|s| LoadError::Rpc(format!("GetNodeStatus: {s}")))?
        .into_inner();
    Ok(NodeStatus {
        at_secs: t0.elapsed().as_secs_f64(),
        rss_bytes: status.rss_bytes,
        active_entities: status.active_entities,
    })
}

/// Waits until every projection of one endpoint has caught up with the journal (the read
/// models the setup filled), at most `limit`; returns how long it took.
pub async fn settle(ctx: &Ctx, limit: Duration) -> Result<Duration, LoadError> {
    let t0 = Instant::now();
    loop {
        let projections = ctx
            .cluster
            .pick()
            .admin
            .list_projections(ctx.cluster.request(pb::ListProjectionsRequest {}))
            .await
            .map_err(|s| LoadError::Rpc(format!("ListProjections: {s}")))?
            .into_inner()
            .projections;
        if projections.iter().all(|p| p.events_behind == 0) {
            return Ok(t0.elapsed());
        }
        if t0.elapsed() > limit {
            let behind: Vec<_> = projections
                .iter()
                .filter(|p| p.events_behind != 0)
                .map(|p| format!("{} {}", p.name, p.events_behind))
                .collect();
            return Err(LoadError::Rpc(format!(
                "projections still behind after {limit:?}: {}",
                behind.join(", ")
            )));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Runs the scenario; `log` receives progress lines.
pub async fn run(
    ctx: &Arc<Ctx>,
    options: &ScaleOptions,
    log: impl Fn(&str),
) -> Result<ScaleReport, LoadError> {
    let t0 = Instant::now();
    let fresh = status(ctx, t0).await?;
    log(&format!("before setup: {fresh:?}"));
    let tenants = options.tenants.max(1);
    // Each tenant's owner is a user already.
    let per_tenant = (options.users / tenants).saturating_sub(1);
    log(&format!(
        "creating {tenants} tenants with {} users each",
        per_tenant + 1
    ));
    let setup = runner::setup(ctx, tenants, per_tenant, 0, options.concurrency, true).await;
    log(&setup.to_text("setup"));
    let after_setup = status(ctx, t0).await?;
    log(&format!("after setup: {after_setup:?}"));

    log(&format!(
        "mixed load at {}/s for {:?}",
        options.rate, options.duration
    ));
    let mixed = runner::open_loop(ctx, options.rate, options.duration).await;
    log(&mixed.to_text("mixed"));
    let after_mixed = status(ctx, t0).await?;
    log(&format!("after mixed load: {after_mixed:?}"));

    log(&format!("idle for {:?} (passivation)", options.idle_wait));
    tokio::time::sleep(options.idle_wait).await;
    let after_idle = status(ctx, t0).await?;
    log(&format!("after idle: {after_idle:?}"));

    // Probe tenants one at a time so every sample is a cold activation, not queued behind
    // another one.
    let samples = options.cold_samples.min(ctx.pool.len());
    let cold = Recorder::new();
    let warm = Recorder::new();
    let step = (ctx.pool.len() / samples.max(1)).max(1);
    let probe_started = Instant::now();
    let mut probed = Vec::new();
    for k in 0..samples {
        let Some(tenant) = ctx.pool.get(k * step) else {
            continue;
        };
        let started = Instant::now();
        let outcome = workload::invite_user(&ctx.cluster, &ctx.pool, &tenant).await;
        cold.record("invite_user", started.elapsed(), outcome);
        probed.push(tenant);
    }
    let cold = cold.report(None, probe_started.elapsed());
    let warm_started = Instant::now();
    for tenant in &probed {
        let started = Instant::now();
        let outcome = workload::invite_user(&ctx.cluster, &ctx.pool, tenant).await;
        warm.record("invite_user", started.elapsed(), outcome);
    }
    let warm = warm.report(None, warm_started.elapsed());
    log(&cold.to_text("cold activation (first command after idle)"));
    log(&warm.to_text("warm (same tenants, right after)"));

    let users = (0..ctx.pool.len())
        .filter_map(|i| ctx.pool.get(i))
        .map(|t| t.user_count())
        .sum();
    Ok(ScaleReport {
        tenants: ctx.pool.len(),
        users,
        fresh,
        setup,
        after_setup,
        mixed,
        after_mixed,
        after_idle,
        cold,
        warm,
    })
}
