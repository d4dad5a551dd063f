//! Fenced appends (DESIGN §5, PostgreSQL): an append carrying a shard lease commits only while
//! that exact lease (owner, epoch, unexpired) is held; a stale owner writes nothing, a takeover
//! waits for an append in flight, the group-commit writer isolates a fenced batch, and the
//! embedded store (one node, no leases) refuses fenced appends.
//! Needs `ENTITY_TEST_DATABASE_URL`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

#[path = "support/journal.rs"]
mod support;

use std::{sync::Arc, time::Duration};

use engine::journal::{
    AppendBatch, EventLog, Fence, GroupCommitConfig, GroupCommitWriter, JournalError,
};
use futures::future::join_all;
use support::*;

fn fence(shard: i32, owner: &str, epoch: i64) -> Option<Fence> {
    Some(Fence {
        shard,
        owner: owner.into(),
        epoch,
    })
}

fn fenced_batch(f: Option<Fence>) -> AppendBatch {
    let (t, s) = tenant();
    AppendBatch {
        fence: f,
        ..events(t, s, 1..=1)
    }
}

async fn lease(pool: &sqlx::PgPool, shard: i32, owner: &str, epoch: i64, valid_secs: i64) {
    sqlx::query(
        "INSERT INTO shard_leases (shard, owner, epoch, expires_at) \
         VALUES ($1, $2, $3, now() + make_interval(secs => $4)) \
         ON CONFLICT (shard) DO UPDATE SET owner = $2, epoch = $3, expires_at = EXCLUDED.expires_at",
    )
    .bind(shard)
    .bind(owner)
    .bind(epoch)
    .bind(valid_secs as f64)
    .execute(pool)
    .await
    .unwrap();
}

fn is_fenced(result: &Result<impl std::fmt::Debug, JournalError>, shard: i32) -> bool {
    matches!(result, Err(JournalError::Fenced { shard: s, .. }) if *s == shard)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_current_lease_holder_writes() {
    let db = engine::testing::TestDatabase::create().await;
    let j = db.journal().await;
    lease(j.pool(), 7, "node-a", 1, 60).await;

    j.append(&[fenced_batch(fence(7, "node-a", 1))])
        .await
        .unwrap();
    for stale in [
        fence(7, "node-a", 0),
        fence(7, "node-b", 1),
        fence(8, "node-a", 1),
    ] {
        let shard = stale.as_ref().unwrap().shard;
        let result = j.append(&[fenced_batch(stale)]).await;
        assert!(is_fenced(&result, shard), "{result:?}");
    }
    // A batch with a good and a stale fence is refused whole: one transaction.
    let result = j
        .append(&[
            fenced_batch(fence(7, "node-a", 1)),
            fenced_batch(fence(7, "node-b", 2)),
        ])
        .await;
    assert!(is_fenced(&result, 7), "{result:?}");
    assert_eq!(j.read_all(0, 100).await.unwrap().len(), 1);

    // Taken over: the old owner is fenced off, the new one writes.
    lease(j.pool(), 7, "node-b", 2, 60).await;
    let result = j.append(&[fenced_batch(fence(7, "node-a", 1))]).await;
    assert!(is_fenced(&result, 7), "{result:?}");
    j.append(&[fenced_batch(fence(7, "node-b", 2))])
        .await
        .unwrap();

    // Expired: even its holder may not write.
    lease(j.pool(), 7, "node-b", 2, -1).await;
    let result = j.append(&[fenced_batch(fence(7, "node-b", 2))]).await;
    assert!(is_fenced(&result, 7), "{result:?}");
    assert_eq!(j.read_all(0, 100).await.unwrap().len(), 2);
}

/// A takeover that starts while a fenced append is in flight waits for it (the append holds
/// the lease row FOR SHARE), so the old owner's last write lands before the new owner starts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_takeover_waits_for_the_append_in_flight() {
    let db = engine::testing::TestDatabase::create().await;
    let j = db.journal().await;
    lease(j.pool(), 3, "node-a", 1, 60).await;
    // The appender's transaction locks the lease as an append does, and stays open.
    let mut appender = j.pool().begin().await.unwrap();
    let held: Vec<i32> = sqlx::query_scalar(
        "SELECT shard FROM shard_leases WHERE shard = 3 AND owner = 'node-a' AND epoch = 1 \
         AND expires_at > clock_timestamp() FOR SHARE",
    )
    .fetch_all(&mut *appender)
    .await
    .unwrap();
    assert_eq!(held, [3]);

    let takeover = tokio::spawn({
        let pool = j.pool().clone();
        async move {
            sqlx::query("UPDATE shard_leases SET owner = 'node-b', epoch = 2 WHERE shard = 3")
                .execute(&pool)
                .await
                .unwrap();
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!takeover.is_finished(), "the takeover must wait");
    appender.commit().await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), takeover)
        .await
        .expect("the takeover proceeds once the append is done")
        .unwrap();
    let result = j.append(&[fenced_batch(fence(3, "node-a", 1))]).await;
    assert!(is_fenced(&result, 3), "{result:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_group_writer_isolates_a_fenced_batch() {
    let db = engine::testing::TestDatabase::create().await;
    let j = db.journal().await;
    lease(j.pool(), 1, "node-a", 5, 60).await;
    let writer = GroupCommitWriter::spawn(Arc::new(j.clone()), GroupCommitConfig::default());
    let batches: Vec<_> = (0..20)
        .map(|i| {
            if i == 11 {
                fenced_batch(fence(1, "node-a", 4))
            } else if i % 2 == 0 {
                fenced_batch(fence(1, "node-a", 5))
            } else {
                fenced_batch(None)
            }
        })
        .collect();
    let results = join_all(batches.into_iter().map(|b| writer.append(b))).await;
    for (i, result) in results.iter().enumerate() {
        if i == 11 {
            assert!(is_fenced(result, 1), "{result:?}");
        } else {
            assert!(result.is_ok(), "append {i}: {result:?}");
        }
    }
    assert_eq!(j.read_all(0, 100).await.unwrap().len(), 19);
}

#[tokio::test]
async fn the_embedded_store_refuses_fenced_appends() {
    let dir = tempfile::tempdir().unwrap();
    let j = engine::testing::sqlite_journal(dir.path()).await;
    let result = j.append(&[fenced_batch(fence(0, "node-a", 1))]).await;
    assert!(is_fenced(&result, 0), "{result:?}");
    assert!(j.read_all(0, 10).await.unwrap().is_empty());
}
