//! Cluster routing: any node accepts any request, and a request about a tenant whose shard
//! another node holds is passed to that node as it came (same message, same metadata), which
//! authenticates, authorizes and serves it. The owner, not the entry node, decides: it holds
//! the tenant's live state, so permission checks and writes never run on a stale copy.
//!
//! ```text
//! client ─▶ node A: auth · limits · Routing ─┬─ shard held here ─▶ service (local engine)
//!                                            └─ held by node B ──▶ node B (same request,
//!                                                                   `x-entity-forwarded-by: A`)
//! ```
//! The tenant is read from the request's `tenant_id` field (`customer_id` for customers; the
//! tenant inside the key of VerifyApiKey's `api_key`; for RegisterUser and ResolveRegistration
//! without one, the tenant holding the request's custom `host` or its email's verified domain,
//! looked up in the platform-wide claims; the field's number comes from the proto descriptor;
//! the rest of the message is not decoded). Requests without one (CreateTenant,
//! ListTenants, admin calls) are served where they arrive. While a shard has no owner (it is
//! moving), a request waits up to `move_wait`, then gets UNAVAILABLE with a retry delay. A
//! forwarded request is never forwarded again.

mod frame;
mod owners;

use std::{
    collections::HashMap,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use engine::{
    domain::{
        REGISTRATION_DOMAIN_NAMESPACE, REGISTRATION_HOST_NAMESPACE, TenantId,
        validation::email_domain::{email_domain, normalize_domain},
    },
    runtime::{ShardLeases, shard_of},
};
use http_body_util::{BodyExt, Full, Limited};
use sqlx::PgPool;
use tonic::{
    Status,
    body::Body,
    codegen::{Bytes, http},
    server::NamedService,
    transport::Channel,
};
use tower::{Layer, Service, ServiceExt};
use tracing::{Instrument, debug};

use crate::status::unavailable;
use owners::Owners;

/// Header naming the node that forwarded a request.
pub const FORWARDED_BY: &str = "x-entity-forwarded-by";

/// Largest request body read for routing (the server's message limit plus the frame header).
const MAX_BODY: usize = crate::server::MAX_REQUEST_MESSAGE_BYTES + 5;

/// How a request names its tenant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TenantField {
    /// This string field is the tenant's id.
    Id(u32),
    /// This string field is an API key, which names its tenant.
    ApiKey(u32),
    /// A registration: the tenant's id if the request names one, else the tenant holding its
    /// custom host, else the tenant that verified its email's domain (platform-wide claims).
    Registration {
        tenant: Option<u32>,
        email: u32,
        host: u32,
    },
}

impl TenantField {
    /// The tenant a request's message names, if it reads as one (a registration's is looked
    /// up in `pool`'s platform-wide claims).
    async fn tenant(self, message: &[u8], pool: &PgPool) -> Option<TenantId> {
        match self {
            TenantField::Id(field) => frame::string_field(message, field)?.parse().ok(),
            TenantField::ApiKey(field) => {
                let key = frame::string_field(message, field)?;
                engine::secrets::api_key::parse(key).ok().map(|k| k.tenant)
            }
            TenantField::Registration {
                tenant,
                email,
                host,
            } => {
                let named = tenant.and_then(|f| frame::string_field(message, f));
                if let Some(id) = named.filter(|s| !s.is_empty()) {
                    return id.parse().ok();
                }
                let host = frame::string_field(message, host)
                    .unwrap_or_default()
                    .trim();
                let (namespace, key) = match host {
                    "" => {
                        let email = frame::string_field(message, email)?;
                        (REGISTRATION_DOMAIN_NAMESPACE, email_domain(email)?)
                    }
                    host => (REGISTRATION_HOST_NAMESPACE, normalize_domain(host)),
                };
                let owner: Option<uuid::Uuid> = sqlx::query_scalar(
                    "SELECT owner_id FROM unique_keys WHERE namespace = $1 AND key = $2",
                )
                .bind(namespace)
                .bind(key)
                .fetch_optional(pool)
                .await
                .ok()
                .flatten();
                owner.map(TenantId)
            }
        }
    }
}

/// Where a request goes.
enum Route {
    Local,
    Remote { node: String, channel: Channel },
    Unavailable(String),
}

/// Routing state of a cluster node.
pub struct Router {
    me: String,
    shard_count: u32,
    leases: Arc<dyn ShardLeases>,
    owners: Arc<Owners>,
    /// The shared store (registration claims are looked up in it).
    pool: PgPool,
    tenant_fields: HashMap<String, TenantField>,
    move_wait: Duration,
}

impl Router {
    /// Routing for node `me`, whose leases are `leases`, reading owners from `pool`; calls to
    /// peers use TLS trusting `peer_ca_pem` when given.
    ///
    /// # Errors
    /// When the embedded proto descriptor does not decode (a build defect).
    pub async fn start(
        me: String,
        shard_count: u32,
        leases: Arc<dyn ShardLeases>,
        pool: PgPool,
        peer_ca_pem: Option<Vec<u8>>,
    ) -> Result<Arc<Router>, prost::DecodeError> {
        let ids = entity_proto::tenant_id_fields()?.into_iter();
        let keys = entity_proto::api_key_fields()?.into_iter();
        let mut tenant_fields: HashMap<String, TenantField> = ids
            .map(|(path, n)| (path, TenantField::Id(n)))
            .chain(keys.map(|(path, n)| (path, TenantField::ApiKey(n))))
            .collect();
        for (path, email, host) in entity_proto::registration_fields()? {
            let tenant = match tenant_fields.get(&path) {
                Some(TenantField::Id(n)) => Some(*n),
                _ => None,
            };
            let field = TenantField::Registration {
                tenant,
                email,
                host,
            };
            tenant_fields.insert(path, field);
        }
        Ok(Arc::new(Router {
            me,
            shard_count,
            leases,
            owners: Owners::start(pool.clone(), peer_ca_pem).await,
            pool,
            tenant_fields,
            move_wait: Duration::from_secs(3),
        }))
    }

