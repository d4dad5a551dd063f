//! `entity.v1.ClientService`.

use engine::{
    domain::ClientId,
    runtime::{CommandOutcome, EntityView},
};
use entity_proto::v1::{self as pb, client_service_server::ClientService};
use tonic::{Request, Response, Status};

use super::{Answer, AuthTarget, Shared, answer, strip};
use crate::{
    auth::Target,
    convert::{self, reads, tenant::NewTenantIds},
    status,
};
use engine::secrets::issue_invitation_token;

/// The ClientService implementation.
#[derive(Clone)]
pub struct ClientApi {
    shared: Shared,
}

impl ClientApi {
    pub(super) fn new(shared: Shared) -> Self {
        Self { shared }
    }
}

impl Answer for pb::ClientResponse {
    fn answer(outcome: &CommandOutcome) -> Option<Self> {
        let EntityView::Client(client) = &outcome.view else {
            return None;
        };
        Some(pb::ClientResponse {
            client: Some(convert::client::to_proto(client)),
            result: Some(convert::write_result(outcome)),
        })
    }
}

type ClientResult = Result<Response<pb::ClientResponse>, Status>;

#[tonic::async_trait]
impl ClientService for ClientApi {
    async fn create_client(&self, request: Request<pb::CreateClientRequest>) -> ClientResult {
        let id = ClientId::new_v7();
        let outcome = self
            .shared
            .execute(request, AuthTarget::Tenant, "", |r| {
                convert::client::create(r, id)
            })
            .await?;
        answer(&outcome)
    }

    async fn get_client(
        &self,
        request: Request<pb::GetClientRequest>,
    ) -> Result<Response<pb::Client>, Status> {
        let (tenant_id, id) = convert::client::get(request.get_ref())?;
        self.shared
            .authorize(strip(request), Target::tenant(tenant_id))
            .await?;
        let client = self
            .shared
            .engine
            .get_client(tenant_id, id)
            .await
            .map_err(|e| status::from_engine_error(e, ""))?;
        Ok(Response::new(convert::client::to_proto(&client)))
    }

    async fn list_clients(
        &self,
        request: Request<pb::ListClientsRequest>,
    ) -> Result<Response<pb::ListClientsResponse>, Status> {
        let (tenant_id, query) = reads::list_clients(request.get_ref())?;
        let page = self
            .shared
            .read_model(request, Target::tenant(tenant_id), |r| async move {
                r.list_clients(tenant_id, &query.filter, &query.page, query.consistency)
                    .await
            })
            .await?;
        Ok(Response::new(pb::ListClientsResponse {
            clients: page.items.iter().map(convert::client::to_proto).collect(),
            next_page_token: page.next_page_token.unwrap_or_default(),
        }))
    }

    async fn update_client(&self, request: Request<pb::UpdateClientRequest>) -> ClientResult {
        self.shared
            .mutate(request, "client.", convert::client::update)
            .await
    }

    async fn disable_client(&self, request: Request<pb::DisableClientRequest>) -> ClientResult {
        self.shared
            .mutate(request, "", convert::client::disable)
            .await
    }

    async fn enable_client(&self, request: Request<pb::EnableClientRequest>) -> ClientResult {
        self.shared
            .mutate(request, "", convert::client::enable)
            .await
    }

    async fn delete_client(&self, request: Request<pb::DeleteClientRequest>) -> ClientResult {
        self.shared
            .mutate(request, "", convert::client::delete)
            .await
    }

    /// The new tenant may live on any shard: the saga's step runs wherever it lives.
    async fn provision_client_tenant(
        &self,
        request: Request<pb::ProvisionClientTenantRequest>,
    ) -> Result<Response<pb::ProvisionClientTenantResponse>, Status> {
        let ids = NewTenantIds::generate_where(|_| true)
            .ok_or_else(|| Status::internal("no tenant id was accepted"))?;
        let token = issue_invitation_token(ids.owner);
        let outcome = self
            .shared
            .execute(request, AuthTarget::Tenant, "", |r| {
                convert::client::provision(r, ids, token.hash)
            })
            .await?;
        let pb::ClientResponse { client, result } =
            answer::<pb::ClientResponse>(&outcome)?.into_inner();
        Ok(Response::new(pb::ProvisionClientTenantResponse {
            tenant_id: client
                .as_ref()
                .map(|c| c.provisioned_tenant_id.clone())
                .unwrap_or_default(),
            client,
            result,
            // A replay answers with the first tenant, whose token this call did not issue.
            owner_invitation_token: if outcome.replayed {
                String::new()
            } else {
                token.plaintext
            },
        }))
    }
}
