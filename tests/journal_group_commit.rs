//! Group commit with several group transactions in flight at once (issue 14), over the real
//! stores. Callers behave like entity actors (one stream each, the next append once the previous
//! is answered), some of their appends refused by the store (a CHECK violation: narrowed down)
//! or conflicting (a misplaced sequence: named by the store). Checked:
//!
//! - every caller gets its own answer: a receipt for exactly its own events (positions and
//!   transaction read back), the refusal for its refused append, which wrote nothing;
//! - a reader following the gap-safe tail *while* the groups commit, checkpointing after every
//!   small page, sees every committed event exactly once, in `(transaction, position)` order and
//!   each stream in sequence order, although concurrent transactions commit out of order;
//! - a unique key claimed by concurrent transactions goes to exactly one of them.
//!
//! PostgreSQL runs in a fresh database of the server at `ENTITY_TEST_DATABASE_URL` (see
//! `scripts/test`), SQLite in a fresh file (it serializes its writes: the writer keeps one
//! group in flight there whatever it is asked for).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

#[path = "support/journal.rs"]
mod support;

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
    time::{Duration, Instant},
};

use engine::{
    domain::StreamId,
    journal::{
        AppendBatch, AppendReceipt, CommitToken, EventLog, GroupCommitConfig, GroupCommitWriter,
        JournalError, RecordedEvent, postgres::PostgresJournal, tail::JournalTail,
    },
    testing::{TestDatabase, sqlite_journal},
};
use futures::future::join_all;
use support::*;
use uuid::Uuid;

/// Concurrent callers (entity actors), one stream each.
const CALLERS: usize = 24;
/// Appends per caller, one after the other.
const ROUNDS: usize = 8;
/// Events per append.
const EVENTS: i64 = 2;

/// What a caller does in a round.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Plan {
    /// Its next events.
    Append,
    /// Its next events, one with an empty event type (both schemas refuse it by CHECK, an error
    /// that names no batch: the group is narrowed down).
    Poisoned,
    /// Events that skip a sequence (the store names the stream: a conflict).
    Misplaced,
}

fn plan(caller: usize, round: usize) -> Plan {
    match (caller % 6, round) {
        (1, r) if r == caller % ROUNDS => Plan::Poisoned,
        (4, 3) => Plan::Misplaced,
        _ => Plan::Append,
    }
}

/// Events the load commits.
fn expected_events() -> usize {
    let appends = (0..CALLERS)
        .flat_map(|c| (0..ROUNDS).map(move |r| plan(c, r)))
        .filter(|p| *p == Plan::Append)
        .count();
    appends * EVENTS as usize
}

/// One caller: `ROUNDS` appends to its own stream, each sent once the previous is answered.
/// Returns its stream and the batches that committed with their receipts.
async fn caller(
    writer: GroupCommitWriter,
    index: usize,
) -> (StreamId, Vec<(AppendBatch, AppendReceipt)>) {
    let (tenant_id, stream) = tenant();
    let mut next = 1;
    let mut committed = Vec::new();
    for round in 0..ROUNDS {
        let plan = plan(index, round);
        let mut batch = match plan {
            Plan::Misplaced => events(tenant_id, stream, next + 1..=next + EVENTS),
            _ => events(tenant_id, stream, next..=next + EVENTS - 1),
        };
        if plan == Plan::Poisoned {
            batch.events[1].event_type = String::new();
        }
        let result = writer.append(batch.clone()).await;
        match (plan, result) {
            (Plan::Append, Ok(receipt)) => {
                committed.push((batch, receipt));
                next += EVENTS;
            }
            (Plan::Poisoned, Err(JournalError::Database(_))) => {}
            (Plan::Misplaced, Err(JournalError::StreamConflict { stream: s, .. })) => {
                assert_eq!(s, stream, "caller {index}: a conflict on another stream");
            }
            (plan, result) => panic!("caller {index}, round {round}, {plan:?}: {result:?}"),
        }
    }
    (stream, committed)
}

