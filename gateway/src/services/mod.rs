//! tonic implementations of the `entity.v1` services.
//!
//! Each handler follows the same path: decode and validate the request ([`crate::convert`]),
//! authorize it for its target tenant ([`crate::auth::authorize`]), call the [`Engine`], and
//! map the answer (or the error, through [`crate::status`]) back to proto.
//!
//! Commands ([`Shared::execute`]) are authorized with [`crate::auth::authorize_command`]: the
//! checks that need no tenant state run here, and the permission the caller must hold in the
//! tenant goes to the engine with the command ([`RequestMeta::authorization`]), checked by the
//! tenant's actor in the message that decides it. A command is one visit to the actor.
//!
//! Reads of one entity use the engine's getters and permission checks run inside the tenant's
//! actor with [`Engine::read`] (strongly consistent, so their consistency token never needs
//! waiting for). List, search and audit reads are answered from the read models
//! ([`ReadModels`]): with a consistency token they first wait until the read model has passed
//! that write (bounded; UNAVAILABLE after).

mod access;
mod admin;
mod analytics;
mod api_key;
mod audit;
mod client;
mod customer;
mod directory;
mod organization;
mod registration;
mod role;
mod search;
mod team;
mod tenant;
mod user;

use std::{future::Future, sync::Arc};

use engine::{
    EngineError,
    runtime::{CommandOutcome, Engine, RequestMeta},
};
use projections::ReadModels;
use tonic::{Request, Response, Status, metadata::MetadataMap};

pub use access::AccessApi;
pub use admin::AdminApi;
pub use analytics::AnalyticsApi;
pub use api_key::ApiKeyApi;
pub use audit::AuditApi;
pub use client::ClientApi;
pub use customer::CustomerApi;
pub use directory::{ContactApi, DepartmentApi, LocationApi, PartitionApi, PartitionGroupApi};
pub use organization::OrganizationApi;
pub use registration::RegistrationApi;
pub use role::RoleApi;
pub use search::SearchApi;
pub use team::TeamApi;
pub use tenant::TenantApi;
pub use user::UserApi;

use crate::{
    auth::{self, Authorizer, Caller, RpcMethod, Target, policy},
    convert::Mutation,
    node::Node,
    status,
};

/// Which tenant an RPC is authorized against.
#[derive(Clone, Debug, PartialEq, Eq)]
enum AuthTarget {
    /// A platform-wide RPC (creating or listing tenants).
    Platform,
    /// The tenant the request names.
    Tenant,
    /// The tenant a person registers in, with the email they register.
    Registrant(String),
}

/// What every handler needs: the engine, the read models and the authorization hook.
#[derive(Clone)]
struct Shared {
    engine: Engine,
    reads: ReadModels,
    projections: Arc<crate::projection_host::ProjectionHost>,
    authorizer: Arc<dyn Authorizer>,
    started: std::time::Instant,
    kafka: Option<Arc<projections::KafkaPublisher>>,
    keeper: Option<Arc<cluster::ShardKeeper>>,
    /// Looks up registration domains' TXT records.
    resolver: Arc<dyn crate::dns::TxtResolver>,
}

impl Shared {
    /// Decodes, authorizes and executes a mutating request.
    ///
    /// The caller's permission in the tenant is checked by the tenant's actor, in the message
    /// that runs the command, with the same answer an up-front check gives.
    /// `field_prefix` turns the domain's field names into the request's field paths.
    async fn execute<T>(
        &self,
        request: Request<T>,
        target: AuthTarget,
        field_prefix: &str,
        decode: impl FnOnce(T) -> Result<Mutation, Status>,
    ) -> Result<CommandOutcome, Status> {
        let (metadata, extensions, message) = request.into_parts();
        let mutation = decode(message)?;
        let auth_target = match target {
            AuthTarget::Platform => Target::default(),
            AuthTarget::Tenant => policy::write_target(mutation.tenant_id, &mutation.command),
            AuthTarget::Registrant(email) => Target {
                email: Some(email),
                ..policy::write_target(mutation.tenant_id, &mutation.command)
            },
        };
        let request = Request::from_parts(metadata, extensions, ());
        let (caller, authorization) =
            auth::authorize_command(self.authorizer.as_ref(), &request, &auth_target).await?;
        let metadata = request.metadata();
        let call_id = mutation.request_id.is_none().then(|| call_id(metadata));
        let meta = RequestMeta {
            request_id: mutation.request_id,
            call_id,
            expected_version: mutation.expected_version,
            actor: caller.audit_actor(),
            trace_id: trace_id(metadata),
            authorization,
        };
        let rpc = request
            .extensions()
            .get::<RpcMethod>()
            .map_or("unknown", RpcMethod::name);
        self.engine
            .execute(mutation.tenant_id, mutation.command, meta)
            .await
            .map_err(|e| status::from_rpc_error(rpc, e, field_prefix))
    }

