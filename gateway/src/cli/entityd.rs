//! `entityd`: runs an entity-engine node.
//!
//! - `entityd [--data-dir DIR] [--listen ADDR] [--dev-identity]`: the EMBEDDED single-node
//!   mode, SQLite journal at `DIR/journal.db`; the one-command trial. It accepts bearer JWTs
//!   signed with the development key `DIR/dev-signing.key` (created at first start; mint
//!   tokens with `entityd dev-token`). `--dev-identity` (tests, quick trials) accepts every
//!   call as the platform admin `dev` instead. Personal data is encrypted under the master
//!   key `DIR/master.key` (created at first start, mode 0600) unless `--master-key-file`
//!   names another.
//! - `entityd serve --database-url postgres://… --master-key-file F --jwt-issuer …
//!   --jwt-audience … (--jwks-file F | --jwks-url U) [--config FILE] …`: a production node on
//!   PostgreSQL. Refuses to start without token verification keys or a master key; never
//!   accepts `--dev-identity`.
//! - `entityd keys generate --out FILE`, `entityd keys rotate-master --new-key-file NEW …`:
//!   makes a master key file; re-wraps every personal-data key under a new master key while
//!   the nodes serve (see `entityd keys rotate-master --help`).
//! - `entityd dev-token [--data-dir DIR] (--platform-admin | --tenant T --sub U)
//!   [--ttl-secs N]`: prints a development token signed with `DIR/dev-signing.key`.
//! - `entityd projections (status | rebuild NAME) [--database-url URL]`: the read models'
//!   lag, and a rebuild from zero while the nodes keep serving (embedded store in
//!   `--data-dir` without a URL).
//!
//! Both run migrations at start, then check the master key against the store (a key that
//! does not protect the store's personal data, or was retired by a rotation, stops the node
//! with exit code 2 before it writes anything), print `entityd listening on <addr> (<mode>)`
//! when ready and shut down gracefully on Ctrl-C or SIGTERM. Logs go to stderr, filtered by
//! `ENTITYD_LOG` (default `info`; `ENTITYD_LOG_FORMAT=json` for JSON lines); traces go to an
//! OTLP collector when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (see `crate::traces`).

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
    sync::Arc,
};

use clap::{Args, Parser, Subcommand};
use engine::{
    journal::{postgres::PostgresJournal, sqlite::SqliteJournal},
    personal::MasterKeys,
};
use projections::KafkaPublisher;
use tokio::net::TcpListener;

use super::{
    EXIT_FAILURE, EXIT_USAGE,
    keys::{self, KeysArgs},
    projections_admin::{self, ProjectionsArgs},
};
use crate::{
    auth::{
        AuthMode,
        dev::{self, DevSubject},
        jwt::{JwtAuthenticator, JwtConfig},
    },
    config::{
        CLUSTER_COOKIE_ENV, ClusterSettings, EngineTuning, KafkaSettings, MASTER_KEY_FILE_ENV,
        PREVIOUS_MASTER_KEY_FILE_ENV, ServeSettings, TlsSettings, parse_listen,
    },
    error::{GatewayError, Result},
    node::{ClusterOptions, Node, NodeOptions, Storage},
    node_metrics::NodeSampler,
    server::{self, Admission, metrics_endpoint::MetricsEndpoint},
};