/// Follows the tail from the start, in pages of 7 events, until it has seen `expected` events
/// (failing after a minute); checks the order of what it gets as it goes.
async fn follow_tail<T: JournalTail>(tail: T, expected: usize) -> Vec<RecordedEvent> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut after = CommitToken {
        transaction_id: 0,
        position: 0,
    };
    let mut heads: HashMap<StreamId, i64> = HashMap::new();
    let mut seen = Vec::new();
    while seen.len() < expected {
        let page = tail.read_committed(after, 7).await.unwrap();
        if page.is_empty() {
            assert!(
                Instant::now() < deadline,
                "the tail stopped at {} of {expected} events",
                seen.len()
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
            continue;
        }
        for event in page {
            let token = CommitToken {
                transaction_id: event.transaction_id,
                position: event.position,
            };
            assert!(token > after, "{token} returned after {after}");
            after = token;
            let head = heads.entry(event.stream).or_insert(0);
            assert_eq!(
                event.sequence,
                *head + 1,
                "stream {} out of order or with a gap",
                event.stream
            );
            *head = event.sequence;
            seen.push(event);
        }
    }
    assert!(
        tail.read_committed(after, 7).await.unwrap().is_empty(),
        "more events than committed"
    );
    seen
}

/// Runs the callers through a writer with `config` over `journal` while a reader follows the
/// tail; checks every answer and what the reader saw. Returns the most transactions that ran at
/// once.
async fn concurrent_load<J>(journal: J, config: GroupCommitConfig) -> usize
where
    J: EventLog + JournalTail + Clone,
{
    let log = Observed::new(journal.clone());
    let writer = GroupCommitWriter::spawn(log.clone(), config);
    let reader = tokio::spawn(follow_tail(journal.clone(), expected_events()));
    let callers = (0..CALLERS).map(|i| tokio::spawn(caller(writer.clone(), i)));
    let callers: Vec<_> = join_all(callers)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let tailed = reader.await.unwrap();

    // Each caller's receipts name exactly its own events, and its stream holds nothing else.
    for (stream, committed) in &callers {
        let stored = journal.read_stream(*stream, 0).await.unwrap();
        assert_eq!(
            stored.len(),
            committed.len() * EVENTS as usize,
            "stream {stream}"
        );
        for ((batch, receipt), events) in committed.iter().zip(stored.chunks(EVENTS as usize)) {
            assert_eq!(events[0].position, receipt.first_position);
            assert_eq!(events[events.len() - 1].position, receipt.last_position);
            for (event, sent) in events.iter().zip(&batch.events) {
                assert_eq!(event.transaction_id, receipt.transaction_id);
                assert_eq!(
                    (event.sequence, &event.event_type, &event.payload),
                    (sent.sequence, &sent.event_type, &sent.payload)
                );
            }
        }
    }
    // The tail saw exactly the committed events, once each.
    let committed: HashSet<(StreamId, i64)> = callers
        .iter()
        .flat_map(|(_, c)| c.iter().flat_map(|(b, _)| &b.events))
        .map(|e| (e.stream, e.sequence))
        .collect();
    let tailed_keys: HashSet<(StreamId, i64)> =
        tailed.iter().map(|e| (e.stream, e.sequence)).collect();
    assert_eq!(tailed_keys.len(), tailed.len(), "an event seen twice");
    assert_eq!(tailed_keys, committed);
    log.most_at_once()
}

/// Makes every append transaction of this test database wait up to 3 ms after inserting its
/// events (after taking their positions) before it goes on to COMMIT, so that concurrent groups
/// commit out of position order even on a server without fsync: the case the gap-safe tail is
/// for (a reader following positions alone skips events here).
async fn slow_commits(journal: &PostgresJournal) {
    sqlx::raw_sql(
        "CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS
             $$ BEGIN PERFORM pg_sleep(random() * 0.003); RETURN NULL; END $$;
         CREATE TRIGGER slow_commit AFTER INSERT ON events
             FOR EACH STATEMENT EXECUTE FUNCTION slow_commit();",
    )
    .execute(journal.pool())
    .await
    .unwrap();
}

