//! `entity.v1.RoleService`.

use engine::{
    domain::{BuiltinRole, RoleId},
    runtime::{CommandOutcome, EntityView},
};
use entity_proto::v1::{self as pb, role_service_server::RoleService};
use tonic::{Request, Response, Status};

use super::{Answer, Shared};
use crate::{auth::Target, convert};

/// The RoleService implementation.
#[derive(Clone)]
pub struct RoleApi {
    shared: Shared,
}

impl RoleApi {
    pub(super) fn new(shared: Shared) -> Self {
        Self { shared }
    }
}

impl Answer for pb::RoleResponse {
    fn answer(outcome: &CommandOutcome) -> Option<Self> {
        let EntityView::Role(role) = &outcome.view else {
            return None;
        };
        Some(pb::RoleResponse {
            role: Some(convert::role::to_proto(role)),
            result: Some(convert::write_result(outcome)),
        })
    }
}

type RoleResult = Result<Response<pb::RoleResponse>, Status>;

#[tonic::async_trait]
impl RoleService for RoleApi {
    async fn define_role(&self, request: Request<pb::DefineRoleRequest>) -> RoleResult {
        let id = RoleId::new_v7();
        self.shared
            .mutate(request, "", |r| convert::role::define(r, id))
            .await
    }

    async fn get_role(
        &self,
        request: Request<pb::GetRoleRequest>,
    ) -> Result<Response<pb::Role>, Status> {
        let (tenant_id, id) = convert::role::get(request.get_ref())?;
        let role = self
            .shared
            .read_engine(request, Target::tenant(tenant_id), |e| {
                e.get_role(tenant_id, id)
            })
            .await?;
        Ok(Response::new(convert::role::to_proto(&role)))
    }

    /// The built-in roles (in [`BuiltinRole::ALL`] order), then the live custom roles by id.
    async fn list_roles(
        &self,
        request: Request<pb::ListRolesRequest>,
    ) -> Result<Response<pb::ListRolesResponse>, Status> {
        let tenant_id = convert::role::list(request.get_ref())?;
        let custom = self
            .shared
            .read_engine(request, Target::tenant(tenant_id), |e| {
                e.list_roles(tenant_id)
            })
            .await?;
        let roles = BuiltinRole::ALL
            .into_iter()
            .map(|r| convert::role::builtin_to_proto(tenant_id, r))
            .chain(custom.iter().map(convert::role::to_proto))
            .collect();
        Ok(Response::new(pb::ListRolesResponse { roles }))
    }

    async fn update_role(&self, request: Request<pb::UpdateRoleRequest>) -> RoleResult {
        self.shared
            .mutate(request, "role.", convert::role::update)
            .await
    }

    async fn delete_role(&self, request: Request<pb::DeleteRoleRequest>) -> RoleResult {
        self.shared.mutate(request, "", convert::role::delete).await
    }
}
