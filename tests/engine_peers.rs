//! Location transparency at the engine (issue 19): two engines on one PostgreSQL journal, each
//! holding half of the shards, joined by an in-process [`ShardPeers`] that carries the real
//! encoded requests and replies. Every call works on either engine; it runs on the owner's
//! actor, errors cross typed, a lost reply never applies a command twice, and a shard nobody
//! holds answers UNAVAILABLE after the move wait. The mesh itself (ractor_cluster between real
//! processes) is tested in `cluster_nodes.rs`.
//! Needs `ENTITY_TEST_DATABASE_URL`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use std::{
    sync::{
        Arc, OnceLock,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
};

use async_trait::async_trait;
use engine::{
    EngineError,
    domain::{
        DeactivationFeedback, DomainError, OrganizationId, ResourceKind, Scope, TenantCommand,
        TenantId, TenantScopeCommand, UserId,
    },
    journal::{EventLog, Fence},
    runtime::{Engine, EngineConfig, PeerError, RequestMeta, ShardLeases, ShardPeers, shard_of},
    testing::{ManualClock, TestDatabase, create_tenant},
};

const SHARDS: u32 = 8;

/// Holds the shards of one parity, or none.
#[derive(Debug)]
struct Half {
    node: &'static str,
    parity: u32,
    holding: AtomicBool,
}

impl ShardLeases for Half {
    fn fence(&self, shard: u32) -> Option<Fence> {
        (self.holding.load(Ordering::Acquire) && shard % 2 == self.parity).then(|| Fence {
            shard: shard as i32,
            owner: self.node.into(),
            epoch: 1,
        })
    }
}

/// Calls the other engine's `serve_peer` with the encoded request; can lose the next reply.
#[derive(Debug, Default)]
struct Direct {
    other: OnceLock<Engine>,
    lose_next_reply: AtomicBool,
    calls: AtomicUsize,
}

#[async_trait]
impl ShardPeers for Direct {
    async fn call(
        &self,
        shard: u32,
        request: Vec<u8>,
        _timeout: Duration,
    ) -> Result<Vec<u8>, PeerError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let other = self.other.get().ok_or(PeerError::NoRoute(shard))?;
        let reply = other.serve_peer(&request).await;
        if self.lose_next_reply.swap(false, Ordering::AcqRel) {
            return Err(PeerError::Lost {
                node: "b".into(),
                reason: "session dropped".into(),
            });
        }
        Ok(reply)
    }
}

struct Pair {
    a: Engine,
    b: Engine,
    clock: Arc<ManualClock>,
    a_peers: Arc<Direct>,
    b_leases: Arc<Half>,
    journal: Arc<dyn EventLog>,
}

async fn pair(db: &TestDatabase) -> Pair {
    let journal = Arc::new(db.journal().await);
    for shard in 0..SHARDS as i32 {
        let owner = if shard % 2 == 0 { "a" } else { "b" };
        sqlx::query(
            "INSERT INTO shard_leases (shard, owner, epoch, expires_at) \
             VALUES ($1, $2, 1, now() + interval '1 hour')",
        )
        .bind(shard)
        .bind(owner)
        .execute(journal.pool())
        .await
        .unwrap();
    }
    let clock = ManualClock::at(chrono::Utc::now());
    let engine = |node, parity, peers: Arc<Direct>| {
        let leases = Arc::new(Half {
            node,
            parity,
            holding: AtomicBool::new(true),
        });
        let config = EngineConfig {
            shard_count: SHARDS,
            leases: Some(leases.clone()),
            peers: Some(peers),
            move_wait: Duration::from_millis(300),
            // The tests fire timers themselves; the background poller would race them.
            timer_poll_interval: Duration::from_secs(3600),
            ..EngineConfig::default()
        };
        let journal = journal.clone();
        let clock = clock.clone();
        async move {
            let engine = Engine::start_with_clock(journal, config, clock).await;
            (engine.unwrap(), leases)
        }
    };
    let (a_peers, b_peers) = (Arc::new(Direct::default()), Arc::new(Direct::default()));
    let (a, _) = engine("a", 0, a_peers.clone()).await;
    let (b, b_leases) = engine("b", 1, b_peers.clone()).await;
    a_peers.other.set(b.clone()).unwrap();
    b_peers.other.set(a.clone()).unwrap();
    Pair {
        a,
        b,
        clock,
        a_peers,
        b_leases,
        journal: journal.clone(),
    }
}

/// A new tenant id whose shard `b` holds (odd).
fn tenant_of_b() -> TenantId {
    loop {
        let tenant = TenantId::new_v7();
        if shard_of(tenant, SHARDS) % 2 == 1 {
            return tenant;
        }
    }
}