/// Runs an entity-engine node. Without a subcommand: the embedded single-node mode (SQLite).
#[derive(Debug, Parser)]
#[command(
    name = "entityd",
    version,
    after_help = "Environment: ENTITYD_LOG (log filter, default info), ENTITYD_LOG_FORMAT=json \
                  (JSON log lines), OTEL_EXPORTER_OTLP_ENDPOINT (export traces over OTLP/gRPC; \
                  with the other standard OTEL_* variables)."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Embedded mode: directory of the SQLite journal (created if missing).
    #[arg(long, env = "ENTITYD_DATA_DIR", default_value = "./entityd-data")]
    data_dir: PathBuf,
    /// Embedded mode: gRPC listen address (port 0 picks a free port).
    #[arg(long, env = "ENTITYD_LISTEN", default_value = "127.0.0.1:50051")]
    listen: String,
    /// Embedded mode: serve Prometheus metrics at http://ADDR/metrics (`off`: not served;
    /// when the default address is taken, the node runs without them).
    #[arg(long, env = "ENTITYD_METRICS_LISTEN", default_value = DEFAULT_EMBEDDED_METRICS)]
    metrics_listen: String,
    /// Embedded mode only: accept every call as the platform admin "dev". For local trials;
    /// never expose such a node.
    #[arg(long)]
    dev_identity: bool,
    /// Embedded mode: publish every event to Kafka at these bootstrap servers (off without).
    #[arg(long, env = "ENTITYD_KAFKA_BROKERS")]
    kafka_brokers: Option<String>,
    /// Embedded mode: Kafka topic [default: entity-events].
    #[arg(long, env = "ENTITYD_KAFKA_TOPIC", requires = "kafka_brokers")]
    kafka_topic: Option<String>,
    /// Embedded mode: Kafka message values as `json` (the journal's payload) or `protobuf`
    /// (proto/entity/v1/events.proto) [default: json].
    #[arg(long, env = "ENTITYD_KAFKA_FORMAT", requires = "kafka_brokers")]
    kafka_format: Option<projections::kafka::KafkaFormat>,
    /// Embedded mode: the master key that encrypts personal data (64 hex digits)
    /// [default: DIR/master.key, created at first start].
    #[arg(long, env = MASTER_KEY_FILE_ENV)]
    master_key_file: Option<PathBuf>,
    /// Embedded mode: the previous master key, still accepted for reading during a rotation.
    #[arg(long, env = PREVIOUS_MASTER_KEY_FILE_ENV)]
    previous_master_key_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a node on PostgreSQL (configuration from flags, environment and --config file).
    Serve(Box<ServeArgs>),
    /// Print a development token signed with the embedded mode's key (DIR/dev-signing.key).
    DevToken(DevTokenArgs),
    /// Projections (read models) of a store: `status`, `rebuild NAME`.
    Projections(ProjectionsArgs),
    /// The master key of personal data: `generate --out FILE`, `rotate-master`.
    Keys(KeysArgs),
}

