//! The shared batch (issue 14): the read models that stand at the same checkpoint apply each
//! batch in one transaction. Rebuilding one of them, in this process and from another one
//! (`reset_named`, what `entityd projections rebuild` does while a node serves), must move only
//! that one's checkpoint back: the others keep theirs (their stored checkpoints never go back),
//! the rebuilt ones catch up on their own, rejoin, and reads with a consistency token succeed.
//! PostgreSQL and SQLite.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{
    collections::HashMap,
    sync::{Arc, atomic::Ordering},
    time::Duration,
};

use engine::journal::CommitToken;
use projections::{
    Projection, ProjectionService, ReadModels, RunnerConfig, reset_named, standard_projections,
};
use support::*;

/// The stored checkpoint of every projection.
async fn stored(store: &Store, names: &[String]) -> HashMap<String, CommitToken> {
    let mut all = HashMap::new();
    for name in names {
        let at = store.read.checkpoint(name).await.unwrap().unwrap();
        all.insert(name.clone(), at);
    }
    all
}

/// A command; returns its consistency token.
async fn write(engine: &engine::runtime::Engine) -> CommitToken {
    new_tenant(engine).await.1.token
}

async fn others_keep_their_checkpoints(store: Store) {
    let engine = start_engine(&store).await;
    // Idle loops poll rarely: a rebuilt read model that catches up at once then rejoins while
    // the shared loop sleeps (it used to be listed twice, and the shared loop deadlocked).
    let config = RunnerConfig {
        idle_poll: Duration::from_millis(400),
        ..RunnerConfig::default()
    };
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
    let read: ReadModels = read_models(&store, &handle);
    let names = handle.names();
    for _ in 0..20 {
        write(&engine).await;
    }
    caught_up(&handle).await;
    let before = stored(&store, &names).await;

    handle.rebuild("users").await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    reset_named(&store.read, &standard_projections(), "role_assignments")
        .await
        .unwrap();
    // While the two catch up and more commands arrive, no other checkpoint ever goes back.
    let mut last = before.clone();
    for _ in 0..40 {
        write(&engine).await;
        let now = stored(&store, &names).await;
        for name in &names {
            if name != "users" && name != "role_assignments" {
                assert!(
                    now[name] >= last[name],
                    "{name} went back from {} to {}",
                    last[name],
                    now[name]
                );
            }
        }
        last = now;
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    // Every read model reaches a new write's token, the rebuilt ones included.
    let token = write(&engine).await;
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    read.ensure_consistent(&refs, Some(token)).await.unwrap();
    caught_up(&handle).await;
    for status in handle.status().await {
        assert_eq!(status.events_behind, Some(0), "{status:?}");
        assert_eq!(status.consecutive_failures, 0, "{status:?}");
    }
    let after = stored(&store, &names).await;
    for name in &names {
        assert!(after[name] >= token, "{name} at {}", after[name]);
    }
    service.stop().await;
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_rebuilding_one_read_model_leaves_the_others_checkpoints() {
    let (_db, _journal, store) = postgres().await;
    others_keep_their_checkpoints(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_rebuilding_one_read_model_leaves_the_others_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let (_journal, store) = sqlite(dir.path()).await;
    others_keep_their_checkpoints(store).await;
}

/// One read model that cannot apply its batches (a poison it keeps failing on) leaves the
/// shared batch: the others keep applying and reach every new write, while it retries on its
/// own and never skips.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_read_model_does_not_hold_back_the_others() {
    let (_db, journal, store) = postgres().await;
    support::recording::create_log(journal.pool()).await;
    let engine = start_engine(&store).await;
    let projections: Vec<Arc<dyn Projection>> = standard_projections()
        .into_iter()
        .map(|p| {
            let failing = p.name() == "users";
            let recording = support::recording::Recording::new(p);
            if failing {
                recording.fail_batches.store(usize::MAX, Ordering::Release);
            }
            Arc::new(recording) as Arc<dyn Projection>
        })
        .collect();
    let config = RunnerConfig {
        retry_initial: Duration::from_millis(20),
        retry_max: Duration::from_millis(100),
        ..RunnerConfig::default()
    };
    let service = ProjectionService::start(
        store.read.clone(),
        store.tail.clone(),
        store.vault.clone(),
        projections,
        config,
    )
    .await
    .unwrap();
    let handle = service.handle();
    let mut token = write(&engine).await;
    for _ in 0..30 {
        token = write(&engine).await;
    }
    for name in handle.names().iter().filter(|n| *n != "users") {
        handle
            .wait_for(name, token, Duration::from_secs(10))
            .await
            .unwrap_or_else(|e| panic!("{name} held back: {e}"));
    }
    let users = handle
        .status()
        .await
        .into_iter()
        .find(|s| s.name == "users")
        .unwrap();
    assert!(users.consecutive_failures > 0, "{users:?}");
    assert!(users.checkpoint < token, "{users:?}");
    service.stop().await;
    engine.shutdown().await;
}
