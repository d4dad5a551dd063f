//! `entityctl user …` requests.

use entity_proto::v1::{self as pb, user_service_client::UserServiceClient};

use super::{assignment_proto, listed, mask, one, options, role_assignments, token, written};
use crate::cli::entityctl::{
    Failure, Services,
    args::{ListOpts, OrgId, PageOpts, Read, UserCommand, UserId, UserStatusArg},
    render::{Claims, Rendered},
};

list_rpcs! {
    pb::ListUsersRequest: UserServiceClient.list_users -> users: pb::User,
    pb::ListRoleAssignmentsRequest: UserServiceClient.list_role_assignments
        -> assignments: pb::UserRoleAssignment,
}
reads! { UserId => pb::GetUserRequest { user_id } }
writes! {
    UserId => pb::RevokeInvitationRequest { user_id },
    UserId => pb::DeactivateUserRequest { user_id },
    UserId => pb::ReactivateUserRequest { user_id },
    UserId => pb::EraseUserRequest { user_id },
}
links! {
    (UserId, OrgId) => pb::AddOrganizationMemberRequest { user_id, organization_id },
    (UserId, OrgId) => pb::RemoveOrganizationMemberRequest { user_id, organization_id },
}

/// Runs a user command.
pub(super) async fn run(
    services: &mut Services,
    command: UserCommand,
) -> Result<Rendered, Failure> {
    let c = &mut services.users;
    let rendered = match command {
        UserCommand::Invite {
            tenant,
            email,
            name,
            org,
            roles,
            expires_days,
            write,
        } => {
            let request = pb::InviteUserRequest {
                options: options(write),
                tenant_id: tenant,
                email,
                display_name: name.unwrap_or_default(),
                organization_id: org.unwrap_or_default(),
                roles: roles.into_iter().map(assignment_proto).collect(),
                expires_in_days: expires_days.unwrap_or_default(),
            };
            written("invited", c.invite_user(request).await?)
        }
        UserCommand::Accept {
            tenant,
            invitation_token: token,
            name,
            write,
        } => {
            let request = pb::AcceptInvitationRequest {
                options: options(write),
                tenant_id: tenant,
                token,
                display_name: name,
            };
            written("activated", c.accept_invitation(request).await?)
        }
        UserCommand::Register {
            email,
            tenant,
            host,
            name,
            write,
        } => {
            let request = pb::RegisterUserRequest {
                options: options(write),
                tenant_id: tenant.unwrap_or_default(),
                email,
                display_name: name.unwrap_or_default(),
                host: host.unwrap_or_default(),
            };
            written("registered", c.register_user(request).await?)
        }
        UserCommand::Get(read) => one(c.get_user(pb::GetUserRequest::from(read)).await?),
        UserCommand::List {
            tenant,
            query,
            status,
            org,
            role,
            listing: ListOpts { page, read },
        } => {
            let status = match status {
                None => pb::UserStatus::Unspecified,
                Some(UserStatusArg::Invited) => pb::UserStatus::Invited,
                Some(UserStatusArg::Active) => pb::UserStatus::Active,
                Some(UserStatusArg::Deactivated) => pb::UserStatus::Deactivated,
                Some(UserStatusArg::Erased) => pb::UserStatus::Erased,
            };
            let request = pb::ListUsersRequest {
                tenant_id: tenant,
                query: query.unwrap_or_default(),
                status: status as i32,
                organization_id: org.unwrap_or_default(),
                role: role.unwrap_or_default(),
                consistency_token: token(read),
                ..Default::default()
            };
            listed(c, request, page).await?
        }
        UserCommand::Resend {
            tenant,
            user,
            expires_days,
            write,
        } => {
            let request = pb::ResendInvitationRequest {
                options: options(write),
                tenant_id: tenant,
                user_id: user,
                expires_in_days: expires_days.unwrap_or_default(),
            };
            written("re-invited", c.resend_invitation(request).await?)
        }
        UserCommand::Revoke(w) => {
            let request = pb::RevokeInvitationRequest::from(w);
            written(
                "revoked the invitation of",
                c.revoke_invitation(request).await?,
            )
        }
        UserCommand::Update {
            tenant,
            user,
            name,
            write,
        } => {
            let request = pb::UpdateUserProfileRequest {
                options: options(write),
                tenant_id: tenant,
                user_id: user,
                user: Some(pb::UserProfileUpdate { display_name: name }),
                update_mask: mask(&[("display_name", true)]),
            };
            written("updated", c.update_user_profile(request).await?)
        }
        UserCommand::Deactivate(w) => written(
            "deactivated",
            c.deactivate_user(pb::DeactivateUserRequest::from(w))
                .await?,
        ),
        UserCommand::Reactivate(w) => written(
            "reactivated",
            c.reactivate_user(pb::ReactivateUserRequest::from(w))
                .await?,
        ),
        UserCommand::Erase(w) => {
            written("erased", c.erase_user(pb::EraseUserRequest::from(w)).await?)
        }
        UserCommand::AddOrg(l) => {
            let request = pb::AddOrganizationMemberRequest::from(l);
            written(
                "added an organization to",
                c.add_organization_member(request).await?,
            )
        }
        UserCommand::RemoveOrg(l) => {
            let request = pb::RemoveOrganizationMemberRequest::from(l);
            written(
                "removed an organization from",
                c.remove_organization_member(request).await?,
            )
        }
        UserCommand::AssignRole {
            tenant,
            user,
            role,
            write,
        } => {
            let request = pb::AssignRoleRequest {
                options: options(write),
                tenant_id: tenant,
                user_id: user,
                assignment: Some(assignment_proto(role)),
            };
            written("assigned a role to", c.assign_role(request).await?)
        }
        UserCommand::RevokeRole {
            tenant,
            user,
            role,
            write,
        } => {
            let request = pb::RevokeRoleRequest {
                options: options(write),
                tenant_id: tenant,
                user_id: user,
                assignment: Some(assignment_proto(role)),
            };
            written("revoked a role of", c.revoke_role(request).await?)
        }
        UserCommand::SetClient {
            tenant,
            user,
            client,
            write,
        } => {
            let request = pb::SetUserClientRequest {
                options: options(write),
                tenant_id: tenant,
                user_id: user,
                client_id: client.unwrap_or_default(),
            };
            let verb = if request.client_id.is_empty() {
                "took out of its client"
            } else {
                "set the client of"
            };
            written(verb, c.set_user_client(request).await?)
        }
        UserCommand::Roles(Read {
            tenant, id, read, ..
        }) => {
            let request = pb::ListRoleAssignmentsRequest {
                tenant_id: tenant,
                user_id: id,
                consistency_token: token(read),
                ..Default::default()
            };
            let every_page = PageOpts {
                all: true,
                ..PageOpts::default()
            };
            role_assignments(services, request, every_page, true).await?
        }
        UserCommand::Claims { tenant, user } => {
            let request = pb::GetUserClaimsRequest {
                tenant_id: tenant,
                user_id: user,
            };
            Rendered::new(Claims(c.get_user_claims(request).await?.into_inner()))
        }
    };
    Ok(rendered)
}
