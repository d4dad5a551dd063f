//! `entity.v1.ApiKeyService`: keys are drawn here (shown once, only their hash goes to the
//! engine), decided by the tenant's actor, and verified there.

use chrono::Utc;
use engine::{
    domain::{ApiKeyId, KeyIssuer, KeySecret, TenantId},
    runtime::{CommandOutcome, EntityView},
    secrets::api_key::{self, IssuedKey},
};
use entity_proto::v1::{self as pb, api_key_service_server::ApiKeyService};
use tonic::{Request, Response, Status};

use super::{Answer, AuthTarget, Shared, answer};
use crate::{
    auth::{Caller, Target},
    convert::{self, Mutation, api_key::issuer},
};

/// The ApiKeyService implementation.
#[derive(Clone)]
pub struct ApiKeyApi {
    shared: Shared,
}

impl ApiKeyApi {
    pub(super) fn new(shared: Shared) -> Self {
        Self { shared }
    }

    /// CreateApiKey or RotateApiKey: draws a key of `tenant_id` for the caller, has `decode`
    /// make the command of it (only its hash goes in), and answers with the key, once.
    async fn issue<T>(
        &self,
        request: Request<T>,
        tenant_id: &str,
        decode: impl FnOnce(T, ApiKeyId, KeySecret, KeyIssuer) -> Result<Mutation, Status>,
    ) -> Result<Response<pb::IssuedApiKey>, Status> {
        let issuer = issuer(request.extensions().get::<Caller>())?;
        // The key names its tenant; a tenant_id that is no id is reported by `decode` with the
        // request's other violations (the key drawn for the nil tenant is never used).
        let tenant = tenant_id.parse().unwrap_or(TenantId(uuid::Uuid::nil()));
        let (id, key) = issue_key(tenant)?;
        let secret = key.secret.clone();
        let outcome = self
            .shared
            .execute(request, AuthTarget::Tenant, "", |r| {
                decode(r, id, secret, issuer)
            })
            .await?;
        issued(&outcome, key)
    }
}

/// Draws a new key of `tenant` (UNAVAILABLE if the system's random source fails).
pub(super) fn issue_key(tenant: TenantId) -> Result<(ApiKeyId, IssuedKey), Status> {
    let id = ApiKeyId::new_v7();
    api_key::issue(tenant, id)
        .map(|key| (id, key))
        .map_err(|e| {
            tracing::error!(error = %e, "no randomness for an API key");
            Status::unavailable("cannot draw a key right now; retry")
        })
}

impl Answer for pb::ApiKeyResponse {
    fn answer(outcome: &CommandOutcome) -> Option<Self> {
        let EntityView::ApiKey(key) = &outcome.view else {
            return None;
        };
        Some(pb::ApiKeyResponse {
            api_key: Some(convert::api_key::to_proto(key, Utc::now())),
            result: Some(convert::write_result(outcome)),
        })
    }
}

/// The answer to CreateApiKey and RotateApiKey: the key itself, unless this is a replay (it
/// was never stored).
fn issued(outcome: &CommandOutcome, key: IssuedKey) -> Result<Response<pb::IssuedApiKey>, Status> {
    let response = answer::<pb::ApiKeyResponse>(outcome)?.into_inner();
    Ok(Response::new(pb::IssuedApiKey {
        api_key: response.api_key,
        key: if outcome.replayed {
            String::new()
        } else {
            key.plaintext
        },
        result: response.result,
    }))
}

#[tonic::async_trait]
impl ApiKeyService for ApiKeyApi {
    async fn create_api_key(
        &self,
        request: Request<pb::CreateApiKeyRequest>,
    ) -> Result<Response<pb::IssuedApiKey>, Status> {
        let tenant = request.get_ref().tenant_id.clone();
        self.issue(request, &tenant, convert::api_key::create).await
    }

    async fn get_api_key(
        &self,
        request: Request<pb::GetApiKeyRequest>,
    ) -> Result<Response<pb::ApiKey>, Status> {
        let (tenant_id, id) = convert::api_key::get(request.get_ref())?;
        let key = self
            .shared
            .read_engine(request, Target::tenant(tenant_id), |e| {
                e.get_api_key(tenant_id, id)
            })
            .await?;
        Ok(Response::new(convert::api_key::to_proto(&key, Utc::now())))
    }

    async fn list_api_keys(
        &self,
        request: Request<pb::ListApiKeysRequest>,
    ) -> Result<Response<pb::ListApiKeysResponse>, Status> {
        let q = convert::api_key::list(request.get_ref())?;
        let keys = self
            .shared
            .read_engine(request, Target::tenant(q.tenant_id), |e| {
                e.list_api_keys(q.tenant_id, q.partition, q.after, q.limit + 1)
            })
            .await?;
        Ok(Response::new(convert::api_key::page(
            keys,
            q.limit,
            Utc::now(),
        )))
    }

    async fn rotate_api_key(
        &self,
        request: Request<pb::RotateApiKeyRequest>,
    ) -> Result<Response<pb::IssuedApiKey>, Status> {
        let tenant = request.get_ref().tenant_id.clone();
        self.issue(request, &tenant, convert::api_key::rotate).await
    }

    async fn revoke_api_key(
        &self,
        request: Request<pb::RevokeApiKeyRequest>,
    ) -> Result<Response<pb::ApiKeyResponse>, Status> {
        self.shared
            .mutate(request, "", convert::api_key::revoke)
            .await
    }

    async fn verify_api_key(
        &self,
        request: Request<pb::VerifyApiKeyRequest>,
    ) -> Result<Response<pb::VerifyApiKeyResponse>, Status> {
        use pb::verify_api_key_response::Reason;
        // A malformed key is answered without a lookup (and without naming any tenant).
        let Ok(key) = api_key::parse(request.get_ref().api_key.trim()) else {
            return Ok(Response::new(convert::api_key::refused(Reason::Malformed)));
        };
        let verdict = self
            .shared
            .read_engine(request, Target::tenant(key.tenant), |e| {
                e.verify_api_key(key.clone())
            })
            .await?;
        Ok(Response::new(convert::api_key::verdict(verdict)))
    }
}
