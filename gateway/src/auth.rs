//! The authentication and authorization seam.
//!
//! Every RPC of the entity services passes through ONE tower layer, [`AuthLayer`], wrapped
//! around each service by the server:
//!
//! ```text
//! request ──▶ AuthLayer ──authenticate(headers)──▶ Caller + RpcMethod in extensions ──▶ service
//!               │ Err(Status)                                                           │
//!               └──▶ gRPC error response (handler never runs)        authorize(caller, rpc, target)
//! ```
//!
//! - An [`Authenticator`] turns request metadata into a [`Caller`] (or UNAUTHENTICATED):
//!   [`jwt::JwtAuthenticator`] (bearer JWTs; production and the embedded mode's development
//!   key, see [`dev`]), [`DevIdentity`] (everyone is the platform admin `dev`; embedded trials
//!   and tests only) and [`Unconfigured`] (everything refused).
//! - The layer also enforces `x-tenant-id`: sent more than once it is INVALID_ARGUMENT (a
//!   `BadRequest` violation of field `x-tenant-id`); when present it must equal the
//!   credential's tenant (PERMISSION_DENIED, reason `TENANT_MISMATCH`), and [`authorize`] then
//!   requires the request to touch that tenant, platform admins included.
//! - An [`Authorizer`] decides whether a caller may run an RPC against its [`Target`]. The
//!   handlers call it after validating the request (so malformed requests are
//!   INVALID_ARGUMENT without touching the engine), through [`authorize`].
//!   [`RoleAuthorizer`] (JWT mode) evaluates the table of [`policy`] with
//!   `Engine::check_permission` against the caller's own role assignments;
//!   [`TenantBoundary`] (dev identity, tests) only keeps callers inside their tenant.
//! - Between the auth layer and the service, `server::limits` sheds load and rate-limits
//!   each tenant by plan.
//!
//! Health and reflection are served outside this layer.

pub mod dev;
pub mod jwt;
pub mod policy;

use std::{
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use engine::{
    domain::{FieldViolation, PermissionPattern, Scope, TenantId, UserId},
    journal::AuditActor,
    runtime::Engine,
};
pub use policy::Target;
use tonic::{
    Code, Request, Status, body::Body, codegen::http, metadata::MetadataMap, server::NamedService,
};
use tower::{Layer, Service};
use tracing::Instrument;

use crate::status;

/// Who is calling, as established by the [`Authenticator`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// Authenticated subject (user id, service name, or `dev`).
    pub subject: String,
    /// The tenant the credential belongs to; `None` for platform-level credentials.
    pub tenant_id: Option<TenantId>,
    /// Platform operators may act across tenants.
    pub platform_admin: bool,
    /// Credential kind: `jwt`, `api-key`, `dev`.
    pub credential_kind: String,
    /// Credential id (token id, key id), if any.
    pub credential_id: Option<String>,
    /// The subject this caller acts on behalf of (`act.sub` of a JWT), if any.
    pub on_behalf_of: Option<String>,
}

impl Caller {
    /// The caller as recorded in the journal's audit metadata.
    pub fn audit_actor(&self) -> AuditActor {
        AuditActor {
            subject: self.subject.clone(),
            on_behalf_of: self.on_behalf_of.clone(),
            credential_kind: self.credential_kind.clone(),
            credential_id: self.credential_id.clone(),
        }
    }
}

/// The metadata key naming the tenant a request is meant for.
pub const TENANT_HEADER: &str = "x-tenant-id";

/// The tenant named by a valid `x-tenant-id` header (a request extension set by [`AuthLayer`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TenantHeader(pub TenantId);

/// The fully-qualified gRPC method being called, e.g. `entity.v1.TenantService/CreateTenant`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RpcMethod(pub String);

impl RpcMethod {
    /// The method name alone, e.g. `CreateTenant`.
    pub fn name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }
}

/// Establishes who is calling from the request's metadata.
#[async_trait::async_trait]
pub trait Authenticator: Send + Sync + 'static {
    /// The caller, or the status to answer with (usually UNAUTHENTICATED).
    async fn authenticate(&self, metadata: &MetadataMap) -> Result<Caller, Status>;
}

