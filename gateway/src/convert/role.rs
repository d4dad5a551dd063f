//! Role requests → commands, and roles (custom and built-in) → the `Role` message.

use engine::domain::{
    BuiltinRole, RoleCommand, RoleDefinition, RoleId, RoleStatus, TenantId, TenantScopeCommand,
};
use entity_proto::v1 as pb;
use tonic::Status;

use super::{Mutation, Violations, timestamp};

/// Paths UpdateRole's `update_mask` may name.
pub const UPDATE_PATHS: &[&str] = &["description", "permissions"];

/// DefineRole, with the id the gateway chose for the new role. Every permission must parse
/// (violations name `permissions[i]`); names and counts are the domain's to judge.
pub fn define(req: pb::DefineRoleRequest, id: RoleId) -> Result<Mutation, Status> {
    let mut v = Violations::default();
    let (request_id, expected_version) = v.options(req.options);
    let tenant_id = v.id("tenant_id", &req.tenant_id);
    let permissions = v.permission_patterns("permissions", &req.permissions);
    v.finish()?;
    let tenant_id = tenant_id.ok_or_else(|| Status::internal("validation incomplete"))?;
    let command = RoleCommand::Define {
        id,
        name: req.name,
        description: req.description,
        permissions,
    };
    Ok(mutation(tenant_id, command, request_id, expected_version))
}

/// UpdateRole: the mask decides which fields change; permissions replace the whole set.
pub fn update(req: pb::UpdateRoleRequest) -> Result<Mutation, Status> {
    let mut v = Violations::default();
    let (request_id, expected_version) = v.options(req.options);
    let tenant_id = v.id("tenant_id", &req.tenant_id);
    let id = v.id("role_id", &req.role_id);
    let paths = v.update_mask(req.update_mask, UPDATE_PATHS);
    let patch = req.role.unwrap_or_default();
    let permissions = paths
        .contains(&"permissions")
        .then(|| v.permission_patterns("role.permissions", &patch.permissions));
    v.finish()?;
    let (Some(tenant_id), Some(id)) = (tenant_id, id) else {
        return Err(Status::internal("validation incomplete"));
    };
    let command = RoleCommand::Update {
        id,
        description: paths.contains(&"description").then_some(patch.description),
        permissions,
    };
    Ok(mutation(tenant_id, command, request_id, expected_version))
}

/// DeleteRole.
pub fn delete(req: pb::DeleteRoleRequest) -> Result<Mutation, Status> {
    let mut v = Violations::default();
    let (request_id, expected_version) = v.options(req.options);
    let tenant_id = v.id("tenant_id", &req.tenant_id);
    let id = v.id("role_id", &req.role_id);
    v.finish()?;
    let (Some(tenant_id), Some(id)) = (tenant_id, id) else {
        return Err(Status::internal("validation incomplete"));
    };
    Ok(mutation(
        tenant_id,
        RoleCommand::Delete { id },
        request_id,
        expected_version,
    ))
}

/// GetRole: the tenant and custom role to read.
pub fn get(req: &pb::GetRoleRequest) -> Result<(TenantId, RoleId), Status> {
    let mut v = Violations::default();
    let tenant_id = v.id("tenant_id", &req.tenant_id);
    let id = v.id("role_id", &req.role_id);
    v.consistency_token(&req.consistency_token);
    v.finish()?;
    tenant_id
        .zip(id)
        .ok_or_else(|| Status::internal("validation incomplete"))
}

/// ListRoles: the tenant.
pub fn list(req: &pb::ListRolesRequest) -> Result<TenantId, Status> {
    let mut v = Violations::default();
    let tenant_id = v.id("tenant_id", &req.tenant_id);
    v.consistency_token(&req.consistency_token);
    v.finish()?;
    tenant_id.ok_or_else(|| Status::internal("validation incomplete"))
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
    }
}

fn mutation(
    tenant_id: TenantId,
    command: RoleCommand,
    request_id: Option<String>,
    expected_version: Option<i64>,
) -> Mutation {
    Mutation {
        tenant_id,
        command: TenantScopeCommand::Role(command),
        request_id,
        expected_version,
    }
}

#[cfg(test)]
mod tests {
    use tonic_types::StatusExt;

    use super::*;

    fn fields(s: &Status) -> Vec<String> {
        s.get_details_bad_request()
            .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
            .unwrap_or_default()
    }

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
