//! VerifyApiKey in-process (issue 16): reading a presented key, verifying it against a
//! tenant's state, and the same question asked through the engine (region → shard → tenant
//! actor and back), whose state is already in memory.
//! Run: `cargo bench --bench verify_api_key -- --warm-up-time 2 --measurement-time 5`.
//!
//! - `verify_api_key/parse`: `secrets::api_key::parse` (length, prefix, alphabet, CRC-32
//!   checksum, the two base62 ids, hex SHA-256 of the whole key): the work before any lookup.
//! - `verify_api_key/domain`: `parse` then `TenantScope::verify_api_key` (the key by id, the
//!   hash compared in constant time, revoked, expired, tenant, client, partition): the
//!   in-process figure.
//! - `verify_api_key/engine_actor`: `Engine::verify_api_key` of a key parsed beforehand (the
//!   parsed key is cloned per call), the tenant's actor live.
//!
//! Baselines measured in the same run, so the figures read as ratios on a noisy machine: a
//! `HashSet` lookup (the floor of any in-memory check), the hex SHA-256 of an 87-byte key
//! (`secrets::token_hash`, the hash `parse` computes: the floor of any check against a stored
//! hash) and a round trip to a ractor actor that only echoes (the floor of any actor-hosted
//! answer).
//!
//! The tenant: one partition with 100 admin keys (the per-partition limit of live keys),
//! issued with `secrets::api_key::issue`; each iteration verifies the next key in turn.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use std::{hint::black_box, sync::Arc};

use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use engine::{
    domain::{
        ApiKeyCommand, ApiKeyId, Context, KeyExpiry, KeyIssuer, KeyScopes, Partition,
        RecordCommand, RecordFields, RecordId, TenantId, TenantScope, TenantScopeCommand,
    },
    journal::{Journal, sqlite::SqliteJournal},
    runtime::{Engine, EngineConfig, RequestMeta},
    secrets::{api_key, token_hash},
};

/// Keys issued in the benchmark tenant.
const KEYS: usize = 100;

/// The commands that build the benchmark tenant, and the plaintext keys it issued.
fn workload(tenant: TenantId) -> (Vec<TenantScopeCommand>, Vec<String>) {
    let partition = RecordId::new_v7();
    let mut commands = vec![
        support::create_tenant(tenant),
        TenantScopeCommand::Record(RecordCommand::Create {
            id: partition,
            client_id: None,
            fields: RecordFields::Partition(Partition {
                name: "prod".into(),
                group_id: None,
                description: String::new(),
            }),
        }),
    ];
    let mut keys = Vec::with_capacity(KEYS);
    for i in 0..KEYS {
        let id = ApiKeyId::new_v7();
        let issued = api_key::issue(tenant, id).unwrap();
        commands.push(TenantScopeCommand::ApiKey(ApiKeyCommand::Create {
            id,
            partition_id: partition,
            name: format!("key-{i}"),
            scopes: KeyScopes::Admin,
            expiry: KeyExpiry::Never,
            foreign_key: String::new(),
            secret: issued.secret,
            issuer: KeyIssuer::Platform,
        }));
        keys.push(issued.plaintext);
    }
    (commands, keys)
}

fn bench(c: &mut Criterion) {
    let tenant = TenantId::new_v7();
    let (commands, keys) = workload(tenant);
    assert!(keys.iter().all(|k| k.len() == api_key::KEY_CHARS));

    // Pure evaluation.
    let mut state = TenantScope::new(tenant);
    let ctx = Context::at(Utc::now());
    for command in &commands {
        for event in state.decide(command, &ctx).unwrap() {
            state.apply(&event, ctx.now);
        }
    }
    let now = Utc::now();
    for key in &keys {
        let presented = api_key::parse(key).unwrap();
        assert!(
            state
                .verify_api_key(presented.id, &presented.hash, now)
                .is_ok()
        );
    }

    let mut i = 0;
    c.bench_function("verify_api_key/parse", |b| {
        b.iter(|| {
            i = (i + 1) % KEYS;
            black_box(api_key::parse(black_box(&keys[i])).unwrap())
        })
    });
    c.bench_function("verify_api_key/domain", |b| {
        b.iter(|| {
            i = (i + 1) % KEYS;
            let presented = api_key::parse(black_box(&keys[i])).unwrap();
            black_box(
                state
                    .verify_api_key(presented.id, &presented.hash, now)
                    .unwrap()
                    .id,
            )
        })
    });

    // Through the engine: the tenant actor is live, so this is the in-memory answer plus the
    // actor round trip (no I/O).
    let runtime = support::runtime();
    let dir = tempfile::tempdir().unwrap();
    let engine = runtime.block_on(async {
        let journal = SqliteJournal::open(&dir.path().join("bench.db"))
            .await
            .unwrap();
        journal.migrate().await.unwrap();
        let engine = Engine::start(
            Arc::new(journal) as Arc<dyn Journal>,
            EngineConfig::default(),
        )
        .await
        .unwrap();
        for command in commands {
            engine
                .execute(tenant, command, RequestMeta::default())
                .await
                .unwrap();
        }
        engine
    });
    let presented: Vec<_> = keys.iter().map(|k| api_key::parse(k).unwrap()).collect();
    for key in &presented {
        assert!(
            runtime
                .block_on(engine.verify_api_key(key.clone()))
                .unwrap()
                .is_ok()
        );
    }
    c.bench_function("verify_api_key/engine_actor", |b| {
        b.to_async(&runtime).iter(|| {
            i = (i + 1) % KEYS;
            let engine = &engine;
            let key = presented[i].clone();
            async move { black_box(engine.verify_api_key(key).await.unwrap().unwrap().id) }
        })
    });

    let set: std::collections::HashSet<String> =
        (0..200).map(|i| format!("resource{i}:action")).collect();
    let probe = "resource150:action".to_owned();
    c.bench_function("baseline/hashset_lookup", |b| {
        b.iter(|| black_box(set.contains(black_box(&probe))))
    });
    c.bench_function("baseline/sha256_87_bytes", |b| {
        b.iter(|| {
            i = (i + 1) % KEYS;
            black_box(token_hash(black_box(&keys[i])))
        })
    });
    let (echo, _) = runtime
        .block_on(ractor::Actor::spawn(None, support::Echo, ()))
        .unwrap();
    c.bench_function("baseline/ractor_echo_round_trip", |b| {
        b.to_async(&runtime).iter(|| {
            let echo = &echo;
            async move {
                black_box(
                    echo.call(|reply| support::EchoMsg(7, reply), None)
                        .await
                        .unwrap(),
                )
            }
        })
    });
    echo.stop(None);
    runtime.block_on(engine.shutdown());
}

criterion_group!(benches, bench);
criterion_main!(benches);
