//! Rebuild: after a randomized workload of thousands of commands through `Engine` with the
//! projections running, every read model equals the one recomputed from the journal, and a
//! projection rebuilt from zero (while the service runs, and again at rest) equals the
//! incrementally built one row for row. PostgreSQL and SQLite.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Instant;

use engine::{domain::TenantId, runtime::Engine};
use futures::future::join_all;
use support::{workload::run_tenant, *};

/// Runs `tenants` tenants of `commands` random commands each, concurrently.
async fn workload(engine: &Engine, seed: u64, tenants: usize, commands: usize) -> Vec<TenantId> {
    let runs = (0..tenants).map(|i| {
        let engine = engine.clone();
        async move { run_tenant(&engine, seed * 1_000 + i as u64, commands).await }
    });
    let results = join_all(runs).await;
    let accepted: usize = results.iter().map(|(_, o)| o.accepted).sum();
    let refused: usize = results.iter().map(|(_, o)| o.refused).sum();
    println!("workload: {accepted} commands accepted, {refused} refused");
    assert!(
        accepted > tenants * commands / 3,
        "too few commands accepted"
    );
    results.into_iter().map(|(t, _)| t).collect()
}

async fn rebuild_matches(store: Store, tenants: usize, commands: usize) {
    let engine = start_engine(&store).await;
    let service = start_projections(&store).await;
    let handle = service.handle();
    let read = read_models(&store, &handle);

    let started = Instant::now();
    let mut all_tenants = workload(&engine, 1, tenants, commands).await;
    println!("phase 1 took {:?}", started.elapsed());

    // Rebuild every projection from zero while more commands run.
    let more = {
        let engine = engine.clone();
        tokio::spawn(async move { workload(&engine, 2, 2, commands / 2).await })
    };
    for name in handle.names() {
        handle.rebuild(&name).await.unwrap();
    }
    all_tenants.extend(more.await.unwrap());
    caught_up(&handle).await;

    let expected = expected::from_journal(&opened_events(&store).await);
    assert!(expected.organizations.len() > tenants * 5);
    assert!(expected.users.len() > tenants * 5);
    assert!(!expected.members.is_empty() && !expected.assignments.is_empty());
    let actual = expected::from_read_models(&read, &all_tenants, 37).await;
    expected::assert_same(&actual, &expected);

    // At rest: a copy, then a rebuild from zero of each projection, then row-for-row equality.
    let before = dump(&store.read).await;
    for name in handle.names() {
        handle.rebuild(&name).await.unwrap();
    }
    caught_up(&handle).await;
    let after = dump(&store.read).await;
    for (table, rows) in &before {
        assert!(!rows.is_empty(), "{table} is empty");
        assert_eq!(rows, &after[table], "{table} differs after the rebuild");
    }
    for status in handle.status().await {
        assert_eq!(status.events_behind, Some(0), "{status:?}");
        assert_eq!(status.consecutive_failures, 0, "{status:?}");
    }
    service.stop().await;
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_rebuild_equals_incremental() {
    let (_db, _journal, store) = postgres().await;
    rebuild_matches(store, 12, 250).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_rebuild_equals_incremental() {
    let dir = tempfile::tempdir().unwrap();
    let (_journal, store) = sqlite(dir.path()).await;
    rebuild_matches(store, 8, 250).await;
}