    async fn route(&self, tenant: TenantId) -> Route {
        let shard = shard_of(tenant, self.shard_count);
        let deadline = tokio::time::Instant::now() + self.move_wait;
        loop {
            if self.leases.fence(shard).is_some() {
                return Route::Local;
            }
            if let Some(owner) = self.owners.owner(shard)
                && owner.node != self.me
                && let Some(channel) = self.owners.channel(&owner.address)
            {
                return Route::Remote {
                    node: owner.node,
                    channel,
                };
            }
            if tokio::time::Instant::now() >= deadline {
                return Route::Unavailable(format!(
                    "shard {shard} of tenant {tenant} has no owner right now (it is moving); retry"
                ));
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

/// Tower layer applying [`Routing`]; a single node passes everything through.
#[derive(Clone, Default)]
pub struct RoutingLayer {
    router: Option<Arc<Router>>,
}

impl RoutingLayer {
    /// Routing through `router` (`None`: a single node, nothing to route).
    pub fn new(router: Option<Arc<Router>>) -> Self {
        Self { router }
    }
}

impl<S> Layer<S> for RoutingLayer {
    type Service = Routing<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Routing {
            inner,
            router: self.router.clone(),
        }
    }
}

/// A service whose tenant requests reach the owner of the tenant's shard.
#[derive(Clone)]
pub struct Routing<S> {
    inner: S,
    router: Option<Arc<Router>>,
}

impl<S: NamedService> NamedService for Routing<S> {
    const NAME: &'static str = S::NAME;
}

use crate::BoxFuture;

impl<S> Service<http::Request<Body>> for Routing<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let field = self
            .router
            .as_ref()
            .and_then(|r| r.tenant_fields.get(request.uri().path()).copied());
        let (Some(router), Some(field)) = (self.router.clone(), field) else {
            return Box::pin(self.inner.call(request));
        };
        if request.headers().contains_key(FORWARDED_BY) {
            return Box::pin(self.inner.call(request));
        }
        // The ready clone serves this call; `self` keeps one to be made ready again.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(route_request(router, field, inner, request))
    }
}

async fn route_request<S>(
    router: Arc<Router>,
    field: TenantField,
    mut inner: S,
    request: http::Request<Body>,
) -> Result<http::Response<Body>, S::Error>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>>,
{
    let (mut parts, body) = request.into_parts();
    let bytes: Bytes = match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) => {
            tracing::warn!(%error, "refused a request body that is too large or unreadable");
            return Ok(Status::resource_exhausted(format!(
                "request too large or unreadable (at most {MAX_BODY} bytes)"
            ))
            .into_http());
        }
    };
    let tenant = match frame::grpc_message(&bytes) {
        Some(message) => field.tenant(message, &router.pool).await,
        None => None,
    };
    let rebuild = |parts, bytes| http::Request::from_parts(parts, Body::new(Full::new(bytes)));
    // No readable tenant: the service answers (INVALID_ARGUMENT) where it arrived.
    let Some(tenant) = tenant else {
        return inner.call(rebuild(parts, bytes)).await;
    };
    match router.route(tenant).await {
        Route::Local => inner.call(rebuild(parts, bytes)).await,
        Route::Unavailable(message) => Ok(unavailable(&message).into_http()),
        Route::Remote { node, channel } => {
            debug!(%tenant, to = %node, "forwarding");
            if let Ok(me) = http::HeaderValue::from_str(&router.me) {
                parts.headers.insert(FORWARDED_BY, me);
            }
            let span = engine::telemetry::trace::traced(|| {
                tracing::info_span!(
                    "routing.forward",
                    otel.kind = "client",
                    peer.node = %node,
                    tenant = %tenant,
                )
            });
            span.in_scope(|| crate::traces::inject_current(&mut parts.headers));
            match channel
                .oneshot(rebuild(parts, bytes))
                .instrument(span)
                .await
            {
                Ok(response) => Ok(response),
                Err(error) => Ok(unavailable(&format!(
                    "node {node}, which serves this tenant, cannot be reached ({error}); retry"
                ))
                .into_http()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tenant_rpc_has_a_tenant_field() {
        let fields: HashMap<String, u32> = entity_proto::tenant_id_fields()
            .unwrap()
            .into_iter()
            .collect();
        assert_eq!(fields["/entity.v1.TenantService/GetTenant"], 1);
        assert_eq!(
            fields["/entity.v1.OrganizationService/UpdateOrganization"],
            2
        );
        assert!(!fields.contains_key("/entity.v1.TenantService/CreateTenant"));
        assert!(!fields.contains_key("/entity.v1.TenantService/ListTenants"));
        // a customer's id is its tenant's
        assert_eq!(fields["/entity.v1.CustomerService/GetCustomer"], 1);
        assert_eq!(fields["/entity.v1.CustomerService/UpdateCustomer"], 2);
        assert!(!fields.contains_key("/entity.v1.CustomerService/RegisterCustomer"));
        // VerifyApiKey is routed by the tenant inside its key
        let keys: HashMap<String, u32> = entity_proto::api_key_fields()
            .unwrap()
            .into_iter()
            .collect();
        assert_eq!(keys["/entity.v1.ApiKeyService/VerifyApiKey"], 1);
        assert_eq!(keys.len(), 1);
    }
}
