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
//!   and tests only) and [`Unconfigured`] (everything refused); [`api_key::ApiKeyAuthenticator`]
//!   in front of the first two accepts data-partition API keys (the caller is then the key).
//! - The layer also enforces `x-tenant-id`: sent more than once it is INVALID_ARGUMENT (a
//!   `BadRequest` violation of field `x-tenant-id`); when present it must equal the
//!   credential's tenant (PERMISSION_DENIED, reason `TENANT_MISMATCH`), and [`authorize`] then
//!   requires the request to touch that tenant, platform admins included.
//! - An [`Authorizer`] decides whether a caller may run an RPC against its [`Target`]. The
//!   handlers call it after validating the request (so malformed requests are
//!   INVALID_ARGUMENT without touching the engine), through [`authorize`], or for commands
//!   [`authorize_command`].
//!   [`RoleAuthorizer`] (JWT mode) evaluates the table of [`policy`] against the caller's own
//!   role assignments: the tenant boundary, platform admins and "own" need no engine; what
//!   needs the tenant's roles becomes a [`PermissionRequirement`]. A read checks it in one
//!   `Engine::authorize` visit; a command does not visit for it at all: the requirement goes
//!   down with the command ([`RequestMeta::authorization`](engine::runtime::RequestMeta)) and
//!   the tenant's actor checks it in the message that decides the command, so a command is
//!   one actor round trip and a role revoked just before it always stops it.
//!   [`TenantBoundary`] (dev identity, tests) only keeps callers inside their tenant.
//! - Between the auth layer and the service, `server::limits` sheds load and rate-limits
//!   each tenant by plan.
//!
//! Health and reflection are served outside this layer.

pub mod api_key;
pub mod dev;
pub mod jwt;
pub mod policy;
pub mod search_key;
mod verified_tokens;

use std::{
    sync::Arc,
    task::{Context, Poll},
};

use engine::{
    domain::{FieldViolation, PermissionPattern, Scope, TenantId, UserId},
    journal::AuditActor,
    runtime::{Engine, PermissionRequirement, Subject},
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
    /// The API key this caller presented, if it is one (see [`api_key`]).
    pub api_key: Option<api_key::KeyCredential>,
    /// The caller's email address, verified by the identity provider (`email` with
    /// `email_verified: true` in a JWT): a person may register themself with it.
    pub verified_email: Option<String>,
    /// The grant of the secured search key this caller presented, if it is one: it may
    /// search within it (SearchCustomers) and do nothing else.
    pub search_grant: Option<crate::search_key::SearchGrant>,
}

impl Caller {
    /// The tenant whose rate and call slots this call counts against: the credential's
    /// (an API key is verified before it counts, so made-up keys naming a tenant cannot use
    /// up that tenant's share).
    pub fn rate_account(&self) -> Option<TenantId> {
        self.tenant_id
    }

    /// Whether this caller is a person (not an API key) whose identity provider verified
    /// `email` as theirs.
    pub fn verified_as(&self, email: &str) -> bool {
        self.api_key.is_none()
            && self
                .verified_email
                .as_deref()
                .is_some_and(|own| own.trim().eq_ignore_ascii_case(email.trim()))
    }

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

    /// Authorizes a command (a mutating RPC): as [`authorize`](Self::authorize), except that a
    /// check needing the target tenant's state may be handed back, as a requirement, instead of
    /// run here. The caller sends it with the command to `target.tenant`, whose actor checks it
    /// in the message that decides the command: one visit instead of two, and nothing can
    /// change the caller's roles in between. A refused requirement must read exactly as this
    /// authorizer's own refusal would (see [`crate::status::from_rpc_error`]).
    ///
    /// The default runs [`authorize`](Self::authorize) and hands back nothing.
    async fn authorize_command(
        &self,
        caller: &Caller,
        rpc: &str,
        target: &Target,
    ) -> Result<Option<PermissionRequirement>, Status> {
        self.authorize(caller, rpc, target).await.map(|()| None)
    }
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
            api_key: None,
            verified_email: None,
            search_grant: None,
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

