//! Shard keepers of several nodes on one PostgreSQL (in one process, each with its own pool):
//! they share the shards evenly and never hold one twice, rebalance when a node joins, take a
//! dead node's shards after its leases expire, hand over at once on a graceful exit, and stop
//! using their leases when PostgreSQL is out of reach. Needs `ENTITY_TEST_DATABASE_URL`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use std::{
    collections::HashSet,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use cluster::{KeeperConfig, ShardKeeper};
use engine::{runtime::ShardLeases, testing::TestDatabase};
use sqlx::postgres::PgPoolOptions;
use tokio::time::Instant;

const SHARDS: u32 = 256;

fn config(node: &str) -> KeeperConfig {
    KeeperConfig {
        lease_ttl: Duration::from_millis(2_000),
        safety_margin: Duration::from_millis(600),
        round: Duration::from_millis(100),
        heartbeat_ttl: Duration::from_millis(1_000),
        max_moves_per_round: 16,
        ..KeeperConfig::new(node, format!("{node}.test:50051"), SHARDS)
    }
}

async fn pool(db: &TestDatabase) -> sqlx::PgPool {
    PgPoolOptions::new()
        .max_connections(2)
        .connect(db.url())
        .await
        .unwrap()
}

async fn keeper(db: &TestDatabase, node: &str) -> Arc<ShardKeeper> {
    ShardKeeper::start(pool(db).await, config(node))
        .await
        .unwrap()
}

/// Checks, every few milliseconds until dropped, that no shard is held by two keepers.
struct Sampler {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<u64>,
}

impl Sampler {
    fn start(keepers: Vec<Arc<ShardKeeper>>) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let task = tokio::spawn({
            let stop = stop.clone();
            async move {
                let mut samples = 0;
                while !stop.load(Ordering::Relaxed) {
                    let mut seen = HashSet::new();
                    for k in &keepers {
                        for shard in k.held_shards() {
                            assert!(seen.insert(shard), "shard {shard} held twice");
                        }
                    }
                    samples += 1;
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                samples
            }
        });
        Sampler { stop, task }
    }

    async fn finish(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.expect("no shard was ever held twice")
    }
}

/// Waits until the keepers hold every shard between them, each within ±20% of an even share.
async fn balanced(keepers: &[&Arc<ShardKeeper>], within: Duration) -> Vec<usize> {
    let deadline = Instant::now() + within;
    loop {
        let counts: Vec<usize> = keepers.iter().map(|k| k.held_shards().len()).collect();
        let even = f64::from(SHARDS) / keepers.len() as f64;
        let total: usize = counts.iter().sum();
        if total == SHARDS as usize
            && counts
                .iter()
                .all(|c| (*c as f64 - even).abs() <= even * 0.2)
        {
            return counts;
        }
        assert!(
            Instant::now() < deadline,
            "not balanced in {within:?}: {counts:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nodes_share_rebalance_and_fail_over_without_double_ownership() {
    let db = TestDatabase::create().await;
    db.journal().await; // migrated
    let a = keeper(&db, "node-a").await;
    let b = keeper(&db, "node-b").await;
    let c = keeper(&db, "node-c").await;
    let sampler = Sampler::start(vec![a.clone(), b.clone(), c.clone()]);
    let counts = balanced(&[&a, &b, &c], Duration::from_secs(20)).await;
    println!("three nodes: {counts:?}");

    // A fourth node joins: moves are capped per round, and the shares even out.
    let d = keeper(&db, "node-d").await;
    let samples = sampler.finish().await;
    assert!(samples > 10);
    let sampler = Sampler::start(vec![a.clone(), b.clone(), c.clone(), d.clone()]);
    let counts = balanced(&[&a, &b, &c, &d], Duration::from_secs(20)).await;
    println!("four nodes: {counts:?}");

    // Node c dies (no hand-over): its shards are served again once its leases expire.
    let died = Instant::now();
    c.stop();
    let counts = balanced(&[&a, &b, &d], Duration::from_secs(15)).await;
    println!("after c died: {counts:?} in {:?}", died.elapsed());

    // Node d leaves gracefully: hands over at once, well before a lease would expire.
    let left = Instant::now();
    d.leave(Duration::from_secs(10)).await.unwrap();
    let counts = balanced(&[&a, &b], Duration::from_secs(15)).await;
    println!("after d left: {counts:?} in {:?}", left.elapsed());
    sampler.finish().await;

    // Fences name the holder and its epoch; others get none.
    let shard = a.held_shards()[0];
    let fence = a.fence(shard).unwrap();
    assert_eq!(
        (fence.owner.as_str(), fence.shard),
        ("node-a", shard as i32)
    );
    assert!(fence.epoch >= 1);
    assert!(b.fence(shard).is_none());
}

/// A node whose PostgreSQL is out of reach stops using its leases before they can expire, so
/// another node can take the shards without two writers at any moment.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_cut_off_from_postgres_fences_itself() {
    let db = TestDatabase::create().await;
    db.journal().await; // migrated
    let lonely_pool = pool(&db).await;
    let lonely = ShardKeeper::start(lonely_pool.clone(), config("node-x"))
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while lonely.held_shards().len() < SHARDS as usize {
        assert!(Instant::now() < deadline, "node-x never took every shard");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let other = keeper(&db, "node-y").await;
    let sampler = Sampler::start(vec![lonely.clone(), other.clone()]);

    let cut = Instant::now();
    lonely_pool.close().await;
    let deadline = cut + Duration::from_secs(5);
    while !lonely.held_shards().is_empty() {
        assert!(
            Instant::now() < deadline,
            "node-x still uses {} leases after losing PostgreSQL",
            lonely.held_shards().len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(lonely.fence(0).is_none());
    println!("node-x stopped writing {:?} after the cut", cut.elapsed());
    // node-x is not live any more (no heartbeat): node-y ends up with everything.
    balanced(&[&other], Duration::from_secs(15)).await;
    sampler.finish().await;
}
