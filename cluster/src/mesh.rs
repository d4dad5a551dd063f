//! The node mesh (issue 19): every node of a cluster runs a `ractor_cluster` node server and
//! keeps one authenticated session with each live peer; the engine's calls for shards another
//! node holds travel over it ([`engine::runtime::ShardPeers`]).
//!
//! ```text
//! node A: Engine::call ─▶ Mesh::call(shard) ─▶ owner of the shard (shard_leases)
//!                          ─▶ that node's peer endpoint (a remotable actor, pg group
//!                             "entity.peer.v1@<node>") ─▶ RPC over the session ─▶ node B:
//!                             Engine::serve_peer ─▶ reply port ─▶ node A
//! ```
//! What ractor_cluster does not do, and how the mesh covers it:
//! - **Discovery and reconnection**: none upstream. Peers come from `cluster_nodes` (their
//!   `mesh_address`, written at start); every [`DIAL_EVERY`] the mesh dials each live peer it
//!   has no session with. Only the node whose id sorts higher dials (ractor keeps the session
//!   its higher-named end opened, so no duplicate is made and dropped).
//! - **Connection and handshake timeouts**: none upstream; ours wrap the TCP connect, the TLS
//!   handshake and the authentication ([`CONNECT_TIMEOUT`]). The mesh runs its own accept loop
//!   (ractor's external-transport API), so one stalled TLS handshake never blocks other
//!   peers' connections, as it would in ractor's built-in listener.
//! - **Authentication**: ractor's cookie challenge (a shared secret that never crosses the
//!   wire); with TLS, mutual: each end presents its node certificate, signed by the cluster's
//!   CA, before the cookie handshake starts.
//! - **Frames**: ractor refuses an inbound frame over [`MeshConfig::max_frame`] before
//!   allocating and closes that session (the node goes on serving); the engine bounds its
//!   requests and replies well below it.
//! - **Lost messages**: a call lost with its session fails at once with `SenderError` (and one
//!   that does not answer in time, with a timeout): the engine answers UNAVAILABLE, and a retry
//!   with the same request id returns the first answer. Safety never depends on the transport:
//!   a node writes only under its shard lease (the journal's fence).
//! - **Advertising**: every remotable actor is advertised to every peer; the mesh has one per
//!   node, and entity, shard and region actors stay local.

use std::{
    collections::{HashMap, HashSet},
    net::SocketAddr,
    sync::{Arc, OnceLock},
    time::Duration,
};

use async_trait::async_trait;
use dashmap::DashMap;
use engine::{
    runtime::{Engine, PeerError, ShardPeers},
    telemetry::{Metrics, PeerLabels},
};
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort, rpc::CallResult};
use ractor_cluster::{
    BoxRead, BoxWrite, ClusterBidiStream, NodeEventSubscription, NodeServer, NodeServerMessage,
    RactorClusterMessage,
    node::{NodeConnectionMode, NodeServerSessionInformation},
};
use sqlx::PgPool;
use tokio::{
    io::{AsyncRead, AsyncWrite},
    net::{TcpListener, TcpStream},
    task::JoinHandle,
};
use tracing::{debug, info, warn};

use crate::{ClusterError, Result};

/// How often missing sessions are dialed.
pub const DIAL_EVERY: Duration = Duration::from_millis(500);

/// How often the owner map is re-read without a notification.
pub const OWNERS_EVERY: Duration = Duration::from_secs(1);

/// Bound on a TCP connect, a TLS handshake.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// A session not authenticated this long after it opened is closed (ractor has no such bound:
/// a connection that never completes the cookie handshake would hold its session forever).
pub const HANDSHAKE_DEADLINE: Duration = Duration::from_secs(5);

/// The default bound on an inbound frame: twice the engine's bound on a request or reply.
pub const MAX_FRAME: u64 = 2 * engine::runtime::peer::MAX_PEER_MESSAGE as u64;

/// The host of a `host:port` address (an IPv6 host keeps its brackets).
pub fn host_of(address: &str) -> &str {
    address.rsplit_once(':').map_or(address, |(host, _)| host)
}

/// The pg group of a node's peer endpoint.
fn group(node: &str) -> String {
    format!("entity.peer.v1@{node}")
}

