//! Domain decide/apply, pure (no actor, no I/O). Run: `cargo bench --bench domain`.
//!
//! The tenant: 20 organizations and 500 invited users (the typical tenant shape of SPEC §9:
//! hundreds of users). Each benchmark decides one command against it and applies the events
//! to a copy of the state (the copy is made outside the timing).
//!
//! Same-run baseline: `serde_json::to_value` of the events the command produced, which the
//! journal has to do for every event anyway: the floor of any persisted command.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use std::hint::black_box;

use chrono::Utc;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use engine::domain::{Context, OrganizationId, Scope, TenantId, TenantScope, UserId};

fn bench(c: &mut Criterion) {
    let tenant = TenantId::new_v7();
    let ctx = Context::at(Utc::now());
    let mut state = TenantScope::new(tenant);
    let run = |state: &mut TenantScope, command| {
        for event in state.decide(&command, &ctx).unwrap() {
            state.apply(&event, ctx.now);
        }
    };
    run(&mut state, support::create_tenant(tenant));
    let mut orgs = Vec::new();
    for i in 0..20 {
        let id = OrganizationId::new_v7();
        run(
            &mut state,
            support::create_org(
                id,
                format!("org-{i}"),
                orgs.last().copied().filter(|_| i % 4 != 0),
            ),
        );
        orgs.push(id);
    }
    let mut users = Vec::new();
    for _ in 0..500 {
        let id = UserId::new_v7();
        run(&mut state, support::invite(id));
        users.push(id);
    }

    let invite = support::invite(UserId::new_v7());
    let create_org = support::create_org(OrganizationId::new_v7(), "new-org".into(), Some(orgs[3]));
    let assign = support::assign(users[250], "member", Scope::Organization(orgs[7]));
    for (name, command) in [
        ("invite_user", &invite),
        ("create_organization", &create_org),
        ("assign_role", &assign),
    ] {
        c.bench_function(&format!("domain/decide/{name}"), |b| {
            b.iter(|| black_box(state.decide(black_box(command), &ctx).unwrap()))
        });
        let events = state.decide(command, &ctx).unwrap();
        c.bench_function(&format!("domain/decide_apply/{name}"), |b| {
            b.iter_batched(
                || state.clone(),
                |mut s| {
                    for event in s.decide(command, &ctx).unwrap() {
                        s.apply(&event, ctx.now);
                    }
                    s
                },
                BatchSize::LargeInput,
            )
        });
        c.bench_function(&format!("baseline/event_to_json/{name}"), |b| {
            b.iter(|| {
                for event in &events {
                    black_box(serde_json::to_value(black_box(event)).unwrap());
                }
            })
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
