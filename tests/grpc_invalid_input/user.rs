//! Bad UserService input.

use super::*;

fn invite_request(tenant: &str, email: &str) -> pb::InviteUserRequest {
    pb::InviteUserRequest {
        tenant_id: tenant.into(),
        email: email.into(),
        ..Default::default()
    }
}

fn assignment(role: &str, kind: i32, id: &str) -> Option<pb::RoleAssignment> {
    Some(pb::RoleAssignment {
        role: role.into(),
        scope: Some(pb::Scope {
            kind,
            id: id.into(),
        }),
    })
}

const ORG: i32 = pb::ScopeKind::Organization as i32;
const TENANT: i32 = pb::ScopeKind::Tenant as i32;

pub(super) fn cases(c: &Clients, f: &Fixtures) -> Vec<Case> {
    let unknown = uuid::Uuid::now_v7().to_string();
    let (t, o, u) = (f.tenant.clone(), f.org.clone(), f.user.clone());
    // well-formed, but for a user that does not exist
    let stranger_token =
        engine::secrets::issue_invitation_token(engine::domain::UserId::new_v7()).plaintext;
    let long_name = "n".repeat(201);
    vec![
        // InviteUser
        Case {
            label: "invite: malformed email",
            call: call!(c.users, invite_user, invite_request(&t, "not-an-email")),
            expect: Expect::Invalid(&["email"]),
        },
        Case {
            label: "invite: email with two @",
            call: call!(c.users, invite_user, invite_request(&t, "a@b@example.com")),
            expect: Expect::Invalid(&["email"]),
        },
        Case {
            label: "invite: empty email, 201-char display name",
            call: call!(
                c.users,
                invite_user,
                pb::InviteUserRequest {
                    display_name: long_name.clone(),
                    ..invite_request(&t, "")
                }
            ),
            expect: Expect::Invalid(&["email", "display_name"]),
        },
        Case {
            label: "invite: expires in 31 days",
            call: call!(
                c.users,
                invite_user,
                pb::InviteUserRequest {
                    expires_in_days: 31,
                    ..invite_request(&t, "x1@example.com")
                }
            ),
            expect: Expect::Invalid(&["expires_in_days"]),
        },
        Case {
            label: "invite: expires in -1 days",
            call: call!(
                c.users,
                invite_user,
                pb::InviteUserRequest {
                    expires_in_days: -1,
                    ..invite_request(&t, "x2@example.com")
                }
            ),
            expect: Expect::Invalid(&["expires_in_days"]),
        },
        Case {
            label: "invite: malformed organization",
            call: call!(
                c.users,
                invite_user,
                pb::InviteUserRequest {
                    organization_id: "sales".into(),
                    ..invite_request(&t, "x3@example.com")
                }
            ),
            expect: Expect::Invalid(&["organization_id"]),
        },
        Case {
            label: "invite: bad scopes and an empty role",
            call: call!(
                c.users,
                invite_user,
                pb::InviteUserRequest {
                    roles: vec![
                        assignment("viewer", ORG, "x").unwrap(),
                        assignment("viewer", 7, "").unwrap(),
                        assignment("", TENANT, "").unwrap(),
                        assignment("viewer", TENANT, &o).unwrap(),
                        assignment("viewer", 0, "").unwrap(),
                    ],
                    ..invite_request(&t, "x4@example.com")
                }
            ),
            expect: Expect::Invalid(&[
                "roles[0].scope.id",
                "roles[1].scope.kind",
                "roles[2].role",
                "roles[3].scope.id",
                "roles[4].scope.kind",
            ]),
        },
        Case {
            label: "invite: malformed role name",
            call: call!(
                c.users,
                invite_user,
                pb::InviteUserRequest {
                    roles: vec![assignment("Admin!", TENANT, "").unwrap()],
                    ..invite_request(&t, "x5@example.com")
                }
            ),
            expect: Expect::Invalid(&["roles[0].role"]),
        },
        Case {
            label: "invite: unknown role",
            call: call!(
                c.users,
                invite_user,
                pb::InviteUserRequest {
                    roles: vec![assignment("no-such-role", TENANT, "").unwrap()],
                    ..invite_request(&t, "x6@example.com")
                }
            ),
            expect: Expect::NotFound,
        },
        Case {
            label: "invite: unknown organization",
            call: call!(
                c.users,
                invite_user,
                pb::InviteUserRequest {
                    organization_id: unknown.clone(),
                    ..invite_request(&t, "x7@example.com")
                }
            ),
            expect: Expect::NotFound,
        },
        // reads
        Case {
            label: "get user: malformed id",
            call: call!(
                c.users,
                get_user,
                pb::GetUserRequest {
                    tenant_id: t.clone(),
                    user_id: "me".into(),
                    consistency_token: String::new(),
                }
            ),
            expect: Expect::Invalid(&["user_id"]),
        },
        Case {
            label: "get user: unknown id",
            call: call!(
                c.users,
                get_user,
                pb::GetUserRequest {
                    tenant_id: t.clone(),
                    user_id: unknown.clone(),
                    consistency_token: String::new(),
                }
            ),
            expect: Expect::NotFound,
        },
        Case {
            label: "list users: unknown status, malformed organization, tampered token",
            call: call!(
                c.users,
                list_users,
                pb::ListUsersRequest {
                    tenant_id: t.clone(),
                    status: 17,
                    organization_id: "o".into(),
                    page_token: "abcd".into(),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["status", "organization_id"]),
        },
        Case {
            label: "list users: tampered token, negative page size",
            call: call!(
                c.users,
                list_users,
                pb::ListUsersRequest {
                    tenant_id: t.clone(),
                    page_size: -5,
                    page_token: "abcd".into(),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["page_size", "page_token"]),
        },
        Case {
            label: "list role assignments: malformed user",
            call: call!(
                c.users,
                list_role_assignments,
                pb::ListRoleAssignmentsRequest {
                    tenant_id: t.clone(),
                    user_id: "u".into(),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["user_id"]),
        },
        // invitations
        Case {
            label: "accept: no token",
            call: call!(
                c.users,
                accept_invitation,
                pb::AcceptInvitationRequest {
                    tenant_id: t.clone(),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["token"]),
        },
        Case {
            label: "accept: malformed token",
            call: call!(
                c.users,
                accept_invitation,
                pb::AcceptInvitationRequest {
                    tenant_id: t.clone(),
                    token: "inv1.garbage".into(),
                    ..Default::default()
                }
            ),
            expect: Expect::NotFound,
        },
        Case {
            label: "accept: token of nobody",
            call: call!(
                c.users,
                accept_invitation,
                pb::AcceptInvitationRequest {
                    tenant_id: t.clone(),
                    token: stranger_token.clone(),
                    ..Default::default()
                }
            ),
            expect: Expect::NotFound,
        },
        Case {
            label: "accept: 201-char display name",
            call: call!(
                c.users,
                accept_invitation,
                pb::AcceptInvitationRequest {
                    tenant_id: t.clone(),
                    token: stranger_token,
                    display_name: Some(long_name.clone()),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["display_name"]),
        },
        Case {
            label: "resend: expires in 31 days",
            call: call!(
                c.users,
                resend_invitation,
                pb::ResendInvitationRequest {
                    tenant_id: t.clone(),
                    user_id: u.clone(),
                    expires_in_days: 31,
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["expires_in_days"]),
        },
        Case {
            label: "resend: unknown user",
            call: call!(
                c.users,
                resend_invitation,
                pb::ResendInvitationRequest {
                    tenant_id: t.clone(),
                    user_id: unknown.clone(),
                    ..Default::default()
                }
            ),
            expect: Expect::NotFound,
        },
        Case {
            label: "revoke invitation: malformed user",
            call: call!(
                c.users,
                revoke_invitation,
                pb::RevokeInvitationRequest {
                    tenant_id: t.clone(),
                    user_id: "u".into(),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["user_id"]),
        },
        // profile and lifecycle
        Case {
            label: "update profile: bad mask",
            call: call!(
                c.users,
                update_user_profile,
                pb::UpdateUserProfileRequest {
                    tenant_id: t.clone(),
                    user_id: u.clone(),
                    update_mask: mask(&["email"]),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["update_mask"]),
        },
        Case {
            label: "update profile: 201-char display name",
            call: call!(
                c.users,
                update_user_profile,
                pb::UpdateUserProfileRequest {
                    tenant_id: t.clone(),
                    user_id: u.clone(),
                    user: Some(pb::UserProfileUpdate {
                        display_name: long_name,
                    }),
                    update_mask: mask(&["display_name"]),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["user.display_name"]),
        },
        Case {
            label: "deactivate: unknown user",
            call: call!(
                c.users,
                deactivate_user,
                pb::DeactivateUserRequest {
                    tenant_id: t.clone(),
                    user_id: unknown.clone(),
                    ..Default::default()
                }
            ),
            expect: Expect::NotFound,
        },
        Case {
            label: "reactivate: malformed tenant",
            call: call!(
                c.users,
                reactivate_user,
                pb::ReactivateUserRequest {
                    tenant_id: "t".into(),
                    user_id: u.clone(),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["tenant_id"]),
        },
        Case {
            label: "erase: unknown user",
            call: call!(
                c.users,
                erase_user,
                pb::EraseUserRequest {
                    tenant_id: t.clone(),
                    user_id: unknown.clone(),
                    ..Default::default()
                }
            ),
            expect: Expect::NotFound,
        },
        Case {
            label: "erase: malformed tenant and user",
            call: call!(
                c.users,
                erase_user,
                pb::EraseUserRequest {
                    tenant_id: "t".into(),
                    user_id: "u".into(),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["tenant_id", "user_id"]),
        },
        Case {
            label: "erase: request id of 129 characters",
            call: call!(
                c.users,
                erase_user,
                pb::EraseUserRequest {
                    options: opts(&"r".repeat(129), None),
                    tenant_id: t.clone(),
                    user_id: u.clone(),
                }
            ),
            expect: Expect::Invalid(&["options.request_id"]),
        },
        // memberships and roles
        Case {
            label: "add to organization: malformed organization",
            call: call!(
                c.users,
                add_organization_member,
                pb::AddOrganizationMemberRequest {
                    tenant_id: t.clone(),
                    user_id: u.clone(),
                    organization_id: "o".into(),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["organization_id"]),
        },
        Case {
            label: "add to organization: unknown organization",
            call: call!(
                c.users,
                add_organization_member,
                pb::AddOrganizationMemberRequest {
                    tenant_id: t.clone(),
                    user_id: u.clone(),
                    organization_id: unknown.clone(),
                    ..Default::default()
                }
            ),
            expect: Expect::NotFound,
        },
        Case {
            label: "remove from organization: no organization",
            call: call!(
                c.users,
                remove_organization_member,
                pb::RemoveOrganizationMemberRequest {
                    tenant_id: t.clone(),
                    user_id: u.clone(),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["organization_id"]),
        },
        Case {
            label: "assign role: no assignment",
            call: call!(
                c.users,
                assign_role,
                pb::AssignRoleRequest {
                    tenant_id: t.clone(),
                    user_id: u.clone(),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["assignment"]),
        },
        Case {
            label: "assign role: organization scope without id",
            call: call!(
                c.users,
                assign_role,
                pb::AssignRoleRequest {
                    tenant_id: t.clone(),
                    user_id: u.clone(),
                    assignment: assignment("org-admin", ORG, ""),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["assignment.scope.id"]),
        },
        Case {
            label: "assign role: malformed role name",
            call: call!(
                c.users,
                assign_role,
                pb::AssignRoleRequest {
                    tenant_id: t.clone(),
                    user_id: u.clone(),
                    assignment: assignment("Org Admin", TENANT, ""),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["assignment.role"]),
        },
        Case {
            label: "assign role: unknown organization scope",
            call: call!(
                c.users,
                assign_role,
                pb::AssignRoleRequest {
                    tenant_id: t.clone(),
                    user_id: u.clone(),
                    assignment: assignment("org-admin", ORG, &unknown),
                    ..Default::default()
                }
            ),
            expect: Expect::NotFound,
        },
        Case {
            label: "revoke role: empty role, unknown scope kind",
            call: call!(
                c.users,
                revoke_role,
                pb::RevokeRoleRequest {
                    tenant_id: t.clone(),
                    user_id: u.clone(),
                    assignment: assignment("", 5, ""),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["assignment.role", "assignment.scope.kind"]),
        },
    ]
}
