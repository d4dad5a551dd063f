//! Snapshots of a tenant scope over both stores (issue 14): at most one save in flight per
//! tenant and no more than the node's bound on all tenants, saved newest-last so that no
//! older snapshot replaces a newer one, passivation's final snapshot stored behind the one in
//! flight, and a scope recovered from the snapshot equal to the one folded from every event.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use async_trait::async_trait;
use engine::{
    domain::{
        Assignment, OrganizationCommand, OrganizationId, Scope, TenantId, TenantScopeCommand,
        UserCommand, UserId,
    },
    journal::{Journal, JournalError, Snapshot},
    runtime::{Engine, EngineConfig, RequestMeta},
    testing::{Hooks, Intercepted, TestDatabase, scope_from_journal, sqlite_journal},
};
use uuid::Uuid;

/// What the slow store saw of snapshot saves.
#[derive(Default)]
struct SaveLog {
    /// Saves running now, per aggregate.
    running: HashMap<Uuid, usize>,
    /// The most that ran at once for one aggregate.
    max_running: usize,
    /// Saves running now, all aggregates.
    running_total: usize,
    /// The most that ran at once on the node.
    max_running_total: usize,
    /// `last_position` of each save, in the order they started.
    started: Vec<i64>,
}

/// Hooks that make every snapshot save take `delay` and log it.
struct SlowSnapshots {
    delay: Duration,
    log: Mutex<SaveLog>,
}

impl SlowSnapshots {
    /// `store` behind these hooks.
    fn over(store: Arc<dyn Journal>, delay: Duration) -> Arc<Intercepted<Self>> {
        let hooks = Self {
            delay,
            log: Mutex::default(),
        };
        Arc::new(Intercepted::new(store, hooks))
    }
}

#[async_trait]
impl Hooks for SlowSnapshots {
    async fn save_snapshot(
        &self,
        inner: &dyn Journal,
        snapshot: &Snapshot,
    ) -> Result<(), JournalError> {
        {
            let mut log = self.log.lock().unwrap();
            let running = log.running.entry(snapshot.aggregate_id).or_default();
            *running += 1;
            let now = *running;
            log.max_running = log.max_running.max(now);
            log.started.push(snapshot.last_position);
            log.running_total += 1;
            log.max_running_total = log.max_running_total.max(log.running_total);
        }
        tokio::time::sleep(self.delay).await;
        let saved = inner.save_snapshot(snapshot).await;
        let mut log = self.log.lock().unwrap();
        *log.running.entry(snapshot.aggregate_id).or_default() -= 1;
        log.running_total -= 1;
        saved
    }
}

fn create_tenant(id: TenantId) -> TenantScopeCommand {
    engine::testing::create_tenant(id, "Snapshots")
}

/// An invitation with a display name: two personal values sealed in the snapshot.
fn invite(i: usize) -> TenantScopeCommand {
    let id = UserId::new_v7();
    TenantScopeCommand::User(UserCommand::Invite {
        id,
        email: format!("user{i}@snapshots.example.com"),
        display_name: format!("User {i}"),
        roles: vec![Assignment {
            role: "viewer".into(),
            scope: Scope::Tenant,
        }],
        organization_id: None,
        expires_in_days: 7,
        token_hash: engine::domain::SecretHash::from_bytes([0xab; 32]),
    })
}

fn create_org(i: usize) -> TenantScopeCommand {
    TenantScopeCommand::Organization(OrganizationCommand::Create {
        id: OrganizationId::new_v7(),
        name: format!("org {i}"),
        description: String::new(),
        parent_id: None,
    })
}

