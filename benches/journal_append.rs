//! Journal append with group commit against a raw multi-row INSERT of the same rows into the
//! same PostgreSQL, in the same run. Run: `cargo bench --bench journal_append` (needs
//! `ENTITY_TEST_DATABASE_URL`, see `scripts/bench`).
//!
//! Per iteration, `n` commands of 2 events each (new user streams, ~350-byte payloads):
//!
//! - `group_commit/n`: `n` concurrent callers of `GroupCommitWriter::append`, one batch each;
//!   the writer folds what is queued into transactions (the node's real write path, default
//!   configuration: several group transactions in flight, one yield before draining).
//! - `group_commit_serial/n`: the same through a writer with `GroupCommitConfig::serial()`, the
//!   writer before issue 14 (one group transaction at a time, no yield), in the same run.
//! - `journal_direct/n`: one `PostgresJournal::append` of all `n` batches (one transaction:
//!   UNNEST insert with the stream-head check, `RETURNING`), no writer task.
//! - `baseline_raw_insert/n`: one plain `INSERT … VALUES` of the same `2n` rows into
//!   `raw_events`, a copy of `events` with the same columns, constraints and indexes.
//!
//! The figure is the ratio of throughputs, raw INSERT time / group-commit time (target ≥ 0.8).
//!
//! `journal_append_sustained` is the closed loop of a node's actors: `n` callers each append
//! [`ROUNDS`] batches one after the other (the next once the previous is answered), through both
//! writers; `journal_direct` appends the `n` batches of each round as one transaction, round
//! after round; the baseline is `n` callers each running [`ROUNDS`] raw single-command INSERTs
//! (one transaction per command, `n` in flight). `journal_append_sqlite` and
//! `journal_append_sqlite_sustained` run both writers on a SQLite journal (a file in a temporary
//! directory); their baseline is the serial writer, the setting SQLite should use.
//!
//! On a shared machine the load drifts between criterion's benchmarks, which run one after the
//! other. `JOURNAL_APPEND_INTERLEAVED=<rounds>` replaces criterion by an interleaved run: every
//! round runs one iteration of every subject of a table in turn (in a shuffled order, so that no
//! subject always follows the same one), then each subject's median
//! and mean are printed with the ratio to the table's baseline (same rounds, same load);
//! `JOURNAL_APPEND_TABLES` (comma-separated table names) limits it to some tables.
//! `JOURNAL_APPEND_CONFIGS` adds writers to the PostgreSQL tables, for tuning: a
//! comma-separated list of `K` (group transactions in flight), each with an optional `yN` for
//! up to `N` yields before a group is closed (`y` alone: 1), e.g. `1y,2,2y,4y4,8y`.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use criterion::{BenchmarkId, Criterion, Throughput};
use engine::{
    journal::{AppendBatch, EventLog, GroupCommitConfig, GroupCommitWriter, JournalError},
    testing::{TestDatabase, sqlite_journal},
};
use rand::{SeedableRng, rngs::StdRng, seq::SliceRandom};
use sqlx::{Connection, PgPool};
use tokio::runtime::Runtime;

const EVENTS_PER_COMMAND: usize = 2;
/// Appends per caller in the closed-loop tables.
const ROUNDS: usize = 8;

/// How the commands of one iteration arrive.
#[derive(Clone, Copy)]
enum Shape {
    /// `n` callers at once, one command each.
    Burst,
    /// `n` callers, each sending [`ROUNDS`] commands one after the other.
    ClosedLoop,
}

impl Shape {
    fn commands(self, n: usize) -> usize {
        match self {
            Shape::Burst => n,
            Shape::ClosedLoop => n * ROUNDS,
        }
    }
}

/// What an iteration runs its commands through.
#[derive(Clone)]
enum Subject {
    Writer(GroupCommitWriter),
    Direct(Arc<dyn EventLog>),
    Raw(PgPool),
}

/// One table: subjects measured on the same commands, the last one the baseline.
struct Table {
    name: &'static str,
    shape: Shape,
    ns: &'static [usize],
    subjects: Vec<(String, Subject)>,
}

/// Everything the tables run against; dropped in order at the end.
struct Setup {
    tables: Vec<Table>,
    _sqlite_dir: tempfile::TempDir,
    db: TestDatabase,
}

