//! Users, invitations and permission checks through the actor runtime, against real
//! PostgreSQL, under concurrency.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use engine::{
    EngineError,
    domain::{
        Assignment, DomainError, OrganizationCommand, OrganizationId, PermissionPattern, Scope,
        TeamCommand, TeamId, TenantId, TenantScope, TenantScopeCommand, UserCommand, UserId,
        UserStatus,
    },
    journal::{Journal, postgres::PostgresJournal},
    runtime::{Engine, EngineConfig, RequestMeta},
    secrets::issue_invitation_token,
    testing::{TestDatabase, create_tenant},
};

async fn start(journal: &Arc<PostgresJournal>) -> Engine {
    Engine::start(journal.clone() as Arc<dyn Journal>, EngineConfig::default())
        .await
        .unwrap()
}

async fn run(engine: &Engine, tenant: TenantId, command: TenantScopeCommand) {
    engine
        .execute(tenant, command, RequestMeta::default())
        .await
        .unwrap();
}

async fn gold_tenant(engine: &Engine) -> TenantId {
    let id = TenantId::new_v7();
    let command = create_tenant(id, "Access");
    run(engine, id, command).await;
    id
}

async fn org(
    engine: &Engine,
    tenant: TenantId,
    name: &str,
    parent: Option<OrganizationId>,
) -> OrganizationId {
    let id = OrganizationId::new_v7();
    let command = TenantScopeCommand::Organization(OrganizationCommand::Create {
        id,
        name: name.into(),
        description: String::new(),
        parent_id: parent,
    });
    run(engine, tenant, command).await;
    id
}

/// Invites and activates a user; returns its id.
async fn active_user(engine: &Engine, tenant: TenantId, email: &str) -> UserId {
    let id = UserId::new_v7();
    let token = issue_invitation_token(id);
    let invite = TenantScopeCommand::User(UserCommand::Invite {
        id,
        email: email.into(),
        display_name: String::new(),
        roles: vec![],
        organization_id: None,
        expires_in_days: 7,
        token_hash: token.hash,
    });
    run(engine, tenant, invite).await;
    let accept = TenantScopeCommand::User(UserCommand::AcceptInvitation {
        id,
        token_hash: token.hash,
        display_name: None,
    });
    run(engine, tenant, accept).await;
    id
}

