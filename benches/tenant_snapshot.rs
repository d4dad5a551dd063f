//! What a large tenant's snapshot costs (issue 14), pure (no database): a tenant scope of
//! 10,000 and 100,000 invited users (each with a role at tenant scope, as `entity-load
//! large-tenant` grows it), every user with a data key. Run: `cargo bench --bench
//! tenant_snapshot`.
//!
//! - `actor_copy/{n}`: what the actor pays to start a snapshot: the scope's clone (persistent
//!   maps) and the job (commit tokens, keys).
//! - `apply_after_copy/{n}`: one InviteUser applied while a copy is alive (the first change of
//!   each tree path after a copy copies that path).
//! - `encode/{sealed,plain}/{n}`: the job's encoding on the worker thread, sealing included
//!   (the runtime's own function, `SnapshotJob::encode`).
//! - `decode/{sealed,plain}/{n}`: recovery's decoding, values opened, indexes rebuilt (the
//!   runtime's own function).
//! - `replay/1000_invites`: folding 1,000 stored InviteUser events (JSON text → event, values
//!   opened, applied), the per-event cost of the tail a recovery replays after the snapshot.
//! - Same-run baselines: `baseline/sealed_in_place/{n}`, the encode as it sealed before (each
//!   user copied out of the shared map and sealed in place, then the derived form);
//!   `baseline/bincode_users/{encode,decode}/{n}`, bincode of the same
//!   users as a plain `Vec<User>` (no map, no sealing); `baseline/deep_clone/{n}`, the clone a
//!   `BTreeMap` scope paid on the actor before issue 14 (rebuilding the maps from the users).
//!
//! Printed before the groups: the memory a scope of 100,000 users and its data keys hold
//! (resident growth while each is built, first thing in the process), the snapshot's size
//! (sealed, plain) and the stored event size.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

/// The node's allocator (`entityd`), so that the encode and decode cost what they cost there:
/// under glibc's, freeing a scope's copied users dominated the profile.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use std::{collections::BTreeMap, hint::black_box, time::Duration};

use chrono::Utc;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use engine::{
    domain::{
        Context, PersonalField, PersonalSlot, StreamKind, TenantId, TenantScope, TenantScopeEvent,
        User, UserId,
    },
    personal::{Keyring, MasterKeys},
    testing::{decode_snapshot, snapshot_job},
};
use uuid::Uuid;

/// A scope of `users` invited users (the owner's onboarding pending) and a ring holding a data
/// key for each.
fn scope_of(users: usize) -> (TenantScope, Keyring) {
    let scope = users_scope(users);
    let keys = keys_of(&scope);
    (scope, keys)
}

/// A ring holding a data key for each person of `scope`, made as a node makes them (sealing).
fn keys_of(scope: &TenantScope) -> Keyring {
    let ctx = Context::at(Utc::now());
    let master = MasterKeys::ephemeral();
    let mut keys = Keyring::empty(scope.tenant_id());
    let mut throwaway = scope.clone();
    throwaway
        .try_for_each_personal_field(|slot| keys.seal(vec![slot], &master, ctx.now))
        .unwrap();
    keys.commit();
    keys
}

/// A scope of `users` invited users, built as a node builds it (each InviteUser decided and
/// applied).
fn users_scope(users: usize) -> TenantScope {
    let tenant = TenantId::new_v7();
    let ctx = Context::at(Utc::now());
    let mut scope = TenantScope::new(tenant);
    let run = |scope: &mut TenantScope, command| {
        for event in scope.decide(&command, &ctx).unwrap() {
            scope.apply(&event, ctx.now);
        }
    };
    run(&mut scope, support::create_tenant(tenant));
    for _ in 0..users {
        run(&mut scope, support::invite(UserId::new_v7()));
    }
    scope
}

/// The process's resident memory in bytes (`VmRSS`).
fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .unwrap();
    kib * 1024
}

/// `n` InviteUser events as the journal stores them: sealed JSON text, and their metadata.
fn stored_invites(scope: &TenantScope, keys: &mut Keyring, n: usize) -> Vec<Vec<u8>> {
    let ctx = Context::at(Utc::now());
    let master = MasterKeys::ephemeral();
    let mut stored = Vec::with_capacity(n);
    for _ in 0..n {
        for mut event in scope
            .decide(&support::invite(UserId::new_v7()), &ctx)
            .unwrap()
        {
            let tenant = scope.tenant_id().0;
            keys.seal(event.personal_fields_mut(tenant), &master, ctx.now)
                .unwrap();
            if matches!(event, TenantScopeEvent::User(_)) {
                stored.push(serde_json::to_vec(&event).unwrap());
            }
        }
    }
    keys.commit();
    stored
}

/// The pre-issue-14 clone: every map rebuilt (what cloning `BTreeMap`s cost the actor).
fn deep_clone(users: &[User]) -> BTreeMap<UserId, User> {
    users.iter().map(|u| (u.id, u.clone())).collect()
}