/// TLS of the mesh: this node's certificate for both ends, the cluster CA for the peers'.
#[derive(Clone)]
pub struct MeshTls {
    /// Accepts peers (requires a client certificate signed by the cluster CA).
    pub acceptor: tokio_rustls::TlsAcceptor,
    /// Dials peers (presents this node's certificate, verifies theirs).
    pub connector: tokio_rustls::TlsConnector,
}

impl MeshTls {
    /// Mutual TLS with this node's PEM certificate chain and key, trusting peers signed by the
    /// PEM `ca`: a peer must present a certificate of the CA, and a dialed peer's must name the
    /// host of its mesh address.
    ///
    /// # Errors
    /// [`ClusterError::Config`] when a PEM does not parse or rustls refuses the configuration.
    pub fn from_pem(cert: &[u8], key: &[u8], ca: &[u8]) -> Result<MeshTls> {
        use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
        let bad = |what: &str, e: &dyn std::fmt::Display| {
            ClusterError::Config(format!("mesh TLS: {what}: {e}"))
        };
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert)
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| bad("certificate", &e))?;
        let key = PrivateKeyDer::from_pem_slice(key).map_err(|e| bad("key", &e))?;
        let mut roots = rustls::RootCertStore::empty();
        for ca in CertificateDer::pem_slice_iter(ca) {
            roots
                .add(ca.map_err(|e| bad("CA", &e))?)
                .map_err(|e| bad("CA", &e))?;
        }
        let roots = Arc::new(roots);
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            roots.clone(),
            provider.clone(),
        )
        .build()
        .map_err(|e| bad("client verifier", &e))?;
        let server = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| bad("server", &e))?
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain.clone(), key.clone_key())
            .map_err(|e| bad("server certificate", &e))?;
        let client = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| bad("client", &e))?
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)
            .map_err(|e| bad("client certificate", &e))?;
        Ok(MeshTls {
            acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(server)),
            connector: tokio_rustls::TlsConnector::from(Arc::new(client)),
        })
    }
}

impl std::fmt::Debug for MeshTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MeshTls")
    }
}

/// Settings of a node's mesh.
#[derive(Clone)]
pub struct MeshConfig {
    /// This node's id (as in `cluster_nodes`).
    pub node_id: String,
    /// Where to accept peers.
    pub listen: SocketAddr,
    /// The host peers dial (the port is the one bound), unless `advertise` is given.
    pub advertise_host: String,
    /// Where peers dial, when not `advertise_host` and the bound port (a proxy, a NAT).
    pub advertise: Option<String>,
    /// The cluster's shared secret (ractor's cookie handshake).
    pub cookie: String,
    /// TLS between nodes, when the node runs with TLS.
    pub tls: Option<MeshTls>,
    /// Largest inbound frame; a larger one closes its session.
    pub max_frame: u64,
}

impl std::fmt::Debug for MeshConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeshConfig")
            .field("node_id", &self.node_id)
            .field("listen", &self.listen)
            .field("advertise_host", &self.advertise_host)
            .field("advertise", &self.advertise)
            .field("tls", &self.tls.is_some())
            .field("max_frame", &self.max_frame)
            .finish_non_exhaustive() // never the cookie
    }
}

/// The one remotable message type: an encoded engine request, answered with its encoded reply.
#[derive(RactorClusterMessage)]
pub enum PeerMsg {
    /// `Engine::serve_peer`.
    #[rpc]
    Call(Vec<u8>, RpcReplyPort<Vec<u8>>),
}

/// The node's peer endpoint.
struct Endpoint {
    engine: Arc<OnceLock<Engine>>,
}

#[ractor::async_trait]
impl Actor for Endpoint {
    type Msg = PeerMsg;
    type State = ();
    type Arguments = String;

    async fn pre_start(
        &self,
        me: ActorRef<Self::Msg>,
        node: String,
    ) -> std::result::Result<(), ActorProcessingErr> {
        ractor::pg::join(group(&node), vec![me.get_cell()]);
        Ok(())
    }

