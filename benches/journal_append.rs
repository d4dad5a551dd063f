//! Journal append with group commit against a raw multi-row INSERT of the same rows into the
//! same PostgreSQL, in the same run. Run: `cargo bench --bench journal_append` (needs
//! `ENTITY_TEST_DATABASE_URL`, see `scripts/bench`).
//!
//! Per iteration, `n` commands of 2 events each (new user streams, ~350-byte payloads):
//!
//! - `group_commit/n`: `n` concurrent callers of `GroupCommitWriter::append`, one batch each;
//!   the writer folds what is queued into transactions (the node's real write path).
//! - `journal_direct/n`: one `PostgresJournal::append` of all `n` batches (one transaction:
//!   UNNEST insert with the stream-head check, `RETURNING`), no writer task.
//! - `baseline/raw_insert/n`: one plain `INSERT … VALUES` of the same `2n` rows into
//!   `raw_events`, a copy of `events` with the same columns, constraints and indexes.
//!
//! The figure is the ratio of throughputs, raw INSERT time / group-commit time (target ≥ 0.6).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use std::sync::Arc;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use engine::{
    journal::{EventLog, GroupCommitConfig, GroupCommitWriter},
    testing::TestDatabase,
};

const EVENTS_PER_COMMAND: usize = 2;

fn bench(c: &mut Criterion) {
    let runtime = support::runtime();
    let (db, journal) = runtime.block_on(async {
        let db = TestDatabase::create().await;
        let journal = db.journal().await;
        support::create_raw_table(journal.pool()).await;
        (db, journal)
    });
    let writer = runtime.block_on(async {
        GroupCommitWriter::spawn(
            Arc::new(journal.clone()) as Arc<dyn EventLog>,
            GroupCommitConfig::default(),
        )
    });

    let mut group = c.benchmark_group("journal_append");
    // An iteration takes up to tens of milliseconds: criterion's 100 samples would need about
    // 5,050 of them (close to a minute per benchmark); 20 samples keep each near its budget.
    group.sample_size(20);
    for n in [1usize, 16, 128] {
        group.throughput(Throughput::Elements((n * EVENTS_PER_COMMAND) as u64));
        group.bench_with_input(BenchmarkId::new("group_commit", n), &n, |b, &n| {
            b.to_async(&runtime).iter_custom(|iters| {
                let writer = writer.clone();
                support::time_each(
                    iters,
                    move || support::sample_batches(n, EVENTS_PER_COMMAND),
                    move |batches| {
                        let writer = writer.clone();
                        async move {
                            let calls = batches.into_iter().map(|batch| {
                                let writer = writer.clone();
                                tokio::spawn(async move { writer.append(batch).await.map(drop) })
                            });
                            support::join_spawned(calls).await;
                        }
                    },
                )
            })
        });
        group.bench_with_input(BenchmarkId::new("journal_direct", n), &n, |b, &n| {
            b.to_async(&runtime).iter_custom(|iters| {
                let journal = journal.clone();
                support::time_each(
                    iters,
                    move || support::sample_batches(n, EVENTS_PER_COMMAND),
                    move |batches| {
                        let journal = journal.clone();
                        async move {
                            journal.append(&batches).await.unwrap();
                        }
                    },
                )
            })
        });
        group.bench_with_input(BenchmarkId::new("baseline_raw_insert", n), &n, |b, &n| {
            b.to_async(&runtime).iter_custom(|iters| {
                let pool = journal.pool().clone();
                support::time_each(
                    iters,
                    move || support::sample_batches(n, EVENTS_PER_COMMAND),
                    move |batches| {
                        let pool = pool.clone();
                        async move { support::raw_insert(&pool, &batches).await }
                    },
                )
            })
        });
    }
    group.finish();
    drop(writer);
    drop(journal);
    drop(db);
}

criterion_group!(benches, bench);
criterion_main!(benches);
