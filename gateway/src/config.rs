//! Configuration of `entityd serve`: an optional TOML file, overridden by environment
//! variables and flags, validated once at start with messages that say what to fix.
//!
//! File keys are the flag names (`database-url = "postgres://…"`, `listen`,
//! `max-db-connections`, `shard-count`, `idle-timeout-secs`, `snapshot-every`, `jwt-issuer`,
//! `jwt-audience`, `jwks-file`, `jwks-url`, `jwt-hs256-secret-file`, `platform-admin-claim`,
//! `node-id`, `advertise-address`, `kafka-brokers`, `kafka-topic`, `kafka-format`,
//! `tls-cert-file`, `tls-key-file`, `tls-ca-file`, and the admission bounds
//! `max-concurrent-streams`, `max-in-flight`, `max-in-flight-per-tenant`, `max-receive-buffer-mib`,
//! `max-receive-buffer-mib-per-tenant`, `request-body-timeout-secs`, `max-call-secs`, and
//! the master keys `master-key-file`, `previous-master-key-file`); the snake_case spelling is
//! accepted too.
//!
//! The master key (which wraps every person's data key, SPEC §6) is required: a node without
//! one would write personal data it can never read back. [`MasterKeySettings::load`] reads the
//! files; `entityd` then checks the key against the store before anything is written.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use engine::{
    personal::{MasterKey, MasterKeys},
    runtime::EngineConfig,
};
use projections::kafka::KafkaFormat;
use serde::Deserialize;

use crate::{
    auth::jwt::{DEFAULT_PLATFORM_ADMIN_CLAIM, JwksSource},
    error::{GatewayError, Result},
    server::{
        Admission,
        limits::{DEFAULT_TENANT_SHARE, MAX_REQUEST_BODY_BYTES, RECEIVE_OVERHEAD_BYTES},
    },
};

/// Default listen address of `entityd serve`.
pub const DEFAULT_SERVE_LISTEN: &str = "0.0.0.0:50051";
/// Default size of the PostgreSQL connection pool.
pub const DEFAULT_MAX_DB_CONNECTIONS: u32 = 16;

/// Engine settings a node operator may tune.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineTuning {
    /// Number of shards (fixed for the life of a cluster).
    pub shard_count: u32,
    /// Idle entity actors are passivated after this long.
    pub idle_timeout: Duration,
    /// A snapshot is taken every this many events.
    pub snapshot_every: u32,
}

impl Default for EngineTuning {
    fn default() -> Self {
        let defaults = EngineConfig::default();
        Self {
            shard_count: defaults.shard_count,
            idle_timeout: defaults.idle_timeout,
            snapshot_every: defaults.snapshot_every,
        }
    }
}

impl EngineTuning {
    /// The engine configuration with these settings and the node's master keys (the rest at
    /// their defaults).
    pub fn engine_config(&self, master_keys: Arc<MasterKeys>) -> EngineConfig {
        EngineConfig {
            shard_count: self.shard_count,
            idle_timeout: self.idle_timeout,
            snapshot_every: self.snapshot_every,
            master_keys,
            ..EngineConfig::default()
        }
    }
}

/// The environment variable of `--master-key-file`.
pub const MASTER_KEY_FILE_ENV: &str = "ENTITYD_MASTER_KEY_FILE";
/// The environment variable of `--previous-master-key-file`.
pub const PREVIOUS_MASTER_KEY_FILE_ENV: &str = "ENTITYD_PREVIOUS_MASTER_KEY_FILE";
/// Environment variable holding the cluster's shared secret itself.
pub const CLUSTER_COOKIE_ENV: &str = "ENTITYD_CLUSTER_COOKIE";

/// Where a node's master keys are: the current one (wraps new data keys) and, during a
/// rotation, the previous one (still accepted for unwrapping).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MasterKeySettings {
    /// The current master key's file.
    pub file: PathBuf,
    /// The previous master key's file (during a rotation).
    pub previous_file: Option<PathBuf>,
}

impl MasterKeySettings {
    /// Reads the key files.
    ///
    /// # Errors
    /// A file that cannot be read or does not hold a key (configuration error, exit code 2).
    pub fn load(&self) -> Result<Arc<MasterKeys>> {
        let current = load_master_key(&self.file)?;
        let mut keys = MasterKeys::new(current);
        if let Some(previous) = &self.previous_file {
            keys = keys.with_previous(load_master_key(previous)?);
        }
        Ok(Arc::new(keys))
    }
}

/// Reads one master key file; its problems are configuration errors.
///
/// # Errors
/// The file cannot be read or does not hold 64 hex digits.
pub fn load_master_key(path: &Path) -> Result<MasterKey> {
    MasterKey::load(path).map_err(|e| GatewayError::Config(e.to_string()))
}

/// What `entityd serve` says when it has no master key.
pub fn missing_master_key_message() -> String {
    format!(
        "--master-key-file (or {MASTER_KEY_FILE_ENV}, or master-key-file in the config file) is \
         required: the master key encrypts personal data (emails, names) at rest; make one with \
         `entityd keys generate --out FILE` and keep it in a secret store, out of the database's \
         backups"
    )
}

