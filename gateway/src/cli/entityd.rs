//! `entityd`: runs an entity-engine node.
//!
//! - `entityd [--data-dir DIR] [--listen ADDR] [--dev-identity]`: the EMBEDDED single-node
//!   mode, SQLite journal at `DIR/journal.db`; the one-command trial. `--dev-identity` accepts
//!   every call as the platform admin `dev`; without it every call is refused until
//!   authentication is configured.
//! - `entityd serve --database-url postgres://… [--config FILE] …`: a production node on
//!   PostgreSQL. Never accepts `--dev-identity`.
//!
//! Both run migrations at start, print `entityd listening on <addr> (<mode>)` when ready and
//! shut down gracefully on Ctrl-C or SIGTERM. Logs go to stderr, filtered by `ENTITYD_LOG`
//! (default `info`).

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
    sync::Arc,
};

use clap::{Args, Parser, Subcommand};
use engine::{
    journal::{Journal, postgres::PostgresJournal, sqlite::SqliteJournal},
    runtime::Engine,
};
use tokio::net::TcpListener;

use super::{EXIT_FAILURE, EXIT_USAGE};
use crate::{
    auth::AuthMode,
    config::{EngineTuning, ServeSettings, parse_listen},
    error::{GatewayError, Result},
    server,
};

/// Runs an entity-engine node. Without a subcommand: the embedded single-node mode (SQLite).
#[derive(Debug, Parser)]
#[command(name = "entityd", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Embedded mode: directory of the SQLite journal (created if missing).
    #[arg(long, env = "ENTITYD_DATA_DIR", default_value = "./entityd-data")]
    data_dir: PathBuf,
    /// Embedded mode: gRPC listen address (port 0 picks a free port).
    #[arg(long, env = "ENTITYD_LISTEN", default_value = "127.0.0.1:50051")]
    listen: String,
    /// Embedded mode only: accept every call as the platform admin "dev". For local trials;
    /// never expose such a node.
    #[arg(long)]
    dev_identity: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a node on PostgreSQL (configuration from flags, environment and --config file).
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// PostgreSQL URL, e.g. postgres://user:pass@host:5432/entity.
    #[arg(long, env = "ENTITYD_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// gRPC listen address [default: 0.0.0.0:50051].
    #[arg(long, env = "ENTITYD_LISTEN")]
    listen: Option<String>,
    /// TOML file with the same keys as these flags; flags and environment override it.
    #[arg(long, env = "ENTITYD_CONFIG")]
    config: Option<PathBuf>,
    /// Size of the PostgreSQL connection pool [default: 16].
    #[arg(long, env = "ENTITYD_MAX_DB_CONNECTIONS")]
    max_db_connections: Option<u32>,
    /// Number of shards, fixed for the life of the cluster [default: 256].
    #[arg(long, env = "ENTITYD_SHARD_COUNT")]
    shard_count: Option<u32>,
    /// Idle entity actors are passivated after this many seconds [default: 300].
    #[arg(long, env = "ENTITYD_IDLE_TIMEOUT_SECS")]
    idle_timeout_secs: Option<u64>,
    /// Take a snapshot every this many events [default: 100].
    #[arg(long, env = "ENTITYD_SNAPSHOT_EVERY")]
    snapshot_every: Option<u32>,
    /// Refused: the dev identity exists only in embedded mode.
    #[arg(long, hide = true)]
    dev_identity: bool,
}

impl ServeArgs {
    fn settings(&self) -> ServeSettings {
        ServeSettings {
            database_url: self.database_url.clone(),
            listen: self.listen.clone(),
            max_db_connections: self.max_db_connections,
            shard_count: self.shard_count,
            idle_timeout_secs: self.idle_timeout_secs,
            snapshot_every: self.snapshot_every,
        }
    }
}

