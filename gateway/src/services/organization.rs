//! `entity.v1.OrganizationService`.

use engine::{
    domain::OrganizationId,
    runtime::{CommandOutcome, EntityView},
};
use entity_proto::v1::{self as pb, organization_service_server::OrganizationService};
use tonic::{Request, Response, Status};

use super::{Answer, Shared};
use crate::{
    auth::Target,
    convert::{self, reads},
};

/// The OrganizationService implementation.
#[derive(Clone)]
pub struct OrganizationApi {
    shared: Shared,
}

impl OrganizationApi {
    pub(super) fn new(shared: Shared) -> Self {
        Self { shared }
    }
}

impl Answer for pb::OrganizationResponse {
    fn answer(outcome: &CommandOutcome) -> Option<Self> {
        let EntityView::Organization(org) = &outcome.view else {
            return None;
        };
        Some(pb::OrganizationResponse {
            organization: Some(convert::organization::to_proto(org)),
            result: Some(convert::write_result(outcome)),
        })
    }
}

type OrganizationResult = Result<Response<pb::OrganizationResponse>, Status>;

#[tonic::async_trait]
impl OrganizationService for OrganizationApi {
    async fn create_organization(
        &self,
        request: Request<pb::CreateOrganizationRequest>,
    ) -> OrganizationResult {
        let id = OrganizationId::new_v7();
        self.shared
            .mutate(request, "", |r| convert::organization::create(r, id))
            .await
    }

    async fn get_organization(
        &self,
        request: Request<pb::GetOrganizationRequest>,
    ) -> Result<Response<pb::Organization>, Status> {
        let (tenant_id, id) = convert::organization::get(request.get_ref())?;
        let target = Target {
            organization: Some(id),
            ..Target::tenant(tenant_id)
        };
        let org = self
            .shared
            .read_engine(request, target, |e| e.get_organization(tenant_id, id))
            .await?;
        Ok(Response::new(convert::organization::to_proto(&org)))
    }

    async fn list_organizations(
        &self,
        request: Request<pb::ListOrganizationsRequest>,
    ) -> Result<Response<pb::ListOrganizationsResponse>, Status> {
        let ((tenant_id, query), anchor) = reads::list_organizations(request.get_ref())?;
        let target = Target {
            organization: anchor,
            ..Target::tenant(tenant_id)
        };
        let page = self
            .shared
            .read_model(request, target, |r| async move {
                r.list_organizations(tenant_id, &query.filter, &query.page, query.consistency)
                    .await
            })
            .await?;
        Ok(Response::new(pb::ListOrganizationsResponse {
            organizations: page
                .items
                .iter()
                .map(reads::organization_to_proto)
                .collect(),
            next_page_token: page.next_page_token.unwrap_or_default(),
        }))
    }

    async fn get_organization_path(
        &self,
        request: Request<pb::GetOrganizationPathRequest>,
    ) -> Result<Response<pb::GetOrganizationPathResponse>, Status> {
        let (tenant_id, id, consistency) = reads::organization_path(request.get_ref())?;
        let target = Target {
            organization: Some(id),
            ..Target::tenant(tenant_id)
        };
        let path = self
            .shared
            .read_model(request, target, |r| async move {
                r.organization_path(tenant_id, id, consistency).await
            })
            .await?;
        Ok(Response::new(pb::GetOrganizationPathResponse {
            organizations: path.iter().map(reads::organization_to_proto).collect(),
        }))
    }

    async fn update_organization(
        &self,
        request: Request<pb::UpdateOrganizationRequest>,
    ) -> OrganizationResult {
        self.shared
            .mutate(request, "organization.", convert::organization::update)
            .await
    }

    async fn move_organization(
        &self,
        request: Request<pb::MoveOrganizationRequest>,
    ) -> OrganizationResult {
        self.shared
            .mutate(request, "", convert::organization::move_to)
            .await
    }

    async fn delete_organization(
        &self,
        request: Request<pb::DeleteOrganizationRequest>,
    ) -> OrganizationResult {
        self.shared
            .mutate(request, "", convert::organization::delete)
            .await
    }
}
