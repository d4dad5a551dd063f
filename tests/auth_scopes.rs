//! Authorization at the right scope, end to end over gRPC with real (HS256) JWTs, per the
//! table of `gateway/src/auth/policy.rs`: an org-admin of organization A acts on A and its
//! subtree, and is PERMISSION_DENIED (naming permission and scope, writing nothing) on a
//! sibling organization, on the sibling's reads and on tenant-wide actions; a team-scoped role
//! acts on that team only; MoveOrganization needs `organization:move` at the moved
//! organization AND at the new parent (the tenant for a new root); and no caller gives more
//! than it holds (roles it assigns or invites with, an invitation it resends, a role's
//! permissions, registration's automatic roles).
//! Needs `ENTITY_TEST_DATABASE_URL`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

#[path = "support/grpc.rs"]
mod grpc_support;

use entity_proto::v1 as pb;
use futures::FutureExt;
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
        self.refused(
            what,
            "PERMISSION_DENIED",
            &[("permission", permission), ("scope", scope)],
            call,
        )
        .await;
    }

    /// Asserts that `call` is PERMISSION_DENIED `GRANT_EXCEEDS_CALLER`: it would give `granted`,
    /// whose `permission` the caller does not hold at `scope`; nothing written.
    async fn exceeds(
        &self,
        what: &str,
        granted: &str,
        permission: &str,
        scope: &str,
        call: impl Future<Output = Result<(), Status>>,
    ) {
        let metadata = [
            ("granted", granted),
            ("permission", permission),
            ("scope", scope),
        ];
        self.refused(what, "GRANT_EXCEEDS_CALLER", &metadata, call)
            .await;
    }

    /// Asserts that `call` is PERMISSION_DENIED with `reason` and `metadata`, writing nothing.
    async fn refused(
        &self,
        what: &str,
        reason: &str,
        metadata: &[(&str, &str)],
        call: impl Future<Output = Result<(), Status>>,
    ) {
        let before = self.node.events().await.len();
        let err = call.await.expect_err(what);
        assert_eq!(err.code(), Code::PermissionDenied, "{what}: {err:?}");
        let info = tonic_types::StatusExt::get_details_error_info(&err).unwrap();
        assert_eq!(info.reason, reason, "{what}: {err:?}");
        for (key, value) in metadata {
            assert_eq!(
                info.metadata.get(*key).map(String::as_str),
                Some(*value),
                "{what}: {info:?}"
            );
        }
        assert_eq!(
            self.node.events().await.len(),
            before,
            "{what}: journal unchanged"
        );
    }

    /// A user invited by the platform admin with `roles` and accepted: id and token.
    async fn member(
        &self,
        email: &str,
        org: &str,
        roles: Vec<pb::RoleAssignment>,
    ) -> (String, String) {
        let mut c = self.node.clients.clone();
        let invited = invite(&mut c, &self.tenant, email, org, roles).await;
        let user = accept(&mut c, &self.tenant, &invited.invitation_token).await;
        let token = hs256_token(&claims(&user.id, Some(&self.tenant)));
        (user.id, token)
    }

    async fn invite_as(
        &self,
        token: &str,
        email: &str,
        org: &str,
        roles: Vec<pb::RoleAssignment>,
    ) -> Result<(), Status> {
        let mut c = self.node.clients.clone();
        let request = pb::InviteUserRequest {
            tenant_id: self.tenant.clone(),
            email: email.to_owned(),
            organization_id: org.to_owned(),
            roles,
            ..Default::default()
        };
        c.users.invite_user(bearer(request, token)).await.map(drop)
    }

    async fn assign_as(
        &self,
        token: &str,
        user: &str,
        role: pb::RoleAssignment,
    ) -> Result<(), Status> {
        let mut c = self.node.clients.clone();
        let request = pb::AssignRoleRequest {
            tenant_id: self.tenant.clone(),
            user_id: user.to_owned(),
            assignment: Some(role),
            ..Default::default()
        };
        c.users.assign_role(bearer(request, token)).await.map(drop)
    }

    async fn resend_as(&self, token: &str, user: &str) -> Result<(), Status> {
        let mut c = self.node.clients.clone();
        let request = pb::ResendInvitationRequest {
            tenant_id: self.tenant.clone(),
            user_id: user.to_owned(),
            ..Default::default()
        };
        c.users
            .resend_invitation(bearer(request, token))
            .await
            .map(drop)
    }

    async fn define_role_as(
        &self,
        token: &str,
        name: &str,
        permissions: &[&str],
    ) -> Result<String, Status> {
        let mut c = self.node.clients.clone();
        let request = pb::DefineRoleRequest {
            tenant_id: self.tenant.clone(),
            name: name.to_owned(),
            permissions: permissions.iter().map(|p| (*p).to_owned()).collect(),
            ..Default::default()
        };
        let answer = c.roles.define_role(bearer(request, token)).await?;
        Ok(answer.into_inner().role.unwrap().id)
    }

    async fn update_role_as(
        &self,
        token: &str,
        role: &str,
        permissions: &[&str],
    ) -> Result<(), Status> {
        let mut c = self.node.clients.clone();
        let request = pb::UpdateRoleRequest {
            tenant_id: self.tenant.clone(),
            role_id: role.to_owned(),
            role: Some(pb::RoleUpdate {
                permissions: permissions.iter().map(|p| (*p).to_owned()).collect(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["permissions".into()],
            }),
            ..Default::default()
        };
        c.roles.update_role(bearer(request, token)).await.map(drop)
    }

    async fn configure_registration_as(
        &self,
        token: &str,
        auto_roles: Vec<pb::RoleAssignment>,
    ) -> Result<(), Status> {
        let mut c = self.node.clients.clone();
        let request = pb::ConfigureRegistrationRequest {
            tenant_id: self.tenant.clone(),
            enabled: true,
            auto_roles,
            ..Default::default()
        };
        c.registration
            .configure_registration(bearer(request, token))
            .await
            .map(drop)
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

#[tokio::test]
async fn no_caller_gives_more_than_it_holds() {
    let w = world().await;
    let at_a = scope(pb::ScopeKind::Organization, &w.a);
    let at_a1 = scope(pb::ScopeKind::Organization, &w.a1);
    let (dave, _) = w.member("dave@s.test", &w.a, vec![]).await;

    // alice is org-admin at A. An invitation gives its roles: `role:assign` where each
    // applies, and everything the role grants there.
    let owner = || role_at("tenant-owner", None);
    w.denied(
        "alice invites a tenant owner",
        "role:assign",
        "tenant",
        w.invite_as(&w.alice, "eve@s.test", &w.a, vec![owner()]),
    )
    .await;
    w.exceeds(
        "alice invites an owner of A",
        "role tenant-owner",
        "*",
        &org(&w.a),
        w.invite_as(
            &w.alice,
            "eve@s.test",
            &w.a,
            vec![role_at("tenant-owner", at_a.clone())],
        ),
    )
    .await;
    w.exceeds(
        "alice makes dave owner of A",
        "role tenant-owner",
        "*",
        &org(&w.a),
        w.assign_as(&w.alice, &dave, role_at("tenant-owner", at_a.clone())),
    )
    .await;
    // What she holds she gives, within her subtree.
    w.invite_as(
        &w.alice,
        "eve@s.test",
        &w.a,
        vec![role_at("member", at_a.clone())],
    )
    .await
    .unwrap();
    w.assign_as(&w.alice, &dave, role_at("org-admin", at_a1))
        .await
        .unwrap();

    // Resending an invitation hands its new token to the caller: its roles are given again.
    // A recruiter invites and assigns tenant-wide, and holds what `member` grants.
    let mut platform = w.node.clients.clone();
    let recruiter = &[
        "user:invite",
        "role:assign",
        "organization:read",
        "team:read",
        "user:read",
        "analytics:view",
    ];
    platform
        .roles
        .define_role(pb::DefineRoleRequest {
            tenant_id: w.tenant.clone(),
            name: "recruiter".into(),
            permissions: recruiter.iter().map(|p| (*p).to_owned()).collect(),
            ..Default::default()
        })
        .await
        .unwrap();
    let (_, ivan) = w
        .member("ivan@s.test", &w.a, vec![role_at("recruiter", None)])
        .await;
    let pending_owner = invite(&mut platform, &w.tenant, "frank@s.test", "", vec![owner()]).await;
    w.exceeds(
        "a recruiter resends a tenant owner's invitation",
        "role tenant-owner",
        "*",
        "tenant",
        w.resend_as(&ivan, &pending_owner.user.unwrap().id),
    )
    .await;
    let pending_member = invite(
        &mut platform,
        &w.tenant,
        "gina@s.test",
        "",
        vec![role_at("member", None)],
    )
    .await;
    w.resend_as(&ivan, &pending_member.user.unwrap().id)
        .await
        .unwrap();

    // A tenant admin holds everything but `billing:*` and `tenant:delete`.
    let (_, admin) = w
        .member("hugo@s.test", &w.a, vec![role_at("tenant-admin", None)])
        .await;
    w.exceeds(
        "a tenant admin makes dave the owner",
        "role tenant-owner",
        "*",
        "tenant",
        w.assign_as(&admin, &dave, owner()),
    )
    .await;
    w.exceeds(
        "a tenant admin has registrants made owners",
        "role tenant-owner",
        "*",
        "tenant",
        w.configure_registration_as(&admin, vec![owner()]),
    )
    .await;
    w.exceeds(
        "a tenant admin defines a billing role",
        "the role",
        "billing:manage",
        "tenant",
        async {
            w.define_role_as(&admin, "payer", &["billing:manage"])
                .await
                .map(drop)
        },
    )
    .await;
    let helper = w
        .define_role_as(&admin, "helper", &["team:read"])
        .await
        .unwrap();
    w.exceeds(
        "a tenant admin widens a role to billing",
        "the role",
        "billing:*",
        "tenant",
        w.update_role_as(&admin, &helper, &["team:read", "billing:*"]),
    )
    .await;
    w.update_role_as(&admin, &helper, &["team:*", "audit:read"])
        .await
        .unwrap();
    w.assign_as(&admin, &dave, role_at("tenant-admin", None))
        .await
        .unwrap();
    w.configure_registration_as(&admin, vec![role_at("member", None)])
        .await
        .unwrap();

    // A platform administrator is not bound by it.
    let mut c = w.node.clients.clone();
    c.users
        .assign_role(pb::AssignRoleRequest {
            tenant_id: w.tenant.clone(),
            user_id: dave.clone(),
            assignment: Some(owner()),
            ..Default::default()
        })
        .await
        .unwrap();
    w.node.server.shutdown().await.unwrap();
}

/// A suspended tenant "rejects every command but reads, reactivation and deletion, with a
/// clear error": its users still read what their roles allow, and their commands (reactivation
/// included: their roles are suspended with the tenant) are FAILED_PRECONDITION
/// `TENANT_SUSPENDED`, nothing written; a platform administrator reactivates it.
#[tokio::test]
async fn a_suspended_tenant_answers_its_users_reads_and_refuses_their_commands_clearly() {
    let w = world().await;
    let (_, owner) = w
        .member("olga@s.test", &w.a, vec![role_at("tenant-owner", None)])
        .await;
    let mut platform = w.node.clients.clone();
    platform
        .tenants
        .suspend_tenant(pb::SuspendTenantRequest {
            tenant_id: w.tenant.clone(),
            reason: "unpaid invoice".into(),
            ..Default::default()
        })
        .await
        .unwrap();

    // Reads: by the roles, as before the suspension.
    assert_eq!(w.get_org(&w.alice, &w.a1).await.unwrap().id, w.a1);
    w.list_orgs(&w.alice, &w.a).await.unwrap();
    w.get_team(&w.bob, &w.t1).await.unwrap();
    w.denied(
        "alice reads the sibling",
        "organization:read",
        &org(&w.b),
        async { w.get_org(&w.alice, &w.b).await.map(drop) },
    )
    .await;

    // Commands: refused with the tenant's state, by whoever asks.
    let reactivate = |token: &str| {
        let mut c = w.node.clients.clone();
        let request = bearer(
            pb::ReactivateTenantRequest {
                tenant_id: w.tenant.clone(),
                ..Default::default()
            },
            token,
        );
        async move { c.tenants.reactivate_tenant(request).await.map(drop) }
    };
    for (what, call) in [
        ("alice updates A", w.update_org(&w.alice, &w.a).boxed()),
        (
            "the owner renames the tenant",
            w.update_tenant(&owner).boxed(),
        ),
        (
            "the owner reactivates the tenant",
            reactivate(&owner).boxed(),
        ),
    ] {
        let before = w.node.events().await.len();
        let err = call.await.expect_err(what);
        assert_eq!(err.code(), Code::FailedPrecondition, "{what}: {err:?}");
        assert_eq!(grpc_support::reason(&err), "TENANT_SUSPENDED", "{what}");
        assert_eq!(
            w.node.events().await.len(),
            before,
            "{what}: nothing written"
        );
    }

    // A platform administrator lifts it; the roles act again.
    platform
        .tenants
        .reactivate_tenant(pb::ReactivateTenantRequest {
            tenant_id: w.tenant.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    w.update_org(&w.alice, &w.a).await.unwrap();
    w.node.server.shutdown().await.unwrap();
}
