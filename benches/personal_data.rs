//! What sealing personal data costs (issue 13), against the same work without it, in one run:
//! two engines on two PostgreSQL databases, one with `seal_personal_data` (the product) and one
//! without (the benchmark-only switch: plaintext payloads and snapshots, no key table).
//! Run: `cargo bench --bench personal_data` (needs `ENTITY_TEST_DATABASE_URL`).
//!
//! - `invite_user/{sealed,unsealed}/n`: `n` concurrent InviteUser commands (email and display
//!   name, so two values sealed and one data key created and wrapped per command) to 64
//!   tenants.
//! - `recovery_1000_users/{sealed,unsealed}/{snapshot,events}`: a tenant of 1,000 users is
//!   passivated (saving its snapshot), then read: the time of its recovery, from the snapshot,
//!   or from its ~2,000 events once the snapshot is dropped. Sealed recovery also loads and
//!   unwraps its 1,001 keys and opens 2,000 values; `sealed/keyring_only` times the key
//!   loading and unwrapping alone.
//! - `primitives/*`: the in-memory steps alone (sealing one value, opening it, creating and
//!   wrapping one data key).
//!
//! Before criterion's groups, a paired run: single InviteUser commands alternating between the
//! two engines (sealed, unsealed, sealed, …), so that drift on a noisy machine hits both
//! alike; it prints each side's median and p90 and their ratio.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use std::sync::Arc;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use engine::{
    domain::{TenantId, TenantScopeCommand, UserCommand, UserId},
    journal::{Journal, KeyPurpose, postgres::PostgresJournal},
    personal::{
        KeyPlace, MasterKey,
        cipher::{self, GcmKey, KeyBytes, ValuePlace},
    },
    runtime::{Engine, EngineConfig, RequestMeta, shard_of},
    testing::TestDatabase,
};

const TENANTS: usize = 64;
const RECOVERY_USERS: usize = 1_000;

/// InviteUser with a unique email and a display name (both personal).
fn invite(id: UserId) -> TenantScopeCommand {
    let token = engine::secrets::issue_invitation_token(id);
    TenantScopeCommand::User(UserCommand::Invite {
        id,
        email: format!("{}@bench.example.com", id.uuid().simple()),
        display_name: "Ada Lovelace-Byron".into(),
        roles: vec![],
        organization_id: None,
        expires_in_days: 7,
        token_hash: token.hash,
    })
}

/// One engine under test.
struct Setup {
    _db: TestDatabase,
    journal: PostgresJournal,
    engine: Engine,
    tenants: Vec<TenantId>,
    /// The tenant with 1,000 users.
    big: TenantId,
}

async fn setup(seal: bool) -> Setup {
    let db = TestDatabase::create().await;
    let journal = db.journal().await;
    let config = EngineConfig {
        seal_personal_data: seal,
        // One snapshot per passivation, none in between (the recovery reads 1 snapshot or
        // every event).
        snapshot_every: u32::MAX,
        ..EngineConfig::default()
    };
    let engine = Engine::start(Arc::new(journal.clone()) as Arc<dyn Journal>, config)
        .await
        .unwrap();
    let tenants: Vec<TenantId> = (0..=TENANTS).map(|_| TenantId::new_v7()).collect();
    for &t in &tenants {
        engine
            .execute(t, support::create_tenant(t), RequestMeta::default())
            .await
            .unwrap();
    }
    let big = tenants[TENANTS];
    for chunk in (0..RECOVERY_USERS).collect::<Vec<_>>().chunks(50) {
        let calls = chunk.iter().map(|_| {
            let engine = engine.clone();
            async move {
                engine
                    .execute(big, invite(UserId::new_v7()), RequestMeta::default())
                    .await
                    .unwrap()
            }
        });
        futures::future::join_all(calls).await;
    }
    Setup {
        _db: db,
        journal,
        engine,
        tenants: tenants[..TENANTS].to_vec(),
        big,
    }
}

/// Alternating single commands on both engines; prints medians, p90s and their ratios.
async fn paired(sealed: &Setup, unsealed: &Setup, rounds: usize) {
    let mut times = [Vec::with_capacity(rounds), Vec::with_capacity(rounds)];
    for round in 0..rounds {
        // Alternate which side goes first, too.
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for side in order {
            let s = [sealed, unsealed][side];
            let tenant = s.tenants[round % s.tenants.len()];
            let command = invite(UserId::new_v7());
            let start = std::time::Instant::now();
            s.engine
                .execute(tenant, command, RequestMeta::default())
                .await
                .unwrap();
            times[side].push(start.elapsed());
        }
    }
    let stat = |v: &mut Vec<std::time::Duration>, q: f64| {
        v.sort();
        v[((v.len() as f64 - 1.0) * q) as usize]
    };
    let [mut a, mut b] = times;
    let (a50, a90, b50, b90) = (
        stat(&mut a, 0.5),
        stat(&mut a, 0.9),
        stat(&mut b, 0.5),
        stat(&mut b, 0.9),
    );
    println!(
        "paired invite_user, {rounds} rounds: sealed median {a50:?} p90 {a90:?}; unsealed median {b50:?} p90 {b90:?}; ratio {:.2} / {:.2}",
        a50.as_secs_f64() / b50.as_secs_f64(),
        a90.as_secs_f64() / b90.as_secs_f64()
    );
}

