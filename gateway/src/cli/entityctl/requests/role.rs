//! `entityctl role …` requests.

use entity_proto::v1 as pb;

use super::{mask, one, options, role_assignments, scope_proto, token, written};
use crate::cli::entityctl::{
    Failure, Services,
    args::{ListOpts, RoleCommand, RoleId},
    render::{Listed, Rendered},
};

reads! { RoleId => pb::GetRoleRequest { role_id } }
writes! { RoleId => pb::DeleteRoleRequest { role_id } }

/// Runs a role command.
pub(super) async fn run(
    services: &mut Services,
    command: RoleCommand,
) -> Result<Rendered, Failure> {
    let c = &mut services.roles;
    let rendered = match command {
        RoleCommand::Define {
            tenant,
            name,
            permissions,
            description,
            write,
        } => {
            let request = pb::DefineRoleRequest {
                options: options(write),
                tenant_id: tenant,
                name,
                description: description.unwrap_or_default(),
                permissions,
            };
            written("defined", c.define_role(request).await?)
        }
        RoleCommand::Get(read) => one(c.get_role(pb::GetRoleRequest::from(read)).await?),
        RoleCommand::List { tenant } => {
            let request = pb::ListRolesRequest {
                tenant_id: tenant,
                consistency_token: String::new(),
            };
            let roles = c.list_roles(request).await?.into_inner().roles;
            Rendered::new(Listed::new(roles, String::new()))
        }
        RoleCommand::Assignments {
            tenant,
            user,
            role,
            scope,
            listing: ListOpts { page, read },
        } => {
            let request = pb::ListRoleAssignmentsRequest {
                tenant_id: tenant,
                user_id: user.unwrap_or_default(),
                role: role.unwrap_or_default(),
                scope: scope.map(scope_proto),
                consistency_token: token(read),
                ..Default::default()
            };
            role_assignments(services, request, page, false).await?
        }
        RoleCommand::Update {
            tenant,
            role,
            description,
            permissions,
            write,
        } => {
            let update_mask = mask(&[
                ("description", description.is_some()),
                ("permissions", !permissions.is_empty()),
            ]);
            let request = pb::UpdateRoleRequest {
                options: options(write),
                tenant_id: tenant,
                role_id: role,
                role: Some(pb::RoleUpdate {
                    description: description.unwrap_or_default(),
                    permissions,
                }),
                update_mask,
            };
            written("updated", c.update_role(request).await?)
        }
        RoleCommand::Delete(w) => written(
            "deleted",
            c.delete_role(pb::DeleteRoleRequest::from(w)).await?,
        ),
    };
    Ok(rendered)
}
