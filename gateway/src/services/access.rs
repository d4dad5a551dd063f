//! `entity.v1.AccessService`: permission checks answered from the tenant's in-memory state.

use entity_proto::v1::{self as pb, access_service_server::AccessService};
use tonic::{Request, Response, Status};

use super::{Shared, strip};
use crate::{auth::Target, convert, status};

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
        self.shared.authorize(strip(request), target).await?;
        let decision = self
            .shared
            .engine
            .check_permission(
                query.tenant_id,
                query.user_id,
                query.permission,
                query.scope,
            )
            .await
            .map_err(|e| status::from_engine_error(e, ""))?;
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
        self.shared.authorize(strip(request), target).await?;
        let permissions = self
            .shared
            .engine
            .effective_permissions(query.tenant_id, query.user_id, query.scope)
            .await
            .map_err(|e| status::from_engine_error(e, ""))?;
        Ok(Response::new(pb::ListEffectivePermissionsResponse {
            permissions: permissions
                .iter()
                .map(convert::access::effective_to_proto)
                .collect(),
        }))
    }
}