/// Decides whether a caller may run an RPC against its target.
#[async_trait::async_trait]
pub trait Authorizer: Send + Sync + 'static {
    /// `Ok` to proceed, or the status to answer with (usually PERMISSION_DENIED).
    ///
    /// `target.tenant` is the tenant the RPC touches; `None` for platform-wide RPCs (creating
    /// a tenant, listing tenants).
    async fn authorize(&self, caller: &Caller, rpc: &str, target: &Target) -> Result<(), Status>;
}

/// Development identity: accepts every call as the platform admin `dev`.
///
/// Only the embedded single-node mode offers it, and only when asked for explicitly.
#[derive(Clone, Copy, Debug, Default)]
pub struct DevIdentity;

#[async_trait::async_trait]
impl Authenticator for DevIdentity {
    async fn authenticate(&self, _metadata: &MetadataMap) -> Result<Caller, Status> {
        Ok(Caller {
            subject: "dev".to_owned(),
            tenant_id: None,
            platform_admin: true,
            credential_kind: "dev".to_owned(),
            credential_id: None,
            on_behalf_of: None,
        })
    }
}

/// No authentication configured yet: every call is refused with UNAUTHENTICATED.
#[derive(Clone, Copy, Debug, Default)]
pub struct Unconfigured;

/// Message of every refusal by [`Unconfigured`].
pub const UNCONFIGURED_MESSAGE: &str = "authentication is not configured on this node yet; \
     every call is refused (embedded mode accepts --dev-identity for local trials)";

#[async_trait::async_trait]
impl Authenticator for Unconfigured {
    async fn authenticate(&self, _metadata: &MetadataMap) -> Result<Caller, Status> {
        Err(status::refusal(
            Code::Unauthenticated,
            "AUTHENTICATION_NOT_CONFIGURED",
            UNCONFIGURED_MESSAGE,
        ))
    }
}

/// Placeholder policy until role checks land: platform admins may do anything; other callers
/// only act inside their own tenant, and never on platform-wide RPCs.
#[derive(Clone, Copy, Debug, Default)]
pub struct TenantBoundary;

#[async_trait::async_trait]
impl Authorizer for TenantBoundary {
    async fn authorize(&self, caller: &Caller, rpc: &str, target: &Target) -> Result<(), Status> {
        tenant_boundary(caller, rpc, target.tenant)
    }
}

/// Platform admins pass; other callers only inside their own tenant, never platform-wide.
fn tenant_boundary(caller: &Caller, rpc: &str, tenant: Option<TenantId>) -> Result<(), Status> {
    {
        if caller.platform_admin {
            return Ok(());
        }
        match (caller.tenant_id, tenant) {
            (Some(own), Some(target)) if own == target => Ok(()),
            (Some(_), Some(_)) => Err(status::refusal(
                Code::PermissionDenied,
                "TENANT_MISMATCH",
                format!("{rpc}: the resource belongs to another tenant than the caller's"),
            )),
            _ => Err(status::refusal(
                Code::PermissionDenied,
                "PERMISSION_DENIED",
                format!("{rpc} needs a platform administrator"),
            )),
        }
    }
}

/// Authorization by the engine's own role assignments, per the table of [`policy`].
#[derive(Clone)]
pub struct RoleAuthorizer {
    engine: Engine,
}

impl RoleAuthorizer {
    /// Checks against `engine`.
    pub fn new(engine: Engine) -> Self {
        Self { engine }
    }
}

fn denied(rpc: &str, permission: &str, scope: Option<Scope>) -> Status {
    let scope_text = scope.map_or_else(|| "-".to_owned(), |s| describe_scope(&s));
    <Status as tonic_types::StatusExt>::with_error_details(
        Code::PermissionDenied,
        format!("{rpc} needs {permission} at {scope_text}"),
        tonic_types::ErrorDetails::with_error_info(
            "PERMISSION_DENIED",
            status::ERROR_DOMAIN,
            [
                ("permission".to_owned(), permission.to_owned()),
                ("scope".to_owned(), scope_text),
            ],
        ),
    )
}

