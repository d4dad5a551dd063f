//! Crash mid-batch (PostgreSQL): a batch that fails halfway, or a runner killed halfway
//! through a batch, leaves every read model exactly consistent with the journal after a
//! restart — no duplicate (the delivery log shows each event once), no gap (every row
//! recomputed from the journal is there).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{sync::Arc, sync::atomic::Ordering, time::Duration};

use engine::journal::postgres::PostgresJournal;
use futures::future::join_all;
use projections::{Projection, ProjectionService, RunnerConfig, standard_projections};
use support::{
    recording::{Recording, assert_exactly_once_in_order, create_log},
    workload::run_tenant,
    *,
};

fn config() -> RunnerConfig {
    RunnerConfig {
        batch_size: 40,
        retry_initial: Duration::from_millis(20),
        retry_max: Duration::from_millis(200),
        ..RunnerConfig::default()
    }
}

fn wrapped(fail_batches: usize, stall: Option<Duration>) -> Vec<Arc<Recording>> {
    standard_projections()
        .into_iter()
        .map(|p| {
            let r = Recording::new(p);
            r.fail_batches.store(fail_batches, Ordering::Release);
            Arc::new(Recording { stall, ..r })
        })
        .collect()
}

fn as_projections(wrapped: &[Arc<Recording>]) -> Vec<Arc<dyn Projection>> {
    wrapped
        .iter()
        .map(|r| r.clone() as Arc<dyn Projection>)
        .collect()
}

async fn assert_consistent(
    store: &Store,
    journal: &PostgresJournal,
    read_tenants: &[engine::domain::TenantId],
    service: &ProjectionService,
) {
    let handle = service.handle();
    caught_up(&handle).await;
    let events = opened_events(store).await;
    assert_exactly_once_in_order(journal.pool(), &standard_projections(), &events).await;
    let expected = expected::from_journal(&events);
    let actual = expected::from_read_models(&read_models(store, &handle), read_tenants, 50).await;
    expected::assert_same(&actual, &expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn failing_halfway_through_batches_is_retried_never_skipped() {
    let (_db, journal, store) = postgres().await;
    create_log(journal.pool()).await;
    let engine = start_engine(&store).await;
    let runs = (0..4).map(|i| {
        let engine = engine.clone();
        async move { run_tenant(&engine, 300 + i, 150).await.0 }
    });
    let tenants = join_all(runs).await;

    // Every projection fails its first three batches after applying half of them.
    let projections = wrapped(3, None);
    let service = ProjectionService::start(
        store.read.clone(),
        store.tail.clone(),
        store.vault.clone(),
        as_projections(&projections),
        config(),
    )
    .await
    .unwrap();
    assert_consistent(&store, &journal, &tenants, &service).await;
    for status in service.handle().status().await {
        assert_eq!(status.failures, 3, "{status:?}");
        assert_eq!(status.consecutive_failures, 0, "{status:?}");
        assert!(status.last_error.is_none(), "{status:?}");
        assert_eq!(status.events_behind, Some(0), "{status:?}");
    }
    service.stop().await;
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killing_the_runner_mid_batch_and_restarting_loses_and_duplicates_nothing() {
    let (_db, journal, store) = postgres().await;
    create_log(journal.pool()).await;
    let engine = start_engine(&store).await;

    // A backlog, then more writes while the runner is killed and restarted several times.
    let runs = (0..6).map(|i| {
        let engine = engine.clone();
        async move { run_tenant(&engine, 500 + i, 120).await.0 }
    });
    let mut tenants = join_all(runs).await;
    let writes = {
        let engine = engine.clone();
        tokio::spawn(async move {
            let runs = (0..3).map(|i| {
                let engine = engine.clone();
                async move { run_tenant(&engine, 600 + i, 120).await.0 }
            });
            join_all(runs).await
        })
    };
    let mut killed_mid_batch = 0;
    for round in 0..6 {
        // Every batch stalls halfway (half applied, delivery logged, not committed): a kill
        // lands inside a batch.
        let projections = wrapped(0, Some(Duration::from_millis(60)));
        let service = ProjectionService::start(
            store.read.clone(),
            store.tail.clone(),
            store.vault.clone(),
            as_projections(&projections),
            config(),
        )
        .await
        .unwrap();
        tokio::time::sleep(Duration::from_millis(250 + 70 * round)).await;
        killed_mid_batch += projections
            .iter()
            .filter(|p| p.in_flight.load(Ordering::Acquire) > 0)
            .count();
        drop(service); // aborts every task mid-batch: the open transactions roll back
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tenants.extend(writes.await.unwrap());
    assert!(
        killed_mid_batch >= 4,
        "only {killed_mid_batch} kills landed inside a batch"
    );

    let head = store.tail.head().await.unwrap().unwrap();
    let behind = store
        .read
        .checkpoint("organizations")
        .await
        .unwrap()
        .unwrap();
    assert!(behind < head, "the kills left work to do");

    let projections = wrapped(0, None);
    let service = ProjectionService::start(
        store.read.clone(),
        store.tail.clone(),
        store.vault.clone(),
        as_projections(&projections),
        config(),
    )
    .await
    .unwrap();
    assert_consistent(&store, &journal, &tenants, &service).await;
    service.stop().await;
    engine.shutdown().await;
}