    async fn handle(
        &self,
        _: ActorRef<Self::Msg>,
        message: Self::Msg,
        _: &mut (),
    ) -> std::result::Result<(), ActorProcessingErr> {
        let PeerMsg::Call(request, reply) = message;
        let Some(engine) = self.engine.get().cloned() else {
            return Ok(()); // not serving yet: the caller's call fails, it retries
        };
        // Served off the endpoint's mailbox: one slow tenant never holds up another's call.
        tokio::spawn(async move {
            let answer = engine.serve_peer(&request).await;
            if !reply.is_closed() {
                let _ = reply.send(answer);
            }
        });
        Ok(())
    }
}

/// Counts session events (the callbacks must not block: a counter is all they do).
struct SessionEvents(Arc<Metrics>);

impl SessionEvents {
    fn count(&self, outcome: &'static str) {
        self.0
            .mesh_sessions
            .get_or_create(&PeerLabels { outcome })
            .inc();
    }
}

impl NodeEventSubscription for SessionEvents {
    fn node_session_opened(&self, session: NodeServerSessionInformation) {
        self.count("opened");
        // Callbacks must not block: the deadline runs on its own task.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        runtime.spawn(async move {
            tokio::time::sleep(HANDSHAKE_DEADLINE).await;
            let authenticated = ractor::call_t!(
                session.actor,
                ractor_cluster::NodeSessionMessage::GetAuthenticationState,
                1000
            );
            // A session that is gone answers nothing: nothing to close.
            if let Ok(false) = authenticated {
                warn!(addr = %session.peer_addr, "closed a mesh session that did not authenticate in time");
                session.actor.stop(Some("handshake deadline".into()));
            }
        });
    }

    fn node_session_authenticated(&self, _: NodeServerSessionInformation) {}

    fn node_session_ready(&self, session: NodeServerSessionInformation) {
        self.count("ready");
        info!(peer = ?session.peer_name.map(|p| p.name), "mesh session ready");
    }

    fn node_session_disconnected(&self, session: NodeServerSessionInformation) {
        self.count("closed");
        info!(peer = ?session.peer_name.map(|p| p.name), addr = %session.peer_addr, "mesh session closed");
    }
}

/// A connected stream handed to ractor (TCP, or TLS over TCP).
struct Stream<S>(S, String);

impl<S: AsyncRead + AsyncWrite + Send + Unpin + 'static> ClusterBidiStream for Stream<S> {
    fn split(self: Box<Self>) -> (BoxRead, BoxWrite) {
        let (read, write) = tokio::io::split(self.0);
        (Box::new(read), Box::new(write))
    }

    fn peer_label(&self) -> Option<String> {
        Some(self.1.clone())
    }
}

/// A node's mesh: its node server, peer endpoint, accept loop and dialer.
pub struct Mesh {
    config: MeshConfig,
    metrics: Arc<Metrics>,
    node: ActorRef<NodeServerMessage>,
    engine: Arc<OnceLock<Engine>>,
    /// Who holds each shard. Read by every call for a tenant held elsewhere, written by one
    /// task; a dashmap read locks one of its shards for an instant (no guard is ever held
    /// across an `.await`).
    owners: DashMap<u32, Arc<str>>,
    address: String,
    bound: SocketAddr,
    tasks: std::sync::Mutex<Vec<JoinHandle<()>>>,
}

