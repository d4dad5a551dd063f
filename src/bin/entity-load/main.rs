//! `entity-load`: an open-loop load generator for entity-engine's gRPC API.
//!
//! ```text
//! entity-load --endpoint http://127.0.0.1:50051 run --rate 2000 --duration-secs 30
//! entity-load run --find-max --p99-target-ms 50           # highest rate meeting p99 ≤ 50 ms
//! entity-load scale --tenants 10000 --users 1000000       # the scale scenario
//! entity-load large-tenant --users 100000 --database-url postgres://…  # one big tenant
//! ```
//!
//! Requests are scheduled on a fixed timetable and latency is measured from the scheduled
//! time (coordinated-omission free). Authentication: `--token` / `ENTITYCTL_TOKEN`, or an
//! HS256 platform-admin token minted from the server's secret file (`--hs256-secret-file`).
//! See BENCHMARKS.md for the figures and the exact commands.

mod auth;
mod client;
mod db;
mod large;
mod runner;
mod scale;
mod stats;
mod workload;

use std::{path::PathBuf, process::ExitCode, sync::Arc, time::Duration};

use clap::{Args, Parser, Subcommand};
use serde::Serialize;

use crate::{
    client::Cluster,
    runner::Ctx,
    stats::Report,
    workload::{Mix, Pool},
};

/// Why the load generator stopped.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Bad flags or files.
    #[error("configuration: {0}")]
    Config(String),
    /// An endpoint could not be reached.
    #[error("cannot connect to {0}")]
    Connect(String),
    /// A call the scenario depends on failed.
    #[error("request failed: {0}")]
    Rpc(String),
    /// Output could not be written.
    #[error("output: {0}")]
    Output(String),
}

/// Open-loop load generator for entity-engine (gRPC).
#[derive(Parser, Debug)]
#[command(name = "entity-load", version)]
struct Cli {
    #[command(flatten)]
    common: Common,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Debug)]
struct Common {
    /// Endpoints, used round robin (repeat the flag or separate with commas).
    #[arg(
        long = "endpoint",
        env = "ENTITY_LOAD_ENDPOINTS",
        value_delimiter = ',',
        default_value = "http://127.0.0.1:50051",
        global = true
    )]
    endpoints: Vec<String>,
    /// Bearer token (a platform admin's, to create tenants and read node status).
    #[arg(long, env = "ENTITYCTL_TOKEN", global = true, hide_env_values = true)]
    token: Option<String>,
    /// Instead of --token: mint an HS256 platform-admin token from this secret file (the
    /// server's --jwt-hs256-secret-file; development and testing only).
    #[arg(long, global = true)]
    hs256_secret_file: Option<PathBuf>,
    /// `iss` of a minted token (the server's --jwt-issuer).
    #[arg(long, default_value = "entity-load", global = true)]
    jwt_issuer: String,
    /// `aud` of a minted token (the server's --jwt-audience).
    #[arg(long, default_value = "entity-engine", global = true)]
    jwt_audience: String,
    /// HTTP/2 connections per endpoint.
    #[arg(long, default_value_t = 4, global = true)]
    connections: usize,
    /// Per-request timeout in milliseconds (a timeout counts as CLIENT_TIMEOUT).
    #[arg(long, default_value_t = 10_000, global = true)]
    timeout_ms: u64,
    /// Requests in flight while creating tenants and users.
    #[arg(long, default_value_t = 64, global = true)]
    setup_concurrency: usize,
    /// Operation mix, `name=weight` (create_tenant, invite, role, check, list_users,
    /// list_orgs, verify, claims, search; `health` is the bare tonic baseline call). With `verify`, the setup
    /// also creates a partition and an admin API key per tenant, and `verify` calls
    /// VerifyApiKey with that key.
    #[arg(
        long,
        global = true,
        default_value = "check=50,invite=10,role=20,list_users=8,list_orgs=7,create_tenant=5"
    )]
    mix: String,
    /// Send this fraction of the traffic to the first --hot-tenants tenants.
    #[arg(long, default_value_t = 0.0, global = true)]
    hot_fraction: f64,
    /// Number of hot tenants (see --hot-fraction).
    #[arg(long, default_value_t = 0, global = true)]
    hot_tenants: usize,
    /// Seed of the request random numbers.
    #[arg(long, default_value_t = 1, global = true)]
    seed: u64,
    /// Print one JSON document instead of text tables.
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Create tenants and users, then run the mix open loop (or search the highest rate).
    Run(RunArgs),
    /// The scale scenario: create many tenants and users, run the mix, then report RSS and
    /// active entities after passivation and the cold activation latency.
    Scale(ScaleArgs),
    /// One tenant grown to many users (one actor, one snapshot) beside small tenants under a
    /// background load: at each checkpoint size, the big tenant's command latency at a steady
    /// rate, its snapshot's size and time, RSS, and its cold activation.
    LargeTenant(LargeArgs),
}

