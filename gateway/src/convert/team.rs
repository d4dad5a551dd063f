//! Team requests → commands, and `Team` → its proto message.

use engine::domain::{
    Team, TeamCommand, TeamId, TeamRole, TeamStatus, TenantId, TenantScopeCommand,
};
use entity_proto::v1 as pb;
use tonic::Status;

use super::{Mutation, Violations, timestamp};

/// Paths UpdateTeam's `update_mask` may name.
pub const UPDATE_PATHS: &[&str] = &["name", "description"];

/// CreateTeam, with the id the gateway chose for the new team.
pub fn create(req: pb::CreateTeamRequest, id: TeamId) -> Result<Mutation, Status> {
    let mut v = Violations::default();
    let (request_id, expected_version) = v.options(req.options);
    let tenant_id = v.id("tenant_id", &req.tenant_id);
    let organization_id = v.id("organization_id", &req.organization_id);
    v.finish()?;
    let (Some(tenant_id), Some(organization_id)) = (tenant_id, organization_id) else {
        return Err(Status::internal("validation incomplete"));
    };
    let command = TeamCommand::Create {
        id,
        organization_id,
        name: req.name,
        description: req.description,
    };
    Ok(mutation(tenant_id, command, request_id, expected_version))
}

/// UpdateTeam: the mask decides which fields change.
pub fn update(req: pb::UpdateTeamRequest) -> Result<Mutation, Status> {
    let mut v = Violations::default();
    let (request_id, expected_version) = v.options(req.options);
    let tenant_id = v.id("tenant_id", &req.tenant_id);
    let id = v.id("team_id", &req.team_id);
    let paths = v.update_mask(req.update_mask, UPDATE_PATHS);
    v.finish()?;
    let (Some(tenant_id), Some(id)) = (tenant_id, id) else {
        return Err(Status::internal("validation incomplete"));
    };
    let patch = req.team.unwrap_or_default();
    let command = TeamCommand::Update {
        id,
        name: paths.contains(&"name").then_some(patch.name),
        description: paths.contains(&"description").then_some(patch.description),
    };
    Ok(mutation(tenant_id, command, request_id, expected_version))
}

/// DeleteTeam.
pub fn delete(req: pb::DeleteTeamRequest) -> Result<Mutation, Status> {
    let mut v = Violations::default();
    let (request_id, expected_version) = v.options(req.options);
    let tenant_id = v.id("tenant_id", &req.tenant_id);
    let id = v.id("team_id", &req.team_id);
    v.finish()?;
    let (Some(tenant_id), Some(id)) = (tenant_id, id) else {
        return Err(Status::internal("validation incomplete"));
    };
    Ok(mutation(
        tenant_id,
        TeamCommand::Delete { id },
        request_id,
        expected_version,
    ))
}

/// AddTeamMember (an unspecified role is a regular member).
pub fn add_member(req: pb::AddTeamMemberRequest) -> Result<Mutation, Status> {
    let mut v = Violations::default();
    let (request_id, expected_version) = v.options(req.options);
    let tenant_id = v.id("tenant_id", &req.tenant_id);
    let id = v.id("team_id", &req.team_id);
    let user_id = v.id("user_id", &req.user_id);
    let role = match pb::TeamRole::try_from(req.role) {
        Ok(pb::TeamRole::Unspecified | pb::TeamRole::Member) => Some(TeamRole::Member),
        Ok(pb::TeamRole::Lead) => Some(TeamRole::Lead),
        Err(_) => {
            v.add("role", "unknown team role");
            None
        }
    };
    v.finish()?;
    let (Some(tenant_id), Some(id), Some(user_id), Some(role)) = (tenant_id, id, user_id, role)
    else {
        return Err(Status::internal("validation incomplete"));
    };
    let command = TeamCommand::AddMember { id, user_id, role };
    Ok(mutation(tenant_id, command, request_id, expected_version))
}

/// RemoveTeamMember.
pub fn remove_member(req: pb::RemoveTeamMemberRequest) -> Result<Mutation, Status> {
    let mut v = Violations::default();
    let (request_id, expected_version) = v.options(req.options);
    let tenant_id = v.id("tenant_id", &req.tenant_id);
    let id = v.id("team_id", &req.team_id);
    let user_id = v.id("user_id", &req.user_id);
    v.finish()?;
    let (Some(tenant_id), Some(id), Some(user_id)) = (tenant_id, id, user_id) else {
        return Err(Status::internal("validation incomplete"));
    };
    let command = TeamCommand::RemoveMember { id, user_id };
    Ok(mutation(tenant_id, command, request_id, expected_version))
}

