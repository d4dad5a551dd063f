//! User requests → commands (invitations, profile, lifecycle, memberships, role assignments),
//! ListUsers filters, and `User` → its proto message (never the invitation's token hash).

use engine::{
    domain::{
        Assignment, ClientId, DEFAULT_INVITATION_DAYS, INVITATION_DAYS, InvitationState,
        OrganizationId, SecretHash, TenantId, User, UserCommand, UserId, UserStatus,
    },
    secrets::parse_invitation_token,
};
use entity_proto::v1 as pb;
use tonic::Status;

use super::{
    Mutation, Violations, access::assignment_to_proto, addressed, by_id, complete, point_read,
    scoped, timestamp,
};
use crate::status;

/// Paths UpdateUserProfile's `update_mask` may name.
pub const UPDATE_PATHS: &[&str] = &["display_name"];

/// The request field naming the user.
const USER_ID: &str = "user_id";

impl Violations {
    /// Decodes an invitation lifetime: 0 means the default (7 days), otherwise 1-30.
    fn expires_in_days(&mut self, value: i32) -> u32 {
        match u32::try_from(value) {
            Ok(0) => DEFAULT_INVITATION_DAYS,
            Ok(days) if INVITATION_DAYS.contains(&days) => days,
            _ => {
                self.add(
                    "expires_in_days",
                    format!(
                        "must be {}-{} (0 means {DEFAULT_INVITATION_DAYS})",
                        INVITATION_DAYS.start(),
                        INVITATION_DAYS.end()
                    ),
                );
                DEFAULT_INVITATION_DAYS
            }
        }
    }
}

/// InviteUser, with the id the gateway chose for the new user and the hash of the token it
/// issued for them.
pub fn invite(
    req: pb::InviteUserRequest,
    id: UserId,
    token_hash: SecretHash,
) -> Result<Mutation, Status> {
    let (tenant_id, options, (organization_id, roles, expires_in_days)) =
        scoped(req.options, &req.tenant_id, |v| {
            let organization_id = v.optional_id("organization_id", &req.organization_id);
            let roles: Vec<_> = req
                .roles
                .into_iter()
                .enumerate()
                .map(|(i, a)| v.assignment(&format!("roles[{i}]"), Some(a)))
                .collect();
            let roles = roles.into_iter().collect::<Option<Vec<_>>>();
            (
                organization_id,
                roles,
                v.expires_in_days(req.expires_in_days),
            )
        })?;
    let (organization_id, roles) = complete(organization_id.zip(roles))?;
    let command = UserCommand::Invite {
        id,
        email: req.email,
        display_name: req.display_name,
        roles,
        organization_id,
        expires_in_days,
        token_hash,
    };
    Ok(Mutation::new(tenant_id, command, options))
}

/// AcceptInvitation: the user and the token's hash come from the token. A token that is not
/// ours is NOT_FOUND (invitation), exactly like a wrong or outdated one.
pub fn accept(req: pb::AcceptInvitationRequest) -> Result<Mutation, Status> {
    let (tenant_id, options, ()) = scoped(req.options, &req.tenant_id, |v| {
        v.required("token", &req.token)
    })?;
    let (id, token_hash) =
        parse_invitation_token(&req.token).ok_or_else(status::invitation_not_found)?;
    let command = UserCommand::AcceptInvitation {
        id,
        token_hash,
        display_name: req.display_name,
    };
    Ok(Mutation::new(tenant_id, command, options))
}

/// ResendInvitation: `issue` is called with the user's id and returns the hash of the new
/// token it issued.
pub fn resend(
    req: pb::ResendInvitationRequest,
    issue: impl FnOnce(UserId) -> SecretHash,
) -> Result<Mutation, Status> {
    let (target, options, expires_in_days) =
        addressed(req.options, &req.tenant_id, (USER_ID, &req.user_id), |v| {
            v.expires_in_days(req.expires_in_days)
        })?;
    let command = UserCommand::ResendInvitation {
        id: target.id,
        expires_in_days,
        token_hash: issue(target.id),
    };
    Ok(Mutation::new(target.tenant_id, command, options))
}

