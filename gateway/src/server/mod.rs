//! Building and running the gRPC server.
//!
//! ```text
//! ┌ tonic server (HTTP/2: streams per connection, header list, windows) ──────────┐
//! │ CallMetricsLayer (duration by method and status code)                          │
//! │ EdgeLayer (metadata size, deadline = min(grpc-timeout, max call))              │
//! │ ├ grpc.health.v1.Health                      (outside the auth layer)          │
//! │ ├ grpc.reflection.v1 / v1alpha               (outside the auth layer)          │
//! │ ├ AuthLayer ─ LimitsLayer ─ Routing ─ entity.v1.TenantService                   │
//! │ └ … the same for every entity.v1 service                                       │
//! └────────────────────────────────────────────────────────────────────────────────┘
//! ```
//!
//! [`serve`] runs until its shutdown future resolves, drains in-flight calls, then shuts the
//! engine down. [`spawn_server`] runs it in a task (tests, embedding). [`Admission`] holds the
//! bounds of what one client may hold of a node.
//!
//! [`call_metrics`]: every call's duration and status; [`edge`]: metadata size and call
//! deadlines; [`limits`]: the request body received first,
//! calls in flight per tenant and per node, per-tenant rate limits by plan.

pub mod call_metrics;
pub mod edge;
pub mod limits;
pub mod metrics_endpoint;

use std::{future::Future, net::SocketAddr, time::Duration};

use entity_proto::v1::analytics_service_server::AnalyticsServiceServer;
use entity_proto::v1::{
    access_service_server::AccessServiceServer, admin_service_server::AdminServiceServer,
    api_key_service_server::ApiKeyServiceServer, audit_service_server::AuditServiceServer,
    client_service_server::ClientServiceServer, contact_service_server::ContactServiceServer,
    customer_service_server::CustomerServiceServer,
    department_service_server::DepartmentServiceServer,
    location_service_server::LocationServiceServer,
    organization_service_server::OrganizationServiceServer,
    partition_group_service_server::PartitionGroupServiceServer,
    partition_service_server::PartitionServiceServer,
    registration_service_server::RegistrationServiceServer, role_service_server::RoleServiceServer,
    search_service_server::SearchServiceServer, team_service_server::TeamServiceServer,
    tenant_service_server::TenantServiceServer, user_service_server::UserServiceServer,
};
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};
use tonic::{
    server::NamedService,
    transport::{Server, server::TcpIncoming},
};
use tonic_health::ServingStatus;
use tower::Layer;

use call_metrics::CallMetricsLayer;
use edge::EdgeLayer;
use limits::{Limited, Limits, LimitsLayer};

use crate::{
    auth::{AuthLayer, AuthMode, Authenticated},
    error::{GatewayError, Result},
    node::Node,
    services::{
        self, AccessApi, AdminApi, ApiKeyApi, AuditApi, ClientApi, ContactApi, CustomerApi,
        DepartmentApi, LocationApi, OrganizationApi, PartitionApi, PartitionGroupApi,
        RegistrationApi, RoleApi, SearchApi, TeamApi, TenantApi, UserApi,
    },
};

/// Largest request message accepted (bigger ones get RESOURCE_EXHAUSTED).
pub const MAX_REQUEST_MESSAGE_BYTES: usize = 1024 * 1024;
/// Default limit of concurrent HTTP/2 streams (calls) on one client connection.
pub const DEFAULT_MAX_CONCURRENT_STREAMS: u32 = 100;
/// Default longest duration of a call (a client's `grpc-timeout` above it is cut to it).
pub const DEFAULT_MAX_CALL_DURATION: Duration = Duration::from_secs(60);
/// HTTP/2 flow-control window of one stream and of one connection: what a client may send
/// ahead of the server reading it (hyper's defaults, stated here because the memory bounds of
/// docs/ARCHITECTURE.md "Admission control" rest on them).
const HTTP2_WINDOW_BYTES: u32 = 1024 * 1024;

