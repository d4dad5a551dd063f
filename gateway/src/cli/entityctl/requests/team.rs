//! `entityctl team …` requests.

use entity_proto::v1::{self as pb, team_service_client::TeamServiceClient};

use super::{list, listed, one, options, token, written};
use crate::cli::entityctl::{
    Failure, Services,
    args::{ListOpts, TeamCommand, TeamId, TeamRoleArg, UserId},
    render::{Memberships, Rendered},
};

list_rpcs! {
    pb::ListTeamsRequest: TeamServiceClient.list_teams -> teams: pb::Team,
    pb::ListTeamMembersRequest: TeamServiceClient.list_team_members -> memberships: pb::TeamMembership,
}
reads! { TeamId => pb::GetTeamRequest { team_id } }
writes! { TeamId => pb::DeleteTeamRequest { team_id } }
describes! { TeamId => pb::UpdateTeamRequest { team_id, team: pb::TeamUpdate } }
links! { (TeamId, UserId) => pb::RemoveTeamMemberRequest { team_id, user_id } }

/// Runs a team command.
pub(super) async fn run(
    services: &mut Services,
    command: TeamCommand,
) -> Result<Rendered, Failure> {
    let c = &mut services.teams;
    let rendered = match command {
        TeamCommand::Create {
            tenant,
            org,
            name,
            description,
            write,
        } => {
            let request = pb::CreateTeamRequest {
                options: options(write),
                tenant_id: tenant,
                organization_id: org,
                name,
                description: description.unwrap_or_default(),
            };
            written("created", c.create_team(request).await?)
        }
        TeamCommand::Get(read) => one(c.get_team(pb::GetTeamRequest::from(read)).await?),
        TeamCommand::List {
            tenant,
            org,
            include_deleted,
            listing: ListOpts { page, read },
        } => {
            let request = pb::ListTeamsRequest {
                tenant_id: tenant,
                organization_id: org.unwrap_or_default(),
                include_deleted,
                consistency_token: token(read),
                ..Default::default()
            };
            listed(c, request, page).await?
        }
        TeamCommand::Members {
            tenant,
            team,
            user,
            listing: ListOpts { page, read },
        } => {
            // clap guarantees exactly one of --team and --user.
            let of_user = user.is_some();
            let request = pb::ListTeamMembersRequest {
                tenant_id: tenant,
                team_id: team.unwrap_or_default(),
                user_id: user.unwrap_or_default(),
                consistency_token: token(read),
                ..Default::default()
            };
            let (memberships, next) = list(c, request, page).await?;
            Rendered::new(Memberships {
                memberships,
                next_page_token: next,
                of_user,
            })
        }
        TeamCommand::Update(d) => written(
            "updated",
            c.update_team(pb::UpdateTeamRequest::from(d)).await?,
        ),
        TeamCommand::Delete(w) => written(
            "deleted",
            c.delete_team(pb::DeleteTeamRequest::from(w)).await?,
        ),
        TeamCommand::AddMember {
            tenant,
            team,
            user,
            role,
            write,
        } => {
            let role = match role {
                None => pb::TeamRole::Unspecified,
                Some(TeamRoleArg::Member) => pb::TeamRole::Member,
                Some(TeamRoleArg::Lead) => pb::TeamRole::Lead,
            };
            let request = pb::AddTeamMemberRequest {
                options: options(write),
                tenant_id: tenant,
                team_id: team,
                user_id: user,
                role: role as i32,
            };
            written("added a member to", c.add_team_member(request).await?)
        }
        TeamCommand::RemoveMember(l) => {
            let request = pb::RemoveTeamMemberRequest::from(l);
            written(
                "removed a member from",
                c.remove_team_member(request).await?,
            )
        }
    };
    Ok(rendered)
}
