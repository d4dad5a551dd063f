//! Authorization at the right scope, end to end over gRPC with real (HS256) JWTs, per the
//! table of `gateway/src/auth/policy.rs`: an org-admin of organization A acts on A and its
//! subtree, and is PERMISSION_DENIED (naming permission and scope, writing nothing) on a
//! sibling organization, on the sibling's reads and on tenant-wide actions; a team-scoped role
//! acts on that team only; MoveOrganization needs `organization:move` at the moved
//! organization AND at the new parent (the tenant for a new root).
//! Needs `ENTITY_TEST_DATABASE_URL`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

#[path = "support/grpc.rs"]
mod grpc_support;

use entity_proto::v1 as pb;
use grpc_support::{
    PgNode, accept, bearer, claims, create_org, create_tenant_answer, hs256_token, invite,
    jwt_node, role_at, scope,
};
use tonic::{Code, Status};

/// One tenant: roots A and B, A's children A1 and A2, B's child B1, teams T1 and T2 in B.
/// `alice` is org-admin at A, `bob` holds the custom `team-editor` at T1, `carol` is
/// org-admin at A and at B. Tokens are theirs.
struct World {
    node: PgNode,
    tenant: String,
    a: String,
    a1: String,
    a2: String,
    b: String,
    b1: String,
    t1: String,
    t2: String,
    alice: String,
    bob: String,
    carol: String,
    /// A write after every organization's: lists pass it so the read model has them all.
    settled: String,
}