/// Entry point of the `entityd` binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("entityd: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e @ GatewayError::Config(_)) => {
            eprintln!("entityd: {e}");
            ExitCode::from(EXIT_USAGE)
        }
        Err(e) => {
            eprintln!("entityd: {e}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        None => run_embedded(&cli.data_dir, &cli.listen, cli.dev_identity).await,
        Some(Command::Serve(args)) => {
            if cli.dev_identity || args.dev_identity {
                return Err(GatewayError::Config(
                    "--dev-identity is accepted only in embedded mode (entityd without a \
                     subcommand); `entityd serve` never runs with the dev identity"
                        .to_owned(),
                ));
            }
            run_serve(args).await
        }
    }
}

async fn run_embedded(data_dir: &Path, listen: &str, dev_identity: bool) -> Result<()> {
    let listen = parse_listen(listen).map_err(GatewayError::Config)?;
    std::fs::create_dir_all(data_dir).map_err(|e| {
        GatewayError::io(format!("creating data directory {}", data_dir.display()), e)
    })?;
    let db_path = data_dir.join("journal.db");
    let journal = SqliteJournal::open(&db_path).await?;
    journal.migrate().await?;
    tracing::info!(path = %db_path.display(), "SQLite journal ready");
    let auth = if dev_identity {
        tracing::warn!("dev identity: every call is accepted as the platform admin \"dev\"");
        AuthMode::DevIdentity
    } else {
        eprintln!(
            "hint: authentication is not configured, so every call is refused; for a local \
             trial restart with --dev-identity"
        );
        AuthMode::Unconfigured
    };
    let mode = format!("embedded, {}", auth.describe());
    start(
        Arc::new(journal),
        EngineTuning::default(),
        listen,
        auth,
        &mode,
    )
    .await
}

async fn run_serve(args: ServeArgs) -> Result<()> {
    let file = match &args.config {
        Some(path) => ServeSettings::load(path)?,
        None => ServeSettings::default(),
    };
    let config = args.settings().or(file).validate()?;
    let journal = PostgresJournal::connect(&config.database_url, config.max_db_connections).await?;
    journal.migrate().await?;
    tracing::info!(
        max_connections = config.max_db_connections,
        "PostgreSQL journal ready"
    );
    let auth = AuthMode::Unconfigured;
    let mode = format!("serve, {}", auth.describe());
    start(Arc::new(journal), config.tuning, config.listen, auth, &mode).await
}

async fn start(
    journal: Arc<dyn Journal>,
    tuning: EngineTuning,
    listen: std::net::SocketAddr,
    auth: AuthMode,
    mode: &str,
) -> Result<()> {
    let engine = Engine::start(journal, tuning.engine_config()).await?;
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|e| GatewayError::io(format!("binding {listen}"), e))?;
    let local = listener
        .local_addr()
        .map_err(|e| GatewayError::io("reading the bound address", e))?;
    println!("entityd listening on {local} ({mode})");
    server::serve(engine, auth, listener, shutdown_signal()).await?;
    tracing::info!("entityd stopped");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("Ctrl-C received"),
        () = terminate => tracing::info!("SIGTERM received"),
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("ENTITYD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // A second initialisation (never in the binary) is harmless; ignore it.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[tokio::test]
    async fn serve_refuses_the_dev_identity() {
        let cli = Cli::try_parse_from(["entityd", "serve", "--dev-identity"]).unwrap();
        let err = run(cli).await.unwrap_err();
        assert!(matches!(err, GatewayError::Config(m) if m.contains("embedded mode")));
    }

    #[tokio::test]
    async fn serve_validates_before_connecting() {
        let cli = Cli::try_parse_from([
            "entityd",
            "serve",
            "--database-url",
            "mysql://x",
            "--listen",
            "nowhere",
            "--shard-count",
            "0",
        ])
        .unwrap();
        let err = run(cli).await.unwrap_err();
        let GatewayError::Config(msg) = err else {
            panic!("{err}")
        };
        assert!(
            msg.contains("postgres://") && msg.contains("listen") && msg.contains("shard-count")
        );
    }
}
