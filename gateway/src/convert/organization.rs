//! Organization requests → commands, and `Organization` → its proto message.

use engine::domain::{
    Organization, OrganizationCommand, OrganizationId, OrganizationStatus, TenantId,
};
use entity_proto::v1 as pb;
use tonic::Status;

use super::{Mutation, addressed, by_id, complete, point_read, scoped, timestamp};

/// Paths UpdateOrganization's `update_mask` may name.
pub const UPDATE_PATHS: &[&str] = &["name", "description"];

/// The request field naming the organization.
const ORGANIZATION_ID: &str = "organization_id";

/// CreateOrganization, with the id the gateway chose for the new organization.
pub fn create(req: pb::CreateOrganizationRequest, id: OrganizationId) -> Result<Mutation, Status> {
    let (tenant_id, options, parent_id) = scoped(req.options, &req.tenant_id, |v| {
        v.optional_id("parent_id", &req.parent_id)
    })?;
    let command = OrganizationCommand::Create {
        id,
        name: req.name,
        description: req.description,
        parent_id: complete(parent_id)?,
    };
    Ok(Mutation::new(tenant_id, command, options))
}

/// UpdateOrganization: the mask decides which fields change.
pub fn update(req: pb::UpdateOrganizationRequest) -> Result<Mutation, Status> {
    let (target, options, paths) = addressed(
        req.options,
        &req.tenant_id,
        (ORGANIZATION_ID, &req.organization_id),
        |v| v.update_mask(req.update_mask, UPDATE_PATHS),
    )?;
    let patch = req.organization.unwrap_or_default();
    let command = OrganizationCommand::Update {
        id: target.id,
        name: paths.contains(&"name").then_some(patch.name),
        description: paths.contains(&"description").then_some(patch.description),
    };
    Ok(Mutation::new(target.tenant_id, command, options))
}

/// MoveOrganization (an empty `new_parent_id` makes it a root).
pub fn move_to(req: pb::MoveOrganizationRequest) -> Result<Mutation, Status> {
    let (target, options, new_parent_id) = addressed(
        req.options,
        &req.tenant_id,
        (ORGANIZATION_ID, &req.organization_id),
        |v| v.optional_id("new_parent_id", &req.new_parent_id),
    )?;
    let command = OrganizationCommand::Move {
        id: target.id,
        new_parent_id: complete(new_parent_id)?,
    };
    Ok(Mutation::new(target.tenant_id, command, options))
}

/// DeleteOrganization.
pub fn delete(req: pb::DeleteOrganizationRequest) -> Result<Mutation, Status> {
    let cascade = req.cascade;
    by_id(
        req.options,
        &req.tenant_id,
        (ORGANIZATION_ID, &req.organization_id),
        |id| OrganizationCommand::Delete { id, cascade },
    )
}

/// GetOrganization: the tenant and organization to read.
pub fn get(req: &pb::GetOrganizationRequest) -> Result<(TenantId, OrganizationId), Status> {
    point_read(
        &req.tenant_id,
        (ORGANIZATION_ID, &req.organization_id),
        &req.consistency_token,
    )
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

#[cfg(test)]
mod tests {
    use engine::domain::TenantScopeCommand;

    use super::*;
    use crate::convert::violation_fields;

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