/// The validated settings of `entityd serve`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeConfig {
    /// PostgreSQL connection URL.
    pub database_url: String,
    /// gRPC listen address.
    pub listen: SocketAddr,
    /// Where `/metrics` is served (Prometheus text format); `None`: not served.
    pub metrics_listen: Option<SocketAddr>,
    /// Size of the connection pool.
    pub max_db_connections: u32,
    /// Engine tuning.
    pub tuning: EngineTuning,
    /// Token verification settings.
    pub auth: AuthSettings,
    /// Cluster membership; `None` for a single node.
    pub cluster: Option<ClusterSettings>,
    /// The Kafka publisher, when brokers are configured.
    pub kafka: Option<KafkaSettings>,
    /// TLS of the gRPC endpoint (and of the calls between cluster nodes).
    pub tls: Option<TlsSettings>,
    /// How much of the node one client may hold.
    pub admission: Admission,
    /// The master key files.
    pub master_keys: MasterKeySettings,
}

/// What makes `entityd serve` a cluster node.
#[derive(Clone, PartialEq, Eq)]
pub struct ClusterSettings {
    /// This node's id.
    pub node_id: String,
    /// Where peers reach this node's gRPC API (`None`: the bound listen address).
    pub advertise: Option<String>,
    /// Where the node mesh accepts peers (`None`: the gRPC listen host, a port the system
    /// picks).
    pub mesh_listen: Option<SocketAddr>,
    /// Where peers reach the mesh (`None`: the advertised host and the bound mesh port).
    pub mesh_advertise: Option<String>,
    /// The cluster's shared secret (the mesh's cookie): from `ENTITYD_CLUSTER_COOKIE` or
    /// read from `cluster-cookie-file`.
    pub cookie: ClusterCookie,
}

impl std::fmt::Debug for ClusterSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterSettings")
            .field("node_id", &self.node_id)
            .field("advertise", &self.advertise)
            .field("mesh_listen", &self.mesh_listen)
            .field("mesh_advertise", &self.mesh_advertise)
            .finish_non_exhaustive()
    }
}

/// Where the cluster cookie comes from (never printed).
#[derive(Clone, PartialEq, Eq)]
pub enum ClusterCookie {
    /// The value of `ENTITYD_CLUSTER_COOKIE`.
    Value(String),
    /// A file holding it (surrounding whitespace ignored).
    File(PathBuf),
}

/// Shortest cluster cookie accepted (characters).
pub const MIN_COOKIE_LEN: usize = 16;

impl ClusterCookie {
    /// The cookie.
    ///
    /// # Errors
    /// [`GatewayError::Config`] when the file cannot be read or the cookie is shorter than
    /// [`MIN_COOKIE_LEN`].
    pub fn load(&self) -> Result<String> {
        let cookie = match self {
            ClusterCookie::Value(value) => value.trim().to_owned(),
            ClusterCookie::File(path) => std::fs::read_to_string(path)
                .map_err(|e| {
                    GatewayError::Config(format!(
                        "cannot read the cluster cookie file {}: {e}",
                        path.display()
                    ))
                })?
                .trim()
                .to_owned(),
        };
        if cookie.chars().count() < MIN_COOKIE_LEN {
            return Err(GatewayError::Config(format!(
                "the cluster cookie must be at least {MIN_COOKIE_LEN} characters (e.g. `openssl \
                 rand -hex 32`), the same on every node"
            )));
        }
        Ok(cookie)
    }
}

/// TLS of a node: its certificate and key, and the CA its peers' certificates are signed by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsSettings {
    /// PEM certificate chain of this node.
    pub cert_file: PathBuf,
    /// PEM private key of this node.
    pub key_file: PathBuf,
    /// PEM CA that signed the peers' certificates (required on a cluster node).
    pub ca_file: Option<PathBuf>,
}

/// Where domain events are published.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KafkaSettings {
    /// Bootstrap servers, `host:port[,host:port…]`.
    pub brokers: String,
    /// Topic (default `entity-events`).
    pub topic: Option<String>,
    /// Value format (default JSON).
    pub format: KafkaFormat,
}

impl KafkaSettings {
    /// The publisher configuration.
    pub fn publisher_config(&self) -> projections::KafkaConfig {
        let mut config = projections::KafkaConfig::new(self.brokers.clone());
        if let Some(topic) = &self.topic {
            config.topic = topic.clone();
        }
        config.format = self.format;
        config
    }
}

/// The validated authentication settings of `entityd serve`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthSettings {
    /// Required `iss` of tokens.
    pub issuer: String,
    /// Required `aud` of tokens.
    pub audience: String,
    /// Asymmetric verification keys.
    pub jwks: Option<JwksSource>,
    /// File holding an HS256 shared secret (development and testing only).
    pub hs256_secret_file: Option<PathBuf>,
    /// Name of the boolean platform-admin claim.
    pub platform_admin_claim: String,
}

