//! `entity.v1.RoleService`.

use engine::{
    domain::{BuiltinRole, RoleId, RoleStatus},
    runtime::{CommandOutcome, EntityView},
};
use entity_proto::v1::{self as pb, role_service_server::RoleService};
use tonic::{Request, Response, Status};

use super::{AuthTarget, Shared, existing_tenant, strip};
use crate::convert::Mutation;
use crate::{auth::Target, convert, status};

/// The RoleService implementation.
#[derive(Clone)]
pub struct RoleApi {
    shared: Shared,
}

impl RoleApi {
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
    ) -> RoleResult {
        let outcome = self
            .shared
            .execute(request, AuthTarget::Tenant, field_prefix, decode)
            .await?;
        respond(&outcome)
    }
}

type RoleResult = Result<Response<pb::RoleResponse>, Status>;

#[tonic::async_trait]
impl RoleService for RoleApi {
    async fn define_role(&self, request: Request<pb::DefineRoleRequest>) -> RoleResult {
        let id = RoleId::new_v7();
        let outcome = self
            .shared
            .execute(request, AuthTarget::Tenant, "", |r| {
                convert::role::define(r, id)
            })
            .await?;
        respond(&outcome)
    }

    async fn get_role(
        &self,
        request: Request<pb::GetRoleRequest>,
    ) -> Result<Response<pb::Role>, Status> {
        let (tenant_id, id) = convert::role::get(request.get_ref())?;
        self.shared
            .authorize(strip(request), Target::tenant(tenant_id))
            .await?;
        let role = self
            .shared
            .engine
            .get_role(tenant_id, id)
            .await
            .map_err(|e| status::from_engine_error(e, ""))?;
        Ok(Response::new(convert::role::to_proto(&role)))
    }

    /// The built-in roles (in [`BuiltinRole::ALL`] order), then the live custom roles by id.
    async fn list_roles(
        &self,
        request: Request<pb::ListRolesRequest>,
    ) -> Result<Response<pb::ListRolesResponse>, Status> {
        let tenant_id = convert::role::list(request.get_ref())?;
        self.shared
            .authorize(strip(request), Target::tenant(tenant_id))
            .await?;
        let custom: Vec<pb::Role> = self
            .shared
            .engine
            .read(tenant_id, |scope| {
                existing_tenant(scope)?;
                Ok(scope
                    .roles()
                    .filter(|r| r.status == RoleStatus::Active)
                    .map(convert::role::to_proto)
                    .collect())
            })
            .await
            .map_err(|e| status::from_engine_error(e, ""))?;
        let roles = BuiltinRole::ALL
            .into_iter()
            .map(|r| convert::role::builtin_to_proto(tenant_id, r))
            .chain(custom)
            .collect();
        Ok(Response::new(pb::ListRolesResponse { roles }))
    }

    async fn update_role(&self, request: Request<pb::UpdateRoleRequest>) -> RoleResult {
        self.mutate(request, "role.", convert::role::update).await
    }

    async fn delete_role(&self, request: Request<pb::DeleteRoleRequest>) -> RoleResult {
        self.mutate(request, "", convert::role::delete).await
    }
}

fn respond(outcome: &CommandOutcome) -> RoleResult {
    let EntityView::Role(role) = &outcome.view else {
        tracing::error!(view = ?outcome.view, "role command answered with another entity");
        return Err(Status::internal("internal error"));
    };
    Ok(Response::new(pb::RoleResponse {
        role: Some(convert::role::to_proto(role)),
        result: Some(convert::write_result(outcome)),
    }))
}
