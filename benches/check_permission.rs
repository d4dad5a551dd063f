//! CheckPermission in-process: the pure evaluation against a tenant's state, and the same
//! question asked through the engine (region → shard → tenant actor and back), whose state is
//! already in memory. Run: `cargo bench --bench check_permission`.
//!
//! `check_permission/domain_custom_role_of_10k_defined` asks about a custom role in that tenant
//! after 10,000 custom roles were defined and all but 1,000 (the cap) deleted; beside it,
//! `baseline/scan_of_10k_roles_by_name` is what finding the role by name cost before the
//! index (a pass over every role ever defined).
//!
//! GetUserClaims (issue 17) is measured beside it, on the same tenant and user (4 assignments),
//! since its target is to cost what CheckPermission costs: `user_claims/domain`
//! (`TenantScope::user_claims`: the user, its assignments and the tenant's products copied out)
//! and `user_claims/engine_actor` (`Engine::user_claims`).
//!
//! Baselines measured in the same run: a `HashSet` lookup (the floor of any in-memory check)
//! and a round trip to a ractor actor that only echoes (the floor of any actor-hosted answer),
//! so the figures can be read as ratios on a noisy machine.
//!
//! The tenant: 5-level organization chain plus 40 sibling organizations, 20 teams, 200 active
//! users with 3 assignments each (tenant, organization and team scope). The check asks about a
//! team at the bottom of the chain, so inheritance is walked all the way up.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use std::{hint::black_box, sync::Arc};

use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use engine::{
    domain::{
        Assignment, Context, OrganizationCommand, OrganizationId, PermissionPattern, RoleCommand,
        RoleId, Scope, TeamCommand, TeamId, TenantId, TenantScope, TenantScopeCommand, UserCommand,
        UserId,
    },
    journal::{Journal, sqlite::SqliteJournal},
    runtime::{Engine, EngineConfig, RequestMeta},
    secrets::issue_invitation_token,
};

/// The commands that build the benchmark tenant, and the (user, permission, scope) to check.
fn workload(tenant: TenantId) -> (Vec<TenantScopeCommand>, UserId, PermissionPattern, Scope) {
    let mut commands = vec![support::create_tenant(tenant)];
    let org = |id, name: String, parent| {
        TenantScopeCommand::Organization(OrganizationCommand::Create {
            id,
            name,
            description: String::new(),
            parent_id: parent,
        })
    };
    let mut chain = Vec::new();
    let mut parent = None;
    for level in 0..5 {
        let id = OrganizationId::new_v7();
        commands.push(org(id, format!("level-{level}"), parent));
        chain.push(id);
        parent = Some(id);
    }
    let mut siblings = Vec::new();
    for i in 0..40 {
        let id = OrganizationId::new_v7();
        commands.push(org(id, format!("sibling-{i}"), Some(chain[i % 3])));
        siblings.push(id);
    }
    let mut teams = Vec::new();
    for i in 0..20 {
        let id = TeamId::new_v7();
        let organization_id = if i == 0 {
            chain[4]
        } else {
            siblings[i % siblings.len()]
        };
        commands.push(TenantScopeCommand::Team(TeamCommand::Create {
            id,
            organization_id,
            name: format!("team-{i}"),
            description: String::new(),
        }));
        teams.push(id);
    }
    let mut users = Vec::new();
    for i in 0..200 {
        let id = UserId::new_v7();
        let token = issue_invitation_token(id);
        let roles = vec![
            Assignment {
                role: "viewer".into(),
                scope: Scope::Tenant,
            },
            Assignment {
                role: "member".into(),
                scope: Scope::Organization(siblings[i % siblings.len()]),
            },
            Assignment {
                role: "team-member".into(),
                scope: Scope::Team(teams[i % teams.len()]),
            },
        ];
        commands.push(TenantScopeCommand::User(UserCommand::Invite {
            id,
            email: format!("user{i}@bench.example.com"),
            display_name: String::new(),
            roles,
            organization_id: None,
            expires_in_days: 7,
            token_hash: token.hash,
        }));
        commands.push(TenantScopeCommand::User(UserCommand::AcceptInvitation {
            id,
            token_hash: token.hash,
            display_name: None,
        }));
        users.push(id);
    }
    // The checked user is an org-admin at the top of the chain; the question is about the team
    // at its bottom, which only that assignment answers.
    let user = users[0];
    commands.push(TenantScopeCommand::User(UserCommand::AssignRole {
        id: user,
        assignment: Assignment {
            role: "org-admin".into(),
            scope: Scope::Organization(chain[0]),
        },
    }));
    (
        commands,
        user,
        "team:manage".parse().unwrap(),
        Scope::Team(teams[0]),
    )
}

