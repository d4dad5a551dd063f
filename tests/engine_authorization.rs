//! A command carrying its caller's permission requirement (`RequestMeta::authorization`): the
//! tenant's actor checks it in the message that decides the command, against the same state,
//! and a refusal writes nothing. Against real PostgreSQL.
//!
//! The mailbox-order tests send several messages to one tenant's actor before awaiting any of
//! them (each `Engine` call queues its message on its first poll), on a current-thread
//! runtime so that nothing runs in between: the actor handles them in that order.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use std::{future::Future, pin::Pin, sync::Arc, task::Poll};

use engine::{
    EngineError,
    domain::{
        Assignment, OrganizationCommand, OrganizationId, PermissionPattern, Scope, TenantId,
        TenantScopeCommand, UserCommand, UserId,
    },
    journal::{EventLog, Journal, postgres::PostgresJournal},
    runtime::{CommandOutcome, Engine, EngineConfig, PermissionRequirement, RequestMeta, Subject},
    secrets::issue_invitation_token,
    testing::TestDatabase,
};

struct Fixture {
    _db: TestDatabase,
    journal: Arc<PostgresJournal>,
    engine: Engine,
    tenant: TenantId,
    /// A root organization with a child.
    org: OrganizationId,
    child: OrganizationId,
}

async fn fixture() -> Fixture {
    let db = TestDatabase::create().await;
    let journal = Arc::new(db.journal().await);
    let engine = Engine::start(journal.clone() as Arc<dyn Journal>, EngineConfig::default())
        .await
        .unwrap();
    let tenant = TenantId::new_v7();
    let create = engine::testing::create_tenant(tenant, "Authorization");
    run(&engine, tenant, create).await;
    let org = OrganizationId::new_v7();
    run(&engine, tenant, create_org(org, "Engineering", None)).await;
    let child = OrganizationId::new_v7();
    run(&engine, tenant, create_org(child, "Platform", Some(org))).await;
    Fixture {
        _db: db,
        journal,
        engine,
        tenant,
        org,
        child,
    }
}

impl Fixture {
    /// An active user holding `roles`.
    async fn user(&self, email: &str, roles: Vec<Assignment>) -> UserId {
        let id = UserId::new_v7();
        let token = issue_invitation_token(id);
        let invite = TenantScopeCommand::User(UserCommand::Invite {
            id,
            email: email.into(),
            display_name: String::new(),
            roles,
            organization_id: None,
            expires_in_days: 7,
            token_hash: token.hash,
        });
        run(&self.engine, self.tenant, invite).await;
        let accept = TenantScopeCommand::User(UserCommand::AcceptInvitation {
            id,
            token_hash: token.hash,
            display_name: None,
        });
        run(&self.engine, self.tenant, accept).await;
        id
    }

    async fn events(&self) -> usize {
        self.journal
            .read_tenant(self.tenant, 0)
            .await
            .unwrap()
            .len()
    }

    fn execute(
        &self,
        command: TenantScopeCommand,
        meta: RequestMeta,
    ) -> impl Future<Output = Result<CommandOutcome, EngineError>> + use<> {
        let engine = self.engine.clone();
        let tenant = self.tenant;
        async move { engine.execute(tenant, command, meta).await }
    }
}

async fn run(engine: &Engine, tenant: TenantId, command: TenantScopeCommand) {
    engine
        .execute(tenant, command, RequestMeta::default())
        .await
        .unwrap();
}

fn create_org(
    id: OrganizationId,
    name: &str,
    parent: Option<OrganizationId>,
) -> TenantScopeCommand {
    TenantScopeCommand::Organization(OrganizationCommand::Create {
        id,
        name: name.into(),
        description: String::new(),
        parent_id: parent,
    })
}

fn rename(org: OrganizationId, name: &str) -> TenantScopeCommand {
    TenantScopeCommand::Organization(OrganizationCommand::Update {
        id: org,
        name: Some(name.into()),
        description: None,
    })
}