fn idempotent(key: &str) -> RequestMeta {
    RequestMeta {
        request_id: Some(key.into()),
        ..RequestMeta::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_call_runs_on_the_owner_from_either_node() {
    let db = TestDatabase::create().await;
    let p = pair(&db).await;
    let tenant = tenant_of_b();

    // A command through `a` runs on `b`'s actor.
    let create = create_tenant(tenant, "Acme");
    let created =
        p.a.execute(tenant, create.clone(), idempotent("create-1"))
            .await
            .unwrap();
    assert!(!created.replayed);
    assert_eq!(p.a.active_entities().await.unwrap(), 0, "nothing ran on a");
    assert_eq!(p.b.active_entities().await.unwrap(), 1);
    assert!(p.a_peers.calls.load(Ordering::Relaxed) >= 1);

    // Reads through either node give the owner's answer.
    let through_a = p.a.get_tenant(tenant).await.unwrap();
    assert_eq!(through_a, p.b.get_tenant(tenant).await.unwrap());
    assert_eq!(through_a.name, "Acme");
    let stranger = UserId::new_v7();
    let error =
        p.a.check_permission(
            tenant,
            stranger,
            "team:manage".parse().unwrap(),
            Scope::Tenant,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&error, EngineError::Domain(DomainError::NotFound { resource: ResourceKind::User, id }) if *id == stranger.to_string()),
        "{error:?}"
    );
    assert_eq!(p.a.active_entities().await.unwrap(), 0);

    // Errors cross typed.
    let missing = OrganizationId::new_v7();
    let error = p.a.get_organization(tenant, missing).await.unwrap_err();
    assert!(
        matches!(&error, EngineError::Domain(DomainError::NotFound { id, .. }) if *id == missing.to_string()),
        "{error:?}"
    );

    // A retry through `a` with the same request id is the first answer, nothing written twice.
    let events = p.journal.read_tenant(tenant, 0).await.unwrap().len();
    let retried =
        p.a.execute(tenant, create, idempotent("create-1"))
            .await
            .unwrap();
    assert!(retried.replayed);
    assert_eq!(retried.version, created.version);
    assert_eq!(
        p.journal.read_tenant(tenant, 0).await.unwrap().len(),
        events
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_reply_is_an_error_and_its_retry_is_the_committed_answer() {
    let db = TestDatabase::create().await;
    let p = pair(&db).await;
    let tenant = tenant_of_b();
    p.a_peers.lose_next_reply.store(true, Ordering::Release);
    let create = create_tenant(tenant, "Lost");
    let lost =
        p.a.execute(tenant, create.clone(), idempotent("lost-1"))
            .await
            .unwrap_err();
    assert!(matches!(lost, EngineError::Unavailable(_)), "{lost:?}");
    let events = p.journal.read_tenant(tenant, 0).await.unwrap().len();
    assert!(
        events > 0,
        "the owner ran the command; only its reply was lost"
    );

    let retried =
        p.a.execute(tenant, create, idempotent("lost-1"))
            .await
            .unwrap();
    assert!(retried.replayed, "the committed answer, not a second run");
    assert_eq!(
        p.journal.read_tenant(tenant, 0).await.unwrap().len(),
        events
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shard_that_nobody_holds_is_unavailable_after_the_move_wait() {
    let db = TestDatabase::create().await;
    let p = pair(&db).await;
    let tenant = tenant_of_b();
    p.b_leases.holding.store(false, Ordering::Release);
    let started = std::time::Instant::now();
    let error = p.a.get_tenant(tenant).await.unwrap_err();
    assert!(
        matches!(&error, EngineError::Unavailable(m) if m.contains("moving")),
        "{error:?}"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "waited for the move"
    );
    // `b` refused without running anything.
    assert_eq!(p.b.active_entities().await.unwrap(), 0);
    // Once `b` holds the shard again, the same call is served.
    p.b_leases.holding.store(true, Ordering::Release);
    let error = p.a.get_tenant(tenant).await.unwrap_err();
    assert!(
        matches!(error, EngineError::Domain(DomainError::NotFound { .. })),
        "{error:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_request_is_refused_and_the_owner_keeps_serving() {
    let db = TestDatabase::create().await;
    let p = pair(&db).await;
    for garbage in [&b""[..], &[1, 0xff, 0xff, 0xff][..], &[9, 1, 2, 3][..]] {
        let reply = p.b.serve_peer(garbage).await;
        assert!(!reply.is_empty(), "an answer, not a dropped call");
    }
    let tenant = tenant_of_b();
    p.a.execute(
        tenant,
        create_tenant(tenant, "Still"),
        RequestMeta::default(),
    )
    .await
    .unwrap();
    assert_eq!(p.a.get_tenant(tenant).await.unwrap().name, "Still");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_node_fires_only_the_timers_of_the_tenants_it_holds() {
    let db = TestDatabase::create().await;
    let p = pair(&db).await;
    let tenant = tenant_of_b();
    p.a.execute(
        tenant,
        create_tenant(tenant, "Timed"),
        RequestMeta::default(),
    )
    .await
    .unwrap();
    let deactivate = TenantScopeCommand::Tenant(TenantCommand::Deactivate {
        grace_period_ends_at: chrono::Utc::now() + chrono::Duration::days(30),
        feedback: DeactivationFeedback {
            reason_code: "price".into(),
            ..Default::default()
        },
    });
    p.a.execute(tenant, deactivate, RequestMeta::default())
        .await
        .unwrap();
    // The grace period has ended.
    p.clock.advance(chrono::Duration::days(31));
    assert_eq!(
        p.a.fire_due_timers().await,
        0,
        "not a's tenant: a leaves it to b"
    );
    assert!(
        p.b.fire_due_timers().await >= 1,
        "the grace period (and any invitation)"
    );
    assert_eq!(p.b.fire_due_timers().await, 0, "fired once");
    assert_eq!(
        p.a.get_tenant(tenant).await.unwrap().status,
        engine::domain::TenantStatus::Deleted
    );
}