/// `state` after 10,000 custom roles were defined and all but the last 1,000 deleted, with a
/// user holding the last one (`custom-9999`, `invoice:*`) at tenant scope.
fn many_roles(state: &TenantScope, ctx: &Context) -> (TenantScope, UserId) {
    let mut state = state.clone();
    let mut run = |command: TenantScopeCommand| {
        for event in state.decide(&command, ctx).unwrap() {
            state.apply(&event, ctx.now);
        }
    };
    for i in 0..10_000 {
        let id = RoleId::new_v7();
        run(TenantScopeCommand::Role(RoleCommand::Define {
            id,
            name: format!("custom-{i}"),
            description: String::new(),
            permissions: vec!["invoice:*".parse().unwrap()],
        }));
        if i < 9_000 {
            run(TenantScopeCommand::Role(RoleCommand::Delete { id }));
        }
    }
    let user = UserId::new_v7();
    let token = issue_invitation_token(user);
    run(TenantScopeCommand::User(UserCommand::Invite {
        id: user,
        email: "custom@bench.example.com".into(),
        display_name: String::new(),
        roles: vec![Assignment {
            role: "custom-9999".into(),
            scope: Scope::Tenant,
        }],
        organization_id: None,
        expires_in_days: 7,
        token_hash: token.hash,
    }));
    run(TenantScopeCommand::User(UserCommand::AcceptInvitation {
        id: user,
        token_hash: token.hash,
        display_name: None,
    }));
    (state, user)
}

fn bench(c: &mut Criterion) {
    let tenant = TenantId::new_v7();
    let (commands, user, permission, scope) = workload(tenant);

    // Pure evaluation.
    let mut state = TenantScope::new(tenant);
    let ctx = Context::at(Utc::now());
    for command in &commands {
        for event in state.decide(command, &ctx).unwrap() {
            state.apply(&event, ctx.now);
        }
    }
    assert!(
        state
            .check_permission(user, &permission, scope)
            .unwrap()
            .allowed
    );
    c.bench_function("check_permission/domain", |b| {
        b.iter(|| {
            black_box(
                state
                    .check_permission(black_box(user), &permission, scope)
                    .unwrap(),
            )
        })
    });

    // A custom role found by name in a tenant that defined 10,000 and kept the last 1,000
    // (the cap): the role lookup is an index, not a scan of every role ever defined.
    let (many, custom_user) = many_roles(&state, &ctx);
    let invoice: PermissionPattern = "invoice:approve".parse().unwrap();
    assert!(
        many.check_permission(custom_user, &invoice, Scope::Tenant)
            .unwrap()
            .allowed
    );
    c.bench_function("check_permission/domain_custom_role_of_10k_defined", |b| {
        b.iter(|| {
            black_box(
                many.check_permission(black_box(custom_user), &invoice, Scope::Tenant)
                    .unwrap(),
            )
        })
    });
    // What the lookup cost before the index, measured beside it: one pass over every role
    // ever defined, comparing status and name.
    let wanted = "custom-9999";
    c.bench_function("baseline/scan_of_10k_roles_by_name", |b| {
        b.iter(|| {
            black_box(many.roles().find(|r| {
                r.status == engine::domain::RoleStatus::Active && r.name == black_box(wanted)
            }))
        })
    });

    c.bench_function("user_claims/domain", |b| {
        b.iter(|| black_box(state.user_claims(black_box(user)).unwrap()))
    });

    // Through the engine: the tenant actor is live, so this is the in-memory answer plus the
    // actor round trip (no I/O).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
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
    c.bench_function("check_permission/engine_actor", |b| {
        b.to_async(&runtime).iter(|| {
            let engine = &engine;
            let permission = permission.clone();
            async move {
                black_box(
                    engine
                        .check_permission(tenant, user, permission, scope)
                        .await
                        .unwrap(),
                )
            }
        })
    });

    c.bench_function("user_claims/engine_actor", |b| {
        b.to_async(&runtime).iter(|| {
            let engine = &engine;
            async move { black_box(engine.user_claims(tenant, user).await.unwrap()) }
        })
    });

    let set: std::collections::HashSet<String> =
        (0..200).map(|i| format!("resource{i}:action")).collect();
    let probe = "resource150:action".to_owned();
    c.bench_function("baseline/hashset_lookup", |b| {
        b.iter(|| black_box(set.contains(black_box(&probe))))
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
