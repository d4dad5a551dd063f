//! The actor runtime against real PostgreSQL: tenant-wide invariants under concurrency,
//! passivation and recovery, idempotency across restarts, and engine-driven grace periods.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
    time::Duration,
};

use chrono::{SubsecRound, Utc};
use engine::{
    EngineError,
    domain::{
        DeactivationFeedback, DomainError, MAX_DEPTH, Organization, OrganizationCommand,
        OrganizationId, OrganizationStatus, Plan, TenantCommand, TenantId, TenantScope,
        TenantScopeCommand, TenantStatus,
    },
    journal::{EventLog, Journal, SnapshotStore, postgres::PostgresJournal},
    runtime::{CommandOutcome, Engine, EngineConfig, EntityView, RequestMeta},
    testing::{ManualClock, TestDatabase, create_tenant_with_slug as create_tenant},
};

fn create_org(
    id: OrganizationId,
    name: &str,
    parent: Option<OrganizationId>,
) -> TenantScopeCommand {
    TenantScopeCommand::Organization(OrganizationCommand::Create {
        id,
        name: name.to_owned(),
        description: String::new(),
        parent_id: parent,
    })
}

fn meta() -> RequestMeta {
    RequestMeta::default()
}

fn with_request(id: &str) -> RequestMeta {
    RequestMeta {
        request_id: Some(id.to_owned()),
        ..RequestMeta::default()
    }
}