/// Writes to one tenant with a snapshot due after every command while each save takes 40 ms,
/// then shuts the engine down (passivation) and starts another on the same store.
async fn one_save_in_flight_and_the_newest_wins(store: Arc<dyn Journal>) {
    let slow = SlowSnapshots::over(store.clone(), Duration::from_millis(40));
    let config = EngineConfig {
        shard_count: 4,
        snapshot_every: 1,
        snapshot_bytes_percent: 0,
        idle_timeout: Duration::from_secs(3600),
        ..EngineConfig::default()
    };
    let engine = Engine::start(slow.clone() as Arc<dyn Journal>, config.clone())
        .await
        .unwrap();
    let tenant = TenantId::new_v7();
    let meta = RequestMeta::default;
    engine
        .execute(tenant, create_tenant(tenant), meta())
        .await
        .unwrap();
    const COMMANDS: usize = 30;
    for i in 0..COMMANDS {
        let command = if i % 3 == 0 { create_org(i) } else { invite(i) };
        engine.execute(tenant, command, meta()).await.unwrap();
    }
    // Passivation queues the final snapshot behind the one in flight and waits for both.
    engine.shutdown().await;

    let last_position = store
        .read_tenant(tenant, 0)
        .await
        .unwrap()
        .last()
        .unwrap()
        .position;
    let (max_running, started) = {
        let log = slow.hooks.log.lock().unwrap();
        (log.max_running, log.started.clone())
    };
    assert_eq!(max_running, 1, "one snapshot save in flight at a time");
    assert!(
        started.windows(2).all(|w| w[0] < w[1]),
        "saves go newest-last: {started:?}"
    );
    assert!(
        started.len() < COMMANDS,
        "waiting snapshots were replaced by newer ones ({} saves for {COMMANDS} commands)",
        started.len()
    );
    assert_eq!(started.last(), Some(&last_position));
    let stored = store
        .load_snapshot("tenant-scope", tenant.0)
        .await
        .unwrap()
        .expect("a snapshot is stored");
    assert_eq!(
        stored.last_position, last_position,
        "passivation's final snapshot covers the last event"
    );

    // A new incarnation recovers from that snapshot alone (no later events) and holds what
    // folding every event gives.
    let engine = Engine::start(store.clone(), config).await.unwrap();
    let recovered = engine.state(tenant).await.unwrap();
    assert_eq!(recovered, scope_from_journal(store.clone(), tenant).await);
    // The invited users and the owner (onboarding invites them).
    assert_eq!(recovered.users().count(), 2 * COMMANDS / 3 + 1);
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_one_save_in_flight_and_the_newest_wins() {
    let db = TestDatabase::create().await;
    one_save_in_flight_and_the_newest_wins(Arc::new(db.journal().await)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_one_save_in_flight_and_the_newest_wins() {
    let dir = tempfile::tempdir().unwrap();
    one_save_in_flight_and_the_newest_wins(Arc::new(sqlite_journal(dir.path()).await)).await;
}

/// Tenants written at once, each with a snapshot due after every command, while each save
/// takes 30 ms: the node never runs more saves at once than `snapshot_concurrency`, and every
/// tenant's last state is still stored (waiting jobs are replaced, never lost).
async fn snapshots_share_the_nodes_permits(store: Arc<dyn Journal>) {
    let slow = SlowSnapshots::over(store.clone(), Duration::from_millis(30));
    let config = EngineConfig {
        shard_count: 4,
        snapshot_every: 1,
        snapshot_bytes_percent: 0,
        snapshot_concurrency: 2,
        idle_timeout: Duration::from_secs(3600),
        ..EngineConfig::default()
    };
    let engine = Engine::start(slow.clone() as Arc<dyn Journal>, config)
        .await
        .unwrap();
    let tenants: Vec<TenantId> = (0..6).map(|_| TenantId::new_v7()).collect();
    let writers = tenants.iter().map(|&tenant| {
        let engine = engine.clone();
        tokio::spawn(async move {
            let meta = RequestMeta::default;
            engine
                .execute(tenant, create_tenant(tenant), meta())
                .await
                .unwrap();
            for i in 0..5 {
                engine.execute(tenant, create_org(i), meta()).await.unwrap();
            }
        })
    });
    for writer in writers.collect::<Vec<_>>() {
        writer.await.unwrap();
    }
    engine.shutdown().await;

    let (max_total, max_per_tenant) = {
        let log = slow.hooks.log.lock().unwrap();
        (log.max_running_total, log.max_running)
    };
    assert_eq!(max_total, 2, "two saves at once on the node, never more");
    assert_eq!(max_per_tenant, 1);
    for tenant in tenants {
        let last = store.read_tenant(tenant, 0).await.unwrap();
        let stored = store
            .load_snapshot("tenant-scope", tenant.0)
            .await
            .unwrap()
            .expect("a snapshot is stored");
        assert_eq!(Some(stored.last_position), last.last().map(|e| e.position));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_snapshots_share_the_nodes_permits() {
    let db = TestDatabase::create().await;
    snapshots_share_the_nodes_permits(Arc::new(db.journal().await)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_snapshots_share_the_nodes_permits() {
    let dir = tempfile::tempdir().unwrap();
    snapshots_share_the_nodes_permits(Arc::new(sqlite_journal(dir.path()).await)).await;
}

/// With the byte rule, a scope whose snapshot is large waits for its events to add up to half
/// of it: here far fewer snapshots than the count rule alone would take.
async fn the_byte_rule_spaces_snapshots_of_a_large_scope(store: Arc<dyn Journal>) {
    let slow = SlowSnapshots::over(store.clone(), Duration::ZERO);
    let config = EngineConfig {
        shard_count: 4,
        snapshot_every: 2,
        snapshot_bytes_percent: 50,
        idle_timeout: Duration::from_secs(3600),
        ..EngineConfig::default()
    };
    let engine = Engine::start(slow.clone() as Arc<dyn Journal>, config)
        .await
        .unwrap();
    let tenant = TenantId::new_v7();
    engine
        .execute(tenant, create_tenant(tenant), RequestMeta::default())
        .await
        .unwrap();
    for i in 0..120 {
        engine
            .execute(tenant, invite(i), RequestMeta::default())
            .await
            .unwrap();
    }
    let saves = slow.hooks.log.lock().unwrap().started.len();
    // The count rule alone would take one per invitation (two events each): 120. With the
    // byte rule a snapshot waits until the events since the last one add up to half its
    // size, which grows with every user: the scope grows by a constant factor between two
    // snapshots, so they come geometrically further apart (about 20 here).
    assert!(
        (1..=40).contains(&saves),
        "{saves} snapshots for 120 invitations"
    );
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_the_byte_rule_spaces_snapshots_of_a_large_scope() {
    let db = TestDatabase::create().await;
    the_byte_rule_spaces_snapshots_of_a_large_scope(Arc::new(db.journal().await)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_the_byte_rule_spaces_snapshots_of_a_large_scope() {
    let dir = tempfile::tempdir().unwrap();
    the_byte_rule_spaces_snapshots_of_a_large_scope(Arc::new(sqlite_journal(dir.path()).await))
        .await;
}