#[derive(Args, Debug)]
struct RunArgs {
    /// Tenants created before the load.
    #[arg(long, default_value_t = 200)]
    tenants: usize,
    /// Users invited into each tenant before the load (besides its owner).
    #[arg(long, default_value_t = 10)]
    users_per_tenant: usize,
    /// Clients created in each tenant before the load (classified business profiles; what
    /// the `search` operation searches).
    #[arg(long, default_value_t = 0)]
    clients_per_tenant: usize,
    /// Scheduled requests per second.
    #[arg(long, default_value_t = 1000.0)]
    rate: f64,
    /// Length of the measured phase.
    #[arg(long, default_value_t = 30)]
    duration_secs: u64,
    /// Unmeasured load before it, at the same rate.
    #[arg(long, default_value_t = 5)]
    warmup_secs: u64,
    /// After the measured phase, run the same schedule of bare `grpc.health.v1.Health/Check`
    /// calls for this long: the same-run baseline (0 = skip).
    #[arg(long, default_value_t = 0)]
    baseline_secs: u64,
    /// Search the highest rate whose p99 meets --p99-target-ms.
    #[arg(long)]
    find_max: bool,
    /// p99 target of --find-max, in milliseconds.
    #[arg(long, default_value_t = 50.0)]
    p99_target_ms: f64,
    /// First rate of --find-max.
    #[arg(long, default_value_t = 500.0)]
    start_rate: f64,
    /// Rate multiplier between steps of --find-max.
    #[arg(long, default_value_t = 1.25)]
    step_factor: f64,
    /// Highest rate tried by --find-max.
    #[arg(long, default_value_t = 100_000.0)]
    max_rate: f64,
    /// Length of each --find-max step.
    #[arg(long, default_value_t = 15)]
    step_secs: u64,
}

#[derive(Args, Debug)]
struct ScaleArgs {
    /// Tenants to create.
    #[arg(long, default_value_t = 10_000)]
    tenants: usize,
    /// Users to create in all, spread evenly over the tenants (owners count).
    #[arg(long, default_value_t = 1_000_000)]
    users: usize,
    /// Rate of the mixed load after creation.
    #[arg(long, default_value_t = 1000.0)]
    rate: f64,
    /// Length of the mixed load.
    #[arg(long, default_value_t = 30)]
    duration_secs: u64,
    /// Wait after the load before reading the status again; make it longer than the
    /// server's idle timeout (`entityd serve --idle-timeout-secs`).
    #[arg(long, default_value_t = 40)]
    idle_wait_secs: u64,
    /// Cold tenants probed, one at a time.
    #[arg(long, default_value_t = 200)]
    cold_samples: usize,
}

