//! `entity.v1.CustomerService`: tenant accounts through the profile boundary. Each RPC is the
//! tenant RPC it maps to (same command, permission and consistency), answered with the
//! `Customer` message.

use engine::runtime::{CommandOutcome, EntityView};
use entity_proto::v1::{self as pb, customer_service_server::CustomerService};
use tonic::{Request, Response, Status};

use super::{Answer, AuthTarget, Shared, answer};
use crate::{
    auth::Target,
    convert::{self, tenant::NewTenantIds},
    status,
};

/// The CustomerService implementation.
#[derive(Clone)]
pub struct CustomerApi {
    shared: Shared,
}

impl CustomerApi {
    pub(super) fn new(shared: Shared) -> Self {
        Self { shared }
    }
}

/// The answer to a customer write: never the owner's invitation token (identity's business).
impl Answer for pb::CustomerResponse {
    fn answer(outcome: &CommandOutcome) -> Option<Self> {
        let EntityView::Tenant(tenant) = &outcome.view else {
            return None;
        };
        Some(pb::CustomerResponse {
            customer: Some(convert::customer::to_proto(tenant)),
            result: Some(convert::write_result(outcome)),
        })
    }
}

type CustomerResult = Result<Response<pb::CustomerResponse>, Status>;

#[tonic::async_trait]
impl CustomerService for CustomerApi {
    /// CreateTenant's path: on a cluster node, an id of a shard this node holds.
    async fn register_customer(
        &self,
        request: Request<pb::RegisterCustomerRequest>,
    ) -> CustomerResult {
        let engine = &self.shared.engine;
        let ids = NewTenantIds::generate_where(|t| engine.serves(t)).ok_or_else(|| {
            status::unavailable("this node holds no shard yet (it is joining); retry")
        })?;
        let outcome = self
            .shared
            .execute(request, AuthTarget::Platform, "", |r| {
                convert::customer::register(r, ids)
            })
            .await?;
        answer(&outcome)
    }

    async fn update_customer(&self, request: Request<pb::UpdateCustomerRequest>) -> CustomerResult {
        self.shared
            .mutate(request, "customer.", convert::customer::update)
            .await
    }

    async fn get_customer(
        &self,
        request: Request<pb::GetCustomerRequest>,
    ) -> Result<Response<pb::Customer>, Status> {
        let tenant_id = convert::customer::get(request.get_ref())?;
        let tenant = self
            .shared
            .read_engine(request, Target::tenant(tenant_id), |e| {
                e.get_tenant(tenant_id)
            })
            .await?;
        Ok(Response::new(convert::customer::to_proto(&tenant)))
    }
}