/// The writers to compare: the default, the serial one, and any from `JOURNAL_APPEND_CONFIGS`.
fn writer_configs(extra: bool) -> Vec<(String, GroupCommitConfig)> {
    let mut configs = vec![
        ("group_commit".to_owned(), GroupCommitConfig::default()),
        (
            "group_commit_serial".to_owned(),
            GroupCommitConfig::serial(),
        ),
    ];
    if !extra {
        return configs;
    }
    let list = std::env::var("JOURNAL_APPEND_CONFIGS").unwrap_or_default();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (k, gather_yields) = match item.split_once('y') {
            Some((k, "")) => (k, 1),
            Some((k, yields)) => (k, yields.parse().expect("JOURNAL_APPEND_CONFIGS: K[y[N]]")),
            None => (item, 0),
        };
        let k: usize = k.parse().expect("JOURNAL_APPEND_CONFIGS: K[y[N]],…");
        let name = format!("group_commit_k{k}_y{gather_yields}");
        let config = GroupCommitConfig {
            max_in_flight_groups: k,
            gather_yields,
            ..GroupCommitConfig::default()
        };
        configs.push((name, config));
    }
    configs
}

fn writers(
    runtime: &Runtime,
    log: &Arc<dyn EventLog>,
    configs: Vec<(String, GroupCommitConfig)>,
) -> Vec<(String, Subject)> {
    let _entered = runtime.enter();
    configs
        .into_iter()
        .map(|(name, config)| {
            let writer = GroupCommitWriter::spawn(Arc::clone(log), config);
            (name, Subject::Writer(writer))
        })
        .collect()
}

impl Setup {
    fn new(runtime: &Runtime) -> Self {
        let (db, journal, sqlite_dir, sqlite) = runtime.block_on(async {
            let db = TestDatabase::create().await;
            let journal = db.journal().await;
            support::create_raw_table(journal.pool()).await;
            let sqlite_dir = tempfile::tempdir().unwrap();
            let sqlite = sqlite_journal(sqlite_dir.path()).await;
            (db, journal, sqlite_dir, sqlite)
        });
        let pool = journal.pool().clone();
        let postgres: Arc<dyn EventLog> = Arc::new(journal);
        let sqlite: Arc<dyn EventLog> = Arc::new(sqlite);
        let direct = || {
            (
                "journal_direct".to_owned(),
                Subject::Direct(postgres.clone()),
            )
        };

        let mut burst = writers(runtime, &postgres, writer_configs(true));
        burst.push(direct());
        burst.push(("baseline_raw_insert".into(), Subject::Raw(pool.clone())));
        let mut sustained = writers(runtime, &postgres, writer_configs(true));
        sustained.push(direct());
        sustained.push(("baseline_raw_insert_per_command".into(), Subject::Raw(pool)));
        let sqlite_writers = writers(runtime, &sqlite, writer_configs(false));
        let tables = vec![
            Table {
                name: "journal_append",
                shape: Shape::Burst,
                ns: &[1, 16, 128],
                subjects: burst,
            },
            Table {
                name: "journal_append_sustained",
                shape: Shape::ClosedLoop,
                ns: &[16, 128],
                subjects: sustained,
            },
            Table {
                name: "journal_append_sqlite",
                shape: Shape::Burst,
                ns: &[1, 16, 128],
                subjects: sqlite_writers.clone(),
            },
            Table {
                name: "journal_append_sqlite_sustained",
                shape: Shape::ClosedLoop,
                ns: &[16, 128],
                subjects: sqlite_writers,
            },
        ];
        Self {
            tables,
            _sqlite_dir: sqlite_dir,
            db,
        }
    }
}

/// `batches` through `subject`, arriving as `shape` says (`n` callers).
async fn run(subject: Subject, shape: Shape, n: usize, batches: Vec<AppendBatch>) {
    match (subject, shape) {
        (Subject::Writer(writer), Shape::Burst) => {
            let calls = batches.into_iter().map(|batch| {
                let writer = writer.clone();
                tokio::spawn(async move { writer.append(batch).await.map(drop) })
            });
            support::join_spawned(calls).await;
        }
        (Subject::Writer(writer), Shape::ClosedLoop) => {
            let calls = per_caller(batches).map(|mine| {
                let writer = writer.clone();
                tokio::spawn(async move {
                    for batch in mine {
                        writer.append(batch).await?;
                    }
                    Ok::<_, JournalError>(())
                })
            });
            support::join_spawned(calls).await;
        }
        (Subject::Direct(log), Shape::Burst) => {
            log.append(&batches).await.unwrap();
        }
        (Subject::Direct(log), Shape::ClosedLoop) => {
            for round in batches.chunks(n) {
                log.append(round).await.unwrap();
            }
        }
        (Subject::Raw(pool), Shape::Burst) => support::raw_insert(&pool, &batches).await,
        (Subject::Raw(pool), Shape::ClosedLoop) => {
            let calls = per_caller(batches).map(|mine| {
                let pool = pool.clone();
                tokio::spawn(async move {
                    for batch in mine {
                        support::raw_insert(&pool, std::slice::from_ref(&batch)).await;
                    }
                    Ok::<_, ()>(())
                })
            });
            support::join_spawned(calls).await;
        }
    }
}