/// GetTeam: the tenant and team to read.
pub fn get(req: &pb::GetTeamRequest) -> Result<(TenantId, TeamId), Status> {
    let mut v = Violations::default();
    let tenant_id = v.id("tenant_id", &req.tenant_id);
    let id = v.id("team_id", &req.team_id);
    v.consistency_token(&req.consistency_token);
    v.finish()?;
    tenant_id
        .zip(id)
        .ok_or_else(|| Status::internal("validation incomplete"))
}

/// The proto message of a team (members by user id).
pub fn to_proto(t: &Team) -> pb::Team {
    pb::Team {
        tenant_id: t.tenant_id.to_string(),
        id: t.id.to_string(),
        organization_id: t.organization_id.to_string(),
        name: t.name.clone(),
        description: t.description.clone(),
        members: t
            .members
            .iter()
            .map(|(user, role)| pb::TeamMember {
                user_id: user.to_string(),
                role: role_to_proto(*role) as i32,
            })
            .collect(),
        status: status_to_proto(t.status) as i32,
        version: t.version,
        create_time: Some(timestamp(t.created_at)),
        update_time: Some(timestamp(t.updated_at)),
    }
}

/// The proto enum value of a team role.
pub fn role_to_proto(role: TeamRole) -> pb::TeamRole {
    match role {
        TeamRole::Member => pb::TeamRole::Member,
        TeamRole::Lead => pb::TeamRole::Lead,
    }
}

/// The proto enum value of a team status.
pub fn status_to_proto(status: TeamStatus) -> pb::TeamStatus {
    match status {
        TeamStatus::Active => pb::TeamStatus::Active,
        TeamStatus::Deleted => pb::TeamStatus::Deleted,
    }
}

fn mutation(
    tenant_id: TenantId,
    command: TeamCommand,
    request_id: Option<String>,
    expected_version: Option<i64>,
) -> Mutation {
    Mutation {
        tenant_id,
        command: TenantScopeCommand::Team(command),
        request_id,
        expected_version,
    }
}

#[cfg(test)]
mod tests {
    use engine::domain::UserId;
    use tonic_types::StatusExt;

    use super::*;

    fn fields(s: &Status) -> Vec<String> {
        s.get_details_bad_request()
            .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
            .unwrap_or_default()
    }

    #[test]
    fn add_member_defaults_to_member_and_checks_ids() {
        let req = pb::AddTeamMemberRequest {
            tenant_id: TenantId::new_v7().to_string(),
            team_id: TeamId::new_v7().to_string(),
            user_id: UserId::new_v7().to_string(),
            ..Default::default()
        };
        let m = add_member(req.clone()).unwrap();
        let TenantScopeCommand::Team(TeamCommand::AddMember { role, .. }) = m.command else {
            panic!()
        };
        assert_eq!(role, TeamRole::Member);
        let bad = pb::AddTeamMemberRequest {
            team_id: "t".into(),
            user_id: String::new(),
            role: 7,
            ..req
        };
        assert_eq!(
            fields(&add_member(bad).unwrap_err()),
            ["team_id", "user_id", "role"]
        );
    }

    #[test]
    fn update_follows_the_mask() {
        let req = pb::UpdateTeamRequest {
            tenant_id: TenantId::new_v7().to_string(),
            team_id: TeamId::new_v7().to_string(),
            team: Some(pb::TeamUpdate {
                name: "N".into(),
                description: "D".into(),
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["name".into()],
            }),
            ..Default::default()
        };
        let TenantScopeCommand::Team(TeamCommand::Update {
            name, description, ..
        }) = update(req.clone()).unwrap().command
        else {
            panic!()
        };
        assert_eq!((name.as_deref(), description), (Some("N"), None));
        let bad = pb::UpdateTeamRequest {
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["members".into()],
            }),
            ..req
        };
        assert_eq!(fields(&update(bad).unwrap_err()), ["update_mask"]);
    }
}