/// RevokeInvitation.
pub fn revoke(req: pb::RevokeInvitationRequest) -> Result<Mutation, Status> {
    by_id(req.options, &req.tenant_id, (USER_ID, &req.user_id), |id| {
        UserCommand::RevokeInvitation { id }
    })
}

/// DeactivateUser.
pub fn deactivate(req: pb::DeactivateUserRequest) -> Result<Mutation, Status> {
    by_id(req.options, &req.tenant_id, (USER_ID, &req.user_id), |id| {
        UserCommand::Deactivate { id }
    })
}

/// SetUserClient (an empty `client_id`: none).
pub fn set_client(req: pb::SetUserClientRequest) -> Result<Mutation, Status> {
    let (target, options, client_id) =
        addressed::<UserId, _>(req.options, &req.tenant_id, (USER_ID, &req.user_id), |v| {
            v.optional_id::<ClientId>("client_id", &req.client_id)
        })?;
    let command = UserCommand::SetClient {
        id: target.id,
        client_id: complete(client_id)?,
    };
    Ok(Mutation::new(target.tenant_id, command, options))
}

/// ReactivateUser.
pub fn reactivate(req: pb::ReactivateUserRequest) -> Result<Mutation, Status> {
    by_id(req.options, &req.tenant_id, (USER_ID, &req.user_id), |id| {
        UserCommand::Reactivate { id }
    })
}

/// EraseUser.
pub fn erase(req: pb::EraseUserRequest) -> Result<Mutation, Status> {
    by_id(req.options, &req.tenant_id, (USER_ID, &req.user_id), |id| {
        UserCommand::Erase { id }
    })
}

/// UpdateUserProfile: the mask decides which fields change.
pub fn update_profile(req: pb::UpdateUserProfileRequest) -> Result<Mutation, Status> {
    let (target, options, paths) =
        addressed(req.options, &req.tenant_id, (USER_ID, &req.user_id), |v| {
            v.update_mask(req.update_mask, UPDATE_PATHS)
        })?;
    let patch = req.user.unwrap_or_default();
    let command = UserCommand::UpdateProfile {
        id: target.id,
        display_name: paths
            .contains(&"display_name")
            .then_some(patch.display_name),
    };
    Ok(Mutation::new(target.tenant_id, command, options))
}

/// AddOrganizationMember.
pub fn add_organization(req: pb::AddOrganizationMemberRequest) -> Result<Mutation, Status> {
    membership(
        req.options,
        &req.tenant_id,
        &req.user_id,
        &req.organization_id,
        |id, organization_id| UserCommand::AddToOrganization {
            id,
            organization_id,
        },
    )
}

/// RemoveOrganizationMember.
pub fn remove_organization(req: pb::RemoveOrganizationMemberRequest) -> Result<Mutation, Status> {
    membership(
        req.options,
        &req.tenant_id,
        &req.user_id,
        &req.organization_id,
        |id, organization_id| UserCommand::RemoveFromOrganization {
            id,
            organization_id,
        },
    )
}

/// AssignRole.
pub fn assign_role(req: pb::AssignRoleRequest) -> Result<Mutation, Status> {
    role_change(
        req.options,
        &req.tenant_id,
        &req.user_id,
        req.assignment,
        |id, assignment| UserCommand::AssignRole { id, assignment },
    )
}

/// RevokeRole.
pub fn revoke_role(req: pb::RevokeRoleRequest) -> Result<Mutation, Status> {
    role_change(
        req.options,
        &req.tenant_id,
        &req.user_id,
        req.assignment,
        |id, assignment| UserCommand::RevokeRole { id, assignment },
    )
}

/// GetUser: the tenant and user to read.
pub fn get(req: &pb::GetUserRequest) -> Result<(TenantId, UserId), Status> {
    point_read(
        &req.tenant_id,
        (USER_ID, &req.user_id),
        &req.consistency_token,
    )
}