#[derive(Args, Debug)]
struct LargeArgs {
    /// Users of the big tenant in the end (its owner included).
    #[arg(long, default_value_t = 100_000)]
    users: usize,
    /// Smaller sizes measured on the way (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "10000,30000")]
    checkpoints: Vec<usize>,
    /// Small tenants created first; the background mix (--mix) runs over them.
    #[arg(long, default_value_t = 200)]
    small_tenants: usize,
    /// Users invited into each small tenant (besides its owner).
    #[arg(long, default_value_t = 10)]
    small_users_per_tenant: usize,
    /// Open-loop rate of the background mix, requests/s.
    #[arg(long, default_value_t = 100.0)]
    background_rate: f64,
    /// Open-loop rate of the big tenant's commands in each steady phase, commands/s.
    #[arg(long, default_value_t = 200.0)]
    rate: f64,
    /// The big tenant's operation mix in the steady phases (names as in --mix).
    #[arg(long, default_value = "invite=50,role=50")]
    big_mix: String,
    /// Length of each steady phase.
    #[arg(long, default_value_t = 30)]
    duration_secs: u64,
    /// Wait before each cold probe; make it longer than the server's idle timeout.
    #[arg(long, default_value_t = 40)]
    idle_wait_secs: u64,
    /// Cold probes at each checkpoint (each waits --idle-wait-secs).
    #[arg(long, default_value_t = 1)]
    cold_samples: usize,
    /// Warm commands timed right after each cold probe.
    #[arg(long, default_value_t = 20)]
    warm_samples: usize,
    /// The node's PostgreSQL (read-only, with `psql`): the snapshot figures. Without it they
    /// are left out.
    #[arg(long, env = "ENTITY_LOAD_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// How often the snapshot row is read, milliseconds.
    #[arg(long, default_value_t = 100)]
    poll_ms: u64,
}

#[derive(Serialize)]
struct RunOutput {
    setup: Report,
    #[serde(skip_serializing_if = "Option::is_none")]
    load: Option<Report>,
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline: Option<Report>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    find_max_steps: Vec<runner::Step>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_rate_meeting_target: Option<f64>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("entity-load: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("entity-load: {e}");
            ExitCode::FAILURE
        }
    }
}

fn print_json(value: &impl Serialize) -> Result<(), LoadError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| LoadError::Output(e.to_string()))?;
    println!("{text}");
    Ok(())
}