impl std::fmt::Debug for Mesh {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mesh")
            .field("node_id", &self.config.node_id)
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl Mesh {
    /// Starts the node server and the peer endpoint, binds `config.listen`, records the mesh
    /// address in `cluster_nodes` (the node must have registered: start its keeper first) and
    /// starts accepting and dialing. Calls are served once [`serve`](Self::serve) is given the
    /// engine.
    ///
    /// # Errors
    /// [`ClusterError::Config`] when the address cannot be bound or ractor does not start;
    /// store errors. Calls and session events are counted in `metrics`.
    pub async fn start(
        pool: PgPool,
        config: MeshConfig,
        metrics: Arc<Metrics>,
    ) -> Result<Arc<Mesh>> {
        if config.cookie.len() < 16 {
            return Err(ClusterError::Config(
                "the cluster cookie must be at least 16 characters".into(),
            ));
        }
        let listener = TcpListener::bind(config.listen).await.map_err(|e| {
            ClusterError::Config(format!("cannot bind the mesh to {}: {e}", config.listen))
        })?;
        let bound = listener.local_addr().map_err(|e| {
            ClusterError::Config(format!("cannot read the mesh's bound address: {e}"))
        })?;
        let port = bound.port();
        let address = config
            .advertise
            .clone()
            .unwrap_or_else(|| format!("{}:{port}", config.advertise_host));
        let server = NodeServer::new(
            0,
            config.cookie.clone(),
            config.node_id.clone(),
            config.node_id.clone(),
            None,
            Some(NodeConnectionMode::Isolated),
        )
        .with_listen_addr(std::net::IpAddr::from([127, 0, 0, 1]))
        .with_max_inbound_frame_size(config.max_frame);
        let (node, _) = Actor::spawn(None, server, ())
            .await
            .map_err(|e| ClusterError::Config(format!("cannot start the node server: {e}")))?;
        node.cast(NodeServerMessage::SubscribeToEvents {
            id: "entity-mesh-metrics".into(),
            subscription: Box::new(SessionEvents(metrics.clone())),
        })
        .map_err(|e| ClusterError::Config(format!("cannot watch the mesh sessions: {e}")))?;
        let engine = Arc::new(OnceLock::new());
        Actor::spawn(
            None,
            Endpoint {
                engine: engine.clone(),
            },
            config.node_id.clone(),
        )
        .await
        .map_err(|e| ClusterError::Config(format!("cannot start the peer endpoint: {e}")))?;
        sqlx::query("UPDATE cluster_nodes SET mesh_address = $2 WHERE node_id = $1")
            .bind(&config.node_id)
            .bind(&address)
            .execute(&pool)
            .await?;
        info!(node = %config.node_id, %address, tls = config.tls.is_some(), "mesh listening");
        let mesh = Arc::new(Mesh {
            config,
            metrics,
            node,
            engine,
            owners: DashMap::new(),
            address,
            bound,
            tasks: std::sync::Mutex::new(Vec::new()),
        });
        mesh.refresh(&pool).await;
        let accept = tokio::spawn(accept_loop(Arc::downgrade(&mesh), listener));
        let owners = tokio::spawn(owners_loop(Arc::downgrade(&mesh), pool.clone()));
        let dial = tokio::spawn(dial_loop(Arc::downgrade(&mesh), pool));
        if let Ok(mut tasks) = mesh.tasks.lock() {
            tasks.extend([accept, owners, dial]);
        }
        Ok(mesh)
    }

    /// Serves peers' calls with `engine`.
    pub fn serve(&self, engine: Engine) {
        let _ = self.engine.set(engine);
    }

    /// The address peers dial.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The address the mesh listens on.
    pub fn bound(&self) -> SocketAddr {
        self.bound
    }

    /// Stops accepting and dialing and closes the sessions.
    pub fn stop(&self) {
        if let Ok(mut tasks) = self.tasks.lock() {
            for task in tasks.drain(..) {
                task.abort();
            }
        }
        self.node.stop(Some("mesh stopped".into()));
    }

    /// Re-reads who holds each shard.
    async fn refresh(&self, pool: &PgPool) {
        let rows: std::result::Result<Vec<(i32, String)>, sqlx::Error> = sqlx::query_as(
            "SELECT shard, owner FROM shard_leases WHERE expires_at > clock_timestamp()",
        )
        .fetch_all(pool)
        .await;
        match rows {
            Ok(rows) => {
                // Entry by entry, so that a shard whose owner did not change is never missing
                // from the map while it is updated.
                let fresh: HashMap<u32, String> = rows
                    .into_iter()
                    .filter_map(|(shard, owner)| Some((u32::try_from(shard).ok()?, owner)))
                    .collect();
                self.owners.retain(|shard, _| fresh.contains_key(shard));
                for (shard, owner) in fresh {
                    let changed = self.owners.get(&shard).is_none_or(|o| **o != *owner);
                    if changed {
                        self.owners.insert(shard, Arc::from(owner));
                    }
                }
            }
            Err(error) => warn!(%error, "cannot read shard owners"),
        }
    }

    async fn dial_missing(&self, pool: &PgPool) {
        let peers: std::result::Result<Vec<(String, String)>, sqlx::Error> = sqlx::query_as(
            "SELECT node_id, mesh_address FROM cluster_nodes \
             WHERE node_id < $1 AND mesh_address IS NOT NULL \
               AND heartbeat_at > clock_timestamp() - interval '10 seconds'",
        )
        .bind(&self.config.node_id)
        .fetch_all(pool)
        .await;
        let peers = match peers {
            Ok(peers) => peers,
            Err(error) => {
                warn!(%error, "cannot read the cluster's peers");
                return;
            }
        };
        if peers.is_empty() {
            return;
        }
        let connected = self.connected().await;
        for (peer, address) in peers {
            if connected.contains(&peer) {
                continue;
            }
            if let Err(error) = self.dial(&peer, &address).await {
                debug!(%peer, %address, %error, "cannot reach a peer; retrying");
            }
        }
    }

    /// Peers with an authenticated session.
    async fn connected(&self) -> HashSet<String> {
        let sessions = ractor::call_t!(self.node, NodeServerMessage::GetSessions, 1000);
        sessions
            .map(|sessions| {
                sessions
                    .values()
                    .filter_map(|s| s.peer_name.as_ref())
                    .filter_map(|n| n.name.split_once('@').map(|(node, _)| node.to_owned()))
                    .collect()
            })
            .unwrap_or_default()
    }

    async fn dial(&self, peer: &str, address: &str) -> std::result::Result<(), String> {
        let tcp = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(address))
            .await
            .map_err(|_| "connect timed out".to_owned())?
            .map_err(|e| e.to_string())?;
        let _ = tcp.set_nodelay(true);
        let label = address.to_owned();
        let stream: Box<dyn ClusterBidiStream> = match &self.config.tls {
            None => Box::new(Stream(tcp, label)),
            Some(tls) => {
                let host = host_of(address)
                    .trim_start_matches('[')
                    .trim_end_matches(']');
                let name = rustls::pki_types::ServerName::try_from(host.to_owned())
                    .map_err(|e| e.to_string())?;
                let tls = tokio::time::timeout(CONNECT_TIMEOUT, tls.connector.connect(name, tcp))
                    .await
                    .map_err(|_| "TLS handshake timed out".to_owned())?
                    .map_err(|e| e.to_string())?;
                Box::new(Stream(tls, label))
            }
        };
        ractor_cluster::client_connect_external(&self.node, stream)
            .await
            .map_err(|e| format!("{e:?}"))?;
        debug!(%peer, %address, "dialed a peer");
        Ok(())
    }
}