/// The proto message of a user. The invitation shows its state and times, never its hash.
pub fn to_proto(u: &User) -> pb::User {
    pb::User {
        tenant_id: u.tenant_id.to_string(),
        id: u.id.to_string(),
        email: u.email.clone(),
        display_name: u.display_name.clone(),
        status: status_to_proto(u.status) as i32,
        invitation: u.invitation.as_ref().map(|i| pb::Invitation {
            state: match i.state {
                InvitationState::Pending => pb::InvitationState::Pending,
                InvitationState::Accepted => pb::InvitationState::Accepted,
                InvitationState::Revoked => pb::InvitationState::Revoked,
                InvitationState::Expired => pb::InvitationState::Expired,
            } as i32,
            expires_at: Some(timestamp(i.expires_at)),
            sent_at: Some(timestamp(i.sent_at)),
        }),
        organization_ids: u.organizations.iter().map(ToString::to_string).collect(),
        roles: u.assignments.iter().map(assignment_to_proto).collect(),
        version: u.version,
        create_time: Some(timestamp(u.created_at)),
        update_time: Some(timestamp(u.updated_at)),
        client_id: u.client_id.map(|c| c.to_string()).unwrap_or_default(),
    }
}

pub fn status_to_proto(s: UserStatus) -> pb::UserStatus {
    match s {
        UserStatus::Invited => pb::UserStatus::Invited,
        UserStatus::Active => pb::UserStatus::Active,
        UserStatus::Deactivated => pb::UserStatus::Deactivated,
        UserStatus::Erased => pb::UserStatus::Erased,
    }
}

/// The domain status of a specified proto status.
pub fn status_from_proto(s: pb::UserStatus) -> UserStatus {
    match s {
        pb::UserStatus::Invited | pb::UserStatus::Unspecified => UserStatus::Invited,
        pb::UserStatus::Active => UserStatus::Active,
        pb::UserStatus::Deactivated => UserStatus::Deactivated,
        pb::UserStatus::Erased => UserStatus::Erased,
    }
}

/// A command naming a user and a second thing `rest` decodes.
fn about_user<R>(
    options: Option<pb::MutationOptions>,
    tenant_id: &str,
    user_id: &str,
    rest: impl FnOnce(&mut Violations) -> Option<R>,
    command: impl FnOnce(UserId, R) -> UserCommand,
) -> Result<Mutation, Status> {
    let (target, options, rest) = addressed(options, tenant_id, (USER_ID, user_id), rest)?;
    let command = command(target.id, complete(rest)?);
    Ok(Mutation::new(target.tenant_id, command, options))
}

/// A command naming a user and an organization.
fn membership(
    options: Option<pb::MutationOptions>,
    tenant_id: &str,
    user_id: &str,
    organization_id: &str,
    command: impl FnOnce(UserId, OrganizationId) -> UserCommand,
) -> Result<Mutation, Status> {
    about_user(
        options,
        tenant_id,
        user_id,
        |v| v.id("organization_id", organization_id),
        command,
    )
}

