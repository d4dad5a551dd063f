//! [`ShardKeeper`]: one node's membership and shard leases.
//!
//! Every round (default 500 ms) it heartbeats, renews its leases, hands over up to
//! `max_moves_per_round` shards whose rendezvous target is another live node (passivating
//! their entities first, then expiring the lease at once, which waits for appends in flight),
//! and takes the unleased or expired shards whose target it is. A lease is trusted locally only
//! until `lease_ttl - safety_margin` after the renewal was sent, so a node cut off from
//! PostgreSQL stops writing before another node can take its shards.

use std::{
    collections::HashMap,
    fmt,
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex, RwLock},
    time::Duration,
};

use engine::{journal::Fence, runtime::ShardLeases, telemetry::Metrics};
use sqlx::PgPool;
use tokio::{sync::watch, task::JoinHandle, time::Instant};
use tracing::{info, warn};

use crate::{ClusterError, Result, placement::owner_of, store};

/// Tuning of a [`ShardKeeper`].
#[derive(Clone, Debug)]
pub struct KeeperConfig {
    /// This node's id (stable across restarts of the same node).
    pub node_id: String,
    /// Where peers reach this node's gRPC API.
    pub grpc_address: String,
    /// Shards of the cluster (the same on every node).
    pub shard_count: u32,
    /// How long a lease lasts without renewal.
    pub lease_ttl: Duration,
    /// How long before a lease could expire the node stops using it.
    pub safety_margin: Duration,
    /// Time between rounds.
    pub round: Duration,
    /// A node that has not heartbeat for this long is not live.
    pub heartbeat_ttl: Duration,
    /// Shards handed over per round at most (smooth rebalancing).
    pub max_moves_per_round: usize,
    /// Where renewals and hand-overs are counted (the node's registry).
    pub metrics: Arc<Metrics>,
}

impl KeeperConfig {
    /// Defaults for `node_id` at `grpc_address`: 3 s leases trusted for 2 s, rounds every
    /// 500 ms, 2 s heartbeat timeout, 16 moves per round. A dead node's shards are taken when
    /// its leases expire, 2.5–3 s after its last renewal plus at most a round: under 5 s. A
    /// renewal may take up to 1.5 s (three rounds) before the node stops writing; each round
    /// is four statements (heartbeat, renewal, live nodes, leases), eight a second per node.
    pub fn new(
        node_id: impl Into<String>,
        grpc_address: impl Into<String>,
        shard_count: u32,
    ) -> Self {
        Self {
            node_id: node_id.into(),
            grpc_address: grpc_address.into(),
            shard_count,
            lease_ttl: Duration::from_secs(3),
            safety_margin: Duration::from_secs(1),
            round: Duration::from_millis(500),
            heartbeat_ttl: Duration::from_secs(2),
            max_moves_per_round: 16,
            metrics: Metrics::new(),
        }
    }

    fn validate(&self) -> Result<()> {
        let bad = |m: &str| Err(ClusterError::Config(m.to_owned()));
        if self.node_id.trim().is_empty() {
            return bad("node id is empty");
        }
        if self.grpc_address.trim().is_empty() {
            return bad("advertised gRPC address is empty");
        }
        if self.shard_count == 0 || i32::try_from(self.shard_count).is_err() {
            return bad("shard count must be 1..=2^31-1");
        }
        if self.safety_margin + self.round * 2 >= self.lease_ttl {
            return bad("lease_ttl must exceed safety_margin plus two rounds");
        }
        if self.max_moves_per_round == 0 {
            return bad("max_moves_per_round must be at least 1");
        }
        Ok(())
    }
}

/// Called with a shard this node gives up (or lost), before its lease is released, and with a
/// shard it takes, before it serves it: passivates the shard's entities.
pub type ReleaseHook = Arc<dyn Fn(u32) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// A lease as this node holds it.
#[derive(Clone, Copy, Debug)]
struct Held {
    epoch: i64,
    /// Trusted until then.
    valid_until: Instant,
}

struct Inner {
    config: KeeperConfig,
    pool: PgPool,
    held: RwLock<HashMap<u32, Held>>,
    /// The live nodes as of the last successful round, and when that round started.
    live: RwLock<(Vec<String>, Option<Instant>)>,
    on_release: RwLock<Option<ReleaseHook>>,
    leaving: watch::Sender<bool>,
}

/// One node's membership and shard leases; the engine's [`ShardLeases`].
pub struct ShardKeeper {
    inner: Arc<Inner>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl fmt::Debug for ShardKeeper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShardKeeper")
            .field("node_id", &self.inner.config.node_id)
            .field("held", &self.held_shards().len())
            .finish()
    }
}

