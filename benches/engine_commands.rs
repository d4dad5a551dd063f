//! In-process commands/s across many tenants on PostgreSQL: `Engine::execute` from callers
//! spread over 1,000 live tenants, through region → shard → tenant actor → group commit.
//! Run: `cargo bench --bench engine_commands` (needs `ENTITY_TEST_DATABASE_URL`).
//!
//! Per iteration, `n` concurrent InviteUser commands, each to a tenant picked at random. The
//! same-run baseline is a plain multi-row INSERT of `n` rows of the same size into a copy of
//! `events` (the physical floor of writing what those commands write), so the figure is
//! engine commands/s ÷ raw rows/s.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use std::sync::Arc;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use engine::{
    domain::{TenantId, UserId},
    journal::Journal,
    runtime::{Engine, EngineConfig, RequestMeta},
    testing::TestDatabase,
};

const TENANTS: usize = 1_000;

fn bench(c: &mut Criterion) {
    let runtime = support::runtime();
    let (db, journal, engine, tenants) = runtime.block_on(async {
        let db = TestDatabase::create().await;
        let journal = db.journal().await;
        support::create_raw_table(journal.pool()).await;
        let engine = Engine::start(
            Arc::new(journal.clone()) as Arc<dyn Journal>,
            EngineConfig::default(),
        )
        .await
        .unwrap();
        let tenants: Vec<TenantId> = (0..TENANTS).map(|_| TenantId::new_v7()).collect();
        for chunk in tenants.chunks(64) {
            let creates = chunk.iter().map(|&t| {
                let engine = engine.clone();
                async move {
                    engine
                        .execute(t, support::create_tenant(t), RequestMeta::default())
                        .await
                        .unwrap()
                }
            });
            futures::future::join_all(creates).await;
        }
        (db, journal, engine, tenants)
    });
    let tenants = Arc::new(tenants);

    let mut group = c.benchmark_group("engine_commands");
    // An iteration takes up to tens of milliseconds: criterion's 100 samples would need about
    // 5,050 of them (close to a minute per benchmark); 20 samples keep each near its budget.
    group.sample_size(20);
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for n in [1usize, 64, 256] {
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("invite_user", n), &n, |b, &n| {
            b.to_async(&runtime).iter_custom(|iters| {
                let engine = engine.clone();
                let tenants = tenants.clone();
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                let mut s = seed;
                support::time_each(
                    iters,
                    move || -> Vec<_> {
                        (0..n)
                            .map(|_| {
                                s ^= s << 13;
                                s ^= s >> 7;
                                s ^= s << 17;
                                let tenant = tenants[(s % tenants.len() as u64) as usize];
                                (tenant, support::invite(UserId::new_v7()))
                            })
                            .collect()
                    },
                    move |commands| {
                        let engine = engine.clone();
                        async move {
                            let calls = commands.into_iter().map(|(tenant, command)| {
                                let engine = engine.clone();
                                tokio::spawn(async move {
                                    engine
                                        .execute(tenant, command, RequestMeta::default())
                                        .await
                                        .map(drop)
                                })
                            });
                            support::join_spawned(calls).await;
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
                    move || support::sample_batches(n, 1),
                    move |batches| {
                        let pool = pool.clone();
                        async move { support::raw_insert(&pool, &batches).await }
                    },
                )
            })
        });
    }
    group.finish();
    runtime.block_on(engine.shutdown());
    drop(journal);
    drop(db);
}

criterion_group!(benches, bench);
criterion_main!(benches);