fn bench(c: &mut Criterion) {
    let runtime = support::runtime();
    let (sealed, unsealed) = runtime.block_on(async { (setup(true).await, setup(false).await) });
    let shard_count = EngineConfig::default().shard_count;
    runtime.block_on(paired(&sealed, &unsealed, 2_000));

    let mut group = c.benchmark_group("invite_user");
    group.sample_size(20);
    for n in [1usize, 64] {
        group.throughput(Throughput::Elements(n as u64));
        for (name, s) in [("sealed", &sealed), ("unsealed", &unsealed)] {
            group.bench_with_input(BenchmarkId::new(name, n), &n, |b, &n| {
                b.to_async(&runtime).iter_custom(|iters| {
                    let engine = s.engine.clone();
                    let tenants = s.tenants.clone();
                    support::time_each(
                        iters,
                        move || -> Vec<_> {
                            (0..n)
                                .map(|i| (tenants[i % tenants.len()], invite(UserId::new_v7())))
                                .collect()
                        },
                        move |commands| {
                            let engine = engine.clone();
                            async move {
                                let calls = commands.into_iter().map(|(t, command)| {
                                    let engine = engine.clone();
                                    tokio::spawn(async move {
                                        engine
                                            .execute(t, command, RequestMeta::default())
                                            .await
                                            .map(|_| ())
                                    })
                                });
                                support::join_spawned(calls).await;
                            }
                        },
                    )
                });
            });
        }
    }
    group.finish();

    let mut group = c.benchmark_group("recovery_1000_users");
    group.sample_size(10);
    for (name, s) in [("sealed", &sealed), ("unsealed", &unsealed)] {
        for from in ["snapshot", "events"] {
            group.bench_function(BenchmarkId::new(name, from), |b| {
                b.to_async(&runtime).iter_custom(|iters| {
                    let engine = s.engine.clone();
                    let pool = s.journal.pool().clone();
                    let big = s.big;
                    async move {
                        let mut total = std::time::Duration::ZERO;
                        for _ in 0..iters {
                            engine
                                .passivate_shard(shard_of(big, shard_count))
                                .await
                                .unwrap();
                            if from == "events" {
                                sqlx::query("DELETE FROM snapshots WHERE aggregate_id = $1")
                                    .bind(big.0)
                                    .execute(&pool)
                                    .await
                                    .unwrap();
                            }
                            let start = std::time::Instant::now();
                            let tenant = engine.get_tenant(big).await.unwrap();
                            total += start.elapsed();
                            assert_eq!(tenant.id, big);
                        }
                        total
                    }
                });
            });
        }
    }
    // The sealed recovery's own extra step: loading and unwrapping the tenant's keys.
    group.bench_function("sealed/keyring_only", |b| {
        let vault = sealed.engine.vault();
        let big = sealed.big;
        b.to_async(&runtime)
            .iter(|| async { vault.keyring(big).await.unwrap() });
    });
    group.finish();

    let mut group = c.benchmark_group("primitives");
    let key = GcmKey::new(&KeyBytes::generate().unwrap());
    let place = ValuePlace {
        tenant: TenantId::new_v7(),
        subject: uuid::Uuid::now_v7(),
        field: "email",
    };
    let email = "0193c0ffee0000007000800000000000@bench.example.com";
    let sealed_value = cipher::seal(&key, 1, place, email).unwrap();
    group.bench_function("seal_email", |b| {
        b.iter(|| cipher::seal(&key, 1, place, email).unwrap())
    });
    group.bench_function("open_email", |b| {
        b.iter(|| cipher::open(&key, place, &sealed_value).unwrap())
    });
    let master = MasterKey::generate().unwrap();
    let key_place = KeyPlace {
        tenant: place.tenant,
        subject: place.subject,
        purpose: KeyPurpose::Data,
        version: 1,
    };
    group.bench_function("create_and_wrap_data_key", |b| {
        b.iter(|| {
            let bytes = KeyBytes::generate().unwrap();
            master.wrap(key_place, &bytes).unwrap()
        })
    });
    let wrapped = master
        .wrap(key_place, &KeyBytes::generate().unwrap())
        .unwrap();
    group.bench_function("unwrap_data_key", |b| {
        b.iter(|| GcmKey::new(&master.unwrap(key_place, &wrapped).unwrap()))
    });
    group.finish();

    runtime.block_on(async {
        sealed.engine.shutdown().await;
        unsealed.engine.shutdown().await;
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