/// A command naming a user and a role assignment.
fn role_change(
    options: Option<pb::MutationOptions>,
    tenant_id: &str,
    user_id: &str,
    assignment: Option<pb::RoleAssignment>,
    command: impl FnOnce(UserId, Assignment) -> UserCommand,
) -> Result<Mutation, Status> {
    about_user(
        options,
        tenant_id,
        user_id,
        |v| v.assignment("assignment", assignment),
        command,
    )
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use engine::{
        domain::{Invitation, Scope, SmallSet, TenantScopeCommand},
        secrets::issue_invitation_token,
    };
    use tonic::Code;
    use tonic_types::StatusExt;

    use super::*;
    use crate::convert::violation_fields as fields;

    fn user(email: &str, name: &str, status: UserStatus) -> User {
        User {
            tenant_id: TenantId::new_v7(),
            id: UserId::new_v7(),
            email: email.into(),
            display_name: name.into(),
            status,
            invitation: Some(Invitation {
                token_hash: SecretHash::from_bytes([0x5e; 32]),
                expires_at: Utc::now(),
                state: InvitationState::Pending,
                sent_at: Utc::now(),
            }),
            organizations: SmallSet::new(),
            assignments: SmallSet::from([Assignment {
                role: "viewer".into(),
                scope: Scope::Tenant,
            }]),
            client_id: None,
            claims_version: 0,
            version: 1,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn invite_defaults_and_bounds_the_expiry() {
        let req = |days: i32| pb::InviteUserRequest {
            tenant_id: TenantId::new_v7().to_string(),
            email: "a@example.com".into(),
            expires_in_days: days,
            ..Default::default()
        };
        let expiry = |days: i32| match invite(req(days), UserId::new_v7(), SecretHash::ZERO)
            .map(|m| m.command)
        {
            Ok(TenantScopeCommand::User(UserCommand::Invite {
                expires_in_days, ..
            })) => Ok(expires_in_days),
            Ok(_) => panic!(),
            Err(s) => Err(fields(&s)),
        };
        assert_eq!(expiry(0), Ok(7));
        assert_eq!(expiry(1), Ok(1));
        assert_eq!(expiry(30), Ok(30));
        assert_eq!(expiry(31), Err(vec!["expires_in_days".to_owned()]));
        assert_eq!(expiry(-1), Err(vec!["expires_in_days".to_owned()]));
    }

    #[test]
    fn invite_names_bad_roles_by_index() {
        let req = pb::InviteUserRequest {
            tenant_id: TenantId::new_v7().to_string(),
            email: "a@example.com".into(),
            organization_id: "o".into(),
            roles: vec![
                pb::RoleAssignment {
                    role: "viewer".into(),
                    scope: None,
                },
                pb::RoleAssignment {
                    role: "org-admin".into(),
                    scope: Some(pb::Scope {
                        kind: pb::ScopeKind::Organization as i32,
                        id: "nope".into(),
                    }),
                },
            ],
            ..Default::default()
        };
        let s = invite(req, UserId::new_v7(), SecretHash::ZERO).unwrap_err();
        assert_eq!(fields(&s), ["organization_id", "roles[1].scope.id"]);
    }

    #[test]
    fn accept_reads_the_token_and_hides_why_it_fails() {
        let user_id = UserId::new_v7();
        let token = issue_invitation_token(user_id);
        let req = |token: &str| pb::AcceptInvitationRequest {
            tenant_id: TenantId::new_v7().to_string(),
            token: token.into(),
            ..Default::default()
        };
        let TenantScopeCommand::User(UserCommand::AcceptInvitation { id, token_hash, .. }) =
            accept(req(&token.plaintext)).unwrap().command
        else {
            panic!()
        };
        assert_eq!((id, token_hash), (user_id, token.hash));
        assert_eq!(fields(&accept(req("")).unwrap_err()), ["token"]);
        let s = accept(req("inv1.garbage")).unwrap_err();
        assert_eq!(s.code(), Code::NotFound);
        let info = s.get_details_error_info().unwrap();
        assert_eq!(info.reason, "NOT_FOUND");
        assert_eq!(info.metadata["resource"], "invitation");
    }

    #[test]
    fn resend_issues_for_the_named_user() {
        let user_id = UserId::new_v7();
        let req = pb::ResendInvitationRequest {
            tenant_id: TenantId::new_v7().to_string(),
            user_id: user_id.to_string(),
            ..Default::default()
        };
        let mut issued_for = None;
        let m = resend(req, |id| {
            issued_for = Some(id);
            SecretHash::from_bytes([7; 32])
        })
        .unwrap();
        assert_eq!(issued_for, Some(user_id));
        let TenantScopeCommand::User(UserCommand::ResendInvitation {
            token_hash,
            expires_in_days,
            ..
        }) = m.command
        else {
            panic!()
        };
        assert_eq!(
            (token_hash, expires_in_days),
            (SecretHash::from_bytes([7; 32]), 7)
        );
    }

    #[test]
    fn the_token_hash_never_leaves() {
        let u = user("a@example.com", "", UserStatus::Invited);
        let p = to_proto(&u);
        assert!(!format!("{p:?}").contains(&SecretHash::from_bytes([0x5e; 32]).to_string()));
        assert_eq!(
            p.invitation.unwrap().state,
            pb::InvitationState::Pending as i32
        );
        assert_eq!(p.roles.len(), 1);
    }
}