#[derive(Debug, Args)]
struct DevTokenArgs {
    /// Data directory of the embedded node [default: the top-level --data-dir].
    #[arg(long = "data-dir")]
    data_dir: Option<PathBuf>,
    /// A platform-administrator token.
    #[arg(long, conflicts_with_all = ["tenant", "sub"], required_unless_present = "tenant")]
    platform_admin: bool,
    /// The tenant of the token.
    #[arg(long, requires = "sub")]
    tenant: Option<String>,
    /// The subject: the engine user id (UUID) of a tenant user, or a service name.
    #[arg(long, requires = "tenant")]
    sub: Option<String>,
    /// Lifetime of the token in seconds.
    #[arg(long, default_value_t = 3600)]
    ttl_secs: u64,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// PostgreSQL URL, e.g. postgres://user:pass@host:5432/entity.
    #[arg(long, env = "ENTITYD_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// gRPC listen address [default: 0.0.0.0:50051].
    #[arg(long, env = "ENTITYD_LISTEN")]
    listen: Option<String>,
    /// Serve Prometheus metrics at http://ADDR/metrics [default: off].
    #[arg(long, env = "ENTITYD_METRICS_LISTEN")]
    metrics_listen: Option<String>,
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
    /// Required issuer (`iss`) of bearer tokens.
    #[arg(long, env = "ENTITYD_JWT_ISSUER")]
    jwt_issuer: Option<String>,
    /// Required audience (`aud`) of bearer tokens.
    #[arg(long, env = "ENTITYD_JWT_AUDIENCE")]
    jwt_audience: Option<String>,
    /// JWKS file with the RS256 / ES256 / EdDSA verification keys.
    #[arg(long, env = "ENTITYD_JWKS_FILE", conflicts_with = "jwks_url")]
    jwks_file: Option<PathBuf>,
    /// JWKS URL (cached, refreshed every 5 min and when a token names an unknown kid).
    #[arg(long, env = "ENTITYD_JWKS_URL")]
    jwks_url: Option<String>,
    /// File holding an HS256 shared secret. DEVELOPMENT AND TESTING ONLY.
    #[arg(long, env = "ENTITYD_JWT_HS256_SECRET_FILE")]
    jwt_hs256_secret_file: Option<PathBuf>,
    /// Name of the boolean platform-admin claim [default: platform_admin].
    #[arg(long, env = "ENTITYD_PLATFORM_ADMIN_CLAIM")]
    platform_admin_claim: Option<String>,
    /// Join the cluster of this database as this node (stable id, e.g. the host name).
    #[arg(long, env = "ENTITYD_NODE_ID")]
    node_id: Option<String>,
    /// host:port where the other nodes reach this node [default: the bound listen address].
    #[arg(long, env = "ENTITYD_ADVERTISE_ADDRESS")]
    advertise_address: Option<String>,
    /// Cluster mode: a file holding the cluster's shared secret, which authenticates the node
    /// mesh (at least 16 characters, the same on every node). Or set ENTITYD_CLUSTER_COOKIE to
    /// the secret itself. Required with --node-id; there is no default.
    #[arg(long, env = "ENTITYD_CLUSTER_COOKIE_FILE")]
    cluster_cookie_file: Option<PathBuf>,
    /// Cluster mode: ip:port where the node mesh accepts peers [default: the listen IP, a
    /// port the system picks; peers learn it from the database].
    #[arg(long, env = "ENTITYD_MESH_LISTEN")]
    mesh_listen: Option<String>,
    /// Cluster mode: host:port where peers reach the node mesh [default: the advertised host
    /// and the bound mesh port].
    #[arg(long, env = "ENTITYD_MESH_ADVERTISE_ADDRESS")]
    mesh_advertise_address: Option<String>,
    /// Publish every event to Kafka at these bootstrap servers (off without).
    #[arg(long, env = "ENTITYD_KAFKA_BROKERS")]
    kafka_brokers: Option<String>,
    /// Kafka topic [default: entity-events].
    #[arg(long, env = "ENTITYD_KAFKA_TOPIC")]
    kafka_topic: Option<String>,
    /// Kafka message values as `json` (the journal's payload) or `protobuf`
    /// (proto/entity/v1/events.proto) [default: json].
    #[arg(long, env = "ENTITYD_KAFKA_FORMAT")]
    kafka_format: Option<String>,
    /// Serve gRPC over TLS with this PEM certificate chain (with --tls-key-file).
    #[arg(long, env = "ENTITYD_TLS_CERT_FILE")]
    tls_cert_file: Option<PathBuf>,
    /// PEM private key of --tls-cert-file.
    #[arg(long, env = "ENTITYD_TLS_KEY_FILE")]
    tls_key_file: Option<PathBuf>,
    /// PEM CA that signed the other nodes' certificates (cluster nodes with TLS).
    #[arg(long, env = "ENTITYD_TLS_CA_FILE")]
    tls_ca_file: Option<PathBuf>,
    /// HTTP/2 streams (calls) one client connection may have open at once; more wait in the
    /// client [default: 100].
    #[arg(long, env = "ENTITYD_MAX_CONCURRENT_STREAMS")]
    max_concurrent_streams: Option<u32>,
    /// Calls the node runs at once; more are refused with RESOURCE_EXHAUSTED (OVERLOADED).
    /// A call counts once its request has arrived whole [default: 2048].
    #[arg(long, env = "ENTITYD_MAX_IN_FLIGHT")]
    max_in_flight: Option<u32>,
    /// Calls one tenant (or all platform callers together) may run at once on this node;
    /// more are refused with RESOURCE_EXHAUSTED (TENANT_CONCURRENCY)
    /// [default: max-in-flight / 8].
    #[arg(long, env = "ENTITYD_MAX_IN_FLIGHT_PER_TENANT")]
    max_in_flight_per_tenant: Option<u32>,
    /// MiB of request bodies the node holds (being received or in flight), each call charged
    /// 4 KiB besides its body; more are refused with RESOURCE_EXHAUSTED (OVERLOADED)
    /// [default: 64].
    #[arg(long, env = "ENTITYD_MAX_RECEIVE_BUFFER_MIB")]
    max_receive_buffer_mib: Option<u32>,
    /// MiB of request bodies one tenant's calls hold; at least 2 (one largest request)
    /// [default: max-receive-buffer-mib / 8].
    #[arg(long, env = "ENTITYD_MAX_RECEIVE_BUFFER_MIB_PER_TENANT")]
    max_receive_buffer_mib_per_tenant: Option<u32>,
    /// Seconds a client has to send a whole request; after them the call ends
    /// DEADLINE_EXCEEDED (REQUEST_BODY_TIMEOUT) [default: 10].
    #[arg(long, env = "ENTITYD_REQUEST_BODY_TIMEOUT_SECS")]
    request_body_timeout_secs: Option<u64>,
    /// The longest a call may run, in seconds; a client's grpc-timeout above it is cut to it,
    /// and an expired call ends DEADLINE_EXCEEDED [default: 60].
    #[arg(long, env = "ENTITYD_MAX_CALL_SECS")]
    max_call_secs: Option<u64>,
    /// The master key that encrypts personal data at rest (a file of 64 hex digits, made
    /// with `entityd keys generate --out FILE`). Required. Keep it in a secret store, out of
    /// the database's backups.
    #[arg(long, env = MASTER_KEY_FILE_ENV)]
    master_key_file: Option<PathBuf>,
    /// During a master-key rotation: the previous master key, still accepted for reading
    /// (see `entityd keys rotate-master --help`).
    #[arg(long, env = PREVIOUS_MASTER_KEY_FILE_ENV)]
    previous_master_key_file: Option<PathBuf>,
    /// Refused: the dev identity exists only in embedded mode.
    #[arg(long, hide = true)]
    dev_identity: bool,
}