    /// Runs the tenant-scoped command `decode` makes of the request (its field errors under
    /// `field_prefix`) and answers with the response made of the entity it touched.
    async fn mutate<T, R: Answer>(
        &self,
        request: Request<T>,
        field_prefix: &str,
        decode: impl FnOnce(T) -> Result<Mutation, Status>,
    ) -> Result<Response<R>, Status> {
        let outcome = self
            .execute(request, AuthTarget::Tenant, field_prefix, decode)
            .await?;
        answer(&outcome)
    }

    /// Authorizes a read of `target`, then runs `query` on the read models; its errors become
    /// statuses.
    async fn read_model<T, R, Fut>(
        &self,
        request: Request<T>,
        target: Target,
        query: impl FnOnce(ReadModels) -> Fut,
    ) -> Result<R, Status>
    where
        Fut: Future<Output = projections::Result<R>>,
    {
        self.authorize(strip(request), target).await?;
        query(self.reads.clone())
            .await
            .map_err(status::from_read_error)
    }

    /// Authorizes a read of `target`, then runs `read` on the engine (answered inside the
    /// tenant's actor); its errors become statuses.
    async fn read_engine<'a, T, R, Fut>(
        &'a self,
        request: Request<T>,
        target: Target,
        read: impl FnOnce(&'a Engine) -> Fut,
    ) -> Result<R, Status>
    where
        Fut: Future<Output = Result<R, EngineError>>,
    {
        self.authorize(strip(request), target).await?;
        read(&self.engine)
            .await
            .map_err(|e| status::from_engine_error(e, ""))
    }

    /// Runs the authorization hook for a read of `target`.
    async fn authorize(&self, request: Request<()>, target: Target) -> Result<Caller, Status> {
        auth::authorize(self.authorizer.as_ref(), &request, &target).await
    }
}

/// A command's response message, made of the entity the command touched.
trait Answer: Sized {
    /// The response, or `None` when the outcome is about another kind of entity.
    fn answer(outcome: &CommandOutcome) -> Option<Self>;
}

/// The response to a command, or INTERNAL when the engine answered with another entity (a bug).
fn answer<R: Answer>(outcome: &CommandOutcome) -> Result<Response<R>, Status> {
    R::answer(outcome).map(Response::new).ok_or_else(|| {
        tracing::error!(view = ?outcome.view, "command answered with another kind of entity");
        Status::internal("internal error")
    })
}

/// The request without its message (what the authorization hook looks at).
fn strip<T>(request: Request<T>) -> Request<()> {
    let (metadata, extensions, _) = request.into_parts();
    Request::from_parts(metadata, extensions, ())
}

/// The longest `x-request-id` recorded as a call's id.
const MAX_CALL_ID_LEN: usize = 128;

/// The id the audit trail records for a call without an idempotency key: the caller's
/// `x-request-id` when it is 1–128 printable ASCII characters, else a new UUID v7.
fn call_id(metadata: &MetadataMap) -> String {
    metadata
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            (1..=MAX_CALL_ID_LEN).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_graphic())
        })
        .map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_owned)
}

