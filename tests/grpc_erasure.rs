//! Erasure over real gRPC (SPEC §6), on PostgreSQL and on the embedded SQLite store:
//! EraseUser (permission `user:erase`: tenant-owner and tenant-admin, not an org-admin or a
//! member; never across tenants), what an erased person looks like afterwards (GetUser,
//! ListUsers, the audit trail: empty values, never a `pd1.` ciphertext), the same email invited
//! again as a new user, idempotency (request id replay, and a plain second erase), and
//! EraseTenant (platform admins; only once the tenant is deleted; every person erased).
//! The PostgreSQL test needs `ENTITY_TEST_DATABASE_URL`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

#[path = "support/grpc.rs"]
mod grpc_support;

use std::sync::Arc;

use engine::testing::TestDatabase;
use entity_proto::v1 as pb;
use gateway::{AuthMode, Node, NodeOptions, RunningServer, Storage};
use grpc_support::{
    Clients, SetupOrJwt, accept, bearer, claims, create_org, create_tenant_answer, hs256_token,
    invite, jwt_auth, reason, role_at, scope, with_request_id,
};
use tonic::Code;

/// A node whose calls without a token are the dev platform admin (setup) and whose calls with
/// one are HS256 JWTs checked against the engine's role assignments.
struct ErasureNode {
    server: RunningServer,
    clients: Clients,
    _db: Option<TestDatabase>,
    _dir: Option<tempfile::TempDir>,
}

async fn start(storage: Storage) -> (RunningServer, Clients) {
    let (_, jwt) = jwt_auth(None, true).await;
    let node = Node::start(&storage, NodeOptions::default())
        .await
        .expect("node starts");
    let auth = AuthMode::Custom {
        authenticator: Arc::new(SetupOrJwt(jwt)),
        authorizer: Arc::new(gateway::auth::RoleAuthorizer::new(node.engine().clone())),
    };
    let server = gateway::spawn_server(node, auth, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("server starts");
    let clients = Clients::connect(&server.endpoint()).await;
    (server, clients)
}

async fn postgres_node() -> ErasureNode {
    let db = TestDatabase::create().await;
    let (server, clients) = start(Storage::Postgres(db.journal().await)).await;
    ErasureNode {
        server,
        clients,
        _db: Some(db),
        _dir: None,
    }
}

async fn sqlite_node() -> ErasureNode {
    let dir = tempfile::tempdir().unwrap();
    let journal = engine::testing::sqlite_journal(dir.path()).await;
    let (server, clients) = start(Storage::Sqlite(journal)).await;
    ErasureNode {
        server,
        clients,
        _db: None,
        _dir: Some(dir),
    }
}

/// An accepted user of `tenant` (invited with `roles`, display name `name`) and a token of it.
async fn member(
    c: &mut Clients,
    tenant: &str,
    email: &str,
    name: &str,
    roles: Vec<pb::RoleAssignment>,
) -> (pb::User, String) {
    let invited = c
        .users
        .invite_user(pb::InviteUserRequest {
            tenant_id: tenant.to_owned(),
            email: email.to_owned(),
            display_name: name.to_owned(),
            roles,
            ..Default::default()
        })
        .await
        .unwrap_or_else(|s| panic!("invite {email}: {s:?}"))
        .into_inner();
    let user = accept(c, tenant, &invited.invitation_token).await;
    let token = hs256_token(&claims(&user.id, Some(tenant)));
    (user, token)
}

fn erase_user(tenant: &str, user: &str, request_id: &str) -> pb::EraseUserRequest {
    pb::EraseUserRequest {
        options: with_request_id(request_id),
        tenant_id: tenant.to_owned(),
        user_id: user.to_owned(),
    }
}

fn erase_tenant(tenant: &str, request_id: &str) -> pb::EraseTenantRequest {
    pb::EraseTenantRequest {
        options: with_request_id(request_id),
        tenant_id: tenant.to_owned(),
    }
}

async fn get_user(c: &mut Clients, tenant: &str, user: &str) -> pb::User {
    c.users
        .get_user(pb::GetUserRequest {
            tenant_id: tenant.to_owned(),
            user_id: user.to_owned(),
            consistency_token: String::new(),
        })
        .await
        .unwrap_or_else(|s| panic!("get user {user}: {s:?}"))
        .into_inner()
}

/// Every user of `tenant` in the directory read model, at least as of `token`.
async fn list_users(c: &mut Clients, tenant: &str, token: &str) -> Vec<pb::User> {
    let mut users = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = c
            .users
            .list_users(pb::ListUsersRequest {
                tenant_id: tenant.to_owned(),
                page_size: 500,
                page_token,
                consistency_token: token.to_owned(),
                ..Default::default()
            })
            .await
            .unwrap_or_else(|s| panic!("list users: {s:?}"))
            .into_inner();
        users.extend(page.users);
        if page.next_page_token.is_empty() {
            return users;
        }
        page_token = page.next_page_token;
    }
}