async fn create_team(node: &PgNode, tenant: &str, org: &str, name: &str) -> String {
    let mut c = node.clients.clone();
    c.teams
        .create_team(pb::CreateTeamRequest {
            tenant_id: tenant.to_owned(),
            organization_id: org.to_owned(),
            name: name.to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .team
        .unwrap()
        .id
}

async fn world() -> World {
    let node = jwt_node().await;
    let mut c = node.clients.clone();
    let tenant = create_tenant_answer(&mut c, pb::Plan::Gold)
        .await
        .tenant
        .unwrap()
        .id;
    let a = create_org(&mut c, &tenant, "A", "").await.id;
    let a1 = create_org(&mut c, &tenant, "A1", &a).await.id;
    let a2 = create_org(&mut c, &tenant, "A2", &a).await.id;
    let b = create_org(&mut c, &tenant, "B", "").await.id;
    let b1 = create_org(&mut c, &tenant, "B1", &b).await.id;
    let t1 = create_team(&node, &tenant, &b, "T1").await;
    let t2 = create_team(&node, &tenant, &b, "T2").await;
    let settled = c
        .roles
        .define_role(pb::DefineRoleRequest {
            tenant_id: tenant.clone(),
            name: "team-editor".into(),
            permissions: vec!["team:read".into(), "team:update".into()],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .result
        .unwrap()
        .consistency_token;
    let org_admin_at = |org: &str| role_at("org-admin", scope(pb::ScopeKind::Organization, org));
    let mut user = async |email: &str, org: &str, roles: Vec<pb::RoleAssignment>| {
        let invited = invite(&mut c, &tenant, email, org, roles).await;
        let user = accept(&mut c, &tenant, &invited.invitation_token).await;
        hs256_token(&claims(&user.id, Some(&tenant)))
    };
    let alice = user("alice@s.test", &a, vec![org_admin_at(&a)]).await;
    let bob = user(
        "bob@s.test",
        &b,
        vec![role_at("team-editor", scope(pb::ScopeKind::Team, &t1))],
    )
    .await;
    let carol = user("carol@s.test", &a, vec![org_admin_at(&a), org_admin_at(&b)]).await;
    World {
        node,
        tenant,
        a,
        a1,
        a2,
        b,
        b1,
        t1,
        t2,
        alice,
        bob,
        carol,
        settled,
    }
}

impl World {
    async fn update_org(&self, token: &str, org: &str) -> Result<(), Status> {
        let mut c = self.node.clients.clone();
        c.orgs
            .update_organization(bearer(
                pb::UpdateOrganizationRequest {
                    tenant_id: self.tenant.clone(),
                    organization_id: org.to_owned(),
                    organization: Some(pb::OrganizationUpdate {
                        description: "updated".into(),
                        ..Default::default()
                    }),
                    update_mask: Some(prost_types::FieldMask {
                        paths: vec!["description".into()],
                    }),
                    ..Default::default()
                },
                token,
            ))
            .await
            .map(drop)
    }

    async fn create_org(&self, token: &str, parent: &str) -> Result<(), Status> {
        let mut c = self.node.clients.clone();
        c.orgs
            .create_organization(bearer(
                pb::CreateOrganizationRequest {
                    tenant_id: self.tenant.clone(),
                    name: "New".into(),
                    parent_id: parent.to_owned(),
                    ..Default::default()
                },
                token,
            ))
            .await
            .map(drop)
    }

    async fn get_org(&self, token: &str, org: &str) -> Result<pb::Organization, Status> {
        let mut c = self.node.clients.clone();
        c.orgs
            .get_organization(bearer(
                pb::GetOrganizationRequest {
                    tenant_id: self.tenant.clone(),
                    organization_id: org.to_owned(),
                    ..Default::default()
                },
                token,
            ))
            .await
            .map(tonic::Response::into_inner)
    }

    async fn move_org(&self, token: &str, org: &str, new_parent: &str) -> Result<(), Status> {
        let mut c = self.node.clients.clone();
        c.orgs
            .move_organization(bearer(
                pb::MoveOrganizationRequest {
                    tenant_id: self.tenant.clone(),
                    organization_id: org.to_owned(),
                    new_parent_id: new_parent.to_owned(),
                    ..Default::default()
                },
                token,
            ))
            .await
            .map(drop)
    }

    async fn create_team(&self, token: &str, org: &str) -> Result<(), Status> {
        let mut c = self.node.clients.clone();
        c.teams
            .create_team(bearer(
                pb::CreateTeamRequest {
                    tenant_id: self.tenant.clone(),
                    organization_id: org.to_owned(),
                    name: "Squad".into(),
                    ..Default::default()
                },
                token,
            ))
            .await
            .map(drop)
    }

    async fn update_team(&self, token: &str, team: &str) -> Result<(), Status> {
        let mut c = self.node.clients.clone();
        c.teams
            .update_team(bearer(
                pb::UpdateTeamRequest {
                    tenant_id: self.tenant.clone(),
                    team_id: team.to_owned(),
                    team: Some(pb::TeamUpdate {
                        description: "updated".into(),
                        ..Default::default()
                    }),
                    update_mask: Some(prost_types::FieldMask {
                        paths: vec!["description".into()],
                    }),
                    ..Default::default()
                },
                token,
            ))
            .await
            .map(drop)
    }

    async fn get_team(&self, token: &str, team: &str) -> Result<(), Status> {
        let mut c = self.node.clients.clone();
        c.teams
            .get_team(bearer(
                pb::GetTeamRequest {
                    tenant_id: self.tenant.clone(),
                    team_id: team.to_owned(),
                    ..Default::default()
                },
                token,
            ))
            .await
            .map(drop)
    }

    async fn update_tenant(&self, token: &str) -> Result<(), Status> {
        let mut c = self.node.clients.clone();
        c.tenants
            .update_tenant(bearer(
                pb::UpdateTenantRequest {
                    tenant_id: self.tenant.clone(),
                    tenant: Some(pb::TenantUpdate {
                        name: "Renamed".into(),
                        ..Default::default()
                    }),
                    update_mask: Some(prost_types::FieldMask {
                        paths: vec!["name".into()],
                    }),
                    ..Default::default()
                },
                token,
            ))
            .await
            .map(drop)
    }

    async fn define_role(&self, token: &str) -> Result<(), Status> {
        let mut c = self.node.clients.clone();
        c.roles
            .define_role(bearer(
                pb::DefineRoleRequest {
                    tenant_id: self.tenant.clone(),
                    name: "sneaky".into(),
                    permissions: vec!["*".into()],
                    ..Default::default()
                },
                token,
            ))
            .await
            .map(drop)
    }

    async fn list_orgs(&self, token: &str, parent: &str) -> Result<(), Status> {
        let mut c = self.node.clients.clone();
        c.orgs
            .list_organizations(bearer(
                pb::ListOrganizationsRequest {
                    tenant_id: self.tenant.clone(),
                    parent_id: parent.to_owned(),
                    consistency_token: self.settled.clone(),
                    ..Default::default()
                },
                token,
            ))
            .await
            .map(drop)
    }

    /// Asserts that `call` is PERMISSION_DENIED for `permission` at `scope` and wrote nothing.
    async fn denied(
        &self,
        what: &str,
        permission: &str,
        scope: &str,
        call: impl Future<Output = Result<(), Status>>,
    ) {
        let before = self.node.events().await.len();
        let err = call.await.expect_err(what);
        assert_eq!(err.code(), Code::PermissionDenied, "{what}: {err:?}");
        let info = tonic_types::StatusExt::get_details_error_info(&err).unwrap();
        assert_eq!(info.reason, "PERMISSION_DENIED", "{what}");
        assert_eq!(
            info.metadata.get("permission").map(String::as_str),
            Some(permission),
            "{what}: {info:?}"
        );
        assert_eq!(
            info.metadata.get("scope").map(String::as_str),
            Some(scope),
            "{what}: {info:?}"
        );
        assert_eq!(
            self.node.events().await.len(),
            before,
            "{what}: journal unchanged"
        );
    }
}

fn org(id: &str) -> String {
    format!("organization/{id}")
}

#[tokio::test]
async fn an_org_admin_acts_on_its_organization_and_its_subtree() {
    let w = world().await;
    w.update_org(&w.alice, &w.a).await.unwrap();
    w.update_org(&w.alice, &w.a1).await.unwrap();
    w.create_org(&w.alice, &w.a1).await.unwrap();
    w.create_team(&w.alice, &w.a1).await.unwrap();
    assert_eq!(w.get_org(&w.alice, &w.a2).await.unwrap().id, w.a2);
    w.list_orgs(&w.alice, &w.a).await.unwrap();
    w.node.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_org_admin_is_denied_on_a_sibling_and_on_tenant_wide_actions() {
    let w = world().await;
    let alice = &w.alice;
    // the sibling organization and its subtree: writes
    let b = org(&w.b);
    w.denied(
        "update B",
        "organization:update",
        &b,
        w.update_org(alice, &w.b),
    )
    .await;
    w.denied(
        "update B1",
        "organization:update",
        &org(&w.b1),
        w.update_org(alice, &w.b1),
    )
    .await;
    w.denied(
        "create under B",
        "organization:create",
        &b,
        w.create_org(alice, &w.b),
    )
    .await;
    w.denied("team in B", "team:create", &b, w.create_team(alice, &w.b))
        .await;
    // reads are scoped too
    w.denied("get B", "organization:read", &b, async {
        w.get_org(alice, &w.b).await.map(drop)
    })
    .await;
    w.denied(
        "list under B",
        "organization:read",
        &b,
        w.list_orgs(alice, &w.b),
    )
    .await;
    w.denied(
        "get T1",
        "team:read",
        &format!("team/{}", w.t1),
        w.get_team(alice, &w.t1),
    )
    .await;
    // tenant-wide actions
    w.denied(
        "create a root",
        "organization:create",
        "tenant",
        w.create_org(alice, ""),
    )
    .await;
    w.denied(
        "list every organization",
        "organization:read",
        "tenant",
        w.list_orgs(alice, ""),
    )
    .await;
    w.denied(
        "update the tenant",
        "tenant:update",
        "tenant",
        w.update_tenant(alice),
    )
    .await;
    w.denied(
        "define a role",
        "role:define",
        "tenant",
        w.define_role(alice),
    )
    .await;
    w.node.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_team_scoped_role_acts_on_that_team_only() {
    let w = world().await;
    let bob = &w.bob;
    w.update_team(bob, &w.t1).await.unwrap();
    w.get_team(bob, &w.t1).await.unwrap();
    w.denied(
        "update T2",
        "team:update",
        &format!("team/{}", w.t2),
        w.update_team(bob, &w.t2),
    )
    .await;
    w.denied(
        "read T2",
        "team:read",
        &format!("team/{}", w.t2),
        w.get_team(bob, &w.t2),
    )
    .await;
    // nothing at the team's organization either
    w.denied(
        "team in B",
        "team:create",
        &org(&w.b),
        w.create_team(bob, &w.b),
    )
    .await;
    w.denied(
        "update B",
        "organization:update",
        &org(&w.b),
        w.update_org(bob, &w.b),
    )
    .await;
    w.node.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn moving_an_organization_needs_the_permission_at_both_ends() {
    let w = world().await;
    let alice = &w.alice;
    // both ends inside A's subtree
    w.move_org(alice, &w.a2, &w.a1).await.unwrap();
    assert_eq!(w.get_org(alice, &w.a2).await.unwrap().parent_id, w.a1);
    // the new parent is outside: denied there
    w.denied(
        "A1 under B",
        "organization:move",
        &org(&w.b),
        w.move_org(alice, &w.a1, &w.b),
    )
    .await;
    // the moved organization is outside: denied there
    w.denied(
        "B1 under A",
        "organization:move",
        &org(&w.b1),
        w.move_org(alice, &w.b1, &w.a),
    )
    .await;
    // a new root needs the permission at the tenant
    w.denied(
        "A1 to the root",
        "organization:move",
        "tenant",
        w.move_org(alice, &w.a1, ""),
    )
    .await;
    // holding it at both ends suffices
    w.move_org(&w.carol, &w.a1, &w.b).await.unwrap();
    assert_eq!(w.get_org(&w.carol, &w.a1).await.unwrap().parent_id, w.b);
    w.node.server.shutdown().await.unwrap();
}