impl ShardKeeper {
    /// Registers the node and starts its rounds in the background.
    ///
    /// # Errors
    /// [`ClusterError::Config`] (also when the cluster was created with another shard count);
    /// store errors of the first heartbeat.
    pub async fn start(pool: PgPool, config: KeeperConfig) -> Result<Arc<ShardKeeper>> {
        config.validate()?;
        store::settle_shard_count(&pool, config.shard_count).await?;
        store::heartbeat(&pool, &config.node_id, &config.grpc_address).await?;
        let inner = Arc::new(Inner {
            config,
            pool,
            held: RwLock::new(HashMap::new()),
            live: RwLock::new((Vec::new(), None)),
            on_release: RwLock::new(None),
            leaving: watch::channel(false).0,
        });
        let task = tokio::spawn(run(inner.clone()));
        info!(node = %inner.config.node_id, "cluster membership started");
        Ok(Arc::new(ShardKeeper {
            inner,
            task: Mutex::new(Some(task)),
        }))
    }

    /// Sets what to do with a shard before it is handed over (passivate its entities).
    pub fn on_release(&self, hook: ReleaseHook) {
        if let Ok(mut slot) = self.inner.on_release.write() {
            *slot = Some(hook);
        }
    }

    /// Whether this node should run the cluster-wide singleton `role` (e.g. the projections):
    /// the rendezvous winner of `role` among the live nodes of the last round, while that
    /// round is recent (a node that cannot reach PostgreSQL leads nothing). During membership
    /// changes two nodes may both lead briefly: a role must tolerate that (projections do:
    /// their checkpoint compare-and-set lets one apply each batch).
    pub fn leads(&self, role: &str) -> bool {
        let Ok(live) = self.inner.live.read() else {
            return false;
        };
        let (nodes, at) = &*live;
        let fresh = at.is_some_and(|at| {
            at.elapsed() < self.inner.config.lease_ttl - self.inner.config.safety_margin
        });
        let nodes: Vec<&str> = nodes.iter().map(String::as_str).collect();
        fresh
            && !*self.inner.leaving.borrow()
            && crate::placement::owner_of_key(role, &nodes)
                == Some(self.inner.config.node_id.as_str())
    }

    /// This node's id.
    pub fn node_id(&self) -> &str {
        &self.inner.config.node_id
    }

    /// The shards this node may write now, ascending.
    pub fn held_shards(&self) -> Vec<u32> {
        let now = Instant::now();
        let mut shards: Vec<u32> = self
            .inner
            .held
            .read()
            .map(|held| {
                held.iter()
                    .filter(|(_, h)| h.valid_until > now)
                    .map(|(s, _)| *s)
                    .collect()
            })
            .unwrap_or_default();
        shards.sort_unstable();
        shards
    }

    /// Graceful exit: stops taking shards, hands every held shard over (waiting at most
    /// `timeout`), then forgets the node.
    ///
    /// # Errors
    /// Store errors while marking the node as leaving.
    pub async fn leave(&self, timeout: Duration) -> Result<()> {
        self.inner.leaving.send_replace(true);
        store::mark_leaving(&self.inner.pool, &self.inner.config.node_id).await?;
        let deadline = Instant::now() + timeout;
        while !self.held_shards().is_empty() && Instant::now() < deadline {
            tokio::time::sleep(self.inner.config.round / 4).await;
        }
        self.stop();
        let left = self.held_shards().len();
        if left > 0 {
            warn!(
                shards = left,
                "left the cluster before handing every shard over"
            );
        }
        store::deregister(&self.inner.pool, &self.inner.config.node_id).await?;
        Ok(())
    }

    /// Stops the rounds at once without handing anything over (as a crash would, except that
    /// the node also stops using its leases now).
    pub fn stop(&self) {
        if let Ok(mut task) = self.task.lock()
            && let Some(task) = task.take()
        {
            task.abort();
        }
        if let Ok(mut held) = self.inner.held.write() {
            held.clear();
        }
    }
}

impl Drop for ShardKeeper {
    fn drop(&mut self) {
        self.stop();
    }
}

impl ShardLeases for ShardKeeper {
    fn fence(&self, shard: u32) -> Option<Fence> {
        let held = self.inner.held.read().ok()?;
        let lease = held.get(&shard)?;
        if lease.valid_until <= Instant::now() {
            return None;
        }
        Some(Fence {
            shard: i32::try_from(shard).ok()?,
            owner: self.inner.config.node_id.clone(),
            epoch: lease.epoch,
        })
    }
}

