//! The read-model RPCs over gRPC on PostgreSQL: the tenant directory, the organization tree
//! (children, descendants, path), team members, role assignments by scope, the audit trail,
//! consistency tokens (read-your-writes; UNAVAILABLE when a token cannot be reached in time),
//! and the admin calls (projection status and a rebuild while serving).
//! Needs `ENTITY_TEST_DATABASE_URL`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

#[path = "support/grpc.rs"]
mod grpc_support;

use entity_proto::v1 as pb;
use gateway::AuthMode;
use grpc_support::{
    Clients, PgNode, accept, create_org, create_team, create_tenant, create_tenant_request, invite,
    role_at, scope,
};
use tonic::Code;

const ORG: pb::ScopeKind = pb::ScopeKind::Organization;

/// Every page of a tenant listing, following the page tokens.
async fn all_tenants(c: &mut Clients, request: pb::ListTenantsRequest) -> Vec<pb::Tenant> {
    let mut all = Vec::new();
    let mut token = String::new();
    loop {
        let page = c
            .tenants
            .list_tenants(pb::ListTenantsRequest {
                page_token: token.clone(),
                ..request.clone()
            })
            .await
            .unwrap()
            .into_inner();
        all.extend(page.tenants);
        if page.next_page_token.is_empty() {
            return all;
        }
        token = page.next_page_token;
    }
}