/// Settings given on the command line or in the environment; `None` = not given.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ServeSettings {
    /// PostgreSQL connection URL.
    #[serde(alias = "database_url")]
    pub database_url: Option<String>,
    /// gRPC listen address.
    pub listen: Option<String>,
    /// Where `/metrics` is served (off when not given).
    #[serde(alias = "metrics_listen")]
    pub metrics_listen: Option<String>,
    /// Size of the connection pool.
    #[serde(alias = "max_db_connections")]
    pub max_db_connections: Option<u32>,
    /// Number of shards.
    #[serde(alias = "shard_count")]
    pub shard_count: Option<u32>,
    /// Idle timeout of entity actors, in seconds.
    #[serde(alias = "idle_timeout_secs")]
    pub idle_timeout_secs: Option<u64>,
    /// Events between snapshots.
    #[serde(alias = "snapshot_every")]
    pub snapshot_every: Option<u32>,
    /// Required token issuer.
    #[serde(alias = "jwt_issuer")]
    pub jwt_issuer: Option<String>,
    /// Required token audience.
    #[serde(alias = "jwt_audience")]
    pub jwt_audience: Option<String>,
    /// JWKS file.
    #[serde(alias = "jwks_file")]
    pub jwks_file: Option<PathBuf>,
    /// JWKS URL.
    #[serde(alias = "jwks_url")]
    pub jwks_url: Option<String>,
    /// HS256 secret file (development and testing only).
    #[serde(alias = "jwt_hs256_secret_file")]
    pub jwt_hs256_secret_file: Option<PathBuf>,
    /// Name of the platform-admin claim.
    #[serde(alias = "platform_admin_claim")]
    pub platform_admin_claim: Option<String>,
    /// Cluster node id (joins the cluster of the database).
    #[serde(alias = "node_id")]
    pub node_id: Option<String>,
    /// Address peers reach this node at.
    #[serde(alias = "advertise_address")]
    pub advertise_address: Option<String>,
    /// File of the cluster's shared secret.
    #[serde(alias = "cluster_cookie_file")]
    pub cluster_cookie_file: Option<PathBuf>,
    /// The cluster's shared secret itself (from the environment only; never in a file).
    #[serde(skip)]
    pub cluster_cookie: Option<String>,
    /// Where the node mesh accepts peers.
    #[serde(alias = "mesh_listen")]
    pub mesh_listen: Option<String>,
    /// Where peers reach the node mesh.
    #[serde(alias = "mesh_advertise_address")]
    pub mesh_advertise_address: Option<String>,
    /// Kafka bootstrap servers (enables the publisher).
    #[serde(alias = "kafka_brokers")]
    pub kafka_brokers: Option<String>,
    /// Kafka topic.
    #[serde(alias = "kafka_topic")]
    pub kafka_topic: Option<String>,
    /// Kafka value format: `json` or `protobuf`.
    #[serde(alias = "kafka_format")]
    pub kafka_format: Option<String>,
    /// TLS certificate chain (PEM).
    #[serde(alias = "tls_cert_file")]
    pub tls_cert_file: Option<PathBuf>,
    /// TLS private key (PEM).
    #[serde(alias = "tls_key_file")]
    pub tls_key_file: Option<PathBuf>,
    /// CA of the peers' certificates (PEM).
    #[serde(alias = "tls_ca_file")]
    pub tls_ca_file: Option<PathBuf>,
    /// Concurrent HTTP/2 streams of one connection.
    #[serde(alias = "max_concurrent_streams")]
    pub max_concurrent_streams: Option<u32>,
    /// Calls in flight on the node.
    #[serde(alias = "max_in_flight")]
    pub max_in_flight: Option<u32>,
    /// Calls in flight of one tenant.
    #[serde(alias = "max_in_flight_per_tenant")]
    pub max_in_flight_per_tenant: Option<u32>,
    /// MiB of request bodies the node holds.
    #[serde(alias = "max_receive_buffer_mib")]
    pub max_receive_buffer_mib: Option<u32>,
    /// MiB of request bodies one tenant's calls hold.
    #[serde(alias = "max_receive_buffer_mib_per_tenant")]
    pub max_receive_buffer_mib_per_tenant: Option<u32>,
    /// Seconds a client has to send a whole request body.
    #[serde(alias = "request_body_timeout_secs")]
    pub request_body_timeout_secs: Option<u64>,
    /// The longest a call may run, in seconds.
    #[serde(alias = "max_call_secs")]
    pub max_call_secs: Option<u64>,
    /// File of the master key (64 hex digits).
    #[serde(alias = "master_key_file")]
    pub master_key_file: Option<PathBuf>,
    /// File of the previous master key, accepted for unwrapping during a rotation.
    #[serde(alias = "previous_master_key_file")]
    pub previous_master_key_file: Option<PathBuf>,
}