/// How much of a node one client may hold (docs/ARCHITECTURE.md, "Admission control").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Admission {
    /// Concurrent HTTP/2 streams on one connection.
    pub max_concurrent_streams: u32,
    /// Calls in flight on the node (a body still arriving is not in flight).
    pub max_in_flight: usize,
    /// Calls in flight of one tenant (platform callers without a tenant share one count).
    pub max_in_flight_per_tenant: usize,
    /// Bytes of request bodies the node holds, being received or in flight.
    pub max_receive_bytes: usize,
    /// Bytes of request bodies one tenant's calls hold.
    pub max_receive_bytes_per_tenant: usize,
    /// Time a client has to send a whole request body.
    pub request_body_timeout: Duration,
    /// The longest a call may run, whatever its `grpc-timeout`.
    pub max_call_duration: Duration,
}

impl Default for Admission {
    fn default() -> Self {
        Self {
            max_concurrent_streams: DEFAULT_MAX_CONCURRENT_STREAMS,
            max_in_flight: limits::DEFAULT_MAX_IN_FLIGHT,
            max_in_flight_per_tenant: limits::DEFAULT_MAX_IN_FLIGHT / limits::DEFAULT_TENANT_SHARE,
            max_receive_bytes: limits::DEFAULT_MAX_RECEIVE_BYTES,
            max_receive_bytes_per_tenant: limits::DEFAULT_MAX_RECEIVE_BYTES
                / limits::DEFAULT_TENANT_SHARE,
            request_body_timeout: limits::DEFAULT_REQUEST_BODY_TIMEOUT,
            max_call_duration: DEFAULT_MAX_CALL_DURATION,
        }
    }
}

/// Names of the services reported by the health service (besides the overall `""`): every
/// `entity.v1` service.
pub const SERVICE_NAMES: [&str; 19] = [
    <TenantServiceServer<TenantApi> as NamedService>::NAME,
    <OrganizationServiceServer<OrganizationApi> as NamedService>::NAME,
    <TeamServiceServer<TeamApi> as NamedService>::NAME,
    <UserServiceServer<UserApi> as NamedService>::NAME,
    <RoleServiceServer<RoleApi> as NamedService>::NAME,
    <AccessServiceServer<AccessApi> as NamedService>::NAME,
    <AuditServiceServer<AuditApi> as NamedService>::NAME,
    <AdminServiceServer<AdminApi> as NamedService>::NAME,
    <ClientServiceServer<ClientApi> as NamedService>::NAME,
    <DepartmentServiceServer<DepartmentApi> as NamedService>::NAME,
    <LocationServiceServer<LocationApi> as NamedService>::NAME,
    <ContactServiceServer<ContactApi> as NamedService>::NAME,
    <PartitionServiceServer<PartitionApi> as NamedService>::NAME,
    <PartitionGroupServiceServer<PartitionGroupApi> as NamedService>::NAME,
    <ApiKeyServiceServer<ApiKeyApi> as NamedService>::NAME,
    <RegistrationServiceServer<RegistrationApi> as NamedService>::NAME,
    <CustomerServiceServer<CustomerApi> as NamedService>::NAME,
    <AnalyticsServiceServer<services::AnalyticsApi> as NamedService>::NAME,
    <SearchServiceServer<SearchApi> as NamedService>::NAME,
];

/// A service behind the one auth layer and the limits (which also refuse bodies over the
/// size bound). On a cluster node a call is served where it arrives: the engine reaches the
/// tenant's node over the mesh.
fn guarded<S>(auth: &AuthLayer, limits: &LimitsLayer, service: S) -> Authenticated<Limited<S>> {
    auth.layer(limits.layer(service))
}

/// Serves the gRPC API of `node` on `listener` until `shutdown` resolves, then drains
/// in-flight calls and shuts the node down.
pub async fn serve(
    node: Node,
    auth: AuthMode,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    serve_tls(node, auth, listener, shutdown, None).await
}

/// [`serve`], over TLS when `tls` is given.
pub async fn serve_tls(
    node: Node,
    auth: AuthMode,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    tls: Option<tonic::transport::ServerTlsConfig>,
) -> Result<()> {
    serve_with(node, auth, listener, shutdown, tls, Admission::default()).await
}

