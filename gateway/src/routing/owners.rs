//! Who holds each shard, as the cluster tables say, and one lazy gRPC channel per peer. The map
//! is re-read when a node notifies a change of owner (LISTEN on [`cluster::LEASES_CHANNEL`]),
//! and every second anyway (expiries after a crash notify nobody; a lost listener reconnects).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, RwLock},
    time::Duration,
};

use sqlx::PgPool;
use tokio::task::JoinHandle;
use tonic::transport::Channel;
use tracing::warn;

/// How often the owner map is re-read without a notification.
const REFRESH_EVERY: Duration = Duration::from_secs(1);

/// The holder of a shard: its node id and gRPC address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Owner {
    pub node: String,
    pub address: String,
}

/// The shard → owner map of the cluster and the channels to its nodes.
pub(crate) struct Owners {
    pool: PgPool,
    /// CA of the peers' certificates: TLS to peers when set.
    peer_ca_pem: Option<Vec<u8>>,
    by_shard: RwLock<HashMap<u32, Owner>>,
    channels: Mutex<HashMap<String, Channel>>,
    refresher: Mutex<Option<JoinHandle<()>>>,
}

impl Owners {
    /// Reads the map once, then keeps it fresh in the background.
    pub(crate) async fn start(pool: PgPool, peer_ca_pem: Option<Vec<u8>>) -> Arc<Owners> {
        let owners = Arc::new(Owners {
            pool,
            peer_ca_pem,
            by_shard: RwLock::new(HashMap::new()),
            channels: Mutex::new(HashMap::new()),
            refresher: Mutex::new(None),
        });
        owners.refresh().await;
        let weak = Arc::downgrade(&owners);
        let pool = owners.pool.clone();
        let task = tokio::spawn(async move {
            let mut listener = listen(&pool).await;
            loop {
                let notified = match listener.as_mut() {
                    Some(l) => tokio::select! {
                        n = l.recv() => match n {
                            Ok(_) => true,
                            Err(error) => {
                                warn!(%error, "lost the shard owner listener; polling until it is back");
                                listener = None;
                                tokio::time::sleep(REFRESH_EVERY).await;
                                false
                            }
                        },
                        () = tokio::time::sleep(REFRESH_EVERY) => false,
                    },
                    None => {
                        tokio::time::sleep(REFRESH_EVERY).await;
                        listener = listen(&pool).await;
                        false
                    }
                };
                if notified {
                    // A round hands over several shards: let them land in one read.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                match weak.upgrade() {
                    Some(owners) => owners.refresh().await,
                    None => return,
                }
            }
        });
        if let Ok(mut slot) = owners.refresher.lock() {
            *slot = Some(task);
        }
        owners
    }

    /// The current holder of `shard`, if any lease of it is unexpired.
    pub(crate) fn owner(&self, shard: u32) -> Option<Owner> {
        self.by_shard.read().ok()?.get(&shard).cloned()
    }

    /// A channel to `address` (created on first use, connected lazily).
    pub(crate) fn channel(&self, address: &str) -> Option<Channel> {
        let mut channels = self.channels.lock().ok()?;
        if let Some(channel) = channels.get(address) {
            return Some(channel.clone());
        }
        let scheme = if self.peer_ca_pem.is_some() {
            "https"
        } else {
            "http"
        };
        let mut endpoint = Channel::from_shared(format!("{scheme}://{address}"))
            .ok()?
            .connect_timeout(Duration::from_secs(2))
            .tcp_nodelay(true);
        if let Some(ca) = &self.peer_ca_pem {
            // The certificate must name the host of the advertised address (DNS or IP SAN).
            let host = address
                .rsplit_once(':')
                .map_or(address, |(host, _)| host)
                .trim_start_matches('[')
                .trim_end_matches(']');
            let tls = tonic::transport::ClientTlsConfig::new()
                .ca_certificate(tonic::transport::Certificate::from_pem(ca))
                .domain_name(host);
            endpoint = match endpoint.tls_config(tls) {
                Ok(endpoint) => endpoint,
                Err(error) => {
                    warn!(%error, address, "cannot configure TLS to a peer");
                    return None;
                }
            };
        }
        let channel = endpoint.connect_lazy();
        channels.insert(address.to_owned(), channel.clone());
        Some(channel)
    }

    async fn refresh(&self) {
        let rows: Result<Vec<(i32, String, String)>, sqlx::Error> = sqlx::query_as(
            "SELECT l.shard, l.owner, n.grpc_address FROM shard_leases l \
             JOIN cluster_nodes n ON n.node_id = l.owner \
             WHERE l.expires_at > clock_timestamp()",
        )
        .fetch_all(&self.pool)
        .await;
        match rows {
            Ok(rows) => {
                let map = rows
                    .into_iter()
                    .filter_map(|(shard, node, address)| {
                        Some((u32::try_from(shard).ok()?, Owner { node, address }))
                    })
                    .collect();
                if let Ok(mut slot) = self.by_shard.write() {
                    *slot = map;
                }
            }
            Err(error) => warn!(%error, "cannot read shard owners"),
        }
    }
}

/// A listener on the owner-change channel (`None` when PostgreSQL refuses; polling goes on).
async fn listen(pool: &PgPool) -> Option<sqlx::postgres::PgListener> {
    let mut listener = sqlx::postgres::PgListener::connect_with(pool).await.ok()?;
    match listener.listen(cluster::LEASES_CHANNEL).await {
        Ok(()) => Some(listener),
        Err(error) => {
            warn!(%error, "cannot LISTEN for shard owner changes; polling only");
            None
        }
    }
}

impl Drop for Owners {
    fn drop(&mut self) {
        if let Ok(mut slot) = self.refresher.lock()
            && let Some(task) = slot.take()
        {
            task.abort();
        }
    }
}