impl ServeArgs {
    fn settings(&self) -> ServeSettings {
        ServeSettings {
            database_url: self.database_url.clone(),
            listen: self.listen.clone(),
            metrics_listen: self.metrics_listen.clone(),
            max_db_connections: self.max_db_connections,
            shard_count: self.shard_count,
            idle_timeout_secs: self.idle_timeout_secs,
            snapshot_every: self.snapshot_every,
            jwt_issuer: self.jwt_issuer.clone(),
            jwt_audience: self.jwt_audience.clone(),
            jwks_file: self.jwks_file.clone(),
            jwks_url: self.jwks_url.clone(),
            jwt_hs256_secret_file: self.jwt_hs256_secret_file.clone(),
            platform_admin_claim: self.platform_admin_claim.clone(),
            node_id: self.node_id.clone(),
            advertise_address: self.advertise_address.clone(),
            cluster_cookie_file: self.cluster_cookie_file.clone(),
            cluster_cookie: std::env::var(CLUSTER_COOKIE_ENV).ok(),
            mesh_listen: self.mesh_listen.clone(),
            mesh_advertise_address: self.mesh_advertise_address.clone(),
            kafka_brokers: self.kafka_brokers.clone(),
            kafka_topic: self.kafka_topic.clone(),
            kafka_format: self.kafka_format.clone(),
            tls_cert_file: self.tls_cert_file.clone(),
            tls_key_file: self.tls_key_file.clone(),
            tls_ca_file: self.tls_ca_file.clone(),
            max_concurrent_streams: self.max_concurrent_streams,
            max_in_flight: self.max_in_flight,
            max_in_flight_per_tenant: self.max_in_flight_per_tenant,
            max_receive_buffer_mib: self.max_receive_buffer_mib,
            max_receive_buffer_mib_per_tenant: self.max_receive_buffer_mib_per_tenant,
            request_body_timeout_secs: self.request_body_timeout_secs,
            max_call_secs: self.max_call_secs,
            master_key_file: self.master_key_file.clone(),
            previous_master_key_file: self.previous_master_key_file.clone(),
        }
    }
}

/// Entry point of the `entityd` binary.
pub fn main() -> ExitCode {
    crate::install_crypto_provider();
    let cli = Cli::parse();
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
    let outcome = runtime.block_on(async {
        let telemetry = crate::traces::Telemetry::init();
        let outcome = run(cli).await;
        telemetry.shutdown().await;
        outcome
    });
    match outcome {
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
        None => {
            let kafka = cli.kafka_brokers.clone().map(|brokers| KafkaSettings {
                brokers,
                topic: cli.kafka_topic.clone(),
                format: cli.kafka_format.unwrap_or_default(),
            });
            let keys = EmbeddedKeys {
                master_key_file: cli.master_key_file.clone(),
                previous_master_key_file: cli.previous_master_key_file.clone(),
            };
            let metrics = MetricsListen::embedded(&cli.metrics_listen)?;
            let embedded = Embedded {
                listen: &cli.listen,
                dev_identity: cli.dev_identity,
                kafka,
                keys,
                metrics,
            };
            run_embedded(&cli.data_dir, embedded).await
        }
        Some(Command::Serve(args)) => {
            if cli.dev_identity || args.dev_identity {
                return Err(GatewayError::Config(
                    "--dev-identity is accepted only in embedded mode (entityd without a \
                     subcommand); `entityd serve` never runs with the dev identity"
                        .to_owned(),
                ));
            }
            run_serve(*args).await
        }
        Some(Command::DevToken(args)) => {
            let data_dir = args.data_dir.clone().unwrap_or(cli.data_dir);
            dev_token(&data_dir, &args)
        }
        Some(Command::Projections(args)) => projections_admin::run(args, cli.data_dir).await,
        Some(Command::Keys(args)) => keys::run(args, cli.data_dir).await,
    }
}