#[tokio::test]
async fn the_tenant_directory_filters_searches_and_pages() {
    let node = PgNode::start(AuthMode::DevIdentity).await;
    let mut c = node.clients.clone();
    let mut created = Vec::new();
    for (name, plan) in [
        ("Acme Gold", pb::Plan::Gold),
        ("Acme Silver", pb::Plan::Silver),
        ("Zenith", pb::Plan::Bronze),
    ] {
        let answer = c
            .tenants
            .create_tenant(create_tenant_request(name, plan))
            .await
            .unwrap()
            .into_inner();
        created.push(answer.tenant.unwrap());
    }
    let suspended = c
        .tenants
        .suspend_tenant(pb::SuspendTenantRequest {
            tenant_id: created[1].id.clone(),
            reason: "unpaid".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let token = suspended.result.unwrap().consistency_token;
    let request = pb::ListTenantsRequest {
        page_size: 1,
        consistency_token: token,
        ..Default::default()
    };

    let every = all_tenants(&mut c, request.clone()).await;
    let slugs: Vec<&str> = every.iter().map(|t| t.slug.as_str()).collect();
    let mut sorted = slugs.clone();
    sorted.sort_unstable();
    assert_eq!(slugs, sorted, "ordered by slug, one page at a time");
    assert_eq!(every.len(), 3);

    let named = |query: &str, prefix: bool| pb::ListTenantsRequest {
        query: query.into(),
        query_prefix: prefix,
        ..request.clone()
    };
    let names = |ts: Vec<pb::Tenant>| -> Vec<String> { ts.into_iter().map(|t| t.name).collect() };
    assert_eq!(
        names(all_tenants(&mut c, named("ACME", true)).await),
        names(all_tenants(&mut c, named("acme", false)).await)
    );
    assert_eq!(
        names(all_tenants(&mut c, named("enit", false)).await),
        ["Zenith"]
    );
    assert!(all_tenants(&mut c, named("enit", true)).await.is_empty());
    let by_status = all_tenants(
        &mut c,
        pb::ListTenantsRequest {
            status: pb::TenantStatus::Suspended as i32,
            ..request.clone()
        },
    )
    .await;
    assert_eq!(names(by_status), ["Acme Silver"]);
    let by_plan = all_tenants(
        &mut c,
        pb::ListTenantsRequest {
            plan: pb::Plan::Bronze as i32,
            ..request.clone()
        },
    )
    .await;
    assert_eq!(by_plan.len(), 1);
    assert_eq!(by_plan[0].id, created[2].id);
    assert_eq!(by_plan[0].status, pb::TenantStatus::Active as i32);
    node.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_organization_tree_members_assignments_and_audit_trail() {
    let node = PgNode::start(AuthMode::DevIdentity).await;
    let mut c = node.clients.clone();
    let (tenant, _) = create_tenant(&mut c, pb::Plan::Gold).await;
    let t = tenant.id.as_str();
    let root = create_org(&mut c, t, "Root", "").await;
    let mid = create_org(&mut c, t, "Mid", &root.id).await;
    let leaf = create_org(&mut c, t, "Leaf", &mid.id).await;
    let team = create_team(&mut c, t, &mid.id, "Core").await;
    let ann = invite(&mut c, t, "ann@example.com", &mid.id, vec![]).await;
    let ann = accept(&mut c, t, &ann.invitation_token).await;
    c.teams
        .add_team_member(pb::AddTeamMemberRequest {
            tenant_id: t.into(),
            team_id: team.id.clone(),
            user_id: ann.id.clone(),
            role: pb::TeamRole::Lead as i32,
            ..Default::default()
        })
        .await
        .unwrap();
    let assigned = c
        .users
        .assign_role(pb::AssignRoleRequest {
            tenant_id: t.into(),
            user_id: ann.id.clone(),
            assignment: Some(role_at("org-admin", scope(ORG, &mid.id))),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let token = assigned.result.unwrap().consistency_token;

    // descendants of the root, the path of the leaf
    let below = c
        .orgs
        .list_organizations(pb::ListOrganizationsRequest {
            tenant_id: t.into(),
            descendants_of: root.id.clone(),
            consistency_token: token.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut ids: Vec<_> = below.organizations.iter().map(|o| o.id.clone()).collect();
    ids.sort();
    let mut expected = vec![mid.id.clone(), leaf.id.clone()];
    expected.sort();
    assert_eq!(ids, expected);
    let path = c
        .orgs
        .get_organization_path(pb::GetOrganizationPathRequest {
            tenant_id: t.into(),
            organization_id: leaf.id.clone(),
            consistency_token: token.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let names: Vec<_> = path.organizations.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["Root", "Mid", "Leaf"]);
    let roots = c
        .orgs
        .list_organizations(pb::ListOrganizationsRequest {
            tenant_id: t.into(),
            roots_only: true,
            consistency_token: token.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(roots.organizations.iter().all(|o| o.parent_id.is_empty()));
    assert!(roots.organizations.iter().any(|o| o.id == root.id));

    // team members, both ways
    for request in [
        pb::ListTeamMembersRequest {
            tenant_id: t.into(),
            team_id: team.id.clone(),
            consistency_token: token.clone(),
            ..Default::default()
        },
        pb::ListTeamMembersRequest {
            tenant_id: t.into(),
            user_id: ann.id.clone(),
            consistency_token: token.clone(),
            ..Default::default()
        },
    ] {
        let members = c
            .teams
            .list_team_members(request)
            .await
            .unwrap()
            .into_inner()
            .memberships;
        assert_eq!(members.len(), 1);
        assert_eq!(
            (
                members[0].team_id.as_str(),
                members[0].user_id.as_str(),
                members[0].role
            ),
            (team.id.as_str(), ann.id.as_str(), pb::TeamRole::Lead as i32)
        );
    }

    // role assignments at one scope, of every user
    let at_mid = c
        .users
        .list_role_assignments(pb::ListRoleAssignmentsRequest {
            tenant_id: t.into(),
            scope: scope(ORG, &mid.id),
            consistency_token: token.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .assignments;
    assert_eq!(at_mid.len(), 1);
    assert_eq!(at_mid[0].user_id, ann.id);
    assert_eq!(at_mid[0].assignment.as_ref().unwrap().role, "org-admin");

    // the audit trail of one entity, newest first, with who did it
    let trail = c
        .audit
        .list_audit_events(pb::ListAuditEventsRequest {
            tenant_id: t.into(),
            entity: Some(pb::EntityRef {
                kind: pb::EntityKind::User as i32,
                id: ann.id.clone(),
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .events;
    let types: Vec<_> = trail.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(types.first(), Some(&"RoleAssigned"), "{types:?}");
    assert_eq!(types.last(), Some(&"UserInvited"), "{types:?}");
    let versions: Vec<i64> = trail.iter().map(|e| e.version).collect();
    assert!(versions.windows(2).all(|w| w[0] > w[1]), "{versions:?}");
    let newest = &trail[0];
    assert_eq!(newest.actor.as_ref().unwrap().subject, "dev");
    assert_eq!(newest.id, format!("{}:{}", ann.id, newest.version));
    assert!(!newest.payload.as_ref().unwrap().fields.is_empty());
    // by actor, and a time window that ends before everything
    let by_actor = c
        .audit
        .list_audit_events(pb::ListAuditEventsRequest {
            tenant_id: t.into(),
            actor: "dev".into(),
            page_size: 3,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(by_actor.events.len(), 3);
    assert!(!by_actor.next_page_token.is_empty());
    let before_all = c
        .audit
        .list_audit_events(pb::ListAuditEventsRequest {
            tenant_id: t.into(),
            end_time: Some(prost_types::Timestamp {
                seconds: 1_000_000_000,
                nanos: 0,
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(before_all.events.is_empty());
    node.server.shutdown().await.unwrap();
}

/// A write followed at once by a List with its consistency token always sees the write.
#[tokio::test]
async fn a_list_with_the_writes_token_always_sees_the_write() {
    let node = PgNode::start(AuthMode::DevIdentity).await;
    let mut c = node.clients.clone();
    let (tenant, _) = create_tenant(&mut c, pb::Plan::Gold).await;
    let t = tenant.id.as_str();
    for i in 0..100 {
        let created = c
            .orgs
            .create_organization(pb::CreateOrganizationRequest {
                tenant_id: t.into(),
                name: format!("Org {i}"),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        let org = created.organization.unwrap();
        let token = created.result.unwrap().consistency_token;
        let listed = c
            .orgs
            .list_organizations(pb::ListOrganizationsRequest {
                tenant_id: t.into(),
                roots_only: true,
                page_size: 500,
                consistency_token: token.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert!(
            listed.organizations.iter().any(|o| o.id == org.id),
            "write {i} not visible with its token"
        );
        let user = c
            .users
            .invite_user(pb::InviteUserRequest {
                tenant_id: t.into(),
                email: format!("u{i}@example.com"),
                organization_id: org.id.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        let found = c
            .users
            .list_users(pb::ListUsersRequest {
                tenant_id: t.into(),
                organization_id: org.id.clone(),
                consistency_token: user.result.unwrap().consistency_token,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(found.users.len(), 1, "invitation {i} not visible");
    }
    node.server.shutdown().await.unwrap();
}

/// A token the read models cannot reach (from another, busier cluster, say) is answered with
/// UNAVAILABLE after a bounded wait, saying why, instead of a stale list.
#[tokio::test]
async fn an_unreachable_token_is_unavailable_with_a_clear_message() {
    let node = PgNode::start(AuthMode::DevIdentity).await;
    let mut c = node.clients.clone();
    let (tenant, _) = create_tenant(&mut c, pb::Plan::Gold).await;
    let err = c
        .orgs
        .list_organizations(pb::ListOrganizationsRequest {
            tenant_id: tenant.id.clone(),
            consistency_token: format!("ct1.{}.{}", i64::MAX, i64::MAX),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unavailable, "{err:?}");
    assert!(
        err.message().contains("has not reached consistency token"),
        "{}",
        err.message()
    );
    let info = tonic_types::StatusExt::get_details_retry_info(&err);
    assert!(info.is_some(), "a retry delay is suggested");
    node.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn operators_see_projection_lag_and_rebuild_while_serving() {
    let node = PgNode::start(AuthMode::DevIdentity).await;
    let mut c = node.clients.clone();
    let (tenant, _) = create_tenant(&mut c, pb::Plan::Gold).await;
    let t = tenant.id.as_str();
    let mut last = String::new();
    for i in 0..20 {
        let org = c
            .orgs
            .create_organization(pb::CreateOrganizationRequest {
                tenant_id: t.into(),
                name: format!("Org {i}"),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        last = org.result.unwrap().consistency_token;
    }
    let list = |token: &str| pb::ListOrganizationsRequest {
        tenant_id: t.into(),
        page_size: 500,
        consistency_token: token.into(),
        ..Default::default()
    };
    let before = c
        .orgs
        .list_organizations(list(&last))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(before.organizations.len(), 21, "20 and the default one");

    let status = c
        .admin
        .list_projections(pb::ListProjectionsRequest {})
        .await
        .unwrap()
        .into_inner()
        .projections;
    let names: Vec<_> = status.iter().map(|p| p.name.as_str()).collect();
    for expected in [
        "organizations",
        "role_assignments",
        "teams",
        "tenant_directory",
        "users",
    ] {
        assert!(names.contains(&expected), "{names:?}");
    }
    for p in &status {
        assert!(p.checkpoint.starts_with("ct1."), "{p:?}");
        assert!(p.events_behind >= 0, "{p:?}");
        assert_eq!(p.consecutive_failures, 0, "{p:?}");
    }

    let node_status = c
        .admin
        .get_node_status(pb::GetNodeStatusRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(node_status.rss_bytes > 0, "{node_status:?}");
    assert!(node_status.active_entities >= 1, "{node_status:?}");

    c.admin
        .rebuild_projection(pb::RebuildProjectionRequest {
            name: "organizations".into(),
        })
        .await
        .unwrap();
    // the same list with the same token waits for the rebuild to pass it, then is the same
    let after = c
        .orgs
        .list_organizations(list(&last))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(after, before);
    node.server.shutdown().await.unwrap();
}