/// Several slots: transactions overlap (on PostgreSQL).
fn several_slots() -> GroupCommitConfig {
    GroupCommitConfig {
        max_in_flight_groups: 4,
        // Small groups, so that there are many of them.
        max_batches: 4,
        ..GroupCommitConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_concurrent_groups_answer_each_caller_and_keep_the_tail_gap_free() {
    let db = TestDatabase::create().await;
    let journal = db.journal().await;
    slow_commits(&journal).await;
    let most = concurrent_load(journal, several_slots()).await;
    assert!(most > 1, "no two group transactions overlapped");
    assert!(most <= 4, "{most} transactions in flight");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_the_default_group_writer_answers_each_caller_and_keeps_the_tail_gap_free() {
    let db = TestDatabase::create().await;
    let journal = db.journal().await;
    slow_commits(&journal).await;
    concurrent_load(journal, GroupCommitConfig::default()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_the_serial_group_writer_runs_one_transaction_at_a_time() {
    let db = TestDatabase::create().await;
    let config = GroupCommitConfig {
        max_batches: 4,
        ..GroupCommitConfig::serial()
    };
    assert_eq!(concurrent_load(db.journal().await, config).await, 1);
}

/// SQLite serializes its writes: asked for several slots, the writer keeps one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_groups_run_one_at_a_time_and_answer_each_caller() {
    let dir = tempfile::tempdir().unwrap();
    let most = concurrent_load(sqlite_journal(dir.path()).await, several_slots()).await;
    assert_eq!(most, 1);
}

/// `CONTENDERS` callers claim one key at once, in groups of two, four groups in flight: exactly
/// one gets it, every other gets a unique violation and writes nothing.
async fn one_contended_key_has_one_winner<J: EventLog + Clone>(journal: J) {
    const CONTENDERS: usize = 16;
    let config = GroupCommitConfig {
        max_batches: 2,
        max_in_flight_groups: 4,
        ..GroupCommitConfig::default()
    };
    let writer = GroupCommitWriter::spawn(Arc::new(journal.clone()), config);
    let key = format!("contended-{}", Uuid::now_v7().simple());
    let batches: Vec<AppendBatch> = (0..CONTENDERS)
        .map(|_| {
            let (tenant_id, stream) = tenant();
            let mut batch = events(tenant_id, stream, 1..=1);
            batch.claims.push(claim(&key, tenant_id.uuid(), None));
            batch
        })
        .collect();
    let calls = batches.iter().cloned().map(|b| {
        let writer = writer.clone();
        tokio::spawn(async move { writer.append(b).await })
    });
    let results: Vec<_> = join_all(calls)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();

    let winners: Vec<usize> = (0..CONTENDERS).filter(|i| results[*i].is_ok()).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    let holder = journal.unique_claim("tenant-slug", &key).await.unwrap();
    assert_eq!(
        holder.map(|c| c.owner),
        Some(batches[winners[0]].claims[0].owner)
    );
    for (batch, result) in batches.iter().zip(&results) {
        let stored = journal
            .read_stream(batch.events[0].stream, 0)
            .await
            .unwrap();
        match result {
            Ok(_) => assert_eq!(stored.len(), 1),
            Err(JournalError::UniqueViolation { key: k, .. }) => {
                assert_eq!(k, &key);
                assert!(stored.is_empty(), "a refused claim wrote {stored:?}");
            }
            Err(error) => panic!("{error:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_key_claimed_by_concurrent_groups_has_one_winner() {
    let db = TestDatabase::create().await;
    one_contended_key_has_one_winner(db.journal().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_key_claimed_by_concurrent_groups_has_one_winner() {
    let dir = tempfile::tempdir().unwrap();
    one_contended_key_has_one_winner(sqlite_journal(dir.path()).await).await;
}
