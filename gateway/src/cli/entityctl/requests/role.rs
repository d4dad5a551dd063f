//! `entityctl role …` requests.

use entity_proto::v1 as pb;

use super::{mask, options, role_assignments, scope_proto, written};
use crate::cli::entityctl::{
    Clients, Failure,
    args::RoleCommand,
    render::{Listed, One, Rendered},
};

/// Runs a role command.
pub(super) async fn run(clients: &mut Clients, command: RoleCommand) -> Result<Rendered, Failure> {
    let c = &mut clients.roles;
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
        RoleCommand::Get {
            tenant,
            role,
            consistency_token,
        } => {
            let request = pb::GetRoleRequest {
                tenant_id: tenant,
                role_id: role,
                consistency_token: consistency_token.unwrap_or_default(),
            };
            Rendered::new(One(c.get_role(request).await?.into_inner()))
        }
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
            page,
            consistency_token,
        } => {
            let base = pb::ListRoleAssignmentsRequest {
                tenant_id: tenant,
                user_id: user.unwrap_or_default(),
                role: role.unwrap_or_default(),
                scope: scope.map(scope_proto),
                consistency_token: consistency_token.unwrap_or_default(),
                ..Default::default()
            };
            role_assignments(clients, base, page, false).await?
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
        RoleCommand::Delete {
            tenant,
            role,
            write,
        } => {
            let request = pb::DeleteRoleRequest {
                options: options(write),
                tenant_id: tenant,
                role_id: role,
            };
            written("deleted", c.delete_role(request).await?)
        }
    };
    Ok(rendered)
}
