//! No acknowledged write is lost when a node dies: the real `entityd` binary killed with
//! SIGKILL right after its acknowledgments (embedded SQLite), and an in-process node on
//! PostgreSQL dropped without shutdown; a fresh node on the same store answers exactly the
//! acknowledged state and versions of every kind of entity, and the same permission checks.
//! The PostgreSQL half needs `ENTITY_TEST_DATABASE_URL`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

#[path = "support/grpc.rs"]
mod grpc_support;

use entity_proto::v1 as pb;
use gateway::AuthMode;
use grpc_support::{
    Clients, Entityd, PgNode, accept, check, create_team, define_role, invite, role_at, scope,
};

/// What the clients were told: every entity as acknowledged.
struct Acknowledged {
    tenant: pb::Tenant,
    organizations: Vec<pb::Organization>,
    team: pb::Team,
    role: pb::Role,
    /// The owner (still invited) and an active user holding the custom role and org-admin.
    users: Vec<pb::User>,
}

/// Writes a tenant and a few organizations, returning the last acknowledged state of each.
async fn write_some(c: &mut Clients) -> Acknowledged {
    let created = c
        .tenants
        .create_tenant(grpc_support::create_tenant_request(
            "Durable",
            pb::Plan::Gold,
        ))
        .await
        .unwrap()
        .into_inner();
    let tenant_id = created.tenant.as_ref().unwrap().id.clone();
    let mut organizations = Vec::new();
    let mut parent = String::new();
    for name in ["Root", "Child", "Grandchild"] {
        let r = c
            .orgs
            .create_organization(pb::CreateOrganizationRequest {
                tenant_id: tenant_id.clone(),
                name: name.into(),
                parent_id: parent.clone(),
                options: grpc_support::with_request_id(&format!("create-{name}")),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        let org = r.organization.unwrap();
        parent = org.id.clone();
        organizations.push(org);
    }
    // one more change on each kind of stream
    let moved = c
        .orgs
        .move_organization(pb::MoveOrganizationRequest {
            tenant_id: tenant_id.clone(),
            organization_id: organizations[2].id.clone(),
            new_parent_id: organizations[0].id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    organizations[2] = moved.organization.unwrap();
    let updated = c
        .tenants
        .update_tenant(pb::UpdateTenantRequest {
            tenant_id: tenant_id.clone(),
            tenant: Some(pb::TenantUpdate {
                products: vec!["crm".into()],
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["products".into()],
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let tenant = updated.tenant.unwrap();
    assert_eq!(tenant.version, created.tenant.as_ref().unwrap().version + 1);
    let owner = tenant.onboarding.clone().unwrap().owner_user_id;

    // a team, a custom role, and a user holding roles
    let team = create_team(c, &tenant_id, &organizations[0].id, "Core").await;
    let role = define_role(c, &tenant_id, "approver", &["invoice:approve"]).await;
    let roles = vec![
        role_at("approver", None),
        role_at(
            "org-admin",
            scope(pb::ScopeKind::Organization, &organizations[0].id),
        ),
    ];
    let invited = invite(c, &tenant_id, "ann@example.com", "", roles).await;
    accept(c, &tenant_id, &invited.invitation_token).await;
    let team = c
        .teams
        .add_team_member(pb::AddTeamMemberRequest {
            tenant_id: tenant_id.clone(),
            team_id: team.id.clone(),
            user_id: invited.user.unwrap().id,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .team
        .unwrap();
    let mut users = Vec::new();
    for id in [owner, team.members[0].user_id.clone()] {
        let user = c
            .users
            .get_user(pb::GetUserRequest {
                tenant_id: tenant_id.clone(),
                user_id: id,
                consistency_token: String::new(),
            })
            .await
            .unwrap()
            .into_inner();
        users.push(user);
    }
    Acknowledged {
        tenant,
        organizations,
        team,
        role,
        users,
    }
}

/// The permission answers that must survive a restart.
async fn assert_permissions(c: &mut Clients, acked: &Acknowledged) {
    let t = acked.tenant.id.as_str();
    let (owner, ann) = (&acked.users[0].id, &acked.users[1].id);
    let answer = check(c, t, ann, "invoice:approve", None).await;
    assert!(answer.allowed, "{answer:?}");
    assert_eq!(answer.granted_by.unwrap().role, "approver");
    let at_child = scope(pb::ScopeKind::Organization, &acked.organizations[1].id);
    let answer = check(c, t, ann, "team:manage", at_child).await;
    assert_eq!(answer.granted_by.unwrap().role, "org-admin");
    let at_team = scope(pb::ScopeKind::Team, &acked.team.id);
    assert!(check(c, t, ann, "team:read", at_team).await.allowed);
    let answer = check(c, t, owner, "tenant:delete", None).await;
    assert_eq!(
        answer.denial_reason, "USER_NOT_ACTIVE",
        "the owner has not accepted"
    );
}

/// Reads everything back and compares it with what was acknowledged.
async fn assert_reads_back(c: &mut Clients, acked: &Acknowledged) {
    let tenant = c
        .tenants
        .get_tenant(pb::GetTenantRequest {
            tenant_id: acked.tenant.id.clone(),
            consistency_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(tenant, acked.tenant);
    for org in &acked.organizations {
        let got = c
            .orgs
            .get_organization(pb::GetOrganizationRequest {
                tenant_id: acked.tenant.id.clone(),
                organization_id: org.id.clone(),
                consistency_token: String::new(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(&got, org);
    }
    let t = acked.tenant.id.clone();
    let team = c
        .teams
        .get_team(pb::GetTeamRequest {
            tenant_id: t.clone(),
            team_id: acked.team.id.clone(),
            consistency_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(team, acked.team);
    let role = c
        .roles
        .get_role(pb::GetRoleRequest {
            tenant_id: t.clone(),
            role_id: acked.role.id.clone(),
            consistency_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(role, acked.role);
    for user in &acked.users {
        let got = c
            .users
            .get_user(pb::GetUserRequest {
                tenant_id: t.clone(),
                user_id: user.id.clone(),
                consistency_token: String::new(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(&got, user);
    }
    assert_permissions(c, acked).await;
    // a retried request id still replays after the restart
    let replay = c
        .orgs
        .create_organization(pb::CreateOrganizationRequest {
            tenant_id: acked.tenant.id.clone(),
            name: "Root".into(),
            options: grpc_support::with_request_id("create-Root"),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(replay.result.unwrap().replayed);
    assert_eq!(replay.organization.unwrap().id, acked.organizations[0].id);
}

#[tokio::test]
async fn embedded_node_killed_with_sigkill_keeps_acknowledged_writes() {
    let dir = tempfile::tempdir().unwrap();
    let node = Entityd::embedded(dir.path()).await;
    assert!(node.ready_line.contains("embedded"), "{}", node.ready_line);
    let mut c = Clients::connect(&node.endpoint()).await;
    let acked = write_some(&mut c).await;
    assert_permissions(&mut c, &acked).await;
    drop(c);
    node.kill9().await;

    let node = Entityd::embedded(dir.path()).await;
    let mut c = Clients::connect(&node.endpoint()).await;
    assert_reads_back(&mut c, &acked).await;
    node.kill9().await;
}

#[tokio::test]
async fn postgres_node_dropped_without_shutdown_keeps_acknowledged_writes() {
    let node = PgNode::start(AuthMode::DevIdentity).await;
    let mut c = node.clients.clone();
    let acked = write_some(&mut c).await;
    drop(c);

    // No shutdown: the server task is aborted and the engine handle dropped as it is.
    let PgNode {
        db,
        journal,
        engine,
        projections,
        server,
        clients,
        dns: _,
    } = node;
    server.abort().await;
    drop((engine, projections, clients, journal));

    let node = PgNode::start_on(db, AuthMode::DevIdentity).await;
    let mut c = node.clients.clone();
    assert_reads_back(&mut c, &acked).await;
}