/// [`serve_tls`] with the bounds of `admission`.
pub async fn serve_with(
    node: Node,
    auth: AuthMode,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    tls: Option<tonic::transport::ServerTlsConfig>,
    admission: Admission,
) -> Result<()> {
    // The codec checks every request with these rules; a build whose descriptor set cannot
    // yield them must not serve at all.
    entity_proto::request_rules()
        .map_err(|e| GatewayError::Config(format!("the request text rules: {e}")))?;
    let engine = node.engine().clone();
    let apis = services::build(&node, auth.authorizer(&engine));
    let auth_layer = AuthLayer::new(auth.authenticator(&engine));
    let limits = LimitsLayer::new(Limits::new(engine.clone(), &admission));
    let limit = MAX_REQUEST_MESSAGE_BYTES;
    let tenant = TenantServiceServer::new(apis.tenant).max_decoding_message_size(limit);
    let organization =
        OrganizationServiceServer::new(apis.organization).max_decoding_message_size(limit);
    let team = TeamServiceServer::new(apis.team).max_decoding_message_size(limit);
    let user = UserServiceServer::new(apis.user).max_decoding_message_size(limit);
    let role = RoleServiceServer::new(apis.role).max_decoding_message_size(limit);
    let access = AccessServiceServer::new(apis.access).max_decoding_message_size(limit);
    let audit = AuditServiceServer::new(apis.audit).max_decoding_message_size(limit);
    let admin = AdminServiceServer::new(apis.admin).max_decoding_message_size(limit);
    let client = ClientServiceServer::new(apis.client).max_decoding_message_size(limit);
    let department = DepartmentServiceServer::new(apis.department).max_decoding_message_size(limit);
    let location = LocationServiceServer::new(apis.location).max_decoding_message_size(limit);
    let contact = ContactServiceServer::new(apis.contact).max_decoding_message_size(limit);
    let partition = PartitionServiceServer::new(apis.partition).max_decoding_message_size(limit);
    let partition_group =
        PartitionGroupServiceServer::new(apis.partition_group).max_decoding_message_size(limit);
    let api_key = ApiKeyServiceServer::new(apis.api_key).max_decoding_message_size(limit);
    let registration =
        RegistrationServiceServer::new(apis.registration).max_decoding_message_size(limit);
    let customer = CustomerServiceServer::new(apis.customer).max_decoding_message_size(limit);
    // Its streams end by the node's maximum call duration, which bounds no response body.
    let analytics =
        AnalyticsServiceServer::new(apis.analytics.with_max_call(admission.max_call_duration))
            .max_decoding_message_size(limit);
    let search = SearchServiceServer::new(apis.search).max_decoding_message_size(limit);

    let (health, health_service) = tonic_health::server::health_reporter();
    for name in SERVICE_NAMES.into_iter().chain([""]) {
        health
            .set_service_status(name, ServingStatus::Serving)
            .await;
    }
    let reflection_v1 = reflection().build_v1()?;
    let reflection_v1alpha = reflection().build_v1alpha()?;

    let drain = async move {
        shutdown.await;
        tracing::info!("shutting down: refusing new calls, draining in-flight ones");
        for name in SERVICE_NAMES.into_iter().chain([""]) {
            health
                .set_service_status(name, ServingStatus::NotServing)
                .await;
        }
    };
    let mut builder = Server::builder();
    if let Some(tls) = tls {
        builder = builder.tls_config(tls)?;
    }
    // No `Server::timeout`: the edge layer enforces the maximum call duration itself, so that
    // an expired call ends DEADLINE_EXCEEDED rather than tonic's CANCELLED.
    let result = builder
        .tcp_nodelay(true)
        .trace_fn(crate::traces::server_span)
        .max_concurrent_streams(admission.max_concurrent_streams)
        .http2_max_header_list_size(edge::HTTP2_MAX_HEADER_LIST_BYTES)
        .initial_stream_window_size(HTTP2_WINDOW_BYTES)
        .initial_connection_window_size(HTTP2_WINDOW_BYTES)
        .layer(CallMetricsLayer::new(engine.metrics().clone()))
        .layer(EdgeLayer::new(admission.max_call_duration))
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(guarded(&auth_layer, &limits, tenant))
        .add_service(guarded(&auth_layer, &limits, organization))
        .add_service(guarded(&auth_layer, &limits, team))
        .add_service(guarded(&auth_layer, &limits, user))
        .add_service(guarded(&auth_layer, &limits, role))
        .add_service(guarded(&auth_layer, &limits, access))
        .add_service(guarded(&auth_layer, &limits, audit))
        .add_service(guarded(&auth_layer, &limits, admin))
        .add_service(guarded(&auth_layer, &limits, client))
        .add_service(guarded(&auth_layer, &limits, department))
        .add_service(guarded(&auth_layer, &limits, location))
        .add_service(guarded(&auth_layer, &limits, contact))
        .add_service(guarded(&auth_layer, &limits, partition))
        .add_service(guarded(&auth_layer, &limits, partition_group))
        .add_service(guarded(&auth_layer, &limits, api_key))
        .add_service(guarded(&auth_layer, &limits, registration))
        .add_service(guarded(&auth_layer, &limits, customer))
        .add_service(guarded(&auth_layer, &limits, analytics))
        .add_service(guarded(&auth_layer, &limits, search))
        // The builder's `tcp_nodelay` applies only to sockets it binds itself: accepted ones
        // get TCP_NODELAY here. Without it a response written in two pieces (data, then
        // trailers) waits for the client's delayed ACK: ~40 ms on a share of low-rate calls.
        .serve_with_incoming_shutdown(TcpIncoming::from(listener).with_nodelay(Some(true)), drain)
        .await;
    node.shutdown().await;
    tracing::info!("engine and projections stopped");
    result.map_err(GatewayError::from)
}