fn bench(c: &mut Criterion) {
    let config = bincode::config::standard();
    // First, while the process has freed nothing they could reuse: what a scope of 100,000
    // users and its ring of data keys hold in memory.
    let before = resident_bytes();
    let scope = users_scope(100_000);
    let with_scope = resident_bytes();
    let subjects: Vec<Uuid> = scope.users().map(|u| u.id.uuid()).collect();
    let (master, now) = (MasterKeys::ephemeral(), Utc::now());
    let mut keys = Keyring::empty(scope.tenant_id());
    let with_subjects = resident_bytes();
    for subject in subjects {
        // One at a time, committed at once: no pending rows pile up beside the ring.
        let mut value = String::from("x");
        let field = PersonalField::Email;
        keys.seal(
            vec![PersonalSlot {
                subject,
                field,
                value: &mut value,
            }],
            &master,
            now,
        )
        .unwrap();
        keys.commit();
    }
    let with_keys = resident_bytes();
    let (scope_bytes, keys_bytes) = (with_scope - before, with_keys.saturating_sub(with_subjects));
    println!(
        "100000 users in memory: scope {} MB ({} B/user), data keys {} MB ({} B/user)",
        scope_bytes / 1_000_000,
        scope_bytes / 100_000,
        keys_bytes / 1_000_000,
        keys_bytes / 100_000
    );
    drop((scope, keys));
    for n in [10_000usize, 100_000] {
        let (scope, mut keys) = scope_of(n);
        let tenant = scope.tenant_id();
        let sealed = snapshot_job(&scope, Some(&keys), 1)
            .encode(Utc::now)
            .unwrap();
        let plain = snapshot_job(&scope, None, 1).encode(Utc::now).unwrap();
        let users: Vec<User> = scope.users().cloned().collect();
        let users_bytes = bincode::serde::encode_to_vec(&users, config).unwrap();
        println!(
            "{n} users: snapshot sealed {} B ({} B/user), plain {} B; Vec<User> bincode {} B",
            sealed.state.len(),
            sealed.state.len() / n,
            plain.state.len(),
            users_bytes.len()
        );
        let mut group = c.benchmark_group("tenant_snapshot");
        group.sample_size(10);
        group.measurement_time(Duration::from_secs(8));
        group.throughput(Throughput::Elements(n as u64));

        group.bench_function(format!("actor_copy/{n}"), |b| {
            b.iter(|| black_box((scope.clone(), keys.sealer())))
        });
        let command = support::invite(UserId::new_v7());
        let ctx = Context::at(Utc::now());
        let events = scope.decide(&command, &ctx).unwrap();
        group.bench_function(format!("apply_after_copy/{n}"), |b| {
            b.iter_batched(
                || (scope.clone(), scope.clone()),
                |(mut live, copy)| {
                    for event in &events {
                        live.apply(event, ctx.now);
                    }
                    (live, copy)
                },
                BatchSize::SmallInput,
            )
        });
        for (name, seal) in [("sealed", true), ("plain", false)] {
            group.bench_function(format!("encode/{name}/{n}"), |b| {
                b.iter_batched(
                    || snapshot_job(&scope, seal.then_some(&keys), 1),
                    |job| job.encode(Utc::now).unwrap(),
                    BatchSize::PerIteration,
                )
            });
            let stored = if seal { &sealed } else { &plain };
            group.bench_function(format!("decode/{name}/{n}"), |b| {
                b.iter(|| decode_snapshot(stored, tenant, seal.then_some(&keys)).unwrap())
            });
        }
        // How the encode sealed before: each user copied out of the map shared with the actor
        // and sealed in place, then the derived form (the scope only, no window or tokens).
        group.bench_function(format!("baseline/sealed_in_place/{n}"), |b| {
            b.iter_batched(
                || (scope.clone(), keys.sealer()),
                |(mut copy, ring)| {
                    copy.try_for_each_personal_field(|slot| {
                        ring.seal_existing_slot(slot).map(drop)
                    })
                    .unwrap();
                    bincode::serde::encode_to_vec(&copy, config).unwrap()
                },
                BatchSize::PerIteration,
            )
        });
        group.bench_function(format!("baseline/bincode_users/encode/{n}"), |b| {
            b.iter(|| bincode::serde::encode_to_vec(black_box(&users), config).unwrap())
        });
        group.bench_function(format!("baseline/bincode_users/decode/{n}"), |b| {
            b.iter(|| {
                let (v, _): (Vec<User>, usize) =
                    bincode::serde::decode_from_slice(black_box(&users_bytes), config).unwrap();
                v
            })
        });
        group.bench_function(format!("baseline/deep_clone/{n}"), |b| {
            b.iter(|| deep_clone(black_box(&users)))
        });

        if n == 100_000 {
            const EVENTS: usize = 1_000;
            let stored = stored_invites(&scope, &mut keys, EVENTS);
            let bytes: usize = stored.iter().map(Vec::len).sum();
            println!(
                "replay: {} stored user events, {} B of payload each on average",
                stored.len(),
                bytes / stored.len()
            );
            group.throughput(Throughput::Elements(stored.len() as u64));
            group.bench_function("replay/1000_invites", |b| {
                b.iter_batched(
                    || scope.clone(),
                    |mut live| {
                        for text in &stored {
                            let value: serde_json::Value = serde_json::from_slice(text).unwrap();
                            let mut event =
                                TenantScopeEvent::from_stored(StreamKind::User, 2, value).unwrap();
                            black_box(keys.open(event.personal_fields_mut(tenant.0)));
                            live.apply(&event, ctx.now);
                        }
                        live
                    },
                    BatchSize::PerIteration,
                )
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