fn describe_scope(scope: &Scope) -> String {
    match scope {
        Scope::Tenant => "tenant".to_owned(),
        Scope::Organization(id) => format!("organization/{id}"),
        Scope::Team(id) => format!("team/{id}"),
    }
}

#[async_trait::async_trait]
impl Authorizer for RoleAuthorizer {
    async fn authorize(&self, caller: &Caller, rpc: &str, target: &Target) -> Result<(), Status> {
        tenant_boundary(caller, rpc, target.tenant)?;
        if caller.platform_admin {
            return Ok(());
        }
        let Some(rule) = policy::rule(rpc) else {
            tracing::error!(rpc, "RPC without an authorization rule");
            return Err(denied(rpc, "platform-admin", None));
        };
        let (permission, at, own) = match rule {
            policy::Rule::PlatformAdmin => return Err(denied(rpc, "platform-admin", None)),
            policy::Rule::TenantCaller => return Ok(()),
            policy::Rule::Permission {
                permission,
                at,
                own,
            } => (permission, at, own),
        };
        let Some(tenant) = target.tenant else {
            return Err(denied(rpc, permission, None));
        };
        let Ok(user) = caller.subject.parse::<UserId>() else {
            tracing::debug!(subject = %caller.subject, "subject is not a user id");
            return Err(denied(rpc, permission, Some(Scope::Tenant)));
        };
        if own && target.user == Some(user) {
            return Ok(());
        }
        let pattern: PermissionPattern = permission
            .parse()
            .map_err(|_| Status::internal("internal error"))?;
        for scope in policy::scopes(at, target) {
            let decision = self
                .engine
                .check_permission(tenant, user, pattern.clone(), scope)
                .await
                .map_err(|e| match e {
                    // The subject is not a user of this tenant: it holds nothing here.
                    engine::EngineError::Domain(engine::domain::DomainError::NotFound {
                        resource: engine::domain::ResourceKind::User,
                        ..
                    }) => denied(rpc, permission, Some(scope)),
                    // An unknown organization or team: NOT_FOUND, as the handler would say.
                    e => status::from_engine_error(e, ""),
                })?;
            if !decision.allowed {
                return Err(denied(rpc, permission, Some(scope)));
            }
        }
        Ok(())
    }
}

/// Which authentication a server uses.
#[derive(Clone)]
pub enum AuthMode {
    /// [`DevIdentity`] (embedded trials only).
    DevIdentity,
    /// [`Unconfigured`]: refuse everything.
    Unconfigured,
    /// Bearer JWTs ([`jwt::JwtAuthenticator`]).
    Jwt(Arc<jwt::JwtAuthenticator>),
    /// Any other authenticator and authorizer.
    Custom {
        /// Establishes the caller.
        authenticator: Arc<dyn Authenticator>,
        /// Checks each RPC.
        authorizer: Arc<dyn Authorizer>,
    },
}

impl AuthMode {
    /// Short name for logs and the ready line.
    pub fn describe(&self) -> &'static str {
        match self {
            AuthMode::DevIdentity => "dev identity",
            AuthMode::Unconfigured => "authentication not configured",
            AuthMode::Jwt(_) => "JWT authentication",
            AuthMode::Custom { .. } => "custom authentication",
        }
    }

    /// The authenticator of this mode.
    pub fn authenticator(&self) -> Arc<dyn Authenticator> {
        match self {
            AuthMode::DevIdentity => Arc::new(DevIdentity),
            AuthMode::Unconfigured => Arc::new(Unconfigured),
            AuthMode::Jwt(jwt) => jwt.clone(),
            AuthMode::Custom { authenticator, .. } => authenticator.clone(),
        }
    }

    /// The authorizer of this mode (JWT callers are checked against `engine`'s roles).
    pub fn authorizer(&self, engine: &Engine) -> Arc<dyn Authorizer> {
        match self {
            AuthMode::DevIdentity | AuthMode::Unconfigured => Arc::new(TenantBoundary),
            AuthMode::Jwt(_) => Arc::new(RoleAuthorizer::new(engine.clone())),
            AuthMode::Custom { authorizer, .. } => authorizer.clone(),
        }
    }
}