fn org_admin_at(org: OrganizationId) -> Assignment {
    Assignment {
        role: "org-admin".into(),
        scope: Scope::Organization(org),
    }
}

fn permission(p: &str) -> PermissionPattern {
    p.parse().unwrap()
}

/// A command of `user`, who must hold `needs` at `scopes`.
fn as_user(user: UserId, needs: &str, scopes: Vec<Scope>) -> RequestMeta {
    RequestMeta {
        authorization: Some(PermissionRequirement {
            subject: Subject::User(user),
            permission: Some(permission(needs)),
            scopes,
            confers: Vec::new(),
        }),
        ..RequestMeta::default()
    }
}

fn assert_denied(answer: Result<CommandOutcome, EngineError>, needs: &str, at: Scope) {
    match answer {
        Err(EngineError::PermissionDenied {
            permission: p,
            scope,
        }) => {
            assert_eq!((p, scope), (permission(needs), at));
        }
        other => panic!("expected PermissionDenied for {needs} at {at:?}, got {other:?}"),
    }
}

/// Polls `future` once: an `Engine` call queues its message to the actor on its first poll.
async fn send<F: Future + Unpin>(future: &mut F) {
    std::future::poll_fn(|cx| {
        assert!(
            Pin::new(&mut *future).poll(cx).is_pending(),
            "answered before the test let the actor run"
        );
        Poll::Ready(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_without_the_permission_is_refused_and_nothing_is_written() {
    let f = fixture().await;
    let member = f
        .user(
            "member@example.com",
            vec![Assignment {
                role: "member".into(),
                scope: Scope::Tenant,
            }],
        )
        .await;
    let admin = f.user("admin@example.com", vec![org_admin_at(f.org)]).await;
    let before = f.events().await;

    // No role granting it.
    let at = Scope::Organization(f.child);
    let answer = f
        .execute(
            rename(f.child, "Renamed"),
            as_user(member, "organization:update", vec![at]),
        )
        .await;
    assert_denied(answer, "organization:update", at);
    // A subject that is not a user of the tenant holds nothing.
    let stranger = UserId::new_v7();
    let answer = f
        .execute(
            rename(f.child, "Renamed"),
            as_user(stranger, "organization:update", vec![at]),
        )
        .await;
    assert_denied(answer, "organization:update", at);
    // Every scope must allow it, the first that does not is named: a move to the tenant root
    // needs the permission at the organization (held) and at the tenant (not held).
    let move_to_root = TenantScopeCommand::Organization(OrganizationCommand::Move {
        id: f.child,
        new_parent_id: None,
    });
    let answer = f
        .execute(
            move_to_root,
            as_user(admin, "organization:move", vec![at, Scope::Tenant]),
        )
        .await;
    assert_denied(answer, "organization:move", Scope::Tenant);
    // An idempotent request refused for its permission is not remembered.
    let keyed = RequestMeta {
        request_id: Some("rename-1".into()),
        ..as_user(member, "organization:update", vec![at])
    };
    assert_denied(
        f.execute(rename(f.child, "Renamed"), keyed.clone()).await,
        "organization:update",
        at,
    );
    assert_eq!(f.events().await, before, "a refused command wrote");

    // An unknown scope is NOT_FOUND, as CheckPermission says.
    let unknown = OrganizationId::new_v7();
    let answer = f
        .execute(
            rename(f.child, "Renamed"),
            as_user(
                admin,
                "organization:update",
                vec![Scope::Organization(unknown)],
            ),
        )
        .await;
    assert!(
        matches!(answer, Err(EngineError::Domain(ref e)) if e.reason() == "NOT_FOUND"),
        "{answer:?}"
    );

    // Once the role is granted, the same request runs (it was not a replay).
    let grant = TenantScopeCommand::User(UserCommand::AssignRole {
        id: member,
        assignment: org_admin_at(f.org),
    });
    run(&f.engine, f.tenant, grant).await;
    let outcome = f.execute(rename(f.child, "Renamed"), keyed).await.unwrap();
    assert!(!outcome.replayed);
    // Held through the parent organization: allowed at the child.
    let outcome = f
        .execute(
            rename(f.child, "Renamed again"),
            as_user(admin, "organization:update", vec![at]),
        )
        .await
        .unwrap();
    assert!(!outcome.replayed);
    f.engine.shutdown().await;
}

/// The role is revoked by the message just before the command in the actor's mailbox: the
/// command, whose requirement is checked in its own message, is refused. With the check in a
/// message of its own (the two-visit path), the same order lets the command through.
#[tokio::test]
async fn a_role_revoked_just_before_the_command_stops_it() {
    let f = fixture().await;
    let admin = f.user("admin@example.com", vec![org_admin_at(f.org)]).await;
    let at = Scope::Organization(f.org);
    let needs = permission("organization:update");
    let revoke = TenantScopeCommand::User(UserCommand::RevokeRole {
        id: admin,
        assignment: org_admin_at(f.org),
    });
    let grant = TenantScopeCommand::User(UserCommand::AssignRole {
        id: admin,
        assignment: org_admin_at(f.org),
    });

    // One visit: [revoke, command with its requirement].
    let before = f.events().await;
    let mut revoked = Box::pin(f.execute(revoke.clone(), RequestMeta::default()));
    let mut command = Box::pin(f.execute(
        rename(f.org, "Renamed"),
        as_user(admin, "organization:update", vec![at]),
    ));
    send(&mut revoked).await;
    send(&mut command).await;
    let (revoked, command) = tokio::join!(revoked, command);
    revoked.unwrap();
    assert_denied(command, "organization:update", at);
    assert_eq!(
        f.events().await,
        before + 2,
        "only the revocation is written (and the user's ClaimsChanged)"
    );

    // Two visits: [check, revoke, command]: the check allows what the command then does
    // without the role. This is the window the requirement closes.
    run(&f.engine, f.tenant, grant).await;
    let before = f.events().await;
    let engine = f.engine.clone();
    let tenant = f.tenant;
    let mut check =
        Box::pin(async move { engine.check_permission(tenant, admin, needs, at).await });
    let mut revoked = Box::pin(f.execute(revoke, RequestMeta::default()));
    let mut command = Box::pin(f.execute(rename(f.org, "Renamed"), RequestMeta::default()));
    send(&mut check).await;
    send(&mut revoked).await;
    send(&mut command).await;
    let (check, revoked, command) = tokio::join!(check, revoked, command);
    assert!(check.unwrap().allowed);
    revoked.unwrap();
    command.unwrap();
    assert_eq!(
        f.events().await,
        before + 3,
        "revocation (with its ClaimsChanged) and command"
    );
    f.engine.shutdown().await;
}

/// The requirement comes first: a caller who lost the permission gets no replay of its earlier
/// answer, as when the check ran before the command was sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_needs_the_permission_too() {
    let f = fixture().await;
    let admin = f.user("admin@example.com", vec![org_admin_at(f.org)]).await;
    let at = Scope::Organization(f.org);
    let keyed = RequestMeta {
        request_id: Some("rename-once".into()),
        ..as_user(admin, "organization:update", vec![at])
    };
    let first = f
        .execute(rename(f.org, "Renamed"), keyed.clone())
        .await
        .unwrap();
    let replay = f
        .execute(rename(f.org, "Renamed"), keyed.clone())
        .await
        .unwrap();
    assert!(!first.replayed && replay.replayed);
    let revoke = TenantScopeCommand::User(UserCommand::RevokeRole {
        id: admin,
        assignment: org_admin_at(f.org),
    });
    run(&f.engine, f.tenant, revoke).await;
    assert_denied(
        f.execute(rename(f.org, "Renamed"), keyed).await,
        "organization:update",
        at,
    );
    f.engine.shutdown().await;
}
