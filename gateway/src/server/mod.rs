//! Building and running the gRPC server.
//!
//! ```text
//! ┌ tonic server (max request message 1 MiB) ───────────────────────────────┐
//! │ grpc.health.v1.Health                      (outside the auth layer)     │
//! │ grpc.reflection.v1 / v1alpha               (outside the auth layer)     │
//! │ AuthLayer ─ LimitsLayer ─ SizeLimitStatus ─ entity.v1.TenantService      │
//! │ AuthLayer ─ LimitsLayer ─ SizeLimitStatus ─ entity.v1.OrganizationService│
//! │ AuthLayer ─ LimitsLayer ─ SizeLimitStatus ─ entity.v1.TeamService        │
//! │ AuthLayer ─ LimitsLayer ─ SizeLimitStatus ─ entity.v1.UserService        │
//! │ AuthLayer ─ LimitsLayer ─ SizeLimitStatus ─ entity.v1.RoleService        │
//! │ AuthLayer ─ LimitsLayer ─ SizeLimitStatus ─ entity.v1.AccessService      │
//! └──────────────────────────────────────────────────────────────────────────┘
//! ```
//!
//! [`serve`] runs until its shutdown future resolves, drains in-flight calls, then shuts the
//! engine down. [`spawn_server`] runs it in a task (tests, embedding).
//!
//! [`limits`]: global load shedding and per-tenant rate limits by plan.

pub mod limits;
mod size_limit;

use std::{future::Future, net::SocketAddr};

use entity_proto::v1::{
    access_service_server::AccessServiceServer, admin_service_server::AdminServiceServer,
    audit_service_server::AuditServiceServer,
    organization_service_server::OrganizationServiceServer, role_service_server::RoleServiceServer,
    team_service_server::TeamServiceServer, tenant_service_server::TenantServiceServer,
    user_service_server::UserServiceServer,
};
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};
use tonic::{
    server::NamedService,
    transport::{Server, server::TcpIncoming},
};
use tonic_health::ServingStatus;
use tower::Layer;

use limits::{Limited, Limits, LimitsLayer};
use size_limit::{SizeLimitStatus, SizeLimitStatusLayer};

use crate::{
    auth::{AuthLayer, AuthMode, Authenticated},
    error::{GatewayError, Result},
    node::Node,
    routing::{Routing, RoutingLayer},
    services::{
        self, AccessApi, AdminApi, AuditApi, OrganizationApi, RoleApi, TeamApi, TenantApi, UserApi,
    },
};

/// Largest request message accepted (bigger ones get RESOURCE_EXHAUSTED).
pub const MAX_REQUEST_MESSAGE_BYTES: usize = 1024 * 1024;

/// Names of the services reported by the health service (besides the overall `""`): every
/// `entity.v1` service.
pub const SERVICE_NAMES: [&str; 8] = [
    <TenantServiceServer<TenantApi> as NamedService>::NAME,
    <OrganizationServiceServer<OrganizationApi> as NamedService>::NAME,
    <TeamServiceServer<TeamApi> as NamedService>::NAME,
    <UserServiceServer<UserApi> as NamedService>::NAME,
    <RoleServiceServer<RoleApi> as NamedService>::NAME,
    <AccessServiceServer<AccessApi> as NamedService>::NAME,
    <AuditServiceServer<AuditApi> as NamedService>::NAME,
    <AdminServiceServer<AdminApi> as NamedService>::NAME,
];

/// A service behind the one auth layer, the limits, cluster routing and the size-limit status
/// rewrite.
fn guarded<S>(
    auth: &AuthLayer,
    limits: &LimitsLayer,
    routing: &RoutingLayer,
    service: S,
) -> Authenticated<Limited<Routing<SizeLimitStatus<S>>>> {
    auth.layer(limits.layer(routing.layer(SizeLimitStatusLayer.layer(service))))
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
    let engine = node.engine().clone();
    let apis = services::build(&node, auth.authorizer(&engine));
    let auth_layer = AuthLayer::new(auth.authenticator());
    let routing = RoutingLayer::new(node.router());
    let limits = LimitsLayer::new(Limits::new(engine.clone(), limits::DEFAULT_MAX_IN_FLIGHT));
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
    let result = builder
        .tcp_nodelay(true)
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(guarded(&auth_layer, &limits, &routing, tenant))
        .add_service(guarded(&auth_layer, &limits, &routing, organization))
        .add_service(guarded(&auth_layer, &limits, &routing, team))
        .add_service(guarded(&auth_layer, &limits, &routing, user))
        .add_service(guarded(&auth_layer, &limits, &routing, role))
        .add_service(guarded(&auth_layer, &limits, &routing, access))
        .add_service(guarded(&auth_layer, &limits, &routing, audit))
        .add_service(guarded(&auth_layer, &limits, &routing, admin))
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
