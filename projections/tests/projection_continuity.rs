//! Per-stream continuity (PostgreSQL): a stream whose sequence jumps (an event missing from
//! the journal) stops the projections at the gap, loudly — reported in `status()` with a
//! failure count and the error — and nothing after it is applied or skipped.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use chrono::Utc;
use engine::{
    domain::{Plan, TenantEvent, TenantId, TenantKind, TenantScopeEvent, TenantSettings},
    journal::{CommitToken, EventMetadata},
};
use projections::{ProjectionService, RunnerConfig, standard_projections};
use sqlx::Row;
use support::*;

async fn raw_append(
    pool: &sqlx::PgPool,
    tenant: TenantId,
    sequence: i64,
    event: &TenantScopeEvent,
) -> CommitToken {
    let row = sqlx::query(
        "INSERT INTO events (tenant_id, stream_type, stream_id, sequence, event_type,
                             schema_version, payload, metadata, recorded_at)
         VALUES ($1, 'tenant', $1, $2, $3, 1, $4, $5, $6)
         RETURNING global_position, transaction_id::text::bigint AS transaction_id",
    )
    .bind(tenant.0)
    .bind(sequence)
    .bind(event.event_type())
    .bind(serde_json::to_value(event).unwrap())
    .bind(serde_json::to_value(EventMetadata::default()).unwrap())
    .bind(Utc::now())
    .fetch_one(pool)
    .await
    .unwrap();
    CommitToken {
        transaction_id: u64::try_from(row.get::<i64, _>("transaction_id")).unwrap(),
        position: row.get("global_position"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gap_in_a_stream_stops_the_projection_loudly() {
    let (_db, journal, store) = postgres().await;
    let config = RunnerConfig {
        retry_initial: Duration::from_millis(10),
        retry_max: Duration::from_millis(50),
        ..RunnerConfig::default()
    };
    let tenant = TenantId::new_v7();
    let created = TenantScopeEvent::Tenant(TenantEvent::TenantCreated {
        id: tenant,
        name: "Gappy".into(),
        slug: unique_slug("gap"),
        kind: TenantKind::Business,
        plan: Plan::Gold,
        settings: TenantSettings::default(),
        products: vec![],
        business_profile: None,
        parent: None,
    });
    let first = raw_append(journal.pool(), tenant, 1, &created).await;
    // Sequence 2 never written: 3 follows 1. Both are in the journal before the runner
    // starts, so every projection reads them in one batch and must apply exactly the part
    // before the gap.
    let renamed = TenantScopeEvent::Tenant(TenantEvent::TenantPlanChanged {
        from: Plan::Gold,
        to: Plan::Silver,
    });
    let gap = raw_append(journal.pool(), tenant, 3, &renamed).await;

    let service = ProjectionService::start(
        store.read.clone(),
        store.tail.clone(),
        store.vault.clone(),
        standard_projections(),
        config,
    )
    .await
    .unwrap();
    let handle = service.handle();

    for status in handle.status().await {
        handle
            .wait_for(&status.name, first, Duration::from_secs(10))
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(400)).await;

    for status in handle.status().await {
        assert_eq!(status.checkpoint, first, "{status:?}");
        assert!(status.consecutive_failures >= 2, "{status:?}");
        let error = status.last_error.clone().unwrap();
        assert!(error.contains("jumps from sequence 1 to 3"), "{error}");
    }
    let waited = handle
        .wait_for("tenant_directory", gap, Duration::from_millis(100))
        .await
        .unwrap_err()
        .to_string();
    assert!(waited.contains("jumps from sequence 1 to 3"), "{waited}");

    // A restarted runner (no memory of the stream) refuses it too.
    drop(service);
    let service = start_projections(&store).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let status = service
        .handle()
        .status_of("tenant_directory")
        .await
        .unwrap();
    assert_eq!(status.checkpoint, first);
    assert!(status.failures > 0, "{status:?}");
    service.stop().await;
}