fn dev_token(data_dir: &Path, args: &DevTokenArgs) -> Result<()> {
    let subject = match (&args.tenant, &args.sub) {
        (Some(tenant), Some(sub)) => DevSubject::Tenant {
            tenant: tenant.trim().parse().map_err(|_| {
                GatewayError::Config(format!(
                    "--tenant must be a tenant id (UUID), got {tenant:?}"
                ))
            })?,
            sub: sub.clone(),
        },
        _ if args.platform_admin => DevSubject::PlatformAdmin,
        _ => {
            return Err(GatewayError::Config(
                "give --platform-admin, or --tenant and --sub".to_owned(),
            ));
        }
    };
    let (key, created) = dev::load_or_create_dev_key(data_dir).map_err(|e| {
        GatewayError::io(
            format!("reading the development key in {}", data_dir.display()),
            e,
        )
    })?;
    if created {
        eprintln!(
            "note: created a new development key {}",
            dev::dev_key_path(data_dir).display()
        );
    }
    let token = dev::mint_dev_token(&key, &subject, args.ttl_secs)
        .map_err(|e| GatewayError::Config(format!("cannot sign the token: {e}")))?;
    println!("{token}");
    Ok(())
}

/// The embedded mode's master-key flags.
struct EmbeddedKeys {
    master_key_file: Option<PathBuf>,
    previous_master_key_file: Option<PathBuf>,
}

/// The embedded mode's settings.
struct Embedded<'a> {
    listen: &'a str,
    dev_identity: bool,
    kafka: Option<KafkaSettings>,
    keys: EmbeddedKeys,
    metrics: MetricsListen,
}

async fn run_embedded(data_dir: &Path, settings: Embedded<'_>) -> Result<()> {
    let Embedded {
        listen,
        dev_identity,
        kafka,
        keys: key_files,
        metrics,
    } = settings;
    let listen = parse_listen(listen).map_err(GatewayError::Config)?;
    std::fs::create_dir_all(data_dir).map_err(|e| {
        GatewayError::io(format!("creating data directory {}", data_dir.display()), e)
    })?;
    let db_path = data_dir.join("journal.db");
    let journal = SqliteJournal::open(&db_path).await?;
    journal.migrate().await?;
    tracing::info!(path = %db_path.display(), "SQLite journal ready");
    let master_keys = keys::embedded_master_keys(
        data_dir,
        key_files.master_key_file.as_deref(),
        key_files.previous_master_key_file.as_deref(),
        &journal,
    )
    .await?;
    keys::check_master_keys(&master_keys, Arc::new(journal.clone())).await?;
    let auth = if dev_identity {
        tracing::warn!("dev identity: every call is accepted as the platform admin \"dev\"");
        AuthMode::DevIdentity
    } else {
        let (key, created) = dev::load_or_create_dev_key(data_dir).map_err(|e| {
            GatewayError::io(
                format!("preparing the development key in {}", data_dir.display()),
                e,
            )
        })?;
        if created {
            tracing::info!(path = %dev::dev_key_path(data_dir).display(), "development signing key created");
        }
        eprintln!(
            "development tokens: entityd dev-token --data-dir {} --platform-admin \
             (or --tenant <id> --sub <user id>); send as `authorization: Bearer <token>`",
            data_dir.display()
        );
        let jwt = JwtAuthenticator::new(dev::dev_jwt_config(key))
            .await
            .map_err(|e| GatewayError::Config(e.to_string()))?;
        AuthMode::Jwt(Arc::new(jwt))
    };
    let mode = format!("embedded, {}", auth.describe());
    let options = Options {
        tuning: EngineTuning::default(),
        metrics,
        master_keys,
        cluster: None,
        kafka,
        tls: None,
        admission: Admission::default(),
    };
    start(Storage::Sqlite(journal), options, listen, auth, &mode).await
}

async fn run_serve(args: ServeArgs) -> Result<()> {
    let file = match &args.config {
        Some(path) => ServeSettings::load(path)?,
        None => ServeSettings::default(),
    };
    let config = args.settings().or(file).validate()?;
    // Read before connecting: a bad key file touches nothing.
    let master_keys = config.master_keys.load()?;
    let journal = PostgresJournal::connect(&config.database_url, config.max_db_connections).await?;
    journal.migrate().await?;
    tracing::info!(
        max_connections = config.max_db_connections,
        "PostgreSQL journal ready"
    );
    // Before the node registers, takes leases or serves: nothing is written under a wrong key.
    keys::check_master_keys(&master_keys, Arc::new(journal.clone())).await?;
    let auth = jwt_auth(&config.auth).await?;
    let mode = format!("serve, {}", auth.describe());
    let options = Options {
        tuning: config.tuning,
        metrics: config
            .metrics_listen
            .map_or(MetricsListen::Off, MetricsListen::Required),
        master_keys,
        cluster: config.cluster,
        kafka: config.kafka,
        tls: config.tls,
        admission: config.admission,
    };
    start(
        Storage::Postgres(journal),
        options,
        config.listen,
        auth,
        &mode,
    )
    .await
}

