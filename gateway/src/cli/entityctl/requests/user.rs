//! `entityctl user …` requests.

use entity_proto::v1 as pb;

use super::{assignment_proto, mask, options, pages, role_assignments, written};
use crate::cli::entityctl::{
    Clients, Failure,
    args::{PageOpts, UserCommand, UserStatusArg},
    render::{Listed, One, Rendered},
};

/// Runs a user command.
pub(super) async fn run(clients: &mut Clients, command: UserCommand) -> Result<Rendered, Failure> {
    let c = &mut clients.users;
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
        UserCommand::Get {
            tenant,
            user,
            consistency_token,
        } => {
            let request = pb::GetUserRequest {
                tenant_id: tenant,
                user_id: user,
                consistency_token: consistency_token.unwrap_or_default(),
            };
            Rendered::new(One(c.get_user(request).await?.into_inner()))
        }
        UserCommand::List {
            tenant,
            query,
            status,
            org,
            role,
            page,
            consistency_token,
        } => {
            let status = match status {
                None => pb::UserStatus::Unspecified,
                Some(UserStatusArg::Invited) => pb::UserStatus::Invited,
                Some(UserStatusArg::Active) => pb::UserStatus::Active,
                Some(UserStatusArg::Deactivated) => pb::UserStatus::Deactivated,
                Some(UserStatusArg::Erased) => pb::UserStatus::Erased,
            };
            let base = pb::ListUsersRequest {
                tenant_id: tenant,
                query: query.unwrap_or_default(),
                status: status as i32,
                organization_id: org.unwrap_or_default(),
                role: role.unwrap_or_default(),
                consistency_token: consistency_token.unwrap_or_default(),
                ..Default::default()
            };
            let (users, next) = pages(page, |page_size, page_token| {
                let mut c = c.clone();
                let request = pb::ListUsersRequest {
                    page_size,
                    page_token,
                    ..base.clone()
                };
                async move {
                    let page = c.list_users(request).await?.into_inner();
                    Ok((page.users, page.next_page_token))
                }
            })
            .await?;
            Rendered::new(Listed::new(users, next))
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
        UserCommand::Revoke {
            tenant,
            user,
            write,
        } => {
            let request = pb::RevokeInvitationRequest {
                options: options(write),
                tenant_id: tenant,
                user_id: user,
            };
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
        UserCommand::Deactivate {
            tenant,
            user,
            write,
        } => {
            let request = pb::DeactivateUserRequest {
                options: options(write),
                tenant_id: tenant,
                user_id: user,
            };
            written("deactivated", c.deactivate_user(request).await?)
        }
        UserCommand::Reactivate {
            tenant,
            user,
            write,
        } => {
            let request = pb::ReactivateUserRequest {
                options: options(write),
                tenant_id: tenant,
                user_id: user,
            };
            written("reactivated", c.reactivate_user(request).await?)
        }
        UserCommand::Erase {
            tenant,
            user,
            write,
        } => {
            let request = pb::EraseUserRequest {
                options: options(write),
                tenant_id: tenant,
                user_id: user,
            };
            written("erased", c.erase_user(request).await?)
        }
        UserCommand::AddOrg {
            tenant,
            user,
            org,
            write,
        } => {
            let request = pb::AddOrganizationMemberRequest {
                options: options(write),
                tenant_id: tenant,
                user_id: user,
                organization_id: org,
            };
            written(
                "added an organization to",
                c.add_organization_member(request).await?,
            )
        }
        UserCommand::RemoveOrg {
            tenant,
            user,
            org,
            write,
        } => {
            let request = pb::RemoveOrganizationMemberRequest {
                options: options(write),
                tenant_id: tenant,
                user_id: user,
                organization_id: org,
            };
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
        UserCommand::Roles {
            tenant,
            user,
            consistency_token,
        } => {
            let base = pb::ListRoleAssignmentsRequest {
                tenant_id: tenant,
                user_id: user,
                consistency_token: consistency_token.unwrap_or_default(),
                ..Default::default()
            };
            let every_page = PageOpts {
                all: true,
                ..PageOpts::default()
            };
            role_assignments(clients, base, every_page, true).await?
        }
    };
    Ok(rendered)
}