async fn accept_loop(mesh: std::sync::Weak<Mesh>, listener: TcpListener) {
    loop {
        let (tcp, from) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                warn!(%error, "mesh accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Some(mesh) = mesh.upgrade() else { return };
        let _ = tcp.set_nodelay(true);
        let tls = mesh.config.tls.clone();
        let node = mesh.node.clone();
        let metrics = mesh.metrics.clone();
        drop(mesh);
        // Each handshake on its own task, bounded: a stalled one holds up nobody.
        tokio::spawn(async move {
            let label = from.to_string();
            let stream: Box<dyn ClusterBidiStream> = match tls {
                None => Box::new(Stream(tcp, label)),
                Some(tls) => {
                    match tokio::time::timeout(CONNECT_TIMEOUT, tls.acceptor.accept(tcp)).await {
                        Ok(Ok(stream)) => Box::new(Stream(stream, label)),
                        Ok(Err(error)) => {
                            warn!(%from, %error, "refused a mesh connection (TLS)");
                            SessionEvents(metrics).count("refused");
                            return;
                        }
                        Err(_) => {
                            warn!(%from, "refused a mesh connection (TLS handshake timed out)");
                            SessionEvents(metrics).count("refused");
                            return;
                        }
                    }
                }
            };
            let _ = node.cast(NodeServerMessage::ConnectionOpenedExternal {
                stream,
                is_server: true,
            });
        });
    }
}

async fn dial_loop(mesh: std::sync::Weak<Mesh>, pool: PgPool) {
    loop {
        tokio::time::sleep(DIAL_EVERY).await;
        let Some(mesh) = mesh.upgrade() else { return };
        mesh.dial_missing(&pool).await;
    }
}

/// Keeps the owner map fresh: re-read when a node notifies a change of owner (LISTEN on
/// [`crate::LEASES_CHANNEL`]), and every [`OWNERS_EVERY`] anyway (an expiry after a crash
/// notifies nobody; a lost listener reconnects).
async fn owners_loop(mesh: std::sync::Weak<Mesh>, pool: PgPool) {
    let mut listener = listen(&pool).await;
    loop {
        let notified = match listener.as_mut() {
            Some(l) => tokio::select! {
                n = l.recv() => match n {
                    Ok(_) => true,
                    Err(error) => {
                        warn!(%error, "lost the shard owner listener; polling until it is back");
                        listener = None;
                        false
                    }
                },
                () = tokio::time::sleep(OWNERS_EVERY) => false,
            },
            None => {
                tokio::time::sleep(OWNERS_EVERY).await;
                listener = listen(&pool).await;
                false
            }
        };
        if notified {
            // A round hands over several shards: let them land in one read.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let Some(mesh) = mesh.upgrade() else { return };
        mesh.refresh(&pool).await;
    }
}

/// A listener on the owner-change channel (`None` when PostgreSQL refuses; polling goes on).
async fn listen(pool: &PgPool) -> Option<sqlx::postgres::PgListener> {
    let mut listener = sqlx::postgres::PgListener::connect_with(pool).await.ok()?;
    match listener.listen(crate::LEASES_CHANNEL).await {
        Ok(()) => Some(listener),
        Err(error) => {
            warn!(%error, "cannot LISTEN for shard owner changes; polling only");
            None
        }
    }
}

#[async_trait]
impl ShardPeers for Mesh {
    async fn call(
        &self,
        shard: u32,
        request: Vec<u8>,
        timeout: Duration,
    ) -> std::result::Result<Vec<u8>, PeerError> {
        let owner: Option<Arc<str>> = self.owners.get(&shard).map(|o| o.value().clone());
        let count = |outcome: &'static str| {
            self.metrics
                .peer_calls
                .get_or_create(&PeerLabels { outcome })
                .inc();
        };
        let Some(owner) = owner.filter(|o| **o != *self.config.node_id.as_str()) else {
            count("no_route");
            return Err(PeerError::NoRoute(shard));
        };
        let endpoint: Option<ActorRef<PeerMsg>> = ractor::pg::get_members(&group(&owner))
            .into_iter()
            .find(|cell| !cell.get_id().is_local())
            .map(ActorRef::from);
        let Some(endpoint) = endpoint else {
            count("no_route");
            return Err(PeerError::NoRoute(shard));
        };
        let lost = |reason: &str| PeerError::Lost {
            node: owner.to_string(),
            reason: reason.to_owned(),
        };
        let started = std::time::Instant::now();
        let answer = match endpoint
            .call(|reply| PeerMsg::Call(request, reply), Some(timeout))
            .await
        {
            Ok(CallResult::Success(reply)) => Ok(reply),
            Ok(CallResult::Timeout) => Err(lost("no answer in time")),
            Ok(CallResult::SenderError) | Err(_) => Err(lost("the session to it dropped")),
        };
        match &answer {
            Ok(_) => {
                self.metrics
                    .peer_call_duration
                    .observe(started.elapsed().as_secs_f64());
                count("ok");
            }
            Err(_) => count("lost"),
        }
        answer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_never_printed_and_bad_certificates_are_configuration_errors() {
        let config = MeshConfig {
            node_id: "node-1".into(),
            listen: "127.0.0.1:0".parse().unwrap(),
            advertise_host: "127.0.0.1".into(),
            advertise: None,
            cookie: "a-very-secret-cluster-cookie".into(),
            tls: None,
            max_frame: MAX_FRAME,
        };
        let printed = format!("{config:?}");
        assert!(
            printed.contains("node-1") && !printed.contains("secret"),
            "{printed}"
        );
        for (cert, key, ca) in [
            (&b"not a pem"[..], &b""[..], &b""[..]),
            (
                &b""[..],
                &b"-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----\n"[..],
                &b""[..],
            ),
        ] {
            let error = MeshTls::from_pem(cert, key, ca).unwrap_err();
            assert!(matches!(error, ClusterError::Config(_)), "{error:?}");
        }
        assert_eq!(group("node-1"), "entity.peer.v1@node-1");
        assert_eq!(host_of("node-1.example:7000"), "node-1.example");
        assert_eq!(host_of("[::1]:7000"), "[::1]");
        assert_eq!(host_of("no-port"), "no-port");
    }
}