async fn jwt_auth(settings: &crate::config::AuthSettings) -> Result<AuthMode> {
    let hs256_secret = match &settings.hs256_secret_file {
        None => None,
        Some(path) => {
            let secret = std::fs::read(path).map_err(|e| {
                GatewayError::Config(format!(
                    "cannot read the HS256 secret file {}: {e}",
                    path.display()
                ))
            })?;
            let secret = secret.trim_ascii().to_vec();
            if secret.len() < 32 {
                return Err(GatewayError::Config(format!(
                    "the HS256 secret in {} must be at least 32 bytes",
                    path.display()
                )));
            }
            tracing::warn!(
                "HS256 tokens are accepted (--jwt-hs256-secret-file): a shared secret is for \
                 DEVELOPMENT AND TESTING ONLY; use --jwks-file or --jwks-url in production"
            );
            eprintln!(
                "WARNING: HS256 shared-secret tokens are enabled; this is for development and \
                 testing only"
            );
            Some(secret)
        }
    };
    let config = JwtConfig {
        issuer: settings.issuer.clone(),
        audience: settings.audience.clone(),
        jwks: settings.jwks.clone(),
        hs256_secret,
        platform_admin_claim: settings.platform_admin_claim.clone(),
    };
    let jwt = JwtAuthenticator::new(config)
        .await
        .map_err(|e| GatewayError::Config(e.to_string()))?;
    Ok(AuthMode::Jwt(Arc::new(jwt)))
}

/// What a node runs besides the API.
struct Options {
    tuning: EngineTuning,
    /// Where `/metrics` is served.
    metrics: MetricsListen,
    /// The master keys, checked against the store.
    master_keys: Arc<MasterKeys>,
    /// Cluster membership (`None`: a single node).
    cluster: Option<ClusterSettings>,
    kafka: Option<KafkaSettings>,
    tls: Option<TlsSettings>,
    admission: Admission,
}

/// Default `--metrics-listen` of the embedded mode (the OpenTelemetry Prometheus exporter's
/// port, on loopback).
const DEFAULT_EMBEDDED_METRICS: &str = "127.0.0.1:9464";

/// Where a node serves `/metrics`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MetricsListen {
    Off,
    /// Given by the operator: a node that cannot bind it does not start.
    Required(std::net::SocketAddr),
    /// The embedded default: taken by another process, the node runs without metrics.
    Default(std::net::SocketAddr),
}

impl MetricsListen {
    /// The embedded mode's flag value.
    fn embedded(value: &str) -> Result<Self> {
        if value.eq_ignore_ascii_case("off") || value.is_empty() {
            return Ok(MetricsListen::Off);
        }
        let addr =
            parse_listen(value).map_err(|e| GatewayError::Config(format!("metrics: {e}")))?;
        Ok(if value == DEFAULT_EMBEDDED_METRICS {
            MetricsListen::Default(addr)
        } else {
            MetricsListen::Required(addr)
        })
    }

    async fn start(self, sampler: NodeSampler) -> Result<Option<MetricsEndpoint>> {
        match self {
            MetricsListen::Off => Ok(None),
            MetricsListen::Required(addr) => MetricsEndpoint::start(sampler, addr).await.map(Some),
            MetricsListen::Default(addr) => match MetricsEndpoint::start(sampler, addr).await {
                Ok(endpoint) => Ok(Some(endpoint)),
                Err(error) => {
                    tracing::warn!(%error, "running without /metrics (pass --metrics-listen)");
                    Ok(None)
                }
            },
        }
    }
}

/// Reads a PEM file named by a TLS setting.
fn read_pem(path: &Path, what: &str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| {
        GatewayError::Config(format!("cannot read the {what} {}: {e}", path.display()))
    })
}

