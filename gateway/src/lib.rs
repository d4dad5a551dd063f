//! The gRPC gateway of entity-engine: the `entity.v1` services over the [`engine::runtime::Engine`],
//! the authentication seam, the one error mapping, the `entityd` node binary and the
//! `entityctl` command-line client.
//!
//! - [`spawn_server`] / [`serve`]: run the API (tenants, organizations, teams, users, roles,
//!   permission checks; health and reflection included) on an engine.
//! - [`AuthMode`], [`Caller`], [`Authenticator`], [`Authorizer`]: who may call (see [`auth`]).
//! - [`status`]: how engine errors become `tonic::Status` with `google.rpc` details.
//! - [`entityd_main`], [`entityctl_main`]: the binaries' entry points.

#![warn(missing_docs)]

pub mod auth;
mod cli;
mod config;
mod convert;
pub mod dns;
mod error;
mod node;
mod node_metrics;
pub mod projection_host;
pub mod search_key;

/// The future of a boxed tower service (the layers of `server`, `auth` and `routing`).
pub(crate) type BoxFuture<T, E> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, E>> + Send>>;
mod server;
mod services;
pub mod status;
mod traces;

pub use auth::{AuthMode, Authenticator, Authorizer, Caller, DevIdentity, Unconfigured};
pub use cli::{entityctl_main, entityd_main};
pub use config::{EngineTuning, NodeConfig, ServeSettings};
pub use error::{GatewayError, Result};

/// Makes ring rustls's process-wide provider. The node mesh's TLS library (ractor_cluster's
/// tokio-rustls) brings the aws-lc-rs provider in beside ring, and with two providers rustls
/// cannot pick one on its own: every TLS setup that relies on the default would panic. Call it
/// first thing in a process (the binaries and the tests that start servers in process do);
/// later calls do nothing.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
pub use node::{ClusterOptions, Node, NodeOptions, Storage};
pub use server::{
    Admission, MAX_REQUEST_MESSAGE_BYTES, RunningServer, SERVICE_NAMES, limits, serve, serve_tls,
    serve_with, spawn_server,
};
