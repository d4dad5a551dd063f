//! One tenant's append that the store refuses must not fail the appends of other tenants folded
//! into the same transaction (issue 12). A full group of 64 appends, one of them poisoned, goes
//! through a real `GroupCommitWriter` over each store: the 63 others are acknowledged and
//! committed, the poisoned one is refused and writes nothing.
//!
//! PostgreSQL runs in a fresh database of the server at `ENTITY_TEST_DATABASE_URL` (see
//! `scripts/test`), SQLite in a fresh file.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

#[path = "support/journal.rs"]
mod support;

use engine::{
    journal::{
        AppendBatch, AppendReceipt, EventLog, GroupCommitConfig, GroupCommitWriter, JournalError,
    },
    testing::TestDatabase,
};
use futures::future::join_all;
use serde_json::json;
use sqlx::{Connection, PgConnection};
use support::*;

/// Appends in the group.
const GROUP: usize = 64;

/// The poisoned one.
const POISONED: usize = 41;

/// Transactions for one poisoned batch among 64: the group, then both halves of each of 32, 16,
/// 8, 4, 2 and 1 batches.
const TRANSACTIONS: usize = 13;

/// Sends every batch to the writer before the writer task first runs (the test runtime has one
/// thread, and nothing here yields to it before all are queued), then waits for the answers.
async fn append_as_one_group(
    writer: &GroupCommitWriter,
    batches: &[AppendBatch],
) -> Vec<Result<AppendReceipt, JournalError>> {
    let mut appends: Vec<_> = batches
        .iter()
        .map(|b| Box::pin(writer.append(b.clone())))
        .collect();
    // Unconstrained: the task's cooperative budget must not hold a send back.
    tokio::task::unconstrained(async {
        for append in &mut appends {
            // Queues the batch, then waits for its answer.
            assert!(futures::poll!(append.as_mut()).is_pending());
        }
    })
    .await;
    join_all(appends).await
}

/// A tenant's two events and a unique key: what one command writes.
fn command(i: usize) -> AppendBatch {
    let (tenant_id, stream) = tenant();
    let mut batch = events(tenant_id, stream, 1..=2);
    batch
        .claims
        .push(claim(&format!("slug-{i}"), tenant_id.uuid(), None));
    batch
}

/// A payload with a NUL character, which PostgreSQL refuses in JSONB (SQLSTATE 22P05).
fn nul_in_payload(batch: &mut AppendBatch) {
    batch.events[1].payload = json!({ "name": "before\u{0}after" });
}

/// An empty event type, which both schemas refuse by CHECK constraint.
fn empty_event_type(batch: &mut AppendBatch) {
    batch.events[1].event_type = String::new();
}

/// Appends `GROUP` commands, the one at `POISONED` spoiled by `poison`, as one group through a
/// writer over `journal`; checks that only the poisoned one failed and wrote nothing.
async fn only_the_poisoned_append_fails<J: EventLog + Clone>(
    journal: &J,
    poison: fn(&mut AppendBatch),
) {
    let log = Observed::new(journal.clone());
    let config = GroupCommitConfig {
        max_batches: GROUP,
        ..GroupCommitConfig::default()
    };
    let writer = GroupCommitWriter::spawn(log.clone(), config);
    let mut batches: Vec<AppendBatch> = (0..GROUP).map(command).collect();
    poison(&mut batches[POISONED]);

    let results = append_as_one_group(&writer, &batches).await;

    let sizes = log.sizes();
    assert_eq!(sizes[0], GROUP, "the first transaction held every append");
    assert_eq!(sizes.len(), TRANSACTIONS, "transactions: {sizes:?}");
    for (i, (batch, result)) in batches.iter().zip(&results).enumerate() {
        let stream = batch.events[0].stream;
        let stored = journal.read_stream(stream, 0).await.unwrap();
        let key = journal
            .unique_claim("tenant-slug", &format!("slug-{i}"))
            .await
            .unwrap();
        if i == POISONED {
            let error = result.as_ref().unwrap_err();
            assert!(matches!(error, JournalError::Database(_)), "{error:?}");
            assert!(stored.is_empty(), "the refused append wrote {stored:?}");
            assert_eq!(key, None);
            continue;
        }
        let receipt = result
            .as_ref()
            .unwrap_or_else(|e| panic!("append {i} failed: {e:?}"));
        assert_eq!(stored.len(), 2, "append {i}");
        assert_eq!(
            (stored[0].position, stored[1].position),
            (receipt.first_position, receipt.last_position)
        );
        assert!(
            stored
                .iter()
                .all(|e| e.transaction_id == receipt.transaction_id)
        );
        assert_eq!(stored[1].payload, batch.events[1].payload);
        assert_eq!(key.map(|c| c.owner), Some(batch.claims[0].owner));
    }
    let all = journal.read_all(0, 1_000).await.unwrap();
    assert_eq!(all.len(), 2 * (GROUP - 1));
}

#[tokio::test]
async fn postgres_a_nul_in_a_payload_fails_only_its_own_append() {
    let db = TestDatabase::create().await;
    only_the_poisoned_append_fails(&db.journal().await, nul_in_payload).await;
}

#[tokio::test]
async fn postgres_a_check_violation_fails_only_its_own_append() {
    let db = TestDatabase::create().await;
    only_the_poisoned_append_fails(&db.journal().await, empty_event_type).await;
}

#[tokio::test]
async fn sqlite_a_check_violation_fails_only_its_own_append() {
    let dir = tempfile::tempdir().unwrap();
    let journal = engine::testing::sqlite_journal(dir.path()).await;
    only_the_poisoned_append_fails(&journal, empty_event_type).await;
}

/// The counterpart: an error with which the server ends the session (FATAL; here 55000, as the
/// pool reconnects to a database that takes no connections) could have cut a COMMIT short, so
/// the group is answered, not retried.
#[tokio::test]
async fn postgres_a_refused_session_fails_every_append_without_a_retry() {
    let db = TestDatabase::create().await;
    let journal = db.journal().await;
    let (name,): (String,) = sqlx::query_as("SELECT current_database()")
        .fetch_one(journal.pool())
        .await
        .unwrap();
    let admin_url = std::env::var(engine::testing::DATABASE_URL_VAR).unwrap();
    let mut admin = PgConnection::connect(&admin_url).await.unwrap();
    sqlx::raw_sql(&format!(
        "ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS false;
         SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity WHERE datname = '{name}';"
    ))
    .execute(&mut admin)
    .await
    .unwrap();
    admin.close().await.unwrap();

    let log = Observed::new(journal.clone());
    let writer = GroupCommitWriter::spawn(log.clone(), GroupCommitConfig::default());
    let batches: Vec<AppendBatch> = (0..8).map(command).collect();
    let results = append_as_one_group(&writer, &batches).await;

    for result in &results {
        assert!(
            matches!(result, Err(JournalError::Unavailable(_))),
            "{result:?}"
        );
    }
    assert_eq!(log.sizes(), vec![8]);
}