/// The trace id of a W3C `traceparent` header, if the caller sent a well-formed one.
fn trace_id(metadata: &MetadataMap) -> Option<String> {
    let value = metadata.get("traceparent")?.to_str().ok()?;
    let mut parts = value.split('-');
    let (_version, trace) = (parts.next()?, parts.next()?);
    (trace.len() == 32 && trace.bytes().all(|b| b.is_ascii_hexdigit())).then(|| trace.to_owned())
}

/// Every `entity.v1` service, on one engine and authorization hook.
pub struct Apis {
    /// TenantService.
    pub tenant: TenantApi,
    /// OrganizationService.
    pub organization: OrganizationApi,
    /// TeamService.
    pub team: TeamApi,
    /// UserService.
    pub user: UserApi,
    /// RoleService.
    pub role: RoleApi,
    /// AccessService.
    pub access: AccessApi,
    /// AuditService.
    pub audit: AuditApi,
    /// ClientService.
    pub client: ClientApi,
    /// DepartmentService.
    pub department: DepartmentApi,
    /// LocationService.
    pub location: LocationApi,
    /// ContactService.
    pub contact: ContactApi,
    pub partition: PartitionApi,
    pub partition_group: PartitionGroupApi,
    pub api_key: ApiKeyApi,
    /// RegistrationService.
    pub registration: RegistrationApi,
    /// CustomerService.
    pub customer: CustomerApi,
    /// AdminService.
    pub admin: AdminApi,
    /// AnalyticsService.
    pub analytics: AnalyticsApi,
    /// SearchService.
    pub search: SearchApi,
}

/// Builds every service on one node and authorization hook.
pub fn build(node: &Node, authorizer: Arc<dyn Authorizer>) -> Apis {
    let shared = Shared {
        engine: node.engine().clone(),
        reads: node.reads().clone(),
        projections: node.projections(),
        authorizer,
        started: std::time::Instant::now(),
        kafka: node.kafka(),
        keeper: node.keeper(),
        resolver: node.resolver(),
    };
    Apis {
        tenant: TenantApi::new(shared.clone()),
        organization: OrganizationApi::new(shared.clone()),
        team: TeamApi::new(shared.clone()),
        user: UserApi::new(shared.clone()),
        role: RoleApi::new(shared.clone()),
        access: AccessApi::new(shared.clone()),
        audit: AuditApi::new(shared.clone()),
        client: ClientApi::new(shared.clone()),
        department: DepartmentApi::new(shared.clone()),
        location: LocationApi::new(shared.clone()),
        contact: ContactApi::new(shared.clone()),
        partition: PartitionApi::new(shared.clone()),
        partition_group: PartitionGroupApi::new(shared.clone()),
        api_key: ApiKeyApi::new(shared.clone()),
        registration: RegistrationApi::new(shared.clone()),
        customer: CustomerApi::new(shared.clone()),
        analytics: AnalyticsApi::new(shared.clone()),
        search: SearchApi::new(shared.clone()),
        admin: AdminApi::new(shared),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_ids_come_from_traceparent() {
        let mut m = MetadataMap::new();
        assert_eq!(trace_id(&m), None);
        m.insert(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
                .parse()
                .unwrap(),
        );
        assert_eq!(
            trace_id(&m).as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
        m.insert("traceparent", "00-xyz-00f067aa0ba902b7-01".parse().unwrap());
        assert_eq!(trace_id(&m), None);
    }

    #[test]
    fn call_ids_come_from_x_request_id_or_are_generated() {
        let mut m = MetadataMap::new();
        let generated = call_id(&m);
        assert!(uuid::Uuid::parse_str(&generated).is_ok(), "{generated}");
        assert_ne!(call_id(&m), generated, "a new id per call");
        m.insert("x-request-id", "req-42".parse().unwrap());
        assert_eq!(call_id(&m), "req-42");
        for bad in ["has space".to_owned(), "x".repeat(MAX_CALL_ID_LEN + 1)] {
            m.insert("x-request-id", bad.parse().unwrap());
            assert!(
                uuid::Uuid::parse_str(&call_id(&m)).is_ok(),
                "{bad} replaced"
            );
        }
    }
}
