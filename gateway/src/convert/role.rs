//! Role requests → commands, and roles (custom and built-in) → the `Role` message.

use engine::domain::{BuiltinRole, RoleCommand, RoleDefinition, RoleId, RoleStatus, TenantId};
use entity_proto::v1 as pb;
use tonic::Status;

use super::{Mutation, addressed, by_id, point_read, scoped, tenant_read, timestamp};

/// Paths UpdateRole's `update_mask` may name.
pub const UPDATE_PATHS: &[&str] = &["description", "permissions"];

/// The request field naming the role.
const ROLE_ID: &str = "role_id";

/// DefineRole, with the id the gateway chose for the new role. Every permission must parse
/// (violations name `permissions[i]`); names and counts are the domain's to judge.
pub fn define(req: pb::DefineRoleRequest, id: RoleId) -> Result<Mutation, Status> {
    let (tenant_id, options, permissions) = scoped(req.options, &req.tenant_id, |v| {
        v.permission_patterns("permissions", &req.permissions)
    })?;
    let command = RoleCommand::Define {
        id,
        name: req.name,
        description: req.description,
        permissions,
    };
    Ok(Mutation::new(tenant_id, command, options))
}

/// UpdateRole: the mask decides which fields change; permissions replace the whole set.
pub fn update(req: pb::UpdateRoleRequest) -> Result<Mutation, Status> {
    let (target, options, (paths, description, permissions)) =
        addressed(req.options, &req.tenant_id, (ROLE_ID, &req.role_id), |v| {
            let paths = v.update_mask(req.update_mask, UPDATE_PATHS);
            let patch = req.role.unwrap_or_default();
            let permissions = paths
                .contains(&"permissions")
                .then(|| v.permission_patterns("role.permissions", &patch.permissions));
            (paths, patch.description, permissions)
        })?;
    let command = RoleCommand::Update {
        id: target.id,
        description: paths.contains(&"description").then_some(description),
        permissions,
    };
    Ok(Mutation::new(target.tenant_id, command, options))
}

/// DeleteRole.
pub fn delete(req: pb::DeleteRoleRequest) -> Result<Mutation, Status> {
    by_id(req.options, &req.tenant_id, (ROLE_ID, &req.role_id), |id| {
        RoleCommand::Delete { id }
    })
}

/// GetRole: the tenant and custom role to read.
pub fn get(req: &pb::GetRoleRequest) -> Result<(TenantId, RoleId), Status> {
    point_read(
        &req.tenant_id,
        (ROLE_ID, &req.role_id),
        &req.consistency_token,
    )
}

/// ListRoles: the tenant.
pub fn list(req: &pb::ListRolesRequest) -> Result<TenantId, Status> {
    tenant_read(&req.tenant_id, &req.consistency_token)
}

/// The proto message of a custom role.
pub fn to_proto(r: &RoleDefinition) -> pb::Role {
    pb::Role {
        tenant_id: r.tenant_id.to_string(),
        id: r.id.to_string(),
        name: r.name.clone(),
        description: r.description.clone(),
        permissions: r.permissions.iter().map(ToString::to_string).collect(),
        except_permissions: Vec::new(),
        builtin: false,
        status: match r.status {
            RoleStatus::Active => pb::RoleStatus::Active,
            RoleStatus::Deleted => pb::RoleStatus::Deleted,
        } as i32,
        version: r.version,
        create_time: Some(timestamp(r.created_at)),
        update_time: Some(timestamp(r.updated_at)),
    }
}

/// The proto message of a built-in role as every tenant has it (no id, version or times).
pub fn builtin_to_proto(tenant_id: TenantId, role: BuiltinRole) -> pb::Role {
    let grants = role.grants();
    pb::Role {
        tenant_id: tenant_id.to_string(),
        id: String::new(),
        name: role.name().to_owned(),
        description: builtin_description(role).to_owned(),
        permissions: grants.allow.iter().map(ToString::to_string).collect(),
        except_permissions: grants.except.iter().map(ToString::to_string).collect(),
        builtin: true,
        status: pb::RoleStatus::Active as i32,
        version: 0,
        create_time: None,
        update_time: None,
    }
}

fn builtin_description(role: BuiltinRole) -> &'static str {
    match role {
        BuiltinRole::TenantOwner => "Everything.",
        BuiltinRole::TenantAdmin => "Everything but billing and deleting the tenant.",
        BuiltinRole::OrgAdmin => {
            "Manages organizations, teams and users within its organization subtree."
        }
        BuiltinRole::TeamMember => "Reads its team.",
        BuiltinRole::Member => "A regular member: reads the directory, views analytics.",
        BuiltinRole::Viewer => "Views analytics.",
        BuiltinRole::ClientEditor => "Creates, edits and views clients.",
        BuiltinRole::ClientViewer => "Views clients.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::violation_fields as fields;

    #[test]
    fn bad_permissions_are_named_by_index() {
        let req = pb::DefineRoleRequest {
            tenant_id: TenantId::new_v7().to_string(),
            name: "approver".into(),
            permissions: vec!["invoice:approve".into(), "Invoice".into(), "x:*".into()],
            ..Default::default()
        };
        assert_eq!(
            fields(&define(req.clone(), RoleId::new_v7()).unwrap_err()),
            ["permissions[1]"]
        );
        let ok = pb::DefineRoleRequest {
            permissions: vec!["invoice:approve".into()],
            ..req
        };
        assert!(define(ok, RoleId::new_v7()).is_ok());
        let update = pb::UpdateRoleRequest {
            tenant_id: TenantId::new_v7().to_string(),
            role_id: RoleId::new_v7().to_string(),
            role: Some(pb::RoleUpdate {
                description: String::new(),
                permissions: vec![":".into()],
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["permissions".into()],
            }),
            ..Default::default()
        };
        assert_eq!(
            fields(&super::update(update).unwrap_err()),
            ["role.permissions[0]"]
        );
    }

    #[test]
    fn builtins_show_their_grants() {
        let tenant = TenantId::new_v7();
        let admin = builtin_to_proto(tenant, BuiltinRole::TenantAdmin);
        assert!(admin.builtin);
        assert_eq!(admin.id, "");
        assert_eq!(admin.permissions, ["*"]);
        assert_eq!(admin.except_permissions, ["billing:*", "tenant:delete"]);
    }
}