/// Rebuilds a tenant scope from the journal alone (no actor, no snapshot).
async fn scope_from_journal(journal: &Arc<PostgresJournal>, tenant: TenantId) -> TenantScope {
    engine::testing::scope_from_journal(journal.clone(), tenant).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_invitations_of_one_email_in_mixed_case_yield_exactly_one_user() {
    let db = TestDatabase::create().await;
    let journal = Arc::new(db.journal().await);
    let engine = start(&journal).await;
    let tenant = gold_tenant(&engine).await;

    let spellings = [
        "alice@example.com",
        "Alice@Example.com",
        "ALICE@EXAMPLE.COM",
        " alice@EXAMPLE.com ",
    ];
    let tasks: Vec<_> = (0..100)
        .map(|i| {
            let engine = engine.clone();
            let email = spellings[i % spellings.len()].to_owned();
            tokio::spawn(async move {
                let id = UserId::new_v7();
                let command = TenantScopeCommand::User(UserCommand::Invite {
                    id,
                    email,
                    display_name: String::new(),
                    roles: vec![],
                    organization_id: None,
                    expires_in_days: 7,
                    token_hash: issue_invitation_token(id).hash,
                });
                engine
                    .execute(tenant, command, RequestMeta::default())
                    .await
            })
        })
        .collect();
    let mut invited = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => invited += 1,
            Err(EngineError::Domain(DomainError::AlreadyExists { field: "email", .. })) => {}
            Err(other) => panic!("unexpected: {other:?}"),
        }
    }
    assert_eq!(invited, 1);
    let rebuilt = scope_from_journal(&journal, tenant).await;
    let alices = rebuilt
        .users()
        .filter(|u| u.email.trim().eq_ignore_ascii_case("alice@example.com"))
        .count();
    assert_eq!(alices, 1, "exactly one user with that email in the journal");
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn permission_checks_after_concurrent_assignments_and_moves_equal_the_journal() {
    let db = TestDatabase::create().await;
    let journal = Arc::new(db.journal().await);
    let engine = start(&journal).await;
    let tenant = gold_tenant(&engine).await;

    let a = org(&engine, tenant, "A", None).await;
    let b = org(&engine, tenant, "B", None).await;
    let a1 = org(&engine, tenant, "A1", Some(a)).await;
    let a2 = org(&engine, tenant, "A2", Some(a)).await;
    let b1 = org(&engine, tenant, "B1", Some(b)).await;
    let orgs = [a, b, a1, a2, b1];
    let mut teams = Vec::new();
    for (i, parent) in [a1, b1, a2].into_iter().enumerate() {
        let id = TeamId::new_v7();
        let command = TenantScopeCommand::Team(TeamCommand::Create {
            id,
            organization_id: parent,
            name: format!("team-{i}"),
            description: String::new(),
        });
        run(&engine, tenant, command).await;
        teams.push(id);
    }
    let mut users = Vec::new();
    for i in 0..4 {
        users.push(active_user(&engine, tenant, &format!("user{i}@example.com")).await);
    }
    let roles = ["org-admin", "member", "viewer", "team-member"];

    let tasks: Vec<_> = (0..60usize)
        .map(|i| {
            let engine = engine.clone();
            let user = users[i % users.len()];
            let scope = match i % 3 {
                0 => Scope::Organization(orgs[i % orgs.len()]),
                1 => Scope::Team(teams[i % teams.len()]),
                _ => Scope::Tenant,
            };
            let assignment = Assignment {
                role: roles[i % roles.len()].to_owned(),
                scope,
            };
            let command = match i % 5 {
                0 | 1 => TenantScopeCommand::User(UserCommand::AssignRole {
                    id: user,
                    assignment,
                }),
                2 => TenantScopeCommand::User(UserCommand::RevokeRole {
                    id: user,
                    assignment,
                }),
                _ => TenantScopeCommand::Organization(OrganizationCommand::Move {
                    id: [a1, a2, b1][i % 3],
                    new_parent_id: Some([a, b][i % 2]),
                }),
            };
            tokio::spawn(async move {
                engine
                    .execute(tenant, command, RequestMeta::default())
                    .await
            })
        })
        .collect();
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) | Err(EngineError::Domain(_)) => {}
            Err(other) => panic!("unexpected: {other:?}"),
        }
    }

    let rebuilt = scope_from_journal(&journal, tenant).await;
    let permissions = [
        "organization:create",
        "team:read",
        "analytics:view",
        "billing:manage",
        "invoice:approve",
    ];
    let mut scopes = vec![Scope::Tenant];
    scopes.extend(orgs.iter().map(|o| Scope::Organization(*o)));
    scopes.extend(teams.iter().map(|t| Scope::Team(*t)));
    let mut allowed = 0;
    for user in &users {
        for permission in permissions {
            let permission: PermissionPattern = permission.parse().unwrap();
            for scope in &scopes {
                let live = engine
                    .check_permission(tenant, *user, permission.clone(), *scope)
                    .await
                    .unwrap();
                let replayed = rebuilt
                    .check_permission(*user, &permission, *scope)
                    .unwrap();
                assert_eq!(live, replayed, "{user} {permission} {scope:?}");
                allowed += usize::from(live.allowed);
            }
        }
    }
    assert!(allowed > 0, "the workload must grant something");
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accepted_invitation_activates_the_user_and_its_roles() {
    let db = TestDatabase::create().await;
    let journal = Arc::new(db.journal().await);
    let engine = start(&journal).await;
    let tenant = gold_tenant(&engine).await;
    let sales = org(&engine, tenant, "Sales", None).await;
    let user = UserId::new_v7();
    let token = issue_invitation_token(user);
    let invite = TenantScopeCommand::User(UserCommand::Invite {
        id: user,
        email: "bob@example.com".into(),
        display_name: "Bob".into(),
        roles: vec![Assignment {
            role: "org-admin".into(),
            scope: Scope::Organization(sales),
        }],
        organization_id: Some(sales),
        expires_in_days: 7,
        token_hash: token.hash,
    });
    run(&engine, tenant, invite).await;
    let create = "organization:create".parse::<PermissionPattern>().unwrap();
    let invited = engine
        .check_permission(tenant, user, create.clone(), Scope::Organization(sales))
        .await
        .unwrap();
    assert!(!invited.allowed, "an invited user holds no permission yet");

    let wrong = TenantScopeCommand::User(UserCommand::AcceptInvitation {
        id: user,
        token_hash: issue_invitation_token(user).hash,
        display_name: None,
    });
    let refused = engine.execute(tenant, wrong, RequestMeta::default()).await;
    assert!(
        matches!(
            refused,
            Err(EngineError::Domain(DomainError::NotFound { .. }))
        ),
        "{refused:?}"
    );

    let accept = TenantScopeCommand::User(UserCommand::AcceptInvitation {
        id: user,
        token_hash: token.hash,
        display_name: None,
    });
    run(&engine, tenant, accept).await;
    assert_eq!(
        engine.get_user(tenant, user).await.unwrap().status,
        UserStatus::Active
    );
    let decision = engine
        .check_permission(tenant, user, create.clone(), Scope::Organization(sales))
        .await
        .unwrap();
    assert!(decision.allowed);
    assert_eq!(
        decision.granted_by,
        Some(Assignment {
            role: "org-admin".into(),
            scope: Scope::Organization(sales)
        })
    );
    let at_tenant = engine
        .check_permission(tenant, user, create, Scope::Tenant)
        .await
        .unwrap();
    assert!(
        !at_tenant.allowed,
        "an organization role does not reach the tenant scope"
    );
    engine.shutdown().await;
}