impl std::fmt::Debug for AuthMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe())
    }
}

/// Runs the authorization hook for a request that passed [`AuthLayer`]; returns the caller.
///
/// Every handler calls this once it has validated the request and knows its target.
pub async fn authorize<T>(
    authorizer: &dyn Authorizer,
    request: &Request<T>,
    target: &Target,
) -> Result<Caller, Status> {
    let caller = request
        .extensions()
        .get::<Caller>()
        .cloned()
        .ok_or_else(|| Status::unauthenticated("request was not authenticated"))?;
    let rpc = request
        .extensions()
        .get::<RpcMethod>()
        .map_or("unknown", RpcMethod::name);
    if let Some(TenantHeader(named)) = request.extensions().get::<TenantHeader>()
        && target.tenant != Some(*named)
    {
        return Err(status::refusal(
            Code::PermissionDenied,
            "TENANT_MISMATCH",
            format!("{rpc}: x-tenant-id does not name the tenant the request touches"),
        ));
    }
    authorizer.authorize(&caller, rpc, target).await?;
    Ok(caller)
}

/// Tower layer that authenticates every request of the wrapped service.
#[derive(Clone)]
pub struct AuthLayer {
    authenticator: Arc<dyn Authenticator>,
}

impl AuthLayer {
    /// A layer using `authenticator`.
    pub fn new(authenticator: Arc<dyn Authenticator>) -> Self {
        Self { authenticator }
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = Authenticated<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Authenticated {
            inner,
            authenticator: self.authenticator.clone(),
        }
    }
}

/// A service behind [`AuthLayer`].
#[derive(Clone)]
pub struct Authenticated<S> {
    inner: S,
    authenticator: Arc<dyn Authenticator>,
}

impl<S: NamedService> NamedService for Authenticated<S> {
    const NAME: &'static str = S::NAME;
}

type BoxFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

impl<S> Service<http::Request<Body>> for Authenticated<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<Body>) -> Self::Future {
        let metadata = MetadataMap::from_headers(request.headers().clone());
        let authenticator = self.authenticator.clone();
        // The clone that was made ready is the one we call (tower's usual dance).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let caller = authenticator
                .authenticate(&metadata)
                .await
                .and_then(|caller| {
                    check_tenant_header(&caller, &metadata).map(|named| (caller, named))
                });
            match caller {
                Ok((caller, named)) => {
                    let method = request.uri().path().trim_start_matches('/').to_owned();
                    // The span of the whole call: every log line of the request carries these.
                    let span =
                        tracing::info_span!("rpc", method = %method, subject = %caller.subject);
                    request.extensions_mut().insert(caller);
                    request.extensions_mut().insert(RpcMethod(method));
                    if let Some(named) = named {
                        request.extensions_mut().insert(TenantHeader(named));
                    }
                    inner.call(request).instrument(span).await
                }
                Err(status) => {
                    tracing::debug!(path = request.uri().path(), code = ?status.code(), "call refused by authentication");
                    Ok(status.into_http())
                }
            }
        })
    }
}