impl ServeSettings {
    /// Reads a TOML configuration file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            GatewayError::Config(format!("cannot read config file {}: {e}", path.display()))
        })?;
        toml::from_str(&text)
            .map_err(|e| GatewayError::Config(format!("config file {}: {e}", path.display())))
    }

    /// `self` where given, else `file`.
    pub fn or(self, file: ServeSettings) -> Self {
        Self {
            database_url: self.database_url.or(file.database_url),
            listen: self.listen.or(file.listen),
            metrics_listen: self.metrics_listen.or(file.metrics_listen),
            max_db_connections: self.max_db_connections.or(file.max_db_connections),
            shard_count: self.shard_count.or(file.shard_count),
            idle_timeout_secs: self.idle_timeout_secs.or(file.idle_timeout_secs),
            snapshot_every: self.snapshot_every.or(file.snapshot_every),
            jwt_issuer: self.jwt_issuer.or(file.jwt_issuer),
            jwt_audience: self.jwt_audience.or(file.jwt_audience),
            jwks_file: self.jwks_file.or(file.jwks_file),
            jwks_url: self.jwks_url.or(file.jwks_url),
            jwt_hs256_secret_file: self.jwt_hs256_secret_file.or(file.jwt_hs256_secret_file),
            platform_admin_claim: self.platform_admin_claim.or(file.platform_admin_claim),
            node_id: self.node_id.or(file.node_id),
            advertise_address: self.advertise_address.or(file.advertise_address),
            cluster_cookie_file: self.cluster_cookie_file.or(file.cluster_cookie_file),
            cluster_cookie: self.cluster_cookie.or(file.cluster_cookie),
            mesh_listen: self.mesh_listen.or(file.mesh_listen),
            mesh_advertise_address: self.mesh_advertise_address.or(file.mesh_advertise_address),
            kafka_brokers: self.kafka_brokers.or(file.kafka_brokers),
            kafka_topic: self.kafka_topic.or(file.kafka_topic),
            kafka_format: self.kafka_format.or(file.kafka_format),
            tls_cert_file: self.tls_cert_file.or(file.tls_cert_file),
            tls_key_file: self.tls_key_file.or(file.tls_key_file),
            tls_ca_file: self.tls_ca_file.or(file.tls_ca_file),
            max_concurrent_streams: self.max_concurrent_streams.or(file.max_concurrent_streams),
            max_in_flight: self.max_in_flight.or(file.max_in_flight),
            max_in_flight_per_tenant: self
                .max_in_flight_per_tenant
                .or(file.max_in_flight_per_tenant),
            max_receive_buffer_mib: self.max_receive_buffer_mib.or(file.max_receive_buffer_mib),
            max_receive_buffer_mib_per_tenant: self
                .max_receive_buffer_mib_per_tenant
                .or(file.max_receive_buffer_mib_per_tenant),
            request_body_timeout_secs: self
                .request_body_timeout_secs
                .or(file.request_body_timeout_secs),
            max_call_secs: self.max_call_secs.or(file.max_call_secs),
            master_key_file: self.master_key_file.or(file.master_key_file),
            previous_master_key_file: self
                .previous_master_key_file
                .or(file.previous_master_key_file),
        }
    }

    /// Applies defaults and validates; every problem is reported at once.
    pub fn validate(self) -> Result<NodeConfig> {
        let mut problems = Vec::new();
        let database_url = match self.database_url.as_deref().map(str::trim) {
            None | Some("") => {
                problems.push(
                    "--database-url (or ENTITYD_DATABASE_URL, or database-url in the config \
                     file) is required"
                        .to_owned(),
                );
                String::new()
            }
            Some(url) if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) => {
                let scheme = url.split("://").next().filter(|_| url.contains("://"));
                problems.push(format!(
                    "database URL must start with postgres:// or postgresql:// (got {})",
                    scheme.map_or_else(|| "no scheme".to_owned(), |s| format!("{s}://"))
                ));
                String::new()
            }
            Some(url) => url.to_owned(),
        };
        let listen = self.listen.as_deref().unwrap_or(DEFAULT_SERVE_LISTEN);
        let listen = parse_listen(listen).unwrap_or_else(|e| {
            problems.push(e);
            SocketAddr::from(([0, 0, 0, 0], 0))
        });
        // `off` (the embedded mode's word, so one environment serves both modes) or nothing:
        // not served.
        let metrics_listen = self
            .metrics_listen
            .as_deref()
            .filter(|a| !a.trim().is_empty() && !a.trim().eq_ignore_ascii_case("off"))
            .and_then(|address| {
                parse_listen(address)
                    .map_err(|e| problems.push(format!("metrics: {e}")))
                    .ok()
            });
        let defaults = EngineTuning::default();
        let max_db_connections = self
            .max_db_connections
            .unwrap_or(DEFAULT_MAX_DB_CONNECTIONS);
        if max_db_connections == 0 {
            problems.push("max-db-connections must be at least 1".to_owned());
        }
        let shard_count = self.shard_count.unwrap_or(defaults.shard_count);
        if shard_count == 0 {
            problems.push("shard-count must be at least 1".to_owned());
        }
        let idle_timeout = self
            .idle_timeout_secs
            .map_or(defaults.idle_timeout, Duration::from_secs);
        if idle_timeout.is_zero() {
            problems.push("idle-timeout-secs must be at least 1".to_owned());
        }
        let snapshot_every = self.snapshot_every.unwrap_or(defaults.snapshot_every);
        if snapshot_every == 0 {
            problems.push("snapshot-every must be at least 1".to_owned());
        }
        let auth = self.auth_settings(&mut problems);
        let admission = self.admission(&mut problems);
        let trimmed = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let node_id = trimmed(&self.node_id);
        let advertise = trimmed(&self.advertise_address);
        if let Some(address) = &advertise
            && parse_listen(address).is_err()
            && !address.contains(':')
        {
            problems.push(format!(
                "advertise-address must be host:port (got {address:?})"
            ));
        }
        if advertise.is_some() && node_id.is_none() {
            problems.push("advertise-address needs node-id (cluster mode)".to_owned());
        }
        if node_id
            .as_deref()
            .is_some_and(|id| id.len() > 128 || id.chars().any(char::is_whitespace))
        {
            problems.push("node-id must be 1-128 characters without spaces".to_owned());
        }
        let mesh_listen = trimmed(&self.mesh_listen).and_then(|address| {
            parse_listen(&address)
                .map_err(|_| {
                    problems.push(format!("mesh-listen must be ip:port (got {address:?})"))
                })
                .ok()
        });
        let mesh_advertise = trimmed(&self.mesh_advertise_address);
        if mesh_advertise.as_deref().is_some_and(|a| !a.contains(':')) {
            problems.push("mesh-advertise-address must be host:port".to_owned());
        }
        let cookie = match (
            trimmed(&self.cluster_cookie),
            self.cluster_cookie_file.clone(),
        ) {
            (Some(value), None) => Some(ClusterCookie::Value(value)),
            (None, Some(file)) => Some(ClusterCookie::File(file)),
            (Some(_), Some(_)) => {
                problems.push(
                    "give the cluster cookie once: ENTITYD_CLUSTER_COOKIE or cluster-cookie-file"
                        .to_owned(),
                );
                None
            }
            (None, None) => None,
        };
        // A single node ignores a cookie (it may come from a shared environment), but not a
        // mesh address it would never use.
        if node_id.is_none() && (mesh_listen.is_some() || mesh_advertise.is_some()) {
            problems.push(
                "mesh-listen and mesh-advertise-address need node-id (cluster mode)".to_owned(),
            );
        }
        if node_id.is_some() && cookie.is_none() {
            problems.push(
                "a cluster node needs the cluster's shared secret: set ENTITYD_CLUSTER_COOKIE or \
                 cluster-cookie-file (at least 16 characters, the same on every node; e.g. \
                 `openssl rand -hex 32`)"
                    .to_owned(),
            );
        }
        let format = trimmed(&self.kafka_format).map(|f| f.parse::<KafkaFormat>());
        if let Some(Err(e)) = &format {
            problems.push(format!("kafka-format: {e}"));
        }
        let kafka = trimmed(&self.kafka_brokers).map(|brokers| KafkaSettings {
            brokers,
            topic: trimmed(&self.kafka_topic),
            format: format.clone().and_then(Result::ok).unwrap_or_default(),
        });
        if kafka.is_none() && trimmed(&self.kafka_topic).is_some() {
            problems.push("kafka-topic needs kafka-brokers".to_owned());
        }
        if kafka.is_none() && format.is_some() {
            problems.push("kafka-format needs kafka-brokers".to_owned());
        }
        let tls = match (&self.tls_cert_file, &self.tls_key_file) {
            (Some(cert_file), Some(key_file)) => Some(TlsSettings {
                cert_file: cert_file.clone(),
                key_file: key_file.clone(),
                ca_file: self.tls_ca_file.clone(),
            }),
            (None, None) => {
                if self.tls_ca_file.is_some() {
                    problems.push("tls-ca-file needs tls-cert-file and tls-key-file".to_owned());
                }
                None
            }
            _ => {
                problems.push("give both tls-cert-file and tls-key-file".to_owned());
                None
            }
        };
        if tls.as_ref().is_some_and(|t| t.ca_file.is_none()) && node_id.is_some() {
            problems
                .push("a cluster node with TLS needs tls-ca-file (to verify its peers)".to_owned());
        }
        let master_keys = match &self.master_key_file {
            Some(file) if !file.as_os_str().is_empty() => Some(MasterKeySettings {
                file: file.clone(),
                previous_file: self
                    .previous_master_key_file
                    .clone()
                    .filter(|f| !f.as_os_str().is_empty()),
            }),
            _ => {
                problems.push(missing_master_key_message());
                None
            }
        };
        let master_keys = match master_keys {
            Some(keys) if problems.is_empty() => keys,
            _ => return Err(GatewayError::Config(problems.join("; "))),
        };
        Ok(NodeConfig {
            database_url,
            listen,
            metrics_listen,
            max_db_connections,
            tuning: EngineTuning {
                shard_count,
                idle_timeout,
                snapshot_every,
            },
            auth,
            cluster: node_id
                .zip(cookie)
                .map(|(node_id, cookie)| ClusterSettings {
                    node_id,
                    advertise,
                    mesh_listen,
                    mesh_advertise,
                    cookie,
                }),
            kafka,
            tls,
            admission,
            master_keys,
        })
    }

    /// The admission bounds: defaults where not given, per-tenant shares 1/8 of the node's.
    fn admission(&self, problems: &mut Vec<String>) -> Admission {
        const MIB: usize = 1024 * 1024;
        let defaults = Admission::default();
        let max_concurrent_streams = self
            .max_concurrent_streams
            .unwrap_or(defaults.max_concurrent_streams);
        if max_concurrent_streams == 0 {
            problems.push("max-concurrent-streams must be at least 1".to_owned());
        }
        let max_in_flight = self
            .max_in_flight
            .map_or(defaults.max_in_flight, |n| n as usize);
        let max_in_flight_per_tenant = self
            .max_in_flight_per_tenant
            .map_or((max_in_flight / DEFAULT_TENANT_SHARE).max(1), |n| {
                n as usize
            });
        if max_in_flight == 0 || max_in_flight_per_tenant == 0 {
            problems
                .push("max-in-flight and max-in-flight-per-tenant must be at least 1".to_owned());
        }
        if max_in_flight_per_tenant > max_in_flight {
            problems.push(format!(
                "max-in-flight-per-tenant ({max_in_flight_per_tenant}) must not exceed \
                 max-in-flight ({max_in_flight})"
            ));
        }
        let max_receive_bytes = self
            .max_receive_buffer_mib
            .map_or(defaults.max_receive_bytes, |n| {
                (n as usize).saturating_mul(MIB)
            });
        let max_receive_bytes_per_tenant = self
            .max_receive_buffer_mib_per_tenant
            .map_or(max_receive_bytes / DEFAULT_TENANT_SHARE, |n| {
                (n as usize).saturating_mul(MIB)
            });
        // One largest request must fit a tenant's share, or large requests could never pass.
        let smallest = MAX_REQUEST_BODY_BYTES + RECEIVE_OVERHEAD_BYTES;
        if max_receive_bytes_per_tenant < smallest {
            problems.push(format!(
                "max-receive-buffer-mib-per-tenant (default: max-receive-buffer-mib / \
                 {DEFAULT_TENANT_SHARE}) must be at least 2 so that the largest request fits"
            ));
        }
        if max_receive_bytes_per_tenant > max_receive_bytes {
            problems.push(
                "max-receive-buffer-mib-per-tenant must not exceed max-receive-buffer-mib"
                    .to_owned(),
            );
        }
        let request_body_timeout = self
            .request_body_timeout_secs
            .map_or(defaults.request_body_timeout, Duration::from_secs);
        if request_body_timeout.is_zero() {
            problems.push("request-body-timeout-secs must be at least 1".to_owned());
        }
        let max_call_duration = self
            .max_call_secs
            .map_or(defaults.max_call_duration, Duration::from_secs);
        if max_call_duration.is_zero() {
            problems.push("max-call-secs must be at least 1".to_owned());
        }
        Admission {
            max_concurrent_streams,
            max_in_flight,
            max_in_flight_per_tenant,
            max_receive_bytes,
            max_receive_bytes_per_tenant,
            request_body_timeout,
            max_call_duration,
        }
    }

    fn auth_settings(&self, problems: &mut Vec<String>) -> AuthSettings {
        let non_empty = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let issuer = non_empty(&self.jwt_issuer).unwrap_or_else(|| {
            problems.push(
                "--jwt-issuer (or ENTITYD_JWT_ISSUER, or jwt-issuer in the config file) is \
                 required"
                    .to_owned(),
            );
            String::new()
        });
        let audience = non_empty(&self.jwt_audience).unwrap_or_else(|| {
            problems.push(
                "--jwt-audience (or ENTITYD_JWT_AUDIENCE, or jwt-audience in the config file) \
                 is required"
                    .to_owned(),
            );
            String::new()
        });
        let jwks = match (&self.jwks_file, non_empty(&self.jwks_url)) {
            (Some(_), Some(_)) => {
                problems.push("give --jwks-file or --jwks-url, not both".to_owned());
                None
            }
            (Some(file), None) => Some(JwksSource::File(file.clone())),
            (None, Some(url)) => {
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    problems.push(format!("--jwks-url must be an http(s) URL (got {url:?})"));
                }
                Some(JwksSource::Url(url))
            }
            (None, None) => None,
        };
        if jwks.is_none() && self.jwt_hs256_secret_file.is_none() {
            problems.push(
                "no token verification key: give --jwks-file or --jwks-url (or, for testing \
                 only, --jwt-hs256-secret-file)"
                    .to_owned(),
            );
        }
        let platform_admin_claim = non_empty(&self.platform_admin_claim)
            .unwrap_or_else(|| DEFAULT_PLATFORM_ADMIN_CLAIM.to_owned());
        AuthSettings {
            issuer,
            audience,
            jwks,
            hs256_secret_file: self.jwt_hs256_secret_file.clone(),
            platform_admin_claim,
        }
    }
}