fn reflection() -> tonic_reflection::server::Builder<'static> {
    tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(entity_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
}

/// A server running in a background task (see [`spawn_server`]).
#[derive(Debug)]
pub struct RunningServer {
    local_addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<()>>,
}

impl RunningServer {
    /// The address the server is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `http://<address>`, ready for a tonic client.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.local_addr)
    }

    /// Graceful shutdown: stops accepting calls, drains, shuts the engine down and waits.
    pub async fn shutdown(mut self) -> Result<()> {
        if let Some(tx) = self.shutdown.take() {
            // The receiver is gone only when the server already stopped.
            let _ = tx.send(());
        }
        (&mut self.task).await?
    }

    /// Stops serving at once WITHOUT shutting the engine down (as a crash would), and waits
    /// until the task is gone.
    pub async fn abort(self) {
        self.task.abort();
        // A cancelled task reports `JoinError::Cancelled`; nothing else to learn from it.
        let _ = self.task.await;
    }
}

/// Binds `addr` (use port 0 for any free port) and serves the API of `node` in a background
/// task.
pub async fn spawn_server(node: Node, auth: AuthMode, addr: SocketAddr) -> Result<RunningServer> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| GatewayError::io(format!("binding {addr}"), e))?;
    let local_addr = listener
        .local_addr()
        .map_err(|e| GatewayError::io("reading the bound address", e))?;
    let (tx, rx) = oneshot::channel::<()>();
    let shutdown = async move {
        // A dropped sender (the handle was dropped) also stops the server.
        let _ = rx.await;
    };
    let task = tokio::spawn(serve(node, auth, listener, shutdown));
    Ok(RunningServer {
        local_addr,
        shutdown: Some(tx),
        task,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_service_of_the_contract_is_served() {
        let mut contract: Vec<String> = entity_proto::rpc_methods()
            .unwrap()
            .into_iter()
            .map(|(service, _)| service)
            .collect();
        contract.sort();
        contract.dedup();
        let mut served: Vec<String> = SERVICE_NAMES.map(String::from).to_vec();
        served.sort();
        assert_eq!(served, contract);
    }
}