async fn start(
    storage: Storage,
    options: Options,
    listen: std::net::SocketAddr,
    auth: AuthMode,
    mode: &str,
) -> Result<()> {
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|e| GatewayError::io(format!("binding {listen}"), e))?;
    let local = listener
        .local_addr()
        .map_err(|e| GatewayError::io("reading the bound address", e))?;
    // Read once: the gRPC endpoint and the node mesh use the same certificate.
    let pems = match &options.tls {
        None => None,
        Some(tls) => Some((
            read_pem(&tls.cert_file, "TLS certificate")?,
            read_pem(&tls.key_file, "TLS key")?,
            tls.ca_file
                .as_deref()
                .map(|f| read_pem(f, "TLS CA"))
                .transpose()?,
        )),
    };
    let server_tls = pems.as_ref().map(|(cert, key, _)| {
        tonic::transport::ServerTlsConfig::new()
            .identity(tonic::transport::Identity::from_pem(cert, key))
    });
    let cluster = match options.cluster {
        None => None,
        Some(settings) => {
            let advertise_address = match settings.advertise {
                Some(address) => address,
                None if local.ip().is_unspecified() => {
                    return Err(GatewayError::Config(format!(
                        "listening on {local}: give --advertise-address (the host:port other \
                         nodes reach this one at)"
                    )));
                }
                None => local.to_string(),
            };
            let advertise_host = cluster::mesh::host_of(&advertise_address).to_owned();
            let mesh_tls = match &pems {
                None => None,
                Some((cert, key, ca)) => {
                    let ca = ca.as_deref().ok_or_else(|| {
                        GatewayError::Config("a cluster node with TLS needs tls-ca-file".into())
                    })?;
                    let tls = cluster::mesh::MeshTls::from_pem(cert, key, ca)
                        .map_err(|e| GatewayError::Config(e.to_string()))?;
                    Some(tls)
                }
            };
            let mesh = cluster::mesh::MeshConfig {
                node_id: settings.node_id.clone(),
                listen: settings
                    .mesh_listen
                    .unwrap_or_else(|| std::net::SocketAddr::new(local.ip(), 0)),
                advertise_host,
                advertise: settings.mesh_advertise,
                cookie: settings.cookie.load()?,
                tls: mesh_tls,
                max_frame: cluster::mesh::MAX_FRAME,
            };
            Some(ClusterOptions {
                node_id: settings.node_id,
                advertise_address,
                mesh,
            })
        }
    };
    let kafka = match &options.kafka {
        None => None,
        Some(settings) => Some(Arc::new(
            KafkaPublisher::new(&settings.publisher_config())
                .map_err(|e| GatewayError::Config(e.to_string()))?,
        )),
    };
    let mut mode = mode.to_owned();
    if let Some(cluster) = &cluster {
        mode.push_str(&format!(
            ", cluster node {} at {}",
            cluster.node_id, cluster.advertise_address
        ));
    }
    if let Some(settings) = &options.kafka {
        mode.push_str(&format!(
            ", publishing to Kafka {} ({})",
            settings.brokers, settings.format
        ));
    }
    if server_tls.is_some() {
        mode.push_str(", TLS");
    }
    let node_options = NodeOptions {
        engine: options.tuning.engine_config(options.master_keys.clone()),
        cluster,
        kafka,
        ..NodeOptions::default()
    };
    let node = Node::start(&storage, node_options).await?;
    if let Some(mesh) = node.mesh() {
        mode.push_str(&format!(", mesh at {} ({})", mesh.bound(), mesh.address()));
    }
    let metrics = options.metrics.start(NodeSampler::new(&node)).await?;
    if let Some(endpoint) = &metrics {
        mode.push_str(&format!(", metrics at {}", endpoint.url()));
    }
    println!("entityd listening on {local} ({mode})");
    server::serve_with(
        node,
        auth,
        listener,
        shutdown_signal(),
        server_tls,
        options.admission,
    )
    .await?;
    drop(metrics);
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

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn no_arguments_is_the_embedded_mode_with_the_readme_defaults() {
        let cli = Cli::try_parse_from(["entityd"]).unwrap();
        assert!(cli.command.is_none(), "embedded mode: no subcommand");
        assert!(
            !cli.dev_identity,
            "the dev identity needs its explicit flag"
        );
        // The README's defaults, as declared (independent of the environment) ...
        let command = Cli::command();
        let default = |id: &str| -> Vec<String> {
            let arg = command.get_arguments().find(|a| a.get_id() == id).unwrap();
            arg.get_default_values()
                .iter()
                .map(|v| v.to_string_lossy().into_owned())
                .collect()
        };
        assert_eq!(default("data_dir"), ["./entityd-data"]);
        assert_eq!(default("listen"), ["127.0.0.1:50051"]);
        assert!(
            default("kafka_brokers").is_empty(),
            "Kafka is off by default"
        );
        // ... and as parsed when the environment does not override them.
        if std::env::var_os("ENTITYD_DATA_DIR").is_none() {
            assert_eq!(cli.data_dir, PathBuf::from("./entityd-data"));
        }
        if std::env::var_os("ENTITYD_LISTEN").is_none() {
            assert_eq!(
                parse_listen(&cli.listen).unwrap(),
                "127.0.0.1:50051".parse().unwrap()
            );
        }
        if std::env::var_os("ENTITYD_KAFKA_BROKERS").is_none() {
            assert!(cli.kafka_brokers.is_none());
        }
    }

    #[test]
    fn serve_takes_the_admission_bounds() {
        let cli = Cli::try_parse_from([
            "entityd",
            "serve",
            "--max-concurrent-streams",
            "50",
            "--max-in-flight",
            "800",
            "--max-in-flight-per-tenant",
            "64",
            "--max-receive-buffer-mib",
            "128",
            "--max-receive-buffer-mib-per-tenant",
            "16",
            "--request-body-timeout-secs",
            "5",
            "--max-call-secs",
            "30",
        ])
        .unwrap();
        let Some(Command::Serve(args)) = cli.command else {
            panic!("serve")
        };
        let settings = args.settings();
        assert_eq!(settings.max_concurrent_streams, Some(50));
        assert_eq!(settings.max_in_flight, Some(800));
        assert_eq!(settings.max_in_flight_per_tenant, Some(64));
        assert_eq!(settings.max_receive_buffer_mib, Some(128));
        assert_eq!(settings.max_receive_buffer_mib_per_tenant, Some(16));
        assert_eq!(settings.request_body_timeout_secs, Some(5));
        assert_eq!(settings.max_call_secs, Some(30));
        let help = Cli::command()
            .find_subcommand_mut("serve")
            .unwrap()
            .render_long_help()
            .to_string();
        for flag in [
            "--max-concurrent-streams",
            "--max-in-flight-per-tenant",
            "--max-receive-buffer-mib-per-tenant",
            "--request-body-timeout-secs",
            "--max-call-secs",
        ] {
            assert!(help.contains(flag), "{flag} in --help");
        }
    }

    #[test]
    fn the_master_key_flags_and_the_rotation_procedure_are_documented() {
        let mut command = Cli::command();
        let serve = command
            .find_subcommand_mut("serve")
            .unwrap()
            .render_long_help()
            .to_string();
        for needle in [
            "--master-key-file",
            "--previous-master-key-file",
            "ENTITYD_MASTER_KEY_FILE",
            "ENTITYD_PREVIOUS_MASTER_KEY_FILE",
        ] {
            assert!(serve.contains(needle), "{needle} in serve --help");
        }
        let rotate = command
            .find_subcommand_mut("keys")
            .unwrap()
            .find_subcommand_mut("rotate-master")
            .unwrap()
            .render_long_help()
            .to_string();
        for needle in [
            "entityd keys generate --out NEW",
            "--master-key-file NEW --previous-master-key-file OLD",
            "--new-key-file NEW",
            "--master-key-file NEW only, then destroy OLD",
        ] {
            assert!(rotate.contains(needle), "{needle} in rotate-master --help");
        }
        let cli = Cli::try_parse_from([
            "entityd",
            "keys",
            "rotate-master",
            "--database-url",
            "postgres://h/db",
            "--master-key-file",
            "old.key",
            "--new-key-file",
            "new.key",
        ]);
        assert!(matches!(
            cli,
            Ok(Cli {
                command: Some(Command::Keys(_)),
                ..
            })
        ));
    }

    #[tokio::test]
    async fn serve_refuses_to_start_without_a_master_key() {
        let cli = Cli::try_parse_from([
            "entityd",
            "serve",
            "--database-url",
            "postgres://127.0.0.1:1/never-reached",
            "--jwt-issuer",
            "i",
            "--jwt-audience",
            "a",
            "--jwks-file",
            "/jwks.json",
        ])
        .unwrap();
        let Some(Command::Serve(args)) = &cli.command else {
            panic!("serve")
        };
        if args.master_key_file.is_some() {
            return; // ENTITYD_MASTER_KEY_FILE is set in this environment
        }
        let err = run(cli).await.unwrap_err();
        let GatewayError::Config(msg) = err else {
            panic!("{err}")
        };
        assert!(
            msg.contains("--master-key-file") && msg.contains("entityd keys generate --out"),
            "{msg}"
        );
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