/// Parses a listen address such as `127.0.0.1:50051` or `[::]:50051`.
pub fn parse_listen(value: &str) -> Result<SocketAddr, String> {
    value.trim().parse().map_err(|_| {
        format!("listen address {value:?} is not an IP:port address (e.g. 127.0.0.1:50051)")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(url: &str) -> ServeSettings {
        ServeSettings {
            database_url: Some(url.into()),
            jwt_issuer: Some("https://idp.example".into()),
            jwt_audience: Some("entity".into()),
            jwks_url: Some("https://idp.example/jwks.json".into()),
            master_key_file: Some("/secrets/master.key".into()),
            ..Default::default()
        }
    }

    #[test]
    fn key_configuration_is_required() {
        let s = ServeSettings {
            database_url: Some("postgres://u@h/db".into()),
            ..Default::default()
        };
        let GatewayError::Config(msg) = s.validate().unwrap_err() else {
            panic!()
        };
        for needle in [
            "--jwt-issuer",
            "--jwt-audience",
            "--jwks-file",
            "--master-key-file",
            "ENTITYD_MASTER_KEY_FILE",
            "entityd keys generate",
        ] {
            assert!(msg.contains(needle), "{msg}");
        }
        let c = settings("postgres://u@h/db").validate().unwrap();
        assert_eq!(c.auth.platform_admin_claim, "platform_admin");
        assert_eq!(
            c.auth.jwks,
            Some(JwksSource::Url("https://idp.example/jwks.json".into()))
        );
    }

    #[test]
    fn metrics_listen_is_an_address_or_off() {
        let with = |value: Option<&str>| ServeSettings {
            metrics_listen: value.map(str::to_owned),
            ..settings("postgres://u@h/db")
        };
        assert_eq!(with(None).validate().unwrap().metrics_listen, None);
        assert_eq!(with(Some("off")).validate().unwrap().metrics_listen, None);
        assert_eq!(with(Some("OFF")).validate().unwrap().metrics_listen, None);
        assert_eq!(
            with(Some("127.0.0.1:9464"))
                .validate()
                .unwrap()
                .metrics_listen,
            Some("127.0.0.1:9464".parse().unwrap())
        );
        let GatewayError::Config(msg) = with(Some("nine-four-six-four")).validate().unwrap_err()
        else {
            panic!()
        };
        assert!(msg.contains("metrics"), "{msg}");
    }

    #[test]
    fn a_cluster_node_needs_a_cookie_of_sixteen_characters_and_never_prints_it() {
        let node = |cookie: Option<&str>, file: Option<&str>| ServeSettings {
            node_id: Some("node-1".into()),
            cluster_cookie: cookie.map(str::to_owned),
            cluster_cookie_file: file.map(PathBuf::from),
            ..settings("postgres://u@h/db")
        };
        let GatewayError::Config(msg) = node(None, None).validate().unwrap_err() else {
            panic!()
        };
        assert!(msg.contains("ENTITYD_CLUSTER_COOKIE") && msg.contains("cluster-cookie-file"));
        assert!(
            node(Some("a"), Some("/f")).validate().is_err(),
            "only one source"
        );
        let secret = "0123456789abcdef-secret";
        let config = node(Some(secret), None).validate().unwrap();
        let cluster = config.cluster.clone().unwrap();
        assert_eq!(cluster.cookie.load().unwrap(), secret);
        assert!(!format!("{config:?}").contains(secret), "never printed");
        let short = node(Some("short"), None)
            .validate()
            .unwrap()
            .cluster
            .unwrap();
        assert!(short.cookie.load().is_err(), "under 16 characters");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("cookie");
        std::fs::write(&file, format!("{secret}\n")).unwrap();
        let from_file = node(None, file.to_str())
            .validate()
            .unwrap()
            .cluster
            .unwrap();
        assert_eq!(from_file.cookie.load().unwrap(), secret, "trimmed");
        // A single node ignores a cookie from a shared environment, not a mesh address.
        let single = ServeSettings {
            cluster_cookie: Some(secret.into()),
            ..settings("postgres://u@h/db")
        };
        assert!(single.validate().unwrap().cluster.is_none());
        let stray = ServeSettings {
            mesh_listen: Some("127.0.0.1:7000".into()),
            ..settings("postgres://u@h/db")
        };
        assert!(stray.validate().is_err());
    }

    #[test]
    fn defaults_apply() {
        let c = settings("postgres://u@h/db").validate().unwrap();
        assert_eq!(c.listen, "0.0.0.0:50051".parse().unwrap());
        assert_eq!(c.max_db_connections, 16);
        assert_eq!(c.tuning.shard_count, 256);
        assert_eq!(c.admission, Admission::default());
        assert_eq!(c.admission.max_concurrent_streams, 100);
        assert_eq!(c.admission.max_in_flight, 2048);
        assert_eq!(c.admission.max_in_flight_per_tenant, 256);
        assert_eq!(c.admission.max_receive_bytes, 64 * 1024 * 1024);
        assert_eq!(c.admission.max_receive_bytes_per_tenant, 8 * 1024 * 1024);
        assert_eq!(c.admission.request_body_timeout, Duration::from_secs(10));
        assert_eq!(c.admission.max_call_duration, Duration::from_secs(60));
    }

    #[test]
    fn admission_bounds_are_derived_and_validated() {
        let file: ServeSettings = toml::from_str(
            "max-in-flight = 400
max_receive_buffer_mib = 32
",
        )
        .unwrap();
        let flags = ServeSettings {
            max_call_secs: Some(5),
            ..settings("postgres://u@h/db")
        };
        let c = flags.or(file).validate().unwrap();
        assert_eq!(c.admission.max_in_flight, 400);
        assert_eq!(
            c.admission.max_in_flight_per_tenant, 50,
            "1/8 of the node's"
        );
        assert_eq!(c.admission.max_receive_bytes_per_tenant, 4 * 1024 * 1024);
        assert_eq!(c.admission.max_call_duration, Duration::from_secs(5));

        let s = ServeSettings {
            max_concurrent_streams: Some(0),
            max_in_flight: Some(10),
            max_in_flight_per_tenant: Some(20),
            max_receive_buffer_mib: Some(8),
            request_body_timeout_secs: Some(0),
            max_call_secs: Some(0),
            ..settings("postgres://u@h/db")
        };
        let GatewayError::Config(msg) = s.validate().unwrap_err() else {
            panic!()
        };
        for needle in [
            "max-concurrent-streams",
            "max-in-flight-per-tenant (20)",
            "max-receive-buffer-mib-per-tenant",
            "request-body-timeout-secs",
            "max-call-secs",
        ] {
            assert!(msg.contains(needle), "{needle}: {msg}");
        }
    }

    #[test]
    fn every_problem_is_reported() {
        let s = ServeSettings {
            database_url: Some("mysql://x".into()),
            listen: Some("localhost".into()),
            shard_count: Some(0),
            max_db_connections: Some(0),
            ..Default::default()
        };
        let GatewayError::Config(msg) = s.validate().unwrap_err() else {
            panic!()
        };
        for needle in [
            "mysql://",
            "listen address",
            "shard-count",
            "max-db-connections",
        ] {
            assert!(msg.contains(needle), "{msg}");
        }
        let GatewayError::Config(msg) = ServeSettings::default().validate().unwrap_err() else {
            panic!()
        };
        assert!(msg.contains("--database-url"), "{msg}");
    }

    #[test]
    fn flags_override_the_file() {
        let file: ServeSettings = toml::from_str(
            "database-url = \"postgres://file/db\"\nlisten = \"127.0.0.1:1\"\nshard_count = 8\n",
        )
        .unwrap();
        let flags = ServeSettings {
            listen: Some("127.0.0.1:2".into()),
            jwt_issuer: Some("i".into()),
            jwt_audience: Some("a".into()),
            jwks_file: Some("/k.json".into()),
            master_key_file: Some("/flag/master.key".into()),
            ..Default::default()
        };
        let c = flags.or(file).validate().unwrap();
        assert_eq!(c.database_url, "postgres://file/db");
        assert_eq!(c.listen.port(), 2);
        assert_eq!(c.tuning.shard_count, 8);
        assert!(toml::from_str::<ServeSettings>("nonsense = 1").is_err());
    }

    #[test]
    fn master_keys_come_from_flags_or_the_file_and_load_strictly() {
        let file: ServeSettings = toml::from_str(
            "master-key-file = \"/file/master.key\"\nprevious_master_key_file = \"/file/old.key\"\n",
        )
        .unwrap();
        let flags = ServeSettings {
            master_key_file: None,
            ..settings("postgres://u@h/db")
        };
        let c = flags.or(file.clone()).validate().unwrap();
        assert_eq!(
            c.master_keys,
            MasterKeySettings {
                file: "/file/master.key".into(),
                previous_file: Some("/file/old.key".into()),
            }
        );
        let c = settings("postgres://u@h/db").or(file).validate().unwrap();
        assert_eq!(c.master_keys.file, PathBuf::from("/secrets/master.key"));

        let dir = tempfile::tempdir().unwrap();
        let current = dir.path().join("current.key");
        let previous = dir.path().join("previous.key");
        let a = MasterKey::create_file(&current).unwrap();
        let b = MasterKey::create_file(&previous).unwrap();
        let keys = MasterKeySettings {
            file: current.clone(),
            previous_file: Some(previous),
        }
        .load()
        .unwrap();
        assert_eq!(keys.current().id(), a.id());
        assert!(keys.by_id(b.id()).is_some());
        let tuned = EngineTuning::default().engine_config(keys.clone());
        assert!(Arc::ptr_eq(&tuned.master_keys, &keys));

        let bad = dir.path().join("bad.key");
        std::fs::write(&bad, "not a key").unwrap();
        for file in [bad, dir.path().join("absent.key")] {
            let err = MasterKeySettings {
                file: file.clone(),
                previous_file: None,
            }
            .load()
            .unwrap_err();
            let GatewayError::Config(msg) = err else {
                panic!("{err}")
            };
            assert!(msg.contains(&file.display().to_string()), "{msg}");
        }
    }

    #[test]
    fn kafka_format_is_validated() {
        let file: ServeSettings =
            toml::from_str("kafka-brokers = \"k:9092\"\nkafka-format = \"protobuf\"\n").unwrap();
        let c = settings("postgres://u@h/db").or(file).validate().unwrap();
        let kafka = c.kafka.unwrap();
        assert_eq!(kafka.format, KafkaFormat::Protobuf);
        assert_eq!(kafka.publisher_config().format, KafkaFormat::Protobuf);
        let c = ServeSettings {
            kafka_brokers: Some("k:9092".into()),
            ..settings("postgres://u@h/db")
        }
        .validate()
        .unwrap();
        assert_eq!(c.kafka.unwrap().format, KafkaFormat::Json, "the default");
        for (format, brokers, needle) in [
            (
                "avro",
                Some("k:9092"),
                "kafka-format: unknown Kafka format \"avro\" (use json or protobuf)",
            ),
            ("json", None, "kafka-format needs kafka-brokers"),
        ] {
            let s = ServeSettings {
                kafka_brokers: brokers.map(Into::into),
                kafka_format: Some(format.into()),
                ..settings("postgres://u@h/db")
            };
            let GatewayError::Config(msg) = s.validate().unwrap_err() else {
                panic!()
            };
            assert!(msg.contains(needle), "{msg}");
        }
    }
}