    /// Everything of the policy that needs no tenant state: `Ok(None)` when the call is allowed
    /// without the tenant's roles (platform admin, a rule without a permission, "own"), else
    /// the tenant and what the caller must hold there.
    fn requirement(
        caller: &Caller,
        rpc: &str,
        target: &Target,
    ) -> Result<Option<(TenantId, PermissionRequirement)>, Status> {
        // A search key searches, within its grant (checked by the search), and does nothing else.
        if caller.search_grant.is_some() {
            return match policy::rule(rpc) {
                Some(policy::Rule::Searcher) => Ok(None),
                _ => Err(status::refusal(
                    Code::PermissionDenied,
                    "SEARCH_KEY_ONLY_SEARCHES",
                    format!("{rpc}: a search key only calls SearchCustomers"),
                )),
            };
        }
        match policy::rule(rpc) {
            Some(policy::Rule::AnyCaller) => return Ok(None),
            Some(policy::Rule::Registrant) if registers_themself(caller, target) => {
                return Ok(None);
            }
            _ => {}
        }
        tenant_boundary(caller, rpc, target.tenant)?;
        if caller.platform_admin {
            return Ok(None);
        }
        let Some(rule) = policy::rule(rpc) else {
            tracing::error!(rpc, "RPC without an authorization rule");
            return Err(denied(rpc, "platform-admin", None));
        };
        let (permission, at, own) = match rule {
            policy::Rule::PlatformAdmin => return Err(denied(rpc, "platform-admin", None)),
            // Let through above.
            policy::Rule::AnyCaller => return Ok(None),
            // Someone else's registration: a platform service on the person's behalf only.
            policy::Rule::Registrant => return Err(denied(rpc, "platform-admin", None)),
            // An API key must still be valid: its actor checks it with the call.
            policy::Rule::TenantCaller => {
                return Ok(caller
                    .api_key
                    .as_ref()
                    .zip(target.tenant)
                    .map(|(key, tenant)| {
                        (
                            tenant,
                            PermissionRequirement {
                                subject: key.subject(),
                                permission: None,
                                scopes: Vec::new(),
                                confers: target.confers.clone(),
                            },
                        )
                    }));
            }
            policy::Rule::Searcher => ("client:read", policy::At::Tenant, false),
            policy::Rule::Permission {
                permission,
                at,
                own,
            } => (permission, at, own),
        };
        let Some(tenant) = target.tenant else {
            return Err(denied(rpc, permission, None));
        };
        let permission_pattern: PermissionPattern = permission
            .parse()
            .map_err(|_| Status::internal("internal error"))?;
        if let Some(key) = &caller.api_key {
            // A key holds its scopes tenant-wide; the actor verifies it again with them.
            return Ok(Some((
                tenant,
                PermissionRequirement {
                    subject: key.subject(),
                    permission: Some(permission_pattern),
                    scopes: policy::scopes(at, target),
                    confers: target.confers.clone(),
                },
            )));
        }
        let Ok(user) = caller.subject.parse::<UserId>() else {
            tracing::debug!(subject = %caller.subject, "subject is not a user id");
            return Err(denied(rpc, permission, Some(Scope::Tenant)));
        };
        // Nothing "own" gives anything away; were it to, the check would still apply.
        if own && target.user == Some(user) && target.confers.is_empty() {
            return Ok(None);
        }
        let requirement = PermissionRequirement {
            subject: Subject::User(user),
            permission: Some(permission_pattern),
            scopes: policy::scopes(at, target),
            confers: target.confers.clone(),
        };
        Ok(Some((tenant, requirement)))
    }
}

/// Whether a person registers themself: their identity provider verified the very email the
/// request registers (never an API key: a key is no person), and their token names no other
/// tenant than the one they join.
fn registers_themself(caller: &Caller, target: &Target) -> bool {
    caller
        .tenant_id
        .is_none_or(|own| Some(own) == target.tenant)
        && target
            .email
            .as_deref()
            .is_some_and(|email| caller.verified_as(email))
}

fn denied(rpc: &str, permission: &str, scope: Option<Scope>) -> Status {
    status::permission_denied(rpc, permission, scope)
}

#[async_trait::async_trait]
impl Authorizer for RoleAuthorizer {
    async fn authorize(&self, caller: &Caller, rpc: &str, target: &Target) -> Result<(), Status> {
        let Some((tenant, requirement)) = Self::requirement(caller, rpc, target)? else {
            return Ok(());
        };
        // An unknown organization or team is NOT_FOUND, as the handler would say.
        self.engine
            .authorize(tenant, requirement)
            .await
            .map_err(|e| status::from_rpc_error(rpc, e, ""))
    }

