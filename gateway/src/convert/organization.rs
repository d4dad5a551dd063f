//! Organization requests → commands, and `Organization` → its proto message.

use engine::domain::{
    Organization, OrganizationCommand, OrganizationId, OrganizationStatus, TenantId,
    TenantScopeCommand,
};
use entity_proto::v1 as pb;
use tonic::Status;

use super::{Mutation, Violations, timestamp};

/// Paths UpdateOrganization's `update_mask` may name.
pub const UPDATE_PATHS: &[&str] = &["name", "description"];

/// CreateOrganization, with the id the gateway chose for the new organization.
pub fn create(req: pb::CreateOrganizationRequest, id: OrganizationId) -> Result<Mutation, Status> {
    let mut v = Violations::default();
    let (request_id, expected_version) = v.options(req.options);
    let tenant_id = v.id("tenant_id", &req.tenant_id);
    let parent_id = v.optional_id("parent_id", &req.parent_id);
    v.finish()?;
    let (Some(tenant_id), Some(parent_id)) = (tenant_id, parent_id) else {
        return Err(Status::internal("validation incomplete"));
    };
    let command = OrganizationCommand::Create {
        id,
        name: req.name,
        description: req.description,
        parent_id,
    };
    Ok(mutation(tenant_id, command, request_id, expected_version))
}

/// UpdateOrganization: the mask decides which fields change.
pub fn update(req: pb::UpdateOrganizationRequest) -> Result<Mutation, Status> {
    let mut v = Violations::default();
    let (request_id, expected_version) = v.options(req.options);
    let tenant_id = v.id("tenant_id", &req.tenant_id);
    let id = v.id("organization_id", &req.organization_id);
    let paths = v.update_mask(req.update_mask, UPDATE_PATHS);
    v.finish()?;
    let (Some(tenant_id), Some(id)) = (tenant_id, id) else {
        return Err(Status::internal("validation incomplete"));
    };
    let patch = req.organization.unwrap_or_default();
    let name = paths.contains(&"name").then_some(patch.name);
    let description = paths.contains(&"description").then_some(patch.description);
    let command = OrganizationCommand::Update {
        id,
        name,
        description,
    };
    Ok(mutation(tenant_id, command, request_id, expected_version))
}

/// MoveOrganization (an empty `new_parent_id` makes it a root).
pub fn move_to(req: pb::MoveOrganizationRequest) -> Result<Mutation, Status> {
    let mut v = Violations::default();
    let (request_id, expected_version) = v.options(req.options);
    let tenant_id = v.id("tenant_id", &req.tenant_id);
    let id = v.id("organization_id", &req.organization_id);
    let new_parent_id = v.optional_id("new_parent_id", &req.new_parent_id);
    v.finish()?;
    let (Some(tenant_id), Some(id), Some(new_parent_id)) = (tenant_id, id, new_parent_id) else {
        return Err(Status::internal("validation incomplete"));
    };
    let command = OrganizationCommand::Move { id, new_parent_id };
    Ok(mutation(tenant_id, command, request_id, expected_version))
}

/// DeleteOrganization.
pub fn delete(req: pb::DeleteOrganizationRequest) -> Result<Mutation, Status> {
    let mut v = Violations::default();
    let (request_id, expected_version) = v.options(req.options);
    let tenant_id = v.id("tenant_id", &req.tenant_id);
    let id = v.id("organization_id", &req.organization_id);
    v.finish()?;
    let (Some(tenant_id), Some(id)) = (tenant_id, id) else {
        return Err(Status::internal("validation incomplete"));
    };
    let command = OrganizationCommand::Delete {
        id,
        cascade: req.cascade,
    };
    Ok(mutation(tenant_id, command, request_id, expected_version))
}

/// GetOrganization: the tenant and organization to read.
pub fn get(req: &pb::GetOrganizationRequest) -> Result<(TenantId, OrganizationId), Status> {
    let mut v = Violations::default();
    let tenant_id = v.id("tenant_id", &req.tenant_id);
    let id = v.id("organization_id", &req.organization_id);
    v.consistency_token(&req.consistency_token);
    v.finish()?;
    tenant_id
        .zip(id)
        .ok_or_else(|| Status::internal("validation incomplete"))
}

/// The proto message of an organization.
pub fn to_proto(o: &Organization) -> pb::Organization {
    pb::Organization {
        tenant_id: o.tenant_id.to_string(),
        id: o.id.to_string(),
        name: o.name.clone(),
        description: o.description.clone(),
        parent_id: o.parent_id.map(|p| p.to_string()).unwrap_or_default(),
        depth: i32::try_from(o.depth).unwrap_or(i32::MAX),
        status: status_to_proto(o.status) as i32,
        version: o.version,
        create_time: Some(timestamp(o.created_at)),
        update_time: Some(timestamp(o.updated_at)),
    }
}

/// The proto enum value of an organization status.
pub fn status_to_proto(status: OrganizationStatus) -> pb::OrganizationStatus {
    match status {
        OrganizationStatus::Active => pb::OrganizationStatus::Active,
        OrganizationStatus::Deleted => pb::OrganizationStatus::Deleted,
    }
}

fn mutation(
    tenant_id: TenantId,
    command: OrganizationCommand,
    request_id: Option<String>,
    expected_version: Option<i64>,
) -> Mutation {
    Mutation {
        tenant_id,
        command: TenantScopeCommand::Organization(command),
        request_id,
        expected_version,
    }
}

#[cfg(test)]
mod tests {
    use tonic_types::StatusExt;

    use super::*;

    fn violation_fields(s: &Status) -> Vec<String> {
        s.get_details_bad_request()
            .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
            .unwrap_or_default()
    }

    #[test]
    fn malformed_ids_are_named() {
        let s = move_to(pb::MoveOrganizationRequest {
            tenant_id: "x".into(),
            organization_id: "y".into(),
            new_parent_id: "z".into(),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(
            violation_fields(&s),
            ["tenant_id", "organization_id", "new_parent_id"]
        );
        let s = create(
            pb::CreateOrganizationRequest {
                tenant_id: TenantId::new_v7().to_string(),
                parent_id: "nope".into(),
                ..Default::default()
            },
            OrganizationId::new_v7(),
        )
        .unwrap_err();
        assert_eq!(violation_fields(&s), ["parent_id"]);
    }

    #[test]
    fn update_mask_selects_fields() {
        let req = pb::UpdateOrganizationRequest {
            tenant_id: TenantId::new_v7().to_string(),
            organization_id: OrganizationId::new_v7().to_string(),
            organization: Some(pb::OrganizationUpdate {
                name: "N".into(),
                description: "D".into(),
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["description".into()],
            }),
            ..Default::default()
        };
        let m = update(req).unwrap();
        let TenantScopeCommand::Organization(OrganizationCommand::Update {
            name, description, ..
        }) = m.command
        else {
            panic!()
        };
        assert_eq!(name, None);
        assert_eq!(description.as_deref(), Some("D"));
    }
}