/// The batches of a closed loop, [`ROUNDS`] per caller.
fn per_caller(batches: Vec<AppendBatch>) -> impl Iterator<Item = Vec<AppendBatch>> {
    let mut batches = batches.into_iter();
    std::iter::from_fn(move || {
        let mine: Vec<AppendBatch> = batches.by_ref().take(ROUNDS).collect();
        (!mine.is_empty()).then_some(mine)
    })
}

fn bench(c: &mut Criterion, runtime: &Runtime, setup: &Setup) {
    for table in &setup.tables {
        let mut group = c.benchmark_group(table.name);
        // An iteration takes up to tens of milliseconds: criterion's 100 samples would need
        // about 5,050 of them (close to a minute per benchmark); 20 keep each near its budget.
        group.sample_size(20);
        let shape = table.shape;
        for &n in table.ns {
            let events = shape.commands(n) * EVENTS_PER_COMMAND;
            group.throughput(Throughput::Elements(events as u64));
            for (name, subject) in &table.subjects {
                group.bench_with_input(BenchmarkId::new(name.as_str(), n), &n, |b, &n| {
                    b.to_async(runtime).iter_custom(|iters| {
                        let subject = subject.clone();
                        support::time_each(
                            iters,
                            move || support::sample_batches(shape.commands(n), EVENTS_PER_COMMAND),
                            move |batches| run(subject.clone(), shape, n, batches),
                        )
                    })
                });
            }
        }
        group.finish();
    }
}

/// The interleaved run (see the module docs).
fn interleaved(runtime: &Runtime, setup: &Setup, rounds: usize) {
    let warm_up = (rounds / 10).max(2);
    let only = std::env::var("JOURNAL_APPEND_TABLES").unwrap_or_default();
    let only: Vec<&str> = only.split(',').filter(|t| !t.is_empty()).collect();
    for table in &setup.tables {
        if !only.is_empty() && !only.contains(&table.name) {
            continue;
        }
        for &n in table.ns {
            let mut times = vec![Vec::with_capacity(rounds); table.subjects.len()];
            for round in 0..warm_up + rounds {
                // Each round runs the subjects in another order: none always follows the same
                // one (whichever ran before leaves the server's WAL and caches in its state).
                for i in shuffled(table.subjects.len(), round as u64) {
                    let subject = &table.subjects[i].1;
                    let batches =
                        support::sample_batches(table.shape.commands(n), EVENTS_PER_COMMAND);
                    let start = Instant::now();
                    runtime.block_on(run(subject.clone(), table.shape, n, batches));
                    if round >= warm_up {
                        times[i].push(start.elapsed());
                    }
                }
            }
            let stats: Vec<(Duration, Duration)> = times
                .iter_mut()
                .map(|t| {
                    t.sort_unstable();
                    (t[t.len() / 2], t.iter().sum::<Duration>() / t.len() as u32)
                })
                .collect();
            let Some(&(base_median, base_mean)) = stats.last() else {
                continue;
            };
            for ((name, _), (median, mean)) in table.subjects.iter().zip(&stats) {
                println!(
                    "{}/{name}/{n}: median {:.3} ms, mean {:.3} ms; baseline/this: median {:.2}, \
                     mean {:.2}",
                    table.name,
                    median.as_secs_f64() * 1e3,
                    mean.as_secs_f64() * 1e3,
                    base_median.as_secs_f64() / median.as_secs_f64(),
                    base_mean.as_secs_f64() / mean.as_secs_f64(),
                );
            }
        }
    }
}

/// `0..count` in an order drawn from `seed`.
fn shuffled(count: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..count).collect();
    order.shuffle(&mut StdRng::seed_from_u64(seed));
    order
}

fn main() {
    let runtime = support::runtime();
    let setup = Setup::new(&runtime);
    match std::env::var("JOURNAL_APPEND_INTERLEAVED") {
        Ok(rounds) => {
            let rounds = rounds.parse().expect("JOURNAL_APPEND_INTERLEAVED: rounds");
            interleaved(&runtime, &setup, rounds);
        }
        Err(_) => {
            let mut criterion = Criterion::default().configure_from_args();
            bench(&mut criterion, &runtime, &setup);
            criterion.final_summary();
        }
    }
    let url = setup.db.url().to_owned();
    drop(setup);
    drop_database(&runtime, &url);
}

/// Drops the bench's database before the process ends. `TestDatabase` drops it from a
/// background thread, which the end of the process cuts short, and a run leaves gigabytes.
fn drop_database(runtime: &Runtime, url: &str) {
    let Ok(admin_url) = std::env::var(engine::testing::DATABASE_URL_VAR) else {
        return;
    };
    let name = url.rsplit('/').next().unwrap_or_default();
    let name = name.split('?').next().unwrap_or_default();
    runtime.block_on(async {
        let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
        let drop = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
        sqlx::raw_sql(&drop).execute(&mut admin).await.unwrap();
    });
}
