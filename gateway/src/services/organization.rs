//! `entity.v1.OrganizationService`.

use engine::{
    domain::OrganizationId,
    runtime::{CommandOutcome, EntityView},
};
use entity_proto::v1::{self as pb, organization_service_server::OrganizationService};
use tonic::{Request, Response, Status};

use super::{AuthTarget, Shared, strip};
use crate::convert::Mutation;
use crate::{
    auth::Target,
    convert::{self, reads},
    status,
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

    /// Runs the tenant-scoped command `decode` makes of the request (its field errors under
    /// `field_prefix`) and answers with the entity it touched.
    async fn mutate<T>(
        &self,
        request: Request<T>,
        field_prefix: &str,
        decode: impl FnOnce(T) -> Result<Mutation, Status>,
    ) -> OrganizationResult {
        let outcome = self
            .shared
            .execute(request, AuthTarget::Tenant, field_prefix, decode)
            .await?;
        self.respond(&outcome).await
    }

    async fn respond(&self, outcome: &CommandOutcome) -> OrganizationResult {
        let EntityView::Organization(org) = &outcome.view else {
            tracing::error!(view = ?outcome.view, "organization command answered with another entity");
            return Err(Status::internal("internal error"));
        };
        Ok(Response::new(pb::OrganizationResponse {
            organization: Some(convert::organization::to_proto(org)),
            result: Some(convert::write_result(outcome)),
        }))
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
        let outcome = self
            .shared
            .execute(request, AuthTarget::Tenant, "", |r| {
                convert::organization::create(r, id)
            })
            .await?;
        self.respond(&outcome).await
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
        self.shared.authorize(strip(request), target).await?;
        let org = self
            .shared
            .engine
            .get_organization(tenant_id, id)
            .await
            .map_err(|e| status::from_engine_error(e, ""))?;
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
        self.mutate(request, "organization.", convert::organization::update)
            .await
    }

    async fn move_organization(
        &self,
        request: Request<pb::MoveOrganizationRequest>,
    ) -> OrganizationResult {
        self.mutate(request, "", convert::organization::move_to)
            .await
    }

    async fn delete_organization(
        &self,
        request: Request<pb::DeleteOrganizationRequest>,
    ) -> OrganizationResult {
        self.mutate(request, "", convert::organization::delete)
            .await
    }
}
