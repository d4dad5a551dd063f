//! Out-of-order commit (PostgreSQL): a transaction that takes its positions early and commits
//! late, held open on purpose while many others commit through the engine, is still delivered
//! to every projection exactly once and in per-stream order — and no checkpoint passes it
//! while it is open (nothing after it is applied before it commits).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use chrono::Utc;
use engine::{
    domain::{
        OrganizationEvent, OrganizationId, Plan, TenantEvent, TenantId, TenantKind,
        TenantScopeEvent, TenantSettings,
    },
    journal::{AuditActor, CommitToken, EventMetadata},
};
use futures::future::join_all;
use projections::{
    PageRequest, Projection, ProjectionService, RunnerConfig, TenantFilter, standard_projections,
};
use sqlx::{Connection, PgConnection, Row};
use support::{
    recording::{Recording, assert_exactly_once_in_order, create_log},
    workload::run_tenant,
    *,
};

/// Inserts one event inside the held transaction; returns its (transaction, position).
async fn insert_event(
    held: &mut PgConnection,
    tenant: TenantId,
    stream_type: &str,
    stream_id: uuid::Uuid,
    event: &TenantScopeEvent,
) -> CommitToken {
    let metadata = EventMetadata {
        actor: AuditActor {
            subject: "late-writer".into(),
            credential_kind: "test".into(),
            ..AuditActor::default()
        },
        ..EventMetadata::default()
    };
    let row = sqlx::query(
        "INSERT INTO events (tenant_id, stream_type, stream_id, sequence, event_type,
                             schema_version, payload, metadata, recorded_at)
         VALUES ($1, $2, $3, 1, $4, 1, $5, $6, $7)
         RETURNING global_position, transaction_id::text::bigint AS transaction_id",
    )
    .bind(tenant.0)
    .bind(stream_type)
    .bind(stream_id)
    .bind(event.event_type())
    .bind(serde_json::to_value(event).unwrap())
    .bind(serde_json::to_value(&metadata).unwrap())
    .bind(Utc::now())
    .fetch_one(&mut *held)
    .await
    .unwrap();
    CommitToken {
        transaction_id: u64::try_from(row.get::<i64, _>("transaction_id")).unwrap(),
        position: row.get("global_position"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_late_commit_is_delivered_exactly_once_and_in_order() {
    let (db, journal, store) = postgres().await;
    create_log(journal.pool()).await;
    let engine = start_engine(&store).await;
    let projections: Vec<Arc<dyn Projection>> = standard_projections()
        .into_iter()
        .map(|p| Arc::new(Recording::new(p)) as Arc<dyn Projection>)
        .collect();
    let config = RunnerConfig {
        batch_size: 50,
        ..RunnerConfig::default()
    };
    let service = ProjectionService::start(
        store.read.clone(),
        store.tail.clone(),
        store.vault.clone(),
        projections.clone(),
        config,
    )
    .await
    .unwrap();
    let handle = service.handle();
    let read = read_models(&store, &handle);

    // Some history, applied.
    let mut tenants = Vec::new();
    for _ in 0..3 {
        tenants.push(new_tenant(&engine).await.0);
    }
    caught_up(&handle).await;

    // A transaction takes its positions now and commits late.
    let mut held = PgConnection::connect(db.url()).await.unwrap();
    sqlx::query("BEGIN").execute(&mut held).await.unwrap();
    let late_tenant = TenantId::new_v7();
    let late_org = OrganizationId::new_v7();
    let created = TenantScopeEvent::Tenant(TenantEvent::TenantCreated {
        id: late_tenant,
        name: "Late Tenant".into(),
        slug: unique_slug("late"),
        kind: TenantKind::Consumer,
        plan: Plan::Silver,
        settings: TenantSettings::default(),
        products: vec![],
        business_profile: None,
        parent: None,
    });
    insert_event(&mut held, late_tenant, "tenant", late_tenant.0, &created).await;
    let org = TenantScopeEvent::Organization(OrganizationEvent::OrganizationCreated {
        id: late_org,
        name: "Late Org".into(),
        description: String::new(),
        parent_id: None,
    });
    let held_token = insert_event(&mut held, late_tenant, "organization", late_org.0, &org).await;

    // Watch every checkpoint while the transaction is open: none may pass it.
    let holding = Arc::new(AtomicBool::new(true));
    let violations = Arc::new(Mutex::new(Vec::new()));
    let watcher = {
        let (handle, holding, violations) = (handle.clone(), holding.clone(), violations.clone());
        tokio::spawn(async move {
            while holding.load(Ordering::Acquire) {
                for name in handle.names() {
                    let at = handle.checkpoint(&name).unwrap();
                    if at >= held_token && holding.load(Ordering::Acquire) {
                        violations.lock().unwrap().push((name, at));
                    }
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        })
    };

    // Many appends commit meanwhile, through the engine's normal path.
    let runs = (0..8).map(|i| {
        let engine = engine.clone();
        async move { run_tenant(&engine, 77 + i, 60).await }
    });
    for (tenant, outcome) in join_all(runs).await {
        assert!(outcome.accepted > 5);
        tenants.push(tenant);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Later positions were taken and committed, yet nothing at or after the held transaction
    // was applied.
    let newest: i64 = sqlx::query("SELECT max(global_position) AS m FROM events")
        .fetch_one(journal.pool())
        .await
        .unwrap()
        .get("m");
    assert!(
        newest > held_token.position + 100,
        "later appends did commit"
    );
    for status in handle.status().await {
        assert!(status.checkpoint < held_token, "{status:?}");
        assert!(status.events_behind.unwrap() > 0, "{status:?}");
    }
    let applied_after: i64 =
        sqlx::query("SELECT count(*) AS n FROM delivered WHERE transaction_id >= $1")
            .bind(i64::try_from(held_token.transaction_id).unwrap())
            .fetch_one(journal.pool())
            .await
            .unwrap()
            .get("n");
    assert_eq!(
        applied_after, 0,
        "events after the open transaction were applied"
    );
    let directory = read
        .list_tenants(&TenantFilter::default(), &PageRequest::first(500), None)
        .await
        .unwrap();
    assert!(directory.items.iter().all(|t| t.tenant_id != late_tenant));

    // Commit the held transaction: everything arrives.
    sqlx::query("COMMIT").execute(&mut held).await.unwrap();
    holding.store(false, Ordering::Release);
    caught_up(&handle).await;
    watcher.await.unwrap();
    assert!(
        violations.lock().unwrap().is_empty(),
        "checkpoints passed the open transaction: {:?}",
        violations.lock().unwrap()
    );

    let journal_events = opened_events(&store).await;
    assert!(journal_events.iter().any(|e| e.stream.id == late_org.0));
    assert_exactly_once_in_order(journal.pool(), &projections, &journal_events).await;

    tenants.push(late_tenant);
    let expected = expected::from_journal(&journal_events);
    let actual = expected::from_read_models(&read, &tenants, 100).await;
    expected::assert_same(&actual, &expected);
    let late = read
        .list_organizations(
            late_tenant,
            &Default::default(),
            &PageRequest::first(10),
            Some(held_token),
        )
        .await
        .unwrap();
    assert_eq!(
        late.items.iter().map(|o| o.id).collect::<Vec<_>>(),
        vec![late_org]
    );

    service.stop().await;
    engine.shutdown().await;
}