/// The whole audit trail of `tenant` (or of one entity), at least as of `token`.
async fn audit(
    c: &mut Clients,
    tenant: &str,
    entity: Option<pb::EntityRef>,
    token: &str,
) -> Vec<pb::AuditEvent> {
    let mut events = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = c
            .audit
            .list_audit_events(pb::ListAuditEventsRequest {
                tenant_id: tenant.to_owned(),
                entity: entity.clone(),
                // small pages: the opening of personal values is per page
                page_size: 3,
                page_token,
                consistency_token: token.to_owned(),
                ..Default::default()
            })
            .await
            .unwrap_or_else(|s| panic!("audit: {s:?}"))
            .into_inner();
        events.extend(page.events);
        if page.next_page_token.is_empty() {
            return events;
        }
        page_token = page.next_page_token;
    }
}

fn user_ref(id: &str) -> Option<pb::EntityRef> {
    Some(pb::EntityRef {
        kind: pb::EntityKind::User as i32,
        id: id.to_owned(),
    })
}

/// A string field of an audit payload ("" when absent).
fn payload_text(event: &pb::AuditEvent, field: &str) -> String {
    event
        .payload
        .as_ref()
        .and_then(|p| p.fields.get(field))
        .and_then(|v| match &v.kind {
            Some(prost_types::value::Kind::StringValue(s)) => Some(s.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

fn assert_erased(user: &pb::User, what: &str) {
    assert_eq!(
        user.status,
        pb::UserStatus::Erased as i32,
        "{what}: {user:?}"
    );
    assert_eq!(user.email, "", "{what}: {user:?}");
    assert_eq!(user.display_name, "", "{what}: {user:?}");
    assert_eq!(user.invitation, None, "{what}: {user:?}");
}

/// No sealed value anywhere in what a caller was shown.
fn assert_no_ciphertext(shown: &impl std::fmt::Debug, what: &str) {
    let text = format!("{shown:?}");
    assert!(!text.contains("pd1."), "{what} shows a ciphertext: {text}");
}

async fn erasure_over_grpc(node: ErasureNode) {
    let mut c = node.clients.clone();
    let platform_admin = hs256_token(&claims("ops-automation", None));

    // tenant A: an owner, a tenant-admin, an org-admin, a plain member and Erin
    let created = create_tenant_answer(&mut c, pb::Plan::Gold).await;
    let a = created.tenant.unwrap();
    let owner_email = a.onboarding.as_ref().unwrap().owner_email.clone();
    assert!(!owner_email.is_empty());
    let owner = accept(&mut c, &a.id, &created.owner_invitation_token).await;
    let owner_token = hs256_token(&claims(&owner.id, Some(&a.id)));
    let eng = create_org(&mut c, &a.id, "Engineering", "").await;
    let (admin, admin_token) = member(
        &mut c,
        &a.id,
        "admin@a.test",
        "Ada Admin",
        vec![role_at("tenant-admin", None)],
    )
    .await;
    let (_org_admin, org_admin_token) = member(
        &mut c,
        &a.id,
        "orgadmin@a.test",
        "Olga Org",
        vec![role_at(
            "org-admin",
            scope(pb::ScopeKind::Organization, &eng.id),
        )],
    )
    .await;
    let (plain, member_token) = member(&mut c, &a.id, "member@a.test", "Max Member", vec![]).await;
    let (erin, _) = member(&mut c, &a.id, "erin@a.test", "Erin Example", vec![]).await;

    // tenant B with a user of its own
    let created_b = create_tenant_answer(&mut c, pb::Plan::Gold).await;
    let b = created_b.tenant.unwrap();
    let (bob, _) = member(&mut c, &b.id, "bob@b.test", "Bob", vec![]).await;

    // before any erasure the audit trail shows personal values opened, never sealed
    let before = audit(&mut c, &a.id, user_ref(&plain.id), "").await;
    let invited = before
        .iter()
        .find(|e| e.event_type == "UserInvited")
        .expect("the invitation is audited");
    assert_eq!(payload_text(invited, "email"), "member@a.test");
    assert_eq!(payload_text(invited, "display_name"), "Max Member");
    assert_no_ciphertext(&before, "the audit trail");

    // an org-admin and a member may not erase anyone
    for (who, token) in [("org-admin", &org_admin_token), ("member", &member_token)] {
        let err = c
            .users
            .erase_user(bearer(erase_user(&a.id, &erin.id, ""), token))
            .await
            .expect_err(who);
        assert_eq!(err.code(), Code::PermissionDenied, "{who}: {err:?}");
        assert!(err.message().contains("user:erase"), "{who}: {err:?}");
    }
    // nor may a user of A erase a user of B: not through B, not through A
    let err = c
        .users
        .erase_user(bearer(erase_user(&b.id, &bob.id, ""), &admin_token))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    let err = c
        .users
        .erase_user(bearer(erase_user(&a.id, &bob.id, ""), &admin_token))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{err:?}");
    assert_eq!(get_user(&mut c, &a.id, &erin.id).await.email, "erin@a.test");
    assert_eq!(get_user(&mut c, &b.id, &bob.id).await.email, "bob@b.test");

    // the tenant-admin erases Erin
    let first = c
        .users
        .erase_user(bearer(
            erase_user(&a.id, &erin.id, "erase-erin"),
            &admin_token,
        ))
        .await
        .unwrap()
        .into_inner();
    let erased = first.user.clone().unwrap();
    assert_eq!(erased.id, erin.id);
    assert_erased(&erased, "EraseUser's answer");
    let result = first.result.clone().unwrap();
    assert!(!result.replayed);
    assert_eq!(result.version, erin.version + 1);

    // a retry with the same request id is the first answer, replayed
    let retry = c
        .users
        .erase_user(bearer(
            erase_user(&a.id, &erin.id, "erase-erin"),
            &admin_token,
        ))
        .await
        .unwrap()
        .into_inner();
    let retried = retry.result.unwrap();
    assert!(retried.replayed);
    assert_eq!(retried.version, result.version);
    assert_eq!(retried.consistency_token, result.consistency_token);
    assert_eq!(retry.user, first.user);
    // a second erase without a request id is a no-op that succeeds
    let again = c
        .users
        .erase_user(bearer(erase_user(&a.id, &erin.id, ""), &owner_token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        again.result.unwrap().version,
        result.version,
        "nothing written"
    );
    assert_erased(&again.user.unwrap(), "a second erase");

    // GetUser, ListUsers and the audit trail show Erin erased
    assert_erased(&get_user(&mut c, &a.id, &erin.id).await, "GetUser");
    let listed = list_users(&mut c, &a.id, &result.consistency_token).await;
    let listed_erin = listed
        .iter()
        .find(|u| u.id == erin.id)
        .expect("Erin is still listed");
    assert_eq!(listed_erin.status, pb::UserStatus::Erased as i32);
    assert_eq!(listed_erin.email, "");
    assert_eq!(listed_erin.display_name, "");
    assert!(
        !format!("{listed:?}").contains("erin@a.test"),
        "no list shows her email: {listed:?}"
    );
    assert!(
        listed
            .iter()
            .any(|u| u.id == plain.id && u.email == "member@a.test"),
        "the others keep theirs: {listed:?}"
    );
    let history = audit(&mut c, &a.id, user_ref(&erin.id), &result.consistency_token).await;
    let invited = history
        .iter()
        .find(|e| e.event_type == "UserInvited")
        .expect("the invitation is still audited");
    assert_eq!(payload_text(invited, "email"), "", "erased: {invited:?}");
    assert_eq!(payload_text(invited, "display_name"), "");
    assert!(history.iter().any(|e| e.event_type == "UserErased"));
    let erased_event = history
        .iter()
        .find(|e| e.event_type == "UserErased")
        .unwrap();
    assert_eq!(
        erased_event.actor.as_ref().unwrap().subject,
        admin.id,
        "who erased is kept"
    );
    assert_eq!(erased_event.request_id, "erase-erin");
    let whole = audit(&mut c, &a.id, None, &result.consistency_token).await;
    assert_no_ciphertext(&whole, "the audit trail");
    assert!(!format!("{whole:?}").contains("erin@a.test"));
    assert!(!format!("{whole:?}").contains("Erin Example"));

    // the same email may be invited again: a new person
    let again = invite(&mut c, &a.id, "erin@a.test", "", vec![]).await;
    let new_erin = again.user.unwrap();
    assert_ne!(new_erin.id, erin.id);
    assert_eq!(new_erin.email, "erin@a.test");
    assert_eq!(new_erin.status, pb::UserStatus::Invited as i32);
    assert_erased(&get_user(&mut c, &a.id, &erin.id).await, "the old Erin");

    // EraseTenant: platform admins only, and only for a deleted tenant
    let err = c
        .tenants
        .erase_tenant(bearer(erase_tenant(&a.id, ""), &platform_admin))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert_eq!(reason(&err), "TENANT_NOT_DELETED");
    c.tenants
        .delete_tenant(bearer(
            pb::DeleteTenantRequest {
                tenant_id: a.id.clone(),
                ..Default::default()
            },
            &owner_token,
        ))
        .await
        .unwrap();
    let err = c
        .tenants
        .erase_tenant(bearer(erase_tenant(&a.id, ""), &owner_token))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    let err = c
        .tenants
        .erase_tenant(bearer(erase_tenant(&b.id, ""), &owner_token))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    let erased_tenant = c
        .tenants
        .erase_tenant(bearer(erase_tenant(&a.id, "erase-a"), &platform_admin))
        .await
        .unwrap()
        .into_inner();
    let tenant = erased_tenant.tenant.clone().unwrap();
    assert_eq!(tenant.status, pb::TenantStatus::Deleted as i32);
    assert!(tenant.erased_at.is_some(), "{tenant:?}");
    assert_eq!(tenant.onboarding.as_ref().unwrap().owner_email, "");
    let tenant_result = erased_tenant.result.clone().unwrap();
    assert!(!tenant_result.replayed);
    // idempotent: a retry with the same request id, or without one, writes nothing and
    // answers the same erased tenant (its keys, the fingerprint key of its request ids
    // included, are gone: a retry is answered as the no-op it is rather than as a replay)
    for request_id in ["erase-a", ""] {
        let again = c
            .tenants
            .erase_tenant(bearer(erase_tenant(&a.id, request_id), &platform_admin))
            .await
            .unwrap()
            .into_inner();
        let result = again.result.unwrap();
        assert_eq!(result.version, tenant_result.version, "{request_id:?}");
        assert_eq!(result.consistency_token, tenant_result.consistency_token);
        assert_eq!(again.tenant.unwrap().erased_at, tenant.erased_at);
    }
    let got = c
        .tenants
        .get_tenant(pb::GetTenantRequest {
            tenant_id: a.id.clone(),
            consistency_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.erased_at, tenant.erased_at);

    // every person of A reads as erased, everywhere; B is untouched
    let everyone = [&owner.id, &admin.id, &plain.id, &erin.id, &new_erin.id];
    for id in everyone {
        assert_erased(&get_user(&mut c, &a.id, id).await, "after EraseTenant");
    }
    let listed = list_users(&mut c, &a.id, &tenant_result.consistency_token).await;
    assert_eq!(listed.len(), everyone.len() + 1, "{listed:?}"); // and the org-admin
    for user in &listed {
        assert_erased(
            &pb::User {
                invitation: None,
                ..user.clone()
            },
            "ListUsers after EraseTenant",
        );
    }
    let whole = audit(&mut c, &a.id, None, &tenant_result.consistency_token).await;
    assert_no_ciphertext(&whole, "the audit trail");
    assert!(!format!("{whole:?}").contains("@a.test"), "{whole:?}");
    let onboarding = whole
        .iter()
        .find(|e| e.event_type == "OnboardingStarted")
        .expect("onboarding is audited");
    assert!(
        !format!("{onboarding:?}").contains(&owner_email),
        "{onboarding:?}"
    );
    assert!(!format!("{whole:?}").contains(&owner_email));
    assert!(whole.iter().any(|e| e.event_type == "TenantErased"));
    assert_eq!(get_user(&mut c, &b.id, &bob.id).await.email, "bob@b.test");

    // no value was refused on the way
    let status = c
        .admin
        .get_node_status(bearer(pb::GetNodeStatusRequest {}, &platform_admin))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(status.unreadable_personal_values, 0);

    node.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn erasure_on_postgres() {
    erasure_over_grpc(postgres_node().await).await;
}

#[tokio::test]
async fn erasure_on_sqlite() {
    erasure_over_grpc(sqlite_node().await).await;
}