    /// The role check is left to the tenant's actor, with the command.
    async fn authorize_command(
        &self,
        caller: &Caller,
        rpc: &str,
        target: &Target,
    ) -> Result<Option<PermissionRequirement>, Status> {
        Ok(Self::requirement(caller, rpc, target)?.map(|(_, requirement)| requirement))
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

    /// The authenticator of this mode. Data-partition API keys and secured search keys are
    /// accepted besides the mode's own credentials, verified against `engine`
    /// ([`api_key::ApiKeyAuthenticator`], [`search_key::SearchKeyAuthenticator`]), in every
    /// mode but [`AuthMode::Unconfigured`] and [`AuthMode::Custom`].
    pub fn authenticator(&self, engine: &Engine) -> Arc<dyn Authenticator> {
        let with_keys = |inner: Arc<dyn Authenticator>| -> Arc<dyn Authenticator> {
            let api_keys = Arc::new(api_key::ApiKeyAuthenticator::new(inner, engine.clone()));
            Arc::new(search_key::SearchKeyAuthenticator::new(
                api_keys,
                engine.clone(),
            ))
        };
        match self {
            AuthMode::DevIdentity => with_keys(Arc::new(DevIdentity)),
            AuthMode::Unconfigured => Arc::new(Unconfigured),
            AuthMode::Jwt(jwt) => with_keys(jwt.clone()),
            AuthMode::Custom { authenticator, .. } => authenticator.clone(),
        }
    }

    /// The authorizer of this mode: the engine's roles for JWT callers and API keys (the dev
    /// identity is a platform administrator, whom they let through).
    pub fn authorizer(&self, engine: &Engine) -> Arc<dyn Authorizer> {
        match self {
            AuthMode::Unconfigured => Arc::new(TenantBoundary),
            AuthMode::DevIdentity | AuthMode::Jwt(_) => {
                Arc::new(RoleAuthorizer::new(engine.clone()))
            }
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
/// Every handler calls this (or [`authorize_command`]) once it has validated the request and
/// knows its target.
pub async fn authorize<T>(
    authorizer: &dyn Authorizer,
    request: &Request<T>,
    target: &Target,
) -> Result<Caller, Status> {
    let (caller, rpc) = call_of(request, target)?;
    authorizer.authorize(&caller, rpc, target).await?;
    Ok(caller)
}

/// [`authorize`] for a command: also returns what the caller must hold in the target tenant,
/// for the engine to check with the command ([`Authorizer::authorize_command`]).
pub async fn authorize_command<T>(
    authorizer: &dyn Authorizer,
    request: &Request<T>,
    target: &Target,
) -> Result<(Caller, Option<PermissionRequirement>), Status> {
    let (caller, rpc) = call_of(request, target)?;
    let requirement = authorizer.authorize_command(&caller, rpc, target).await?;
    Ok((caller, requirement))
}

/// The caller and method name of a request that passed [`AuthLayer`], once its
/// `x-tenant-id` (if sent) is found to name the tenant `target` touches.
fn call_of<'r, T>(request: &'r Request<T>, target: &Target) -> Result<(Caller, &'r str), Status> {
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
    Ok((caller, rpc))
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

use crate::BoxFuture;

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
            api_key: None,
            verified_email: None,
            search_grant: None,
        }
    }

    #[test]
    fn a_person_registers_only_the_email_their_identity_provider_verified() {
        let person = |email: Option<&str>| Caller {
            verified_email: email.map(str::to_owned),
            search_grant: None,
            ..caller(None, false)
        };
        let target = |email: &str| Target {
            email: Some(email.into()),
            ..Target::tenant(TenantId::new_v7())
        };
        let rpc = "RegisterUser";
        let allowed =
            |c: &Caller, t: &Target| matches!(RoleAuthorizer::requirement(c, rpc, t), Ok(None));
        assert!(allowed(
            &person(Some("Jo@Acme.example")),
            &target(" jo@acme.example")
        ));
        assert!(!allowed(
            &person(Some("jo@acme.example")),
            &target("ann@acme.example")
        ));
        assert!(!allowed(&person(None), &target("jo@acme.example")));
        assert!(!allowed(
            &person(Some("jo@acme.example")),
            &Target::default()
        ));
        // A key is no person, whatever it claims.
        let key = Caller {
            api_key: Some(api_key::KeyCredential {
                id: engine::domain::ApiKeyId::new_v7(),
                hash: engine::domain::SecretHash::ZERO,
            }),
            ..person(Some("jo@acme.example"))
        };
        assert!(!allowed(&key, &target("jo@acme.example")));
        // A token of another tenant registers nobody here, not even its holder.
        let elsewhere = Caller {
            tenant_id: Some(TenantId::new_v7()),
            ..person(Some("jo@acme.example"))
        };
        assert!(!allowed(&elsewhere, &target("jo@acme.example")));
        // Anyone else's registration is a platform service's, on the person's behalf.
        let tenant = TenantId::new_v7();
        let member = Caller {
            subject: engine::domain::UserId::new_v7().to_string(),
            tenant_id: Some(tenant),
            ..caller(None, false)
        };
        let t = Target {
            email: Some("someone@acme.example".into()),
            ..Target::tenant(tenant)
        };
        let refused = RoleAuthorizer::requirement(&member, rpc, &t).unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied);
        assert!(matches!(
            RoleAuthorizer::requirement(&caller(None, true), rpc, &t),
            Ok(None)
        ));
    }