async fn run(cli: Cli) -> Result<(), LoadError> {
    let common = &cli.common;
    let token = match (&common.token, &common.hs256_secret_file) {
        (Some(token), _) => Some(token.clone()),
        (None, Some(file)) => Some(auth::mint_platform_admin(
            file,
            &common.jwt_issuer,
            &common.jwt_audience,
        )?),
        (None, None) => None,
    };
    let cluster = Cluster::connect(&common.endpoints, common.connections, token.as_deref()).await?;
    // The large-tenant scenario's big tenant gets connections and a pool of its own.
    let big = match &cli.command {
        Command::LargeTenant(args) => Some(Arc::new(Ctx {
            cluster: Cluster::connect(&common.endpoints, common.connections, token.as_deref())
                .await?,
            pool: Pool::new(0, 0.0),
            mix: Mix::parse(&args.big_mix)?,
            timeout: Duration::from_millis(common.timeout_ms.max(1)),
            seed: common.seed ^ 0x5eed,
        })),
        _ => None,
    };
    let ctx = Arc::new(Ctx {
        cluster,
        pool: Pool::new(common.hot_tenants, common.hot_fraction),
        mix: Mix::parse(&common.mix)?,
        timeout: Duration::from_millis(common.timeout_ms.max(1)),
        seed: common.seed,
    });
    let json = common.json;
    match cli.command {
        Command::Run(args) => {
            eprintln!(
                "setup: {} tenants × {} users, {} clients",
                args.tenants, args.users_per_tenant, args.clients_per_tenant
            );
            let setup = runner::setup(
                &ctx,
                args.tenants,
                args.users_per_tenant,
                args.clients_per_tenant,
                common.setup_concurrency,
                true,
            )
            .await;
            if !json {
                println!("{}", setup.to_text("setup (closed loop)"));
            }
            if ctx.pool.len() == 0 {
                return Err(LoadError::Rpc(format!(
                    "no tenant could be created: {:?}",
                    setup.overall.errors
                )));
            }
            // The read models fill behind the setup's writes: measured after they caught up.
            let settled = scale::settle(&ctx, Duration::from_secs(600)).await?;
            eprintln!(
                "projections caught up {:.1} s after the setup",
                settled.as_secs_f64()
            );
            let mut output = RunOutput {
                setup,
                load: None,
                baseline: None,
                find_max_steps: Vec::new(),
                max_rate_meeting_target: None,
            };
            if args.find_max {
                let steps = runner::find_max(
                    &ctx,
                    args.start_rate,
                    args.step_factor,
                    args.max_rate,
                    Duration::from_secs(args.step_secs.max(1)),
                    args.p99_target_ms,
                    |step| {
                        let verdict = if step.passed { "PASS" } else { "FAIL" };
                        let text = step.report.to_text(&format!("step {:.0}/s", step.rate));
                        if json {
                            eprintln!("{text}{verdict}");
                        } else {
                            println!("{text}{verdict}\n");
                        }
                    },
                )
                .await;
                output.max_rate_meeting_target = steps
                    .iter()
                    .filter(|s| s.passed)
                    .map(|s| s.rate)
                    .next_back();
                if !json {
                    match output.max_rate_meeting_target {
                        Some(rate) => println!(
                            "highest rate meeting p99 ≤ {} ms: {rate:.0}/s",
                            args.p99_target_ms
                        ),
                        None => println!("no rate met p99 ≤ {} ms", args.p99_target_ms),
                    }
                }
                output.find_max_steps = steps;
            } else {
                if args.warmup_secs > 0 {
                    eprintln!("warm-up: {} s at {}/s", args.warmup_secs, args.rate);
                    runner::open_loop(&ctx, args.rate, Duration::from_secs(args.warmup_secs)).await;
                }
                let load =
                    runner::open_loop(&ctx, args.rate, Duration::from_secs(args.duration_secs))
                        .await;
                if !json {
                    println!("{}", load.to_text("load (open loop)"));
                }
                output.load = Some(load);
                if args.baseline_secs > 0 {
                    let health = Mix::parse("health=1")?;
                    let baseline = runner::open_loop_with(
                        &ctx,
                        &health,
                        args.rate,
                        Duration::from_secs(args.baseline_secs),
                    )
                    .await;
                    if !json {
                        println!(
                            "{}",
                            baseline.to_text("baseline: bare tonic Health/Check, same schedule")
                        );
                    }
                    output.baseline = Some(baseline);
                }
            }
            if json {
                print_json(&output)?;
            }
        }
        Command::Scale(args) => {
            let options = scale::ScaleOptions {
                tenants: args.tenants,
                users: args.users,
                concurrency: common.setup_concurrency,
                rate: args.rate,
                duration: Duration::from_secs(args.duration_secs),
                idle_wait: Duration::from_secs(args.idle_wait_secs),
                cold_samples: args.cold_samples,
            };
            let report = scale::run(&ctx, &options, |line| eprintln!("{line}")).await?;
            if json {
                print_json(&report)?;
            } else {
                println!(
                    "tenants {}, users {}\nRSS before setup {:.1} MiB, after setup {:.1} MiB \
                     ({} active), after mixed {:.1} MiB ({} active), after idle {:.1} MiB ({} \
                     active)",
                    report.tenants,
                    report.users,
                    mib(report.fresh.rss_bytes),
                    mib(report.after_setup.rss_bytes),
                    report.after_setup.active_entities,
                    mib(report.after_mixed.rss_bytes),
                    report.after_mixed.active_entities,
                    mib(report.after_idle.rss_bytes),
                    report.after_idle.active_entities,
                );
                println!(
                    "cold first command p50 {:.2} ms p99 {:.2} ms; warm p50 {:.2} ms p99 {:.2} ms",
                    report.cold.overall.p50_ms,
                    report.cold.overall.p99_ms,
                    report.warm.overall.p50_ms,
                    report.warm.overall.p99_ms
                );
            }
        }
        Command::LargeTenant(args) => {
            let Some(big) = big else {
                return Err(LoadError::Config(
                    "no connections for the big tenant".into(),
                ));
            };
            let options = large::LargeOptions {
                users: args.users,
                checkpoints: args.checkpoints,
                growth_concurrency: common.setup_concurrency,
                small_tenants: args.small_tenants,
                small_users_per_tenant: args.small_users_per_tenant,
                background_rate: args.background_rate,
                rate: args.rate,
                duration: Duration::from_secs(args.duration_secs),
                idle_wait: Duration::from_secs(args.idle_wait_secs),
                cold_samples: args.cold_samples,
                warm_samples: args.warm_samples,
                database_url: args.database_url,
                poll: Duration::from_millis(args.poll_ms.max(10)),
            };
            let report = large::run(&ctx, &big, &options, |line| eprintln!("{line}")).await?;
            if json {
                print_json(&report)?;
            } else {
                print!("{}", large::to_text(&report));
            }
        }
    }
    Ok(())
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