/// `x-tenant-id`, when sent, must be sent once and name the credential's tenant (platform
/// admins without a tenant of their own may name any); the tenant it names, if sent.
fn check_tenant_header(
    caller: &Caller,
    metadata: &MetadataMap,
) -> Result<Option<TenantId>, Status> {
    let sent = metadata.get_all(TENANT_HEADER).iter().count();
    if sent > 1 {
        // Only one could be checked, and another layer might read another: refuse them all.
        return Err(status::invalid_argument(&[FieldViolation::new(
            TENANT_HEADER,
            format!("must be sent at most once (sent {sent} times)"),
        )]));
    }
    let Some(value) = metadata.get(TENANT_HEADER) else {
        return Ok(None);
    };
    let named = value
        .to_str()
        .ok()
        .and_then(|v| v.trim().parse::<TenantId>().ok());
    let Some(named) = named else {
        return Err(status::refusal(
            Code::InvalidArgument,
            "INVALID_ARGUMENT",
            "x-tenant-id metadata must be a tenant id (UUID)",
        ));
    };
    match caller.tenant_id {
        Some(own) if own != named => Err(status::refusal(
            Code::PermissionDenied,
            "TENANT_MISMATCH",
            "x-tenant-id does not name the tenant of the credential",
        )),
        None if !caller.platform_admin => Err(status::refusal(
            Code::PermissionDenied,
            "TENANT_MISMATCH",
            "x-tenant-id does not name the tenant of the credential",
        )),
        _ => Ok(Some(named)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(tenant: Option<TenantId>, admin: bool) -> Caller {
        Caller {
            subject: "u".into(),
            tenant_id: tenant,
            platform_admin: admin,
            credential_kind: "jwt".into(),
            credential_id: None,
            on_behalf_of: None,
        }
    }

    #[tokio::test]
    async fn dev_identity_is_platform_admin() {
        let c = DevIdentity.authenticate(&MetadataMap::new()).await.unwrap();
        assert!(c.platform_admin);
        assert_eq!(c.subject, "dev");
        assert_eq!(c.audit_actor().credential_kind, "dev");
    }

    #[tokio::test]
    async fn unconfigured_refuses() {
        let err = Unconfigured
            .authenticate(&MetadataMap::new())
            .await
            .unwrap_err();
        assert_eq!(err.code(), tonic::Code::Unauthenticated);
    }

    #[test]
    fn tenant_boundary_rules() {
        let t = TenantId::new_v7();
        let other = TenantId::new_v7();
        assert!(tenant_boundary(&caller(None, true), "X", None).is_ok());
        assert!(tenant_boundary(&caller(Some(t), false), "X", Some(t)).is_ok());
        let err = tenant_boundary(&caller(Some(t), false), "X", Some(other)).unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied);
        let info = tonic_types::StatusExt::get_details_error_info(&err).unwrap();
        assert_eq!(info.reason, "TENANT_MISMATCH");
        assert!(tenant_boundary(&caller(Some(t), false), "X", None).is_err());
    }

    #[tokio::test]
    async fn x_tenant_id_binds_the_target_even_for_platform_admins() {
        let named = TenantId::new_v7();
        let other = TenantId::new_v7();
        let request = |header: Option<TenantId>| {
            let mut r = Request::new(());
            r.extensions_mut().insert(caller(None, true));
            if let Some(t) = header {
                r.extensions_mut().insert(TenantHeader(t));
            }
            r
        };
        let ok = authorize(
            &TenantBoundary,
            &request(Some(named)),
            &Target::tenant(named),
        )
        .await;
        assert!(ok.is_ok());
        for target in [Target::tenant(other), Target::default()] {
            let err = authorize(&TenantBoundary, &request(Some(named)), &target)
                .await
                .unwrap_err();
            assert_eq!(err.code(), Code::PermissionDenied);
            let info = tonic_types::StatusExt::get_details_error_info(&err).unwrap();
            assert_eq!(info.reason, "TENANT_MISMATCH");
        }
        assert!(
            authorize(&TenantBoundary, &request(None), &Target::tenant(other))
                .await
                .is_ok()
        );
    }

    #[test]
    fn x_tenant_id_sent_twice_is_refused() {
        let own = TenantId::new_v7();
        let mut metadata = MetadataMap::new();
        metadata.append(TENANT_HEADER, own.to_string().parse().unwrap());
        assert_eq!(
            check_tenant_header(&caller(Some(own), false), &metadata).unwrap(),
            Some(own)
        );
        // the second value, even the same tenant, is refused for every caller
        metadata.append(TENANT_HEADER, own.to_string().parse().unwrap());
        for who in [caller(Some(own), false), caller(None, true)] {
            let err = check_tenant_header(&who, &metadata).unwrap_err();
            assert_eq!(err.code(), Code::InvalidArgument);
            let violations = tonic_types::StatusExt::get_details_bad_request(&err).unwrap();
            assert_eq!(violations.field_violations[0].field, TENANT_HEADER);
            assert!(err.message().contains("at most once"), "{err:?}");
        }
    }

    #[test]
    fn rpc_method_name() {
        assert_eq!(
            RpcMethod("entity.v1.TenantService/GetTenant".into()).name(),
            "GetTenant"
        );
    }
}