async fn run(inner: Arc<Inner>) {
    let mut leaving = inner.leaving.subscribe();
    loop {
        if let Err(error) = round(&inner).await {
            warn!(node = %inner.config.node_id, %error, "cluster round failed; leases lapse unless renewed");
        }
        tokio::select! {
            () = tokio::time::sleep(inner.config.round) => {}
            _ = leaving.changed() => {}
        }
    }
}

fn snapshot(inner: &Inner) -> HashMap<u32, Held> {
    inner.held.read().map(|h| h.clone()).unwrap_or_default()
}

async fn release_hook(inner: &Inner, shard: u32) {
    let hook = inner.on_release.read().ok().and_then(|h| h.clone());
    if let Some(hook) = hook {
        hook(shard).await;
    }
}

/// One round: heartbeat, renew, hand over, take.
async fn round(inner: &Inner) -> Result<()> {
    let config = &inner.config;
    let me = config.node_id.as_str();
    let leaving = *inner.leaving.borrow();
    if !leaving {
        store::heartbeat(&inner.pool, me, &config.grpc_address).await?;
    }

    // Renew what we hold; whatever was not renewed is lost.
    let held = snapshot(inner);
    if !held.is_empty() {
        let sent = Instant::now();
        let pairs: Vec<(u32, i64)> = held.iter().map(|(s, h)| (*s, h.epoch)).collect();
        let renewed = store::renew(&inner.pool, me, &pairs, config.lease_ttl).await?;
        config
            .metrics
            .lease_renewal
            .observe(sent.elapsed().as_secs_f64());
        let valid_until = sent + config.lease_ttl - config.safety_margin;
        let lost: Vec<u32> = {
            let mut map = inner
                .held
                .write()
                .map_err(|_| ClusterError::Corrupt("lease map poisoned".into()))?;
            for (shard, epoch) in &renewed {
                map.insert(
                    *shard,
                    Held {
                        epoch: *epoch,
                        valid_until,
                    },
                );
            }
            let lost: Vec<u32> = held
                .keys()
                .filter(|s| !renewed.iter().any(|(r, _)| r == *s))
                .copied()
                .collect();
            for shard in &lost {
                map.remove(shard);
            }
            lost
        };
        for shard in lost {
            warn!(node = me, shard, "shard lease lost (taken over or expired)");
            config.metrics.handover(false);
            release_hook(inner, shard).await;
        }
    }

    let round_started = Instant::now();
    let live = store::live_nodes(&inner.pool, config.heartbeat_ttl).await?;
    if let Ok(mut slot) = inner.live.write() {
        *slot = (live.clone(), Some(round_started));
    }
    let live: Vec<&str> = live.iter().map(String::as_str).collect();

    // Hand over what belongs elsewhere, a few per round (all of it when leaving).
    let mut moves = 0;
    let mut held: Vec<(u32, Held)> = snapshot(inner).into_iter().collect();
    held.sort_by_key(|(s, _)| *s);
    for (shard, lease) in held {
        let target = owner_of(shard, &live);
        if target == Some(me) || (target.is_none() && !leaving) {
            continue;
        }
        if !leaving && moves >= config.max_moves_per_round {
            break;
        }
        if let Ok(mut map) = inner.held.write() {
            map.remove(&shard);
        }
        release_hook(inner, shard).await;
        store::release(&inner.pool, me, shard, lease.epoch).await?;
        config.metrics.handover(false);
        moves += 1;
    }
    if leaving {
        return Ok(());
    }

    // Take the free shards that are ours.
    let leases = store::leases(&inner.pool).await?;
    let taken: HashMap<u32, bool> = leases.iter().map(|l| (l.shard, l.valid)).collect();
    let held = snapshot(inner);
    let wanted: Vec<u32> = (0..config.shard_count)
        .filter(|s| !held.contains_key(s))
        .filter(|s| !taken.get(s).copied().unwrap_or(false))
        .filter(|s| owner_of(*s, &live) == Some(me))
        .collect();
    if !wanted.is_empty() {
        let sent = Instant::now();
        let got = store::acquire(&inner.pool, me, &wanted, config.lease_ttl).await?;
        let valid_until = sent + config.lease_ttl - config.safety_margin;
        if !got.is_empty() {
            info!(node = me, shards = got.len(), "shards taken");
        }
        // Whatever this node may still hold in memory for these shards (a replay answered
        // while another node owned one, say) predates the other owners' writes: drop it, so
        // the shard's entities recover from the journal.
        for (shard, _) in &got {
            release_hook(inner, *shard).await;
        }
        for _ in &got {
            config.metrics.handover(true);
        }
        if let Ok(mut map) = inner.held.write() {
            for (shard, epoch) in got {
                map.insert(shard, Held { epoch, valid_until });
            }
        }
    }
    Ok(())
}
