//! Teams, users, roles and permission checks over the real gRPC API: a server on
//! 127.0.0.1:0 over an engine on PostgreSQL, driven by real tonic clients with the dev
//! identity. Needs `ENTITY_TEST_DATABASE_URL`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

#[path = "support/grpc.rs"]
mod grpc_support;

use entity_proto::v1 as pb;
use gateway::AuthMode;
use grpc_support::{
    Clients, PgNode, accept, check, create_org, create_team, create_tenant, create_tenant_answer,
    invite, reason, role_at, scope, violation_fields, with_request_id,
};
use tonic::Code;
use tonic_types::StatusExt;

use pb::ScopeKind::{Organization as ORG, Team as TEAM, Tenant as TENANT};

/// `ROLE at SCOPE` of a granting assignment, as the CLI prints it.
fn via(answer: &pb::CheckPermissionResponse) -> String {
    let Some(a) = &answer.granted_by else {
        return format!("denied ({})", answer.denial_reason);
    };
    let s = a.scope.clone().unwrap_or_default();
    let at = match pb::ScopeKind::try_from(s.kind).unwrap() {
        pb::ScopeKind::Organization => format!("org:{}", s.id),
        pb::ScopeKind::Team => format!("team:{}", s.id),
        _ => "tenant".to_owned(),
    };
    format!("{} at {at}", a.role)
}