    #[test]
    fn resolve_registration_is_open_to_every_authenticated_caller() {
        let anyone = caller(Some(TenantId::new_v7()), false);
        let rpc = "ResolveRegistration";
        assert!(matches!(
            RoleAuthorizer::requirement(&anyone, rpc, &Target::default()),
            Ok(None)
        ));
        let key = Caller {
            api_key: Some(api_key::KeyCredential {
                id: engine::domain::ApiKeyId::new_v7(),
                hash: engine::domain::SecretHash::ZERO,
            }),
            ..anyone.clone()
        };
        assert!(matches!(
            RoleAuthorizer::requirement(&key, rpc, &Target::default()),
            Ok(None)
        ));
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

    /// The role check of a command is handed back for the engine to run with the command: no
    /// visit here (the engine below is stopped, so any visit would fail), while a read's check
    /// does visit.
    #[tokio::test]
    async fn role_checks_of_commands_are_left_to_the_engine() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Arc::new(engine::testing::sqlite_journal(dir.path()).await);
        let engine = Engine::start(journal, engine::runtime::EngineConfig::default())
            .await
            .unwrap();
        engine.shutdown().await;
        let roles = RoleAuthorizer::new(engine);
        let tenant = TenantId::new_v7();
        let user = UserId::new_v7();
        let org = engine::domain::OrganizationId::new_v7();
        let member = Caller {
            subject: user.to_string(),
            ..caller(Some(tenant), false)
        };
        let moved = Target {
            organization: Some(org),
            ..Target::tenant(tenant)
        };

        let requirement = roles
            .authorize_command(&member, "MoveOrganization", &moved)
            .await
            .unwrap();
        assert_eq!(
            requirement,
            Some(PermissionRequirement {
                subject: Subject::User(user),
                permission: Some("organization:move".parse().unwrap()),
                scopes: vec![Scope::Organization(org), Scope::Tenant],
                confers: Vec::new(),
            })
        );
        let read = roles
            .authorize(&member, "GetOrganization", &moved)
            .await
            .unwrap_err();
        assert_eq!(read.code(), Code::Unavailable, "a read visits: {read:?}");

        // What needs no tenant state is decided here, as before.
        let own = Target {
            user: Some(user),
            ..Target::tenant(tenant)
        };
        let admin = caller(None, true);
        for (who, rpc, target) in [
            (&member, "UpdateUserProfile", &own),
            (&member, "AcceptInvitation", &own),
            (&admin, "DeleteOrganization", &moved),
        ] {
            let answer = roles.authorize_command(who, rpc, target).await;
            assert_eq!(answer.unwrap(), None, "{rpc}");
        }
        let service = caller(Some(tenant), false);
        let err = roles
            .authorize_command(&service, "UpdateOrganization", &moved)
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied);
        assert_eq!(
            err.message(),
            "UpdateOrganization needs organization:update at tenant"
        );
        let err = roles
            .authorize_command(
                &member,
                "UpdateOrganization",
                &Target::tenant(TenantId::new_v7()),
            )
            .await
            .unwrap_err();
        let info = tonic_types::StatusExt::get_details_error_info(&err).unwrap();
        assert_eq!(info.reason, "TENANT_MISMATCH");

        // Other authorizers decide everything themselves (the trait's default).
        assert_eq!(
            TenantBoundary
                .authorize_command(&member, "UpdateOrganization", &moved)
                .await
                .unwrap(),
            None
        );
    }

    /// The engine's refusal of a requirement reads as the auth seam's own refusal.
    #[test]
    fn a_refused_requirement_is_the_same_permission_denied() {
        let org = engine::domain::OrganizationId::new_v7();
        let from_engine = crate::status::from_rpc_error(
            "UpdateOrganization",
            engine::EngineError::PermissionDenied {
                permission: "organization:update".parse().unwrap(),
                scope: Scope::Organization(org),
            },
            "organization.",
        );
        let upfront = denied(
            "UpdateOrganization",
            "organization:update",
            Some(Scope::Organization(org)),
        );
        assert_eq!(from_engine.code(), Code::PermissionDenied);
        assert_eq!(from_engine.message(), upfront.message());
        assert_eq!(
            from_engine.message(),
            format!("UpdateOrganization needs organization:update at organization/{org}")
        );
        let info = |s: &Status| tonic_types::StatusExt::get_details_error_info(s).unwrap();
        let (engine_info, upfront_info) = (info(&from_engine), info(&upfront));
        assert_eq!(
            (
                engine_info.reason,
                engine_info.domain,
                engine_info.metadata.clone()
            ),
            (
                upfront_info.reason,
                upfront_info.domain,
                upfront_info.metadata
            )
        );
        assert_eq!(info(&from_engine).reason, "PERMISSION_DENIED");
        assert_eq!(engine_info.metadata["permission"], "organization:update");
        assert_eq!(
            info(&from_engine).metadata["scope"],
            format!("organization/{org}")
        );
    }
}
