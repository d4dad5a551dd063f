//! `entity.v1.AccessService`: permission checks answered from the tenant's in-memory state.

use entity_proto::v1::{self as pb, access_service_server::AccessService};
use tonic::{Request, Response, Status};

use super::Shared;
use crate::{auth::Target, convert};

/// The AccessService implementation.
#[derive(Clone)]
pub struct AccessApi {
    shared: Shared,
}

impl AccessApi {
    pub(super) fn new(shared: Shared) -> Self {
        Self { shared }
    }
}

#[tonic::async_trait]
impl AccessService for AccessApi {
    async fn check_permission(
        &self,
        request: Request<pb::CheckPermissionRequest>,
    ) -> Result<Response<pb::CheckPermissionResponse>, Status> {
        let query = convert::access::check(request.get_ref())?;
        let target = Target {
            user: Some(query.user_id),
            ..Target::tenant(query.tenant_id)
        };
        let decision = self
            .shared
            .read_engine(request, target, |e| {
                e.check_permission(
                    query.tenant_id,
                    query.user_id,
                    query.permission,
                    query.scope,
                )
            })
            .await?;
        Ok(Response::new(convert::access::decision_to_proto(&decision)))
    }

    async fn list_effective_permissions(
        &self,
        request: Request<pb::ListEffectivePermissionsRequest>,
    ) -> Result<Response<pb::ListEffectivePermissionsResponse>, Status> {
        let query = convert::access::effective(request.get_ref())?;
        let target = Target {
            user: Some(query.user_id),
            ..Target::tenant(query.tenant_id)
        };
        let permissions = self
            .shared
            .read_engine(request, target, |e| {
                e.effective_permissions(query.tenant_id, query.user_id, query.scope)
            })
            .await?;
        Ok(Response::new(pb::ListEffectivePermissionsResponse {
            permissions: permissions
                .iter()
                .map(convert::access::effective_to_proto)
                .collect(),
        }))
    }
}