fn unique_slug(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

async fn start(journal: &Arc<PostgresJournal>, config: EngineConfig) -> Engine {
    Engine::start(journal.clone() as Arc<dyn Journal>, config)
        .await
        .unwrap()
}

async fn new_gold_tenant(engine: &Engine) -> TenantId {
    let tenant = TenantId::new_v7();
    engine
        .execute(
            tenant,
            create_tenant(tenant, &unique_slug("t"), Plan::Gold),
            meta(),
        )
        .await
        .unwrap();
    tenant
}

/// Rebuilds a tenant scope from the journal alone (no actor, no snapshot).
async fn scope_from_journal(journal: &Arc<PostgresJournal>, tenant: TenantId) -> TenantScope {
    engine::testing::scope_from_journal(journal.clone(), tenant).await
}

/// Asserts the live organizations form a forest no deeper than MAX_DEPTH with unique sibling names.
fn assert_forest(orgs: &[Organization]) {
    let live: HashMap<OrganizationId, &Organization> = orgs
        .iter()
        .filter(|o| o.status == OrganizationStatus::Active)
        .map(|o| (o.id, o))
        .collect();
    let mut names = HashSet::new();
    for org in live.values() {
        assert!(
            names.insert((org.parent_id, org.name.to_lowercase())),
            "duplicate sibling name"
        );
        let mut depth = 1;
        let mut cursor = org.parent_id;
        while let Some(parent) = cursor {
            depth += 1;
            assert!(
                depth <= MAX_DEPTH,
                "organization {} is deeper than {MAX_DEPTH} (or in a cycle)",
                org.id
            );
            cursor = live
                .get(&parent)
                .expect("parent of a live organization is live")
                .parent_id;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_moves_never_create_a_cycle_or_a_too_deep_tree() {
    let db = TestDatabase::create().await;
    let journal = Arc::new(db.journal().await);
    let engine = start(&journal, EngineConfig::default()).await;
    let tenant = new_gold_tenant(&engine).await;

    // Two chains of depth 3 and a few leaves: plenty of moves that would cycle or go too deep.
    let mut ids = Vec::new();
    let mut parent = None;
    for i in 0..3 {
        let id = OrganizationId::new_v7();
        engine
            .execute(tenant, create_org(id, &format!("a{i}"), parent), meta())
            .await
            .unwrap();
        ids.push(id);
        parent = Some(id);
    }
    parent = None;
    for i in 0..3 {
        let id = OrganizationId::new_v7();
        engine
            .execute(tenant, create_org(id, &format!("b{i}"), parent), meta())
            .await
            .unwrap();
        ids.push(id);
        parent = Some(id);
    }
    for i in 0..4 {
        let id = OrganizationId::new_v7();
        engine
            .execute(tenant, create_org(id, &format!("leaf{i}"), None), meta())
            .await
            .unwrap();
        ids.push(id);
    }

    let mut tasks = Vec::new();
    for i in 0..50usize {
        let engine = engine.clone();
        let target = ids[(i * 7) % ids.len()];
        let new_parent = if i % 9 == 0 {
            None
        } else {
            Some(ids[(i * 3 + 1) % ids.len()])
        };
        tasks.push(tokio::spawn(async move {
            let cmd = TenantScopeCommand::Organization(OrganizationCommand::Move {
                id: target,
                new_parent_id: new_parent,
            });
            engine.execute(tenant, cmd, RequestMeta::default()).await
        }));
    }
    let mut accepted = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => accepted += 1,
            Err(EngineError::Domain(
                DomainError::HierarchyCycle { .. }
                | DomainError::HierarchyTooDeep { .. }
                | DomainError::AlreadyExists { .. },
            )) => {}
            Err(other) => panic!("unexpected refusal: {other:?}"),
        }
    }
    assert!(accepted > 0, "some moves must succeed");

    let live = engine.list_organizations(tenant, None).await.unwrap();
    assert_forest(&live);
    let rebuilt = scope_from_journal(&journal, tenant).await;
    let from_journal: Vec<Organization> = rebuilt.organizations().cloned().collect();
    assert_forest(&from_journal);
    let mut live_sorted = live.clone();
    live_sorted.sort_by_key(|o| o.id);
    let journal_live: Vec<Organization> = from_journal
        .into_iter()
        .filter(|o| o.status == OrganizationStatus::Active)
        .collect();
    assert_eq!(
        live_sorted, journal_live,
        "actor state equals the journal's"
    );
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_of_one_sibling_name_yield_exactly_one() {
    let db = TestDatabase::create().await;
    let journal = Arc::new(db.journal().await);
    let engine = start(&journal, EngineConfig::default()).await;
    let tenant = new_gold_tenant(&engine).await;

    let tasks: Vec<_> = (0..100)
        .map(|i| {
            let engine = engine.clone();
            // Mixed case: names are unique case-insensitively.
            let name = if i % 2 == 0 { "Sales" } else { "SALES" };
            tokio::spawn(async move {
                engine
                    .execute(
                        tenant,
                        create_org(OrganizationId::new_v7(), name, None),
                        meta(),
                    )
                    .await
            })
        })
        .collect();
    let mut ok = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => ok += 1,
            Err(EngineError::Domain(DomainError::AlreadyExists { field: "name", .. })) => {}
            Err(other) => panic!("unexpected: {other:?}"),
        }
    }
    assert_eq!(ok, 1);
    let created = journal
        .read_tenant(tenant, 0)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.event_type == "OrganizationCreated")
        .filter(|e| {
            e.payload["name"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case("sales"))
        })
        .count();
    assert_eq!(
        created, 1,
        "exactly one OrganizationCreated named Sales in the journal"
    );
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_entities_passivate_and_recover_their_state() {
    let db = TestDatabase::create().await;
    let journal = Arc::new(db.journal().await);
    let config = EngineConfig {
        shard_count: 4,
        idle_timeout: Duration::from_millis(200),
        snapshot_every: 3,
        ..EngineConfig::default()
    };
    let engine = start(&journal, config).await;
    let tenant = new_gold_tenant(&engine).await;
    let mut last = None;
    for i in 0..7 {
        last = Some(
            engine
                .execute(
                    tenant,
                    create_org(OrganizationId::new_v7(), &format!("o{i}"), None),
                    meta(),
                )
                .await
                .unwrap(),
        );
    }
    let before = engine.list_organizations(tenant, None).await.unwrap();

    // Eventually every idle entity is passivated (bounded wait; not a timing assertion).
    let mut active = usize::MAX;
    for _ in 0..100 {
        active = engine.active_entities().await.unwrap();
        if active == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(active, 0, "idle entity was not passivated");
    assert!(
        journal
            .load_snapshot("tenant-scope", tenant.0)
            .await
            .unwrap()
            .is_some()
    );

    // A new incarnation recovers from the snapshot plus later events.
    assert_eq!(
        engine.list_organizations(tenant, None).await.unwrap(),
        before
    );
    let again = engine
        .execute(
            tenant,
            create_org(OrganizationId::new_v7(), "after", None),
            meta(),
        )
        .await
        .unwrap();
    assert!(again.token > last.unwrap().token);
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_active_entity_cap_passivates_the_least_recently_used() {
    let db = TestDatabase::create().await;
    let journal = Arc::new(db.journal().await);
    let config = EngineConfig {
        shard_count: 1,
        max_active_per_shard: 3,
        ..EngineConfig::default()
    };
    let engine = start(&journal, config).await;
    let mut tenants = Vec::new();
    for _ in 0..10 {
        tenants.push(new_gold_tenant(&engine).await);
    }
    assert!(engine.active_entities().await.unwrap() <= 3);
    for tenant in &tenants {
        assert_eq!(
            engine.get_tenant(*tenant).await.unwrap().status,
            TenantStatus::Active
        );
        assert!(engine.active_entities().await.unwrap() <= 3);
    }
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_request_returns_its_first_answer_even_after_a_restart() {
    let db = TestDatabase::create().await;
    let journal = Arc::new(db.journal().await);
    let engine = start(&journal, EngineConfig::default()).await;
    let tenant = new_gold_tenant(&engine).await;

    let first = engine
        .execute(
            tenant,
            create_org(OrganizationId::new_v7(), "Ops", None),
            with_request("req-1"),
        )
        .await
        .unwrap();
    let events_after_first = journal.read_all(0, 1000).await.unwrap().len();
    // The gateway generates a fresh id for every attempt: the retry must still match.
    let retry = engine
        .execute(
            tenant,
            create_org(OrganizationId::new_v7(), "Ops", None),
            with_request("req-1"),
        )
        .await
        .unwrap();
    assert!(retry.replayed);
    assert_eq!(
        (retry.version, retry.token, &retry.view),
        (first.version, first.token, &first.view)
    );
    let reused = engine
        .execute(
            tenant,
            create_org(OrganizationId::new_v7(), "Other", None),
            with_request("req-1"),
        )
        .await;
    assert!(
        matches!(reused, Err(EngineError::RequestIdReused { .. })),
        "{reused:?}"
    );

    // Drop the node without a clean shutdown (no snapshot), start another: the window is
    // rebuilt from event metadata.
    drop(engine);
    let engine = start(&journal, EngineConfig::default()).await;
    let after_restart = engine
        .execute(
            tenant,
            create_org(OrganizationId::new_v7(), "Ops", None),
            with_request("req-1"),
        )
        .await
        .unwrap();
    assert!(after_restart.replayed);
    assert_eq!(after_restart.token, first.token);
    assert_eq!(
        journal.read_all(0, 1000).await.unwrap().len(),
        events_after_first
    );
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_creation_is_idempotent_and_slugs_are_unique_platform_wide() {
    let db = TestDatabase::create().await;
    let journal = Arc::new(db.journal().await);
    let engine = start(&journal, EngineConfig::default()).await;
    let slug = unique_slug("acme");

    let first_id = TenantId::new_v7();
    let first = engine
        .execute(
            first_id,
            create_tenant(first_id, &slug, Plan::Silver),
            with_request("create-acme"),
        )
        .await
        .unwrap();
    // A retry gets a new id from the gateway; the slug's claim remembers the request.
    let retry_id = TenantId::new_v7();
    let retry = engine
        .execute(
            retry_id,
            create_tenant(retry_id, &slug, Plan::Silver),
            with_request("create-acme"),
        )
        .await
        .unwrap();
    assert!(retry.replayed);
    assert_eq!(retry.token, first.token);
    assert!(matches!(&retry.view, EntityView::Tenant(t) if t.id == first_id));
    assert_eq!(
        retry.version, first.version,
        "the answer includes the onboarding"
    );

    // The same after a restart: the window is rebuilt from the events' metadata.
    let written = journal.read_all(0, 1000).await.unwrap().len();
    drop(engine);
    let engine = start(&journal, EngineConfig::default()).await;
    let again_id = TenantId::new_v7();
    let again = engine
        .execute(
            again_id,
            create_tenant(again_id, &slug, Plan::Silver),
            with_request("create-acme"),
        )
        .await
        .unwrap();
    assert!(again.replayed);
    assert_eq!((again.version, again.token), (first.version, first.token));
    assert_eq!(journal.read_all(0, 1000).await.unwrap().len(), written);

    let other_id = TenantId::new_v7();
    let clash = engine
        .execute(
            other_id,
            create_tenant(other_id, &slug, Plan::Gold),
            with_request("another"),
        )
        .await;
    assert!(
        matches!(
            clash,
            Err(EngineError::Domain(DomainError::AlreadyExists {
                field: "slug",
                ..
            }))
        ),
        "{clash:?}"
    );
    let tenants_created = journal
        .read_all(0, 1000)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.event_type == "TenantCreated")
        .count();
    assert_eq!(tenants_created, 1);
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expected_version_mismatch_is_refused_and_writes_nothing() {
    let db = TestDatabase::create().await;
    let journal = Arc::new(db.journal().await);
    let engine = start(&journal, EngineConfig::default()).await;
    let tenant = new_gold_tenant(&engine).await;
    let before = journal.read_all(0, 100).await.unwrap().len();
    let suspend = TenantScopeCommand::Tenant(TenantCommand::Suspend {
        reason: "audit".into(),
    });
    let stale = RequestMeta {
        expected_version: Some(7),
        ..RequestMeta::default()
    };
    let version = engine.get_tenant(tenant).await.unwrap().version;
    let refused = engine.execute(tenant, suspend.clone(), stale).await;
    assert!(
        matches!(refused, Err(EngineError::VersionMismatch { expected: 7, actual }) if actual == version),
        "{refused:?}"
    );
    assert_eq!(journal.read_all(0, 100).await.unwrap().len(), before);
    let current = RequestMeta {
        expected_version: Some(version),
        ..RequestMeta::default()
    };
    let ok: CommandOutcome = engine.execute(tenant, suspend, current).await.unwrap();
    assert_eq!(ok.version, version + 1);
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_deletes_a_tenant_when_its_grace_period_ends() {
    let db = TestDatabase::create().await;
    let journal = Arc::new(db.journal().await);
    let start_time = Utc::now().trunc_subsecs(6);
    let clock = ManualClock::at(start_time);
    let config = EngineConfig {
        timer_poll_interval: Duration::from_secs(3600),
        ..EngineConfig::default()
    };
    let engine =
        Engine::start_with_clock(journal.clone() as Arc<dyn Journal>, config, clock.clone())
            .await
            .unwrap();
    let leaving = new_gold_tenant(&engine).await;
    let returning = new_gold_tenant(&engine).await;
    for tenant in [leaving, returning] {
        let deactivate = TenantScopeCommand::Tenant(TenantCommand::Deactivate {
            grace_period_ends_at: start_time + chrono::Duration::days(30),
            feedback: DeactivationFeedback {
                reason_code: "price".into(),
                ..Default::default()
            },
        });
        engine.execute(tenant, deactivate, meta()).await.unwrap();
    }
    engine
        .execute(
            returning,
            TenantScopeCommand::Tenant(TenantCommand::Reactivate),
            meta(),
        )
        .await
        .unwrap();

    assert_eq!(engine.fire_due_timers().await, 0, "nothing is due yet");
    clock.set(start_time + chrono::Duration::days(31));
    // The grace period, and the two owners' 7-day invitations.
    assert_eq!(engine.fire_due_timers().await, 3);
    assert_eq!(
        engine.get_tenant(leaving).await.unwrap().status,
        TenantStatus::Deleted
    );
    assert_eq!(
        engine.get_tenant(returning).await.unwrap().status,
        TenantStatus::Active
    );
    assert_eq!(
        engine.fire_due_timers().await,
        0,
        "the timer was cleared with the deletion"
    );
    let deleted = journal.read_tenant(leaving, 0).await.unwrap();
    let last = deleted.last().unwrap();
    assert_eq!(last.event_type, "TenantDeleted");
    assert_eq!(last.metadata.actor.credential_kind, "engine");
    engine.shutdown().await;
}

/// Where the runtime's count rule (`events since the last snapshot >= snapshot_every`, counted
/// per committed batch from a fresh tenant; the byte rule off) puts the latest snapshot of
/// `events`, and how many events follow it.
fn expected_snapshot(
    events: &[engine::journal::RecordedEvent],
    every: u32,
) -> (Option<i64>, usize) {
    let mut since = 0u32;
    let mut snapshot = None;
    let mut after = 0usize;
    let mut i = 0;
    while i < events.len() {
        let tx = events[i].transaction_id;
        let batch = events[i..]
            .iter()
            .take_while(|e| e.transaction_id == tx)
            .count();
        i += batch;
        since += u32::try_from(batch).unwrap();
        after += batch;
        if since >= every {
            snapshot = Some(events[i - 1].position);
            since = 0;
            after = 0;
        }
    }
    (snapshot, after)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_engine_recovers_from_its_snapshot_plus_later_events() {
    const EVERY: u32 = 5;
    let db = TestDatabase::create().await;
    let journal = Arc::new(db.journal().await);
    let config = EngineConfig {
        snapshot_every: EVERY,
        snapshot_bytes_percent: 0,
        // No passivation: the only snapshots are the ones the interval takes.
        idle_timeout: Duration::from_secs(3600),
        ..EngineConfig::default()
    };
    let engine = start(&journal, config.clone()).await;
    let tenant = new_gold_tenant(&engine).await;

    // Writes until a snapshot is due and at least two events follow it.
    let mut parent = None;
    let mut i = 0;
    let (snapshot_at, last_position) = loop {
        let id = OrganizationId::new_v7();
        engine
            .execute(tenant, create_org(id, &format!("o{i}"), parent), meta())
            .await
            .unwrap();
        if i % 2 == 0 {
            parent = Some(id);
        } else {
            parent = None;
        }
        i += 1;
        let events = journal.read_tenant(tenant, 0).await.unwrap();
        if let (Some(at), after) = expected_snapshot(&events, EVERY)
            && after >= 2
            && i >= 8
        {
            break (at, events.last().unwrap().position);
        }
        assert!(i < 50, "no snapshot after {i} writes");
    };
    // The snapshot is saved in the background: wait (bounded) until the expected one is there.
    let mut saved = None;
    for _ in 0..100 {
        saved = journal
            .load_snapshot("tenant-scope", tenant.0)
            .await
            .unwrap();
        if saved
            .as_ref()
            .is_some_and(|s| s.last_position == snapshot_at)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let saved = saved.expect("a snapshot was taken");
    assert_eq!(saved.last_position, snapshot_at);
    assert!(
        saved.last_position < last_position,
        "events follow the snapshot ({} < {last_position})",
        saved.last_position
    );

    let before = engine.state(tenant).await.unwrap();
    assert_eq!(
        before.organizations().count(),
        i + 1,
        "the default org and ours"
    );

    // No clean shutdown (which would not snapshot either: nothing passivates).
    drop(engine);
    let engine = start(&journal, config).await;
    let after = engine.state(tenant).await.unwrap();
    assert_eq!(after, before, "snapshot + later events give the same state");
    assert_eq!(after, scope_from_journal(&journal, tenant).await);
    // The recovered incarnation keeps writing on top of it.
    let next = engine
        .execute(
            tenant,
            create_org(OrganizationId::new_v7(), "after-restart", None),
            meta(),
        )
        .await
        .unwrap();
    assert!(next.token.position > last_position);
    engine.shutdown().await;
}
