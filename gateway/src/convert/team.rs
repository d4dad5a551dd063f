//! Team requests → commands, and `Team` → its proto message.

use engine::domain::{Team, TeamCommand, TeamId, TeamRole, TeamStatus, TenantId};
use entity_proto::v1 as pb;
use tonic::Status;

use super::{Mutation, addressed, by_id, complete, point_read, scoped, timestamp};

/// Paths UpdateTeam's `update_mask` may name.
pub const UPDATE_PATHS: &[&str] = &["name", "description"];

/// The request field naming the team.
const TEAM_ID: &str = "team_id";

/// CreateTeam, with the id the gateway chose for the new team.
pub fn create(req: pb::CreateTeamRequest, id: TeamId) -> Result<Mutation, Status> {
    let (tenant_id, options, organization_id) = scoped(req.options, &req.tenant_id, |v| {
        v.id("organization_id", &req.organization_id)
    })?;
    let command = TeamCommand::Create {
        id,
        organization_id: complete(organization_id)?,
        name: req.name,
        description: req.description,
    };
    Ok(Mutation::new(tenant_id, command, options))
}

/// UpdateTeam: the mask decides which fields change.
pub fn update(req: pb::UpdateTeamRequest) -> Result<Mutation, Status> {
    let (target, options, paths) =
        addressed(req.options, &req.tenant_id, (TEAM_ID, &req.team_id), |v| {
            v.update_mask(req.update_mask, UPDATE_PATHS)
        })?;
    let patch = req.team.unwrap_or_default();
    let command = TeamCommand::Update {
        id: target.id,
        name: paths.contains(&"name").then_some(patch.name),
        description: paths.contains(&"description").then_some(patch.description),
    };
    Ok(Mutation::new(target.tenant_id, command, options))
}

/// DeleteTeam.
pub fn delete(req: pb::DeleteTeamRequest) -> Result<Mutation, Status> {
    by_id(req.options, &req.tenant_id, (TEAM_ID, &req.team_id), |id| {
        TeamCommand::Delete { id }
    })
}

/// AddTeamMember (an unspecified role is a regular member).
pub fn add_member(req: pb::AddTeamMemberRequest) -> Result<Mutation, Status> {
    let (target, options, member) =
        addressed(req.options, &req.tenant_id, (TEAM_ID, &req.team_id), |v| {
            let user_id = v.id("user_id", &req.user_id);
            let role = match pb::TeamRole::try_from(req.role) {
                Ok(pb::TeamRole::Unspecified | pb::TeamRole::Member) => Some(TeamRole::Member),
                Ok(pb::TeamRole::Lead) => Some(TeamRole::Lead),
                Err(_) => {
                    v.add("role", "unknown team role");
                    None
                }
            };
            user_id.zip(role)
        })?;
    let (user_id, role) = complete(member)?;
    let command = TeamCommand::AddMember {
        id: target.id,
        user_id,
        role,
    };
    Ok(Mutation::new(target.tenant_id, command, options))
}

/// RemoveTeamMember.
pub fn remove_member(req: pb::RemoveTeamMemberRequest) -> Result<Mutation, Status> {
    let (target, options, user_id) =
        addressed(req.options, &req.tenant_id, (TEAM_ID, &req.team_id), |v| {
            v.id("user_id", &req.user_id)
        })?;
    let command = TeamCommand::RemoveMember {
        id: target.id,
        user_id: complete(user_id)?,
    };
    Ok(Mutation::new(target.tenant_id, command, options))
}

/// GetTeam: the tenant and team to read.
pub fn get(req: &pb::GetTeamRequest) -> Result<(TenantId, TeamId), Status> {
    point_read(
        &req.tenant_id,
        (TEAM_ID, &req.team_id),
        &req.consistency_token,
    )
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

#[cfg(test)]
mod tests {
    use engine::domain::{TenantScopeCommand, UserId};

    use super::*;
    use crate::convert::violation_fields as fields;

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
