//! `entity.v1.TeamService`.

use engine::{
    domain::TeamId,
    runtime::{CommandOutcome, EntityView},
};
use entity_proto::v1::{self as pb, team_service_server::TeamService};
use tonic::{Request, Response, Status};

use super::{Answer, Shared};
use crate::{
    auth::Target,
    convert::{self, reads},
};

/// The TeamService implementation.
#[derive(Clone)]
pub struct TeamApi {
    shared: Shared,
}

impl TeamApi {
    pub(super) fn new(shared: Shared) -> Self {
        Self { shared }
    }
}

impl Answer for pb::TeamResponse {
    fn answer(outcome: &CommandOutcome) -> Option<Self> {
        let EntityView::Team(team) = &outcome.view else {
            return None;
        };
        Some(pb::TeamResponse {
            team: Some(convert::team::to_proto(team)),
            result: Some(convert::write_result(outcome)),
        })
    }
}

type TeamResult = Result<Response<pb::TeamResponse>, Status>;

#[tonic::async_trait]
impl TeamService for TeamApi {
    async fn create_team(&self, request: Request<pb::CreateTeamRequest>) -> TeamResult {
        let id = TeamId::new_v7();
        self.shared
            .mutate(request, "", |r| convert::team::create(r, id))
            .await
    }

    async fn get_team(
        &self,
        request: Request<pb::GetTeamRequest>,
    ) -> Result<Response<pb::Team>, Status> {
        let (tenant_id, id) = convert::team::get(request.get_ref())?;
        let target = Target {
            team: Some(id),
            ..Target::tenant(tenant_id)
        };
        let team = self
            .shared
            .read_engine(request, target, |e| e.get_team(tenant_id, id))
            .await?;
        Ok(Response::new(convert::team::to_proto(&team)))
    }

    /// Pages through the live teams by id inside the tenant's actor; only the page is copied.
    async fn list_teams(
        &self,
        request: Request<pb::ListTeamsRequest>,
    ) -> Result<Response<pb::ListTeamsResponse>, Status> {
        let (tenant_id, query) = reads::list_teams(request.get_ref())?;
        let target = Target {
            organization: query.filter.organization_id,
            ..Target::tenant(tenant_id)
        };
        let page = self
            .shared
            .read_model(request, target, |r| async move {
                r.list_teams(tenant_id, &query.filter, &query.page, query.consistency)
                    .await
            })
            .await?;
        Ok(Response::new(pb::ListTeamsResponse {
            teams: page.items.iter().map(reads::team_to_proto).collect(),
            next_page_token: page.next_page_token.unwrap_or_default(),
        }))
    }

    async fn list_team_members(
        &self,
        request: Request<pb::ListTeamMembersRequest>,
    ) -> Result<Response<pb::ListTeamMembersResponse>, Status> {
        let (tenant_id, query) = reads::list_team_members(request.get_ref())?;
        let target = Target {
            team: query.filter.team_id,
            user: query.filter.user_id,
            ..Target::tenant(tenant_id)
        };
        let page = self
            .shared
            .read_model(request, target, |r| async move {
                r.list_team_members(tenant_id, &query.filter, &query.page, query.consistency)
                    .await
            })
            .await?;
        Ok(Response::new(pb::ListTeamMembersResponse {
            memberships: page.items.iter().map(reads::membership_to_proto).collect(),
            next_page_token: page.next_page_token.unwrap_or_default(),
        }))
    }

    async fn update_team(&self, request: Request<pb::UpdateTeamRequest>) -> TeamResult {
        self.shared
            .mutate(request, "team.", convert::team::update)
            .await
    }

    async fn delete_team(&self, request: Request<pb::DeleteTeamRequest>) -> TeamResult {
        self.shared.mutate(request, "", convert::team::delete).await
    }

    async fn add_team_member(&self, request: Request<pb::AddTeamMemberRequest>) -> TeamResult {
        self.shared
            .mutate(request, "", convert::team::add_member)
            .await
    }

    async fn remove_team_member(
        &self,
        request: Request<pb::RemoveTeamMemberRequest>,
    ) -> TeamResult {
        self.shared
            .mutate(request, "", convert::team::remove_member)
            .await
    }
}
