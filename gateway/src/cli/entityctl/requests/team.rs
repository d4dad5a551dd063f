//! `entityctl team …` requests.

use entity_proto::v1 as pb;

use super::{mask, options, written};
use crate::cli::entityctl::{
    Clients, Failure,
    args::{TeamCommand, TeamRoleArg},
    render::{Listed, One, Rendered},
};

/// Runs a team command.
pub(super) async fn run(clients: &mut Clients, command: TeamCommand) -> Result<Rendered, Failure> {
    let c = &mut clients.teams;
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
        TeamCommand::Get {
            tenant,
            team,
            consistency_token,
        } => {
            let request = pb::GetTeamRequest {
                tenant_id: tenant,
                team_id: team,
                consistency_token: consistency_token.unwrap_or_default(),
            };
            Rendered::new(One(c.get_team(request).await?.into_inner()))
        }
        TeamCommand::List {
            tenant,
            org,
            page_size,
            page_token,
        } => {
            let request = pb::ListTeamsRequest {
                tenant_id: tenant,
                organization_id: org.unwrap_or_default(),
                page_size: page_size.unwrap_or_default(),
                page_token: page_token.unwrap_or_default(),
                consistency_token: String::new(),
            };
            let page = c.list_teams(request).await?.into_inner();
            Rendered::new(Listed::new(page.teams, page.next_page_token))
        }
        TeamCommand::Update {
            tenant,
            team,
            name,
            description,
            write,
        } => {
            let update_mask = mask(&[
                ("name", name.is_some()),
                ("description", description.is_some()),
            ]);
            let request = pb::UpdateTeamRequest {
                options: options(write),
                tenant_id: tenant,
                team_id: team,
                team: Some(pb::TeamUpdate {
                    name: name.unwrap_or_default(),
                    description: description.unwrap_or_default(),
                }),
                update_mask,
            };
            written("updated", c.update_team(request).await?)
        }
        TeamCommand::Delete {
            tenant,
            team,
            write,
        } => {
            let request = pb::DeleteTeamRequest {
                options: options(write),
                tenant_id: tenant,
                team_id: team,
            };
            written("deleted", c.delete_team(request).await?)
        }
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
        TeamCommand::RemoveMember {
            tenant,
            team,
            user,
            write,
        } => {
            let request = pb::RemoveTeamMemberRequest {
                options: options(write),
                tenant_id: tenant,
                team_id: team,
                user_id: user,
            };
            written(
                "removed a member from",
                c.remove_team_member(request).await?,
            )
        }
    };
    Ok(rendered)
}
