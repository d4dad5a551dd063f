//! The journal tail's contract (`engine::journal::tail::JournalTail`) on both stores: strictly
//! after the token, in (transaction, position) order, within the limit; `count_after`,
//! `head` and `locate`. PostgreSQL also: nothing from transactions at or above the oldest one
//! still running.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;

use chrono::Utc;
use engine::{
    domain::{StreamId, StreamKind, TenantId},
    journal::{AppendBatch, CommitToken, EventLog, EventMetadata, NewEvent, tail::JournalTail},
};
use sqlx::Connection;
use support::*;

const ORIGIN: CommitToken = CommitToken {
    transaction_id: 0,
    position: 0,
};

fn batch(stream: StreamId, sequences: std::ops::RangeInclusive<i64>) -> AppendBatch {
    AppendBatch {
        events: sequences
            .map(|sequence| NewEvent {
                tenant_id: TenantId(stream.id),
                stream,
                sequence,
                event_type: "TenantReactivated".into(),
                schema_version: 1,
                payload: serde_json::json!({ "type": "TenantReactivated" }),
                metadata: EventMetadata::default(),
                recorded_at: Utc::now(),
            })
            .collect(),
        ..AppendBatch::default()
    }
}

/// Waits until at least `n` events are below the xid horizon. The horizon is cluster-wide in
/// PostgreSQL: a transaction open in any database (another test's, running in parallel) holds
/// it back for a while, which is exactly the tail's contract, so tests wait for it instead of
/// assuming it has passed. Bounded; not a timing assertion.
async fn wait_visible(tail: &dyn JournalTail, n: usize) {
    for _ in 0..600 {
        if tail.read_committed(ORIGIN, 1000).await.unwrap().len() >= n {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{n} committed events never became visible below the horizon");
}

async fn contract(log: Arc<dyn EventLog>, tail: Arc<dyn JournalTail>) {
    assert!(tail.head().await.unwrap().is_none());
    assert!(tail.read_committed(ORIGIN, 10).await.unwrap().is_empty());
    let a = StreamId::new(StreamKind::Tenant, uuid::Uuid::now_v7());
    let b = StreamId::new(StreamKind::Tenant, uuid::Uuid::now_v7());
    let first = log
        .append(&[batch(a, 1..=3), batch(b, 1..=2)])
        .await
        .unwrap();
    let second = log.append(&[batch(a, 4..=5)]).await.unwrap();
    assert!(second[0].transaction_id > first[0].transaction_id);

    wait_visible(tail.as_ref(), 7).await;
    let all = tail.read_committed(ORIGIN, 100).await.unwrap();
    assert_eq!(all.len(), 7);
    let keys: Vec<(u64, i64)> = all.iter().map(|e| (e.transaction_id, e.position)).collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "ascending: {keys:?}");
    assert_eq!(tail.head().await.unwrap(), Some(second[0].token()));

    // Strictly after, and within the limit.
    let page = tail.read_committed(first[0].token(), 100).await.unwrap();
    assert_eq!(
        page.len(),
        4,
        "b's events share a's transaction but follow its position"
    );
    let page = tail.read_committed(first[1].token(), 1).await.unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].sequence, 4);
    assert!(
        tail.read_committed(second[0].token(), 100)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(tail.read_committed(ORIGIN, 0).await.unwrap().is_empty());

    assert_eq!(tail.count_after(ORIGIN, 100).await.unwrap(), 7);
    assert_eq!(tail.count_after(ORIGIN, 3).await.unwrap(), 3);
    assert_eq!(tail.count_after(first[1].token(), 100).await.unwrap(), 2);

    let found = tail
        .locate(&[(a.id, 2), (b.id, 3), (a.id, 5)])
        .await
        .unwrap();
    assert_eq!(
        found[0].map(|t| t.transaction_id),
        Some(first[0].transaction_id)
    );
    assert_eq!(found[1], None);
    assert_eq!(found[2], Some(second[0].token()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_tail_contract() {
    let (_db, journal, _store) = postgres().await;
    contract(journal.clone(), journal).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_tail_contract() {
    let dir = tempfile::tempdir().unwrap();
    let (journal, _store) = sqlite(dir.path()).await;
    contract(journal.clone(), journal).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_tail_stops_below_the_oldest_running_transaction() {
    let (db, journal, _store) = postgres().await;
    let a = StreamId::new(StreamKind::Tenant, uuid::Uuid::now_v7());
    let before = journal.append(&[batch(a, 1..=1)]).await.unwrap();

    // Any transaction with an id, even one that writes nothing to `events`, holds the tail.
    let mut open = sqlx::PgConnection::connect(db.url()).await.unwrap();
    sqlx::query("BEGIN").execute(&mut open).await.unwrap();
    sqlx::query("SELECT pg_current_xact_id()")
        .execute(&mut open)
        .await
        .unwrap();
    let after = journal.append(&[batch(a, 2..=2)]).await.unwrap();

    wait_visible(journal.as_ref(), 1).await;
    let seen = journal.read_committed(ORIGIN, 100).await.unwrap();
    assert_eq!(seen.len(), 1, "only the transaction before the open one");
    assert_eq!(seen[0].position, before[0].last_position);
    assert_eq!(
        journal.count_after(before[0].token(), 100).await.unwrap(),
        1
    );
    assert_eq!(journal.head().await.unwrap(), Some(after[0].token()));

    sqlx::query("ROLLBACK").execute(&mut open).await.unwrap();
    wait_visible(journal.as_ref(), 2).await;
    let seen = journal.read_committed(ORIGIN, 100).await.unwrap();
    assert_eq!(seen.len(), 2);
}
