//! The authentication and authorization seam.
//!
//! Every RPC of the entity services passes through ONE tower layer, [`AuthLayer`], wrapped
//! around each service by the server:
//!
//! ```text
//! request ──▶ AuthLayer ──authenticate(headers)──▶ Caller + RpcMethod in extensions ──▶ service
//!               │ Err(Status)                                                           │
//!               └──▶ gRPC error response (handler never runs)        authorize(caller, rpc, tenant)
//! ```
//!
//! - An [`Authenticator`] turns request metadata into a [`Caller`] (or UNAUTHENTICATED). Today
//!   there are two: [`DevIdentity`] (everyone is the platform admin `dev`; embedded trials only)
//!   and [`Unconfigured`] (everything refused until JWT authentication lands).
//! - An [`Authorizer`] decides whether a caller may run an RPC against a tenant. The handlers
//!   call it once the target tenant is known (it is in the request body), through
//!   [`authorize`]. [`TenantBoundary`] is the placeholder policy until role checks land.
//!
//! Health and reflection are served outside this layer.

use std::{
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use engine::{domain::TenantId, journal::AuditActor};
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
}

impl Caller {
    /// The caller as recorded in the journal's audit metadata.
    pub fn audit_actor(&self) -> AuditActor {
        AuditActor {
            subject: self.subject.clone(),
            on_behalf_of: None,
            credential_kind: self.credential_kind.clone(),
            credential_id: self.credential_id.clone(),
        }
    }
}

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
pub trait Authenticator: Send + Sync + 'static {
    /// The caller, or the status to answer with (usually UNAUTHENTICATED).
    fn authenticate(&self, metadata: &MetadataMap) -> Result<Caller, Status>;
}

/// Decides whether a caller may run an RPC against a tenant.
pub trait Authorizer: Send + Sync + 'static {
    /// `Ok` to proceed, or the status to answer with (usually PERMISSION_DENIED).
    ///
    /// `tenant` is the tenant the RPC touches; `None` for platform-wide RPCs (creating a
    /// tenant, listing tenants).
    fn authorize(&self, caller: &Caller, rpc: &str, tenant: Option<TenantId>)
    -> Result<(), Status>;
}

/// Development identity: accepts every call as the platform admin `dev`.
///
/// Only the embedded single-node mode offers it, and only when asked for explicitly.
#[derive(Clone, Copy, Debug, Default)]
pub struct DevIdentity;

impl Authenticator for DevIdentity {
    fn authenticate(&self, _metadata: &MetadataMap) -> Result<Caller, Status> {
        Ok(Caller {
            subject: "dev".to_owned(),
            tenant_id: None,
            platform_admin: true,
            credential_kind: "dev".to_owned(),
            credential_id: None,
        })
    }
}

/// No authentication configured yet: every call is refused with UNAUTHENTICATED.
#[derive(Clone, Copy, Debug, Default)]
pub struct Unconfigured;

/// Message of every refusal by [`Unconfigured`].
pub const UNCONFIGURED_MESSAGE: &str = "authentication is not configured on this node yet; \
     every call is refused (embedded mode accepts --dev-identity for local trials)";

impl Authenticator for Unconfigured {
    fn authenticate(&self, _metadata: &MetadataMap) -> Result<Caller, Status> {
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

impl Authorizer for TenantBoundary {
    fn authorize(
        &self,
        caller: &Caller,
        rpc: &str,
        tenant: Option<TenantId>,
    ) -> Result<(), Status> {
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

/// Which authentication a server uses.
#[derive(Clone)]
pub enum AuthMode {
    /// [`DevIdentity`] (embedded trials only).
    DevIdentity,
    /// [`Unconfigured`]: refuse everything.
    Unconfigured,
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
            AuthMode::Custom { .. } => "custom authentication",
        }
    }

    /// The authenticator of this mode.
    pub fn authenticator(&self) -> Arc<dyn Authenticator> {
        match self {
            AuthMode::DevIdentity => Arc::new(DevIdentity),
            AuthMode::Unconfigured => Arc::new(Unconfigured),
            AuthMode::Custom { authenticator, .. } => authenticator.clone(),
        }
    }

    /// The authorizer of this mode.
    pub fn authorizer(&self) -> Arc<dyn Authorizer> {
        match self {
            AuthMode::DevIdentity | AuthMode::Unconfigured => Arc::new(TenantBoundary),
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
/// Every handler calls this once it knows the tenant the RPC touches.
pub fn authorize<T>(
    authorizer: &dyn Authorizer,
    request: &Request<T>,
    tenant: Option<TenantId>,
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
    authorizer.authorize(&caller, rpc, tenant)?;
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
        match self.authenticator.authenticate(&metadata) {
            Ok(caller) => {
                let method = request.uri().path().trim_start_matches('/').to_owned();
                // The span of the whole call: every log line of the request carries these.
                let span = tracing::info_span!("rpc", method = %method, subject = %caller.subject);
                request.extensions_mut().insert(caller);
                request.extensions_mut().insert(RpcMethod(method));
                // The clone that was made ready is the one we call (tower's usual dance).
                let clone = self.inner.clone();
                let mut inner = std::mem::replace(&mut self.inner, clone);
                Box::pin(inner.call(request).instrument(span))
            }
            Err(status) => {
                tracing::debug!(path = request.uri().path(), code = ?status.code(), "call refused by authentication");
                Box::pin(async move { Ok(status.into_http()) })
            }
        }
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
        }
    }

    #[test]
    fn dev_identity_is_platform_admin() {
        let c = DevIdentity.authenticate(&MetadataMap::new()).unwrap();
        assert!(c.platform_admin);
        assert_eq!(c.subject, "dev");
        assert_eq!(c.audit_actor().credential_kind, "dev");
    }

    #[test]
    fn unconfigured_refuses() {
        let err = Unconfigured.authenticate(&MetadataMap::new()).unwrap_err();
        assert_eq!(err.code(), tonic::Code::Unauthenticated);
    }

    #[test]
    fn tenant_boundary() {
        let t = TenantId::new_v7();
        let other = TenantId::new_v7();
        assert!(
            TenantBoundary
                .authorize(&caller(None, true), "X", None)
                .is_ok()
        );
        assert!(
            TenantBoundary
                .authorize(&caller(Some(t), false), "X", Some(t))
                .is_ok()
        );
        let err = TenantBoundary
            .authorize(&caller(Some(t), false), "X", Some(other))
            .unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied);
        let info = tonic_types::StatusExt::get_details_error_info(&err).unwrap();
        assert_eq!(info.reason, "TENANT_MISMATCH");
        assert!(
            TenantBoundary
                .authorize(&caller(Some(t), false), "X", None)
                .is_err()
        );
    }

    #[test]
    fn rpc_method_name() {
        assert_eq!(
            RpcMethod("entity.v1.TenantService/GetTenant".into()).name(),
            "GetTenant"
        );
    }
}