async fn get_user(c: &mut Clients, tenant: &str, user: &str) -> pb::User {
    c.users
        .get_user(pb::GetUserRequest {
            tenant_id: tenant.into(),
            user_id: user.into(),
            consistency_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
}

/// The ids of a one-page ListUsers answer.
async fn user_ids(c: &mut Clients, request: pb::ListUsersRequest) -> Vec<String> {
    let page = c.users.list_users(request).await.unwrap().into_inner();
    assert_eq!(page.next_page_token, "");
    page.users.into_iter().map(|u| u.id).collect()
}

/// Invites `email` with `roles` and accepts at once; returns the user id.
async fn active_user(
    c: &mut Clients,
    tenant: &str,
    email: &str,
    roles: Vec<pb::RoleAssignment>,
) -> String {
    let invited = invite(c, tenant, email, "", roles).await;
    accept(c, tenant, &invited.invitation_token).await.id
}

#[tokio::test]
async fn the_owner_accepts_the_onboarding_invitation_and_owns_the_tenant() {
    let node = PgNode::start(AuthMode::DevIdentity).await;
    let mut c = node.clients.clone();
    let answer = create_tenant_answer(&mut c, pb::Plan::Gold).await;
    let tenant = answer.tenant.unwrap();
    let t = tenant.id.as_str();
    let onboarding = tenant.onboarding.unwrap();
    assert!(onboarding.completed);
    for id in [
        &onboarding.default_organization_id,
        &onboarding.owner_user_id,
    ] {
        assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 7);
    }
    let token = answer.owner_invitation_token;
    assert!(token.starts_with("inv1."), "{token}");

    // the owner is invited into the default organization with tenant-owner at the tenant
    let owner = get_user(&mut c, t, &onboarding.owner_user_id).await;
    assert_eq!(owner.email, onboarding.owner_email);
    assert_eq!(owner.status, pb::UserStatus::Invited as i32);
    let invitation = owner.invitation.unwrap();
    assert_eq!(invitation.state, pb::InvitationState::Pending as i32);
    assert!(invitation.expires_at.unwrap().seconds > invitation.sent_at.unwrap().seconds);
    assert_eq!(
        owner.organization_ids,
        [onboarding.default_organization_id.as_str()]
    );
    assert_eq!(owner.roles, [role_at("tenant-owner", scope(TENANT, ""))]);
    let org = c
        .orgs
        .get_organization(pb::GetOrganizationRequest {
            tenant_id: t.into(),
            organization_id: onboarding.default_organization_id.clone(),
            consistency_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((org.name.as_str(), org.depth), ("Default", 1));

    // not yet active: no permissions
    let owner_id = owner.id.as_str();
    let denied = check(&mut c, t, owner_id, "tenant:delete", None).await;
    assert_eq!(via(&denied), "denied (USER_NOT_ACTIVE)");

    // accept: active, and allowed everything via tenant-owner at the tenant
    let accepted = c
        .users
        .accept_invitation(pb::AcceptInvitationRequest {
            tenant_id: t.into(),
            token: token.clone(),
            display_name: Some("Olive Owner".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(accepted.invitation_token, "", "accepting issues no token");
    let user = accepted.user.unwrap();
    assert_eq!(user.status, pb::UserStatus::Active as i32);
    assert_eq!(user.display_name, "Olive Owner");
    assert_eq!(
        user.invitation.unwrap().state,
        pb::InvitationState::Accepted as i32
    );
    for permission in ["tenant:delete", "billing:manage", "invoice:approve"] {
        let allowed = check(&mut c, t, owner_id, permission, None).await;
        assert!(allowed.allowed, "{permission}");
        assert_eq!(via(&allowed), "tenant-owner at tenant");
        assert_eq!(allowed.denial_reason, "");
    }
    let at_org = check(
        &mut c,
        t,
        owner_id,
        "team:manage",
        scope(ORG, &onboarding.default_organization_id),
    )
    .await;
    assert_eq!(via(&at_org), "tenant-owner at tenant");

    // the token is single-use
    let err = c
        .users
        .accept_invitation(pb::AcceptInvitationRequest {
            tenant_id: t.into(),
            token,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert_eq!(reason(&err), "INVITATION_ALREADY_ACCEPTED");

    // the owner holds everything, nothing excepted
    let effective = c
        .access
        .list_effective_permissions(pb::ListEffectivePermissionsRequest {
            tenant_id: t.into(),
            user_id: owner_id.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .permissions;
    assert_eq!(effective.len(), 1, "{effective:?}");
    assert_eq!(effective[0].permission, "*");
    assert!(effective[0].except.is_empty());
}

#[tokio::test]
async fn an_org_admin_is_allowed_in_its_subtree_only_and_moves_take_effect_at_once() {
    let node = PgNode::start(AuthMode::DevIdentity).await;
    let mut c = node.clients.clone();
    let (tenant, _) = create_tenant(&mut c, pb::Plan::Gold).await;
    let t = tenant.id.as_str();
    let sales = create_org(&mut c, t, "Sales", "").await;
    let emea = create_org(&mut c, t, "EMEA", &sales.id).await;
    let support = create_org(&mut c, t, "Support", "").await;
    let deals = create_team(&mut c, t, &emea.id, "Deals").await;
    let helpdesk = create_team(&mut c, t, &support.id, "Helpdesk").await;

    let admin_at_sales = role_at("org-admin", scope(ORG, &sales.id));
    let invited = invite(
        &mut c,
        t,
        "bob@example.com",
        &sales.id,
        vec![admin_at_sales.clone()],
    )
    .await;
    assert!(invited.invitation_token.starts_with("inv1."));
    let bob = accept(&mut c, t, &invited.invitation_token).await;
    assert_eq!(bob.organization_ids, [sales.id.as_str()]);
    let b = bob.id.as_str();

    let expected_via = format!("org-admin at org:{}", sales.id);
    for (label, at) in [
        ("the organization", scope(ORG, &sales.id)),
        ("its child", scope(ORG, &emea.id)),
        ("a team of its child", scope(TEAM, &deals.id)),
    ] {
        let answer = check(&mut c, t, b, "team:manage", at).await;
        assert!(answer.allowed, "{label}: {answer:?}");
        assert_eq!(via(&answer), expected_via, "{label}");
    }
    for (label, at) in [
        ("the tenant", None),
        ("the tenant, explicitly", scope(TENANT, "")),
        ("a sibling organization", scope(ORG, &support.id)),
        ("a team of the sibling", scope(TEAM, &helpdesk.id)),
    ] {
        let answer = check(&mut c, t, b, "team:manage", at).await;
        assert_eq!(via(&answer), "denied (NO_MATCHING_ASSIGNMENT)", "{label}");
    }
    // org-admin does not grant billing anywhere
    let answer = check(&mut c, t, b, "billing:manage", scope(ORG, &sales.id)).await;
    assert!(!answer.allowed);

    // moving the child out of the subtree takes effect with the move's acknowledgment
    let moved = c
        .orgs
        .move_organization(pb::MoveOrganizationRequest {
            tenant_id: t.into(),
            organization_id: emea.id.clone(),
            new_parent_id: String::new(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let token = moved.result.unwrap().consistency_token;
    let answer = c
        .access
        .check_permission(pb::CheckPermissionRequest {
            tenant_id: t.into(),
            user_id: b.into(),
            permission: "team:manage".into(),
            scope: scope(ORG, &emea.id),
            consistency_token: token,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(via(&answer), "denied (NO_MATCHING_ASSIGNMENT)");
    let answer = check(&mut c, t, b, "team:manage", scope(TEAM, &deals.id)).await;
    assert!(!answer.allowed, "the team moved with its organization");

    // revoking the assignment removes it
    let revoked = c
        .users
        .revoke_role(pb::RevokeRoleRequest {
            tenant_id: t.into(),
            user_id: b.into(),
            assignment: Some(admin_at_sales),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(revoked.user.unwrap().roles.is_empty());
    let answer = check(&mut c, t, b, "team:manage", scope(ORG, &sales.id)).await;
    assert_eq!(via(&answer), "denied (NO_MATCHING_ASSIGNMENT)");

    // a check at a scope that is not a live organization of the tenant is NOT_FOUND
    let err = c
        .access
        .check_permission(pb::CheckPermissionRequest {
            tenant_id: t.into(),
            user_id: b.into(),
            permission: "team:manage".into(),
            scope: scope(ORG, &uuid::Uuid::now_v7().to_string()),
            consistency_token: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{err:?}");
}

#[tokio::test]
async fn custom_roles_grant_until_deleted() {
    let node = PgNode::start(AuthMode::DevIdentity).await;
    let mut c = node.clients.clone();
    let (tenant, _) = create_tenant(&mut c, pb::Plan::Gold).await;
    let t = tenant.id.as_str();

    let defined = c
        .roles
        .define_role(pb::DefineRoleRequest {
            tenant_id: t.into(),
            name: "approver".into(),
            description: "Approves invoices".into(),
            permissions: vec!["invoice:approve".into(), "invoice:read".into()],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let role = defined.role.unwrap();
    assert_eq!(role.name, "approver");
    assert!(!role.builtin);
    assert_eq!(role.status, pb::RoleStatus::Active as i32);
    assert_eq!(role.permissions, ["invoice:approve", "invoice:read"]);
    assert_eq!(defined.result.unwrap().version, role.version);

    // listed after the built-in roles, which show their grants
    let roles = c
        .roles
        .list_roles(pb::ListRolesRequest {
            tenant_id: t.into(),
            consistency_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .roles;
    let names: Vec<(&str, bool)> = roles.iter().map(|r| (r.name.as_str(), r.builtin)).collect();
    assert_eq!(
        names,
        [
            ("tenant-owner", true),
            ("tenant-admin", true),
            ("org-admin", true),
            ("team-member", true),
            ("member", true),
            ("viewer", true),
            ("client-editor", true),
            ("client-viewer", true),
            ("approver", false),
        ]
    );
    assert_eq!(roles[1].permissions, ["*"]);
    assert_eq!(roles[1].except_permissions, ["billing:*", "tenant:delete"]);
    assert!(roles[..8].iter().all(|r| r.id.is_empty() && r.version == 0));

    // a user holding it is allowed; the role is named as the source
    let ann = active_user(
        &mut c,
        t,
        "ann@example.com",
        vec![role_at("approver", None)],
    )
    .await;
    let answer = check(&mut c, t, &ann, "invoice:approve", None).await;
    assert_eq!(via(&answer), "approver at tenant");
    let answer = check(&mut c, t, &ann, "invoice:delete", None).await;
    assert!(!answer.allowed);

    // update: the new permission set applies at once
    let updated = c
        .roles
        .update_role(pb::UpdateRoleRequest {
            tenant_id: t.into(),
            role_id: role.id.clone(),
            role: Some(pb::RoleUpdate {
                description: "ignored: not in the mask".into(),
                permissions: vec!["invoice:*".into()],
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["permissions".into()],
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .role
        .unwrap();
    assert_eq!(updated.permissions, ["invoice:*"]);
    assert_eq!(updated.description, "Approves invoices");
    assert!(check(&mut c, t, &ann, "invoice:delete", None).await.allowed);

    // delete: denied, and the assignment is gone
    let deleted = c
        .roles
        .delete_role(pb::DeleteRoleRequest {
            tenant_id: t.into(),
            role_id: role.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .role
        .unwrap();
    assert_eq!(deleted.status, pb::RoleStatus::Deleted as i32);
    let answer = check(&mut c, t, &ann, "invoice:approve", None).await;
    assert_eq!(via(&answer), "denied (NO_MATCHING_ASSIGNMENT)");
    node.caught_up().await;
    let assignments = c
        .users
        .list_role_assignments(pb::ListRoleAssignmentsRequest {
            tenant_id: t.into(),
            user_id: ann.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .assignments;
    assert!(assignments.is_empty(), "{assignments:?}");
    let got = c
        .roles
        .get_role(pb::GetRoleRequest {
            tenant_id: t.into(),
            role_id: role.id.clone(),
            consistency_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.status, pb::RoleStatus::Deleted as i32);
    let listed = c
        .roles
        .list_roles(pb::ListRolesRequest {
            tenant_id: t.into(),
            consistency_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .roles;
    assert_eq!(listed.len(), 8, "only the built-in roles are left");

    // a deleted role cannot be assigned; a built-in name cannot be defined
    let err = c
        .users
        .assign_role(pb::AssignRoleRequest {
            tenant_id: t.into(),
            user_id: ann.clone(),
            assignment: Some(role_at("approver", None)),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{err:?}");
    let err = c
        .roles
        .define_role(pb::DefineRoleRequest {
            tenant_id: t.into(),
            name: "viewer".into(),
            permissions: vec!["x:y".into()],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(
        matches!(err.code(), Code::AlreadyExists | Code::InvalidArgument),
        "{err:?}"
    );
}

#[tokio::test]
async fn teams_need_a_silver_plan_and_manage_their_members() {
    let node = PgNode::start(AuthMode::DevIdentity).await;
    let mut c = node.clients.clone();

    // bronze: no teams at all
    let (bronze, _) = create_tenant(&mut c, pb::Plan::Bronze).await;
    let default_org = bronze.onboarding.unwrap().default_organization_id;
    let before = node.events().await.len();
    let err = c
        .teams
        .create_team(pb::CreateTeamRequest {
            tenant_id: bronze.id.clone(),
            organization_id: default_org,
            name: "Core".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert_eq!(reason(&err), "PLAN_LIMIT_EXCEEDED");
    let info = err.get_details_error_info().unwrap();
    assert_eq!(info.metadata["limit"], "teams");
    assert_eq!(info.metadata["plan"], "bronze");
    assert_eq!(
        node.events().await.len(),
        before,
        "a refusal writes nothing"
    );

    // silver: create, add members, list, update, remove, delete
    let (silver, _) = create_tenant(&mut c, pb::Plan::Silver).await;
    let t = silver.id.as_str();
    let org = silver.onboarding.unwrap().default_organization_id;
    let other_org = create_org(&mut c, t, "Ops", "").await;
    let team = create_team(&mut c, t, &org, "Core").await;
    assert_eq!(team.organization_id, org);
    assert_eq!(team.status, pb::TeamStatus::Active as i32);
    assert!(team.members.is_empty());
    create_team(&mut c, t, &other_org.id, "Night shift").await;
    let carol = invite(&mut c, t, "carol@example.com", &org, vec![])
        .await
        .user
        .unwrap();
    let dan = active_user(&mut c, t, "dan@example.com", vec![]).await;

    let add = |user: &str, role: pb::TeamRole| pb::AddTeamMemberRequest {
        tenant_id: t.into(),
        team_id: team.id.clone(),
        user_id: user.into(),
        role: role as i32,
        ..Default::default()
    };
    let r = c
        .teams
        .add_team_member(add(&carol.id, pb::TeamRole::Lead))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.result.unwrap().version, team.version + 1);
    let r = c
        .teams
        .add_team_member(add(&dan, pb::TeamRole::Unspecified))
        .await
        .unwrap()
        .into_inner();
    let mut members: Vec<(String, i32)> = r
        .team
        .unwrap()
        .members
        .into_iter()
        .map(|m| (m.user_id, m.role))
        .collect();
    members.sort();
    let mut expected = vec![
        (carol.id.clone(), pb::TeamRole::Lead as i32),
        (dan.clone(), pb::TeamRole::Member as i32),
    ];
    expected.sort();
    assert_eq!(members, expected, "an unspecified role is a member");

    // a user of another tenant cannot join
    let err = c
        .teams
        .add_team_member(add(&uuid::Uuid::now_v7().to_string(), pb::TeamRole::Member))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{err:?}");

    // list: all teams, or those of one organization
    node.caught_up().await;
    let list = |org: &str| pb::ListTeamsRequest {
        tenant_id: t.into(),
        organization_id: org.into(),
        ..Default::default()
    };
    let all = c.teams.list_teams(list("")).await.unwrap().into_inner();
    assert_eq!(all.teams.len(), 2);
    let core_only = c.teams.list_teams(list(&org)).await.unwrap().into_inner();
    let names: Vec<_> = core_only.teams.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["Core"]);
    let paged = c
        .teams
        .list_teams(pb::ListTeamsRequest {
            page_size: 1,
            ..list("")
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(paged.teams.len(), 1);
    let rest = c
        .teams
        .list_teams(pb::ListTeamsRequest {
            page_size: 1,
            page_token: paged.next_page_token.clone(),
            ..list("")
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rest.teams.len(), 1);
    assert_ne!(rest.teams[0].id, paged.teams[0].id);
    assert_eq!(rest.next_page_token, "");
    let err = c
        .teams
        .list_teams(pb::ListTeamsRequest {
            page_token: paged.next_page_token,
            ..list(&org)
        })
        .await
        .unwrap_err();
    assert_eq!(
        violation_fields(&err),
        ["page_token"],
        "another listing's token"
    );

    // update with a mask, remove a member, delete
    let renamed = c
        .teams
        .update_team(pb::UpdateTeamRequest {
            tenant_id: t.into(),
            team_id: team.id.clone(),
            team: Some(pb::TeamUpdate {
                name: "Core platform".into(),
                description: "ignored".into(),
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["name".into()],
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .team
        .unwrap();
    assert_eq!(
        (renamed.name.as_str(), renamed.description.as_str()),
        ("Core platform", "")
    );
    let r = c
        .teams
        .remove_team_member(pb::RemoveTeamMemberRequest {
            tenant_id: t.into(),
            team_id: team.id.clone(),
            user_id: carol.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let left: Vec<_> = r
        .team
        .unwrap()
        .members
        .into_iter()
        .map(|m| m.user_id)
        .collect();
    assert_eq!(left, [dan.as_str()]);
    let deleted = c
        .teams
        .delete_team(pb::DeleteTeamRequest {
            tenant_id: t.into(),
            team_id: team.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .team
        .unwrap();
    assert_eq!(deleted.status, pb::TeamStatus::Deleted as i32);
    let got = c
        .teams
        .get_team(pb::GetTeamRequest {
            tenant_id: t.into(),
            team_id: team.id.clone(),
            consistency_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.status, pb::TeamStatus::Deleted as i32);
    node.caught_up().await;
    let live = c.teams.list_teams(list(&org)).await.unwrap().into_inner();
    assert!(live.teams.is_empty());
}

#[tokio::test]
async fn invitations_are_single_use_secrets() {
    let node = PgNode::start(AuthMode::DevIdentity).await;
    let mut c = node.clients.clone();
    let (tenant, _) = create_tenant(&mut c, pb::Plan::Gold).await;
    let t = tenant.id.as_str();
    let accept_with = |token: &str| pb::AcceptInvitationRequest {
        tenant_id: t.into(),
        token: token.into(),
        ..Default::default()
    };

    let invited = invite(&mut c, t, "eve@example.com", "", vec![]).await;
    let eve = invited.user.unwrap();
    let token = invited.invitation_token;

    // a wrong token (well-formed, same user) and a malformed one: NOT_FOUND, nothing more
    let forged = {
        let (head, random) = token.rsplit_once('.').unwrap();
        let flipped = if random.starts_with('0') { "1" } else { "0" };
        format!("{head}.{flipped}{}", &random[1..])
    };
    for bad in [forged.as_str(), "inv1.not-a-token", "hello"] {
        let err = c
            .users
            .accept_invitation(accept_with(bad))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::NotFound, "{bad}: {err:?}");
        let info = err.get_details_error_info().unwrap();
        assert_eq!(info.reason, "NOT_FOUND");
        assert_eq!(info.metadata["resource"], "invitation");
    }

    // revoked: refused with its reason
    let revoked = c
        .users
        .revoke_invitation(pb::RevokeInvitationRequest {
            tenant_id: t.into(),
            user_id: eve.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert_eq!(
        revoked.invitation.unwrap().state,
        pb::InvitationState::Revoked as i32
    );
    let err = c
        .users
        .accept_invitation(accept_with(&token))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert_eq!(reason(&err), "INVITATION_REVOKED");

    // resent: a new token works, the old one no longer
    let resent = c
        .users
        .resend_invitation(pb::ResendInvitationRequest {
            tenant_id: t.into(),
            user_id: eve.id.clone(),
            expires_in_days: 2,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let new_token = resent.invitation_token;
    assert!(new_token.starts_with("inv1.") && new_token != token);
    let invitation = resent.user.unwrap().invitation.unwrap();
    assert_eq!(invitation.state, pb::InvitationState::Pending as i32);
    let lifetime = invitation.expires_at.unwrap().seconds - invitation.sent_at.unwrap().seconds;
    assert_eq!(lifetime, 2 * 86_400);
    let err = c
        .users
        .accept_invitation(accept_with(&token))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{err:?}");
    let user = accept(&mut c, t, &new_token).await;
    assert_eq!(user.status, pb::UserStatus::Active as i32);
    let err = c
        .users
        .accept_invitation(accept_with(&new_token))
        .await
        .unwrap_err();
    assert_eq!(reason(&err), "INVITATION_ALREADY_ACCEPTED");

    // a replayed InviteUser answers the first user, shows no token, writes nothing
    let request = pb::InviteUserRequest {
        options: with_request_id("invite-frank-1"),
        tenant_id: t.into(),
        email: "frank@example.com".into(),
        roles: vec![role_at("viewer", None)],
        ..Default::default()
    };
    let first = c
        .users
        .invite_user(request.clone())
        .await
        .unwrap()
        .into_inner();
    assert!(first.invitation_token.starts_with("inv1."));
    assert!(!first.result.as_ref().unwrap().replayed);
    let before = node.events().await.len();
    let again = c.users.invite_user(request).await.unwrap().into_inner();
    assert!(again.result.as_ref().unwrap().replayed);
    assert_eq!(again.invitation_token, "", "a replay cannot show the token");
    assert_eq!(again.user.unwrap().id, first.user.as_ref().unwrap().id);
    assert_eq!(
        again.result.unwrap().consistency_token,
        first.result.unwrap().consistency_token
    );
    assert_eq!(node.events().await.len(), before, "a replay writes nothing");
    // the first token still works
    accept(&mut c, t, &first.invitation_token).await;

    // the same email again is refused
    let err = c
        .users
        .invite_user(pb::InviteUserRequest {
            tenant_id: t.into(),
            email: "FRANK@example.com".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists, "{err:?}");

    // deactivated users hold nothing until reactivated
    let frank = first.user.unwrap().id;
    assert!(
        check(&mut c, t, &frank, "analytics:view", None)
            .await
            .allowed
    );
    c.users
        .deactivate_user(pb::DeactivateUserRequest {
            tenant_id: t.into(),
            user_id: frank.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    let answer = check(&mut c, t, &frank, "analytics:view", None).await;
    assert_eq!(via(&answer), "denied (USER_NOT_ACTIVE)");
    c.users
        .reactivate_user(pb::ReactivateUserRequest {
            tenant_id: t.into(),
            user_id: frank.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    let answer = check(&mut c, t, &frank, "analytics:view", None).await;
    assert_eq!(via(&answer), "viewer at tenant");
}

#[tokio::test]
async fn a_bronze_tenant_sends_ten_invitations_a_month() {
    let node = PgNode::start(AuthMode::DevIdentity).await;
    let mut c = node.clients.clone();
    let (tenant, _) = create_tenant(&mut c, pb::Plan::Bronze).await;
    let t = tenant.id.as_str();
    // the owner's invitation was the first of the month's ten
    for i in 1..10 {
        invite(&mut c, t, &format!("user{i}@example.com"), "", vec![]).await;
    }
    let err = c
        .users
        .invite_user(pb::InviteUserRequest {
            tenant_id: t.into(),
            email: "one-too-many@example.com".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert_eq!(reason(&err), "PLAN_LIMIT_EXCEEDED");
    let info = err.get_details_error_info().unwrap();
    assert_eq!(info.metadata["limit"], "invitations_per_month");
    assert_eq!(info.metadata["allowed"], "10");
}

#[tokio::test]
async fn list_users_searches_filters_and_pages() {
    let node = PgNode::start(AuthMode::DevIdentity).await;
    let mut c = node.clients.clone();
    let (tenant, _) = create_tenant(&mut c, pb::Plan::Gold).await;
    let t = tenant.id.as_str();
    let owner = tenant.onboarding.unwrap().owner_user_id;
    let sales = create_org(&mut c, t, "Sales", "").await;

    let mut ids = vec![owner.clone()];
    for (email, name, org, role, accepted) in [
        (
            "ann.lee@example.com",
            "Ann Lee",
            sales.id.as_str(),
            "viewer",
            true,
        ),
        (
            "bob@example.com",
            "Robert Lee",
            sales.id.as_str(),
            "member",
            false,
        ),
        ("carol@corp.example", "Carol", "", "viewer", false),
        ("dave@corp.example", "Dave", "", "member", true),
    ] {
        let invited = c
            .users
            .invite_user(pb::InviteUserRequest {
                tenant_id: t.into(),
                email: email.into(),
                display_name: name.into(),
                organization_id: org.into(),
                roles: vec![role_at(role, None)],
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        if accepted {
            accept(&mut c, t, &invited.invitation_token).await;
        }
        ids.push(invited.user.unwrap().id);
    }
    ids.sort();
    let (ann, bob, carol, dave) = (&ids[1], &ids[2], &ids[3], &ids[4]);
    // the directory is ordered by email (case-insensitive), then id
    let by_email = vec![
        ann.clone(),
        bob.clone(),
        carol.clone(),
        dave.clone(),
        owner.clone(),
    ];
    node.caught_up().await;

    let list = |query: &str, status: pb::UserStatus, org: &str, role: &str| pb::ListUsersRequest {
        tenant_id: t.into(),
        query: query.into(),
        status: status as i32,
        organization_id: org.into(),
        role: role.into(),
        ..Default::default()
    };
    use pb::UserStatus::{Active, Invited, Unspecified};
    let mut c2 = c.clone();
    let mut ids_of = async |request| user_ids(&mut c2, request).await;
    assert_eq!(
        ids_of(list("", Unspecified, "", "")).await,
        by_email,
        "everyone, by email"
    );
    assert_eq!(
        ids_of(list("LEE", Unspecified, "", "")).await,
        [ann.clone(), bob.clone()],
        "case-insensitive, email or display name"
    );
    assert_eq!(
        ids_of(list("corp.EXAMPLE", Unspecified, "", "")).await,
        [carol.clone(), dave.clone()]
    );
    assert_eq!(
        ids_of(list("", Active, "", "")).await,
        [ann.clone(), dave.clone()],
        "the owner has not accepted"
    );
    assert_eq!(ids_of(list("", Invited, "", "")).await.len(), 3);
    assert_eq!(
        ids_of(list("", Unspecified, &sales.id, "")).await,
        [ann.clone(), bob.clone()]
    );
    assert_eq!(
        ids_of(list("", Unspecified, "", "viewer")).await,
        [ann.clone(), carol.clone()]
    );
    assert_eq!(
        ids_of(list("", Unspecified, "", "tenant-owner")).await,
        [owner.as_str()]
    );
    assert_eq!(
        ids_of(list("lee", Active, &sales.id, "viewer")).await,
        [ann.as_str()],
        "filters combine"
    );
    assert!(ids_of(list("nobody", Unspecified, "", "")).await.is_empty());

    // paging: pages of 2 by id, every user exactly once
    let mut seen = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let page = c
            .users
            .list_users(pb::ListUsersRequest {
                page_size: 2,
                page_token: token.clone(),
                ..list("", Unspecified, "", "")
            })
            .await
            .unwrap()
            .into_inner();
        assert!(page.users.len() <= 2);
        pages += 1;
        seen.extend(page.users.into_iter().map(|u| u.id));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen, by_email);
    assert_eq!(pages, 3);

    // a token is bound to its filters
    let first = c
        .users
        .list_users(pb::ListUsersRequest {
            page_size: 1,
            ..list("", Unspecified, "", "")
        })
        .await
        .unwrap()
        .into_inner();
    let err = c
        .users
        .list_users(pb::ListUsersRequest {
            page_size: 1,
            page_token: first.next_page_token,
            ..list("lee", Unspecified, "", "")
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(violation_fields(&err), ["page_token"]);
}

#[tokio::test]
async fn effective_permissions_name_their_sources() {
    let node = PgNode::start(AuthMode::DevIdentity).await;
    let mut c = node.clients.clone();
    let (tenant, _) = create_tenant(&mut c, pb::Plan::Gold).await;
    let t = tenant.id.as_str();
    let sales = create_org(&mut c, t, "Sales", "").await;
    let support = create_org(&mut c, t, "Support", "").await;
    let grace = active_user(
        &mut c,
        t,
        "grace@example.com",
        vec![
            role_at("org-admin", scope(ORG, &sales.id)),
            role_at("viewer", None),
        ],
    )
    .await;
    let list = |at: Option<pb::Scope>| pb::ListEffectivePermissionsRequest {
        tenant_id: t.into(),
        user_id: grace.clone(),
        scope: at,
        consistency_token: String::new(),
    };
    let lines = |permissions: Vec<pb::EffectivePermission>| -> Vec<String> {
        permissions
            .iter()
            .map(|p| {
                let a = p.granted_by.clone().unwrap();
                let kind = a.scope.unwrap_or_default().kind;
                format!("{} via {} ({kind})", p.permission, a.role)
            })
            .collect()
    };

    // everything: every pattern of both assignments
    let all = c
        .access
        .list_effective_permissions(list(None))
        .await
        .unwrap()
        .into_inner()
        .permissions;
    let all = lines(all);
    assert!(
        all.contains(&"team:* via org-admin (2)".to_owned()),
        "{all:?}"
    );
    assert!(
        all.contains(&"analytics:view via viewer (1)".to_owned()),
        "{all:?}"
    );
    assert!(
        all.contains(&"analytics:view via org-admin (2)".to_owned()),
        "{all:?}"
    );

    // in the sibling organization only the tenant-wide viewer applies
    let at_support = c
        .access
        .list_effective_permissions(list(scope(ORG, &support.id)))
        .await
        .unwrap()
        .into_inner()
        .permissions;
    assert_eq!(lines(at_support), ["analytics:view via viewer (1)"]);

    // a tenant admin holds everything but billing and tenant deletion
    let admin = active_user(
        &mut c,
        t,
        "admin@example.com",
        vec![role_at("tenant-admin", None)],
    )
    .await;
    let effective = c
        .access
        .list_effective_permissions(pb::ListEffectivePermissionsRequest {
            tenant_id: t.into(),
            user_id: admin.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .permissions;
    assert_eq!(effective.len(), 1);
    assert_eq!(effective[0].permission, "*");
    assert_eq!(effective[0].except, ["billing:*", "tenant:delete"]);
    let answer = check(&mut c, t, &admin, "tenant:delete", None).await;
    assert_eq!(via(&answer), "denied (NO_MATCHING_ASSIGNMENT)");

    // assignments are listed, and a role can be added at a team
    let team = create_team(&mut c, t, &support.id, "L2").await;
    let r = c
        .users
        .assign_role(pb::AssignRoleRequest {
            tenant_id: t.into(),
            user_id: grace.clone(),
            assignment: Some(role_at("team-member", scope(TEAM, &team.id))),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.user.unwrap().roles.len(), 3);
    let answer = check(&mut c, t, &grace, "team:read", scope(TEAM, &team.id)).await;
    assert_eq!(via(&answer), format!("team-member at team:{}", team.id));
    node.caught_up().await;
    let assignments = c
        .users
        .list_role_assignments(pb::ListRoleAssignmentsRequest {
            tenant_id: t.into(),
            user_id: grace.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .assignments;
    let mut roles: Vec<_> = assignments
        .iter()
        .map(|a| a.assignment.as_ref().unwrap().role.as_str())
        .collect();
    roles.sort();
    assert_eq!(roles, ["org-admin", "team-member", "viewer"]);
}

#[tokio::test]
async fn profiles_and_organization_memberships() {
    let node = PgNode::start(AuthMode::DevIdentity).await;
    let mut c = node.clients.clone();
    let (tenant, _) = create_tenant(&mut c, pb::Plan::Gold).await;
    let t = tenant.id.as_str();
    let ops = create_org(&mut c, t, "Ops", "").await;
    let hank = active_user(&mut c, t, "hank@example.com", vec![]).await;

    let updated = c
        .users
        .update_user_profile(pb::UpdateUserProfileRequest {
            tenant_id: t.into(),
            user_id: hank.clone(),
            user: Some(pb::UserProfileUpdate {
                display_name: "Hank Hill".into(),
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["display_name".into()],
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert_eq!(updated.display_name, "Hank Hill");

    let joined = c
        .users
        .add_organization_member(pb::AddOrganizationMemberRequest {
            tenant_id: t.into(),
            user_id: hank.clone(),
            organization_id: ops.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert_eq!(joined.organization_ids, [ops.id.as_str()]);
    let left = c
        .users
        .remove_organization_member(pb::RemoveOrganizationMemberRequest {
            tenant_id: t.into(),
            user_id: hank.clone(),
            organization_id: ops.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert!(left.organization_ids.is_empty());
    assert_eq!(left.version, joined.version + 1);
}
