//! `entity.v1.TenantService`.

use engine::{
    domain::BootstrapKey,
    runtime::{CommandOutcome, EntityView},
};
use entity_proto::v1::{self as pb, tenant_service_server::TenantService};
use tonic::{Request, Response, Status};

use super::{Answer, AuthTarget, Shared, answer, api_key::issue_key};
use crate::{
    auth::Target,
    convert::{self, reads},
    status,
};

/// The TenantService implementation.
#[derive(Clone)]
pub struct TenantApi {
    shared: Shared,
}

impl TenantApi {
    pub(super) fn new(shared: Shared) -> Self {
        Self { shared }
    }
}

/// The answer to a tenant write. It carries the owner's invitation token when the onboarding
/// saga issued it during this call (the first CreateTenant answer; never a replay, since only
/// the token's hash is stored).
impl Answer for pb::TenantResponse {
    fn answer(outcome: &CommandOutcome) -> Option<Self> {
        let EntityView::Tenant(tenant) = &outcome.view else {
            return None;
        };
        Some(pb::TenantResponse {
            tenant: Some(convert::tenant::to_proto(tenant)),
            result: Some(convert::write_result(outcome)),
            owner_invitation_token: outcome
                .invitation_token
                .clone()
                .filter(|_| !outcome.replayed)
                .unwrap_or_default(),
            bootstrap_api_key: String::new(),
            bootstrap_api_key_id: String::new(),
        })
    }
}

type TenantResult = Result<Response<pb::TenantResponse>, Status>;

#[tonic::async_trait]
impl TenantService for TenantApi {
    async fn create_tenant(&self, request: Request<pb::CreateTenantRequest>) -> TenantResult {
        // A new tenant lives on the shard its id hashes to: on a cluster node, pick an id of a
        // shard this node holds, so that the tenant's first write is local.
        let engine = &self.shared.engine;
        let mut ids = convert::tenant::NewTenantIds::generate_where(|t| engine.serves(t))
            .ok_or_else(|| {
                status::unavailable("this node holds no shard yet (it is joining); retry")
            })?;
        // Shown once: only its hash goes into the command.
        let bootstrap = match request.get_ref().bootstrap_api_key {
            true => Some(issue_key(ids.tenant)?),
            false => None,
        };
        ids.bootstrap_key = bootstrap.as_ref().map(|(id, key)| BootstrapKey {
            id: *id,
            secret: key.secret.clone(),
        });
        let outcome = self
            .shared
            .execute(request, AuthTarget::Platform, "", |r| {
                convert::tenant::create(r, ids)
            })
            .await?;
        let mut response = answer::<pb::TenantResponse>(&outcome)?;
        if let Some((id, key)) = bootstrap.filter(|_| !outcome.replayed) {
            let body = response.get_mut();
            body.bootstrap_api_key = key.plaintext;
            body.bootstrap_api_key_id = id.to_string();
        }
        Ok(response)
    }

    async fn get_tenant(
        &self,
        request: Request<pb::GetTenantRequest>,
    ) -> Result<Response<pb::Tenant>, Status> {
        let tenant_id = convert::tenant::get(request.get_ref())?;
        let tenant = self
            .shared
            .read_engine(request, Target::tenant(tenant_id), |e| {
                e.get_tenant(tenant_id)
            })
            .await?;
        Ok(Response::new(convert::tenant::to_proto(&tenant)))
    }

    async fn list_tenants(
        &self,
        request: Request<pb::ListTenantsRequest>,
    ) -> Result<Response<pb::ListTenantsResponse>, Status> {
        let query = reads::list_tenants(request.get_ref())?;
        let page = self
            .shared
            .read_model(request, Target::default(), |r| async move {
                r.list_tenants(&query.filter, &query.page, query.consistency)
                    .await
            })
            .await?;
        Ok(Response::new(pb::ListTenantsResponse {
            tenants: page.items.iter().map(reads::tenant_to_proto).collect(),
            next_page_token: page.next_page_token.unwrap_or_default(),
        }))
    }

    async fn update_tenant(&self, request: Request<pb::UpdateTenantRequest>) -> TenantResult {
        self.shared
            .mutate(request, "tenant.", convert::tenant::update)
            .await
    }

    async fn change_plan(&self, request: Request<pb::ChangePlanRequest>) -> TenantResult {
        self.shared
            .mutate(request, "", convert::tenant::change_plan)
            .await
    }

    async fn suspend_tenant(&self, request: Request<pb::SuspendTenantRequest>) -> TenantResult {
        self.shared
            .mutate(request, "", convert::tenant::suspend)
            .await
    }

    async fn reactivate_tenant(
        &self,
        request: Request<pb::ReactivateTenantRequest>,
    ) -> TenantResult {
        self.shared
            .mutate(request, "", convert::tenant::reactivate)
            .await
    }

    async fn deactivate_tenant(
        &self,
        request: Request<pb::DeactivateTenantRequest>,
    ) -> TenantResult {
        self.shared
            .mutate(request, "", convert::tenant::deactivate)
            .await
    }

    async fn delete_tenant(&self, request: Request<pb::DeleteTenantRequest>) -> TenantResult {
        self.shared
            .mutate(request, "", convert::tenant::delete)
            .await
    }

    async fn erase_tenant(&self, request: Request<pb::EraseTenantRequest>) -> TenantResult {
        self.shared
            .mutate(request, "", convert::tenant::erase)
            .await
    }
}
