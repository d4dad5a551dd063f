//! `entityctl team …` requests.

use entity_proto::v1 as pb;

use super::{mask, options, pages, written};
use crate::cli::entityctl::{
    Clients, Failure,
    args::{TeamCommand, TeamRoleArg},
    render::{Listed, Memberships, One, Rendered},
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
            include_deleted,
            page,
            consistency_token,
        } => {
            let base = pb::ListTeamsRequest {
                tenant_id: tenant,
                organization_id: org.unwrap_or_default(),
                include_deleted,
                consistency_token: consistency_token.unwrap_or_default(),
                ..Default::default()
            };
            let (teams, next) = pages(page, |page_size, page_token| {
                let mut c = c.clone();
                let request = pb::ListTeamsRequest {
                    page_size,
                    page_token,
                    ..base.clone()
                };
                async move {
                    let page = c.list_teams(request).await?.into_inner();
                    Ok((page.teams, page.next_page_token))
                }
            })
            .await?;
            Rendered::new(Listed::new(teams, next))
        }
        TeamCommand::Members {
            tenant,
            team,
            user,
            page,
            consistency_token,
        } => {
            // clap guarantees exactly one of --team and --user.
            let of_user = user.is_some();
            let base = pb::ListTeamMembersRequest {
                tenant_id: tenant,
                team_id: team.unwrap_or_default(),
                user_id: user.unwrap_or_default(),
                consistency_token: consistency_token.unwrap_or_default(),
                ..Default::default()
            };
            let (memberships, next) = pages(page, |page_size, page_token| {
                let mut c = c.clone();
                let request = pb::ListTeamMembersRequest {
                    page_size,
                    page_token,
                    ..base.clone()
                };
                async move {
                    let page = c.list_team_members(request).await?.into_inner();
                    Ok((page.memberships, page.next_page_token))
                }
            })
            .await?;
            Rendered::new(Memberships {
                memberships,
                next_page_token: next,
                of_user,
            })
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
