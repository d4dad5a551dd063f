//! `GET /metrics`: the node's [`Metrics`] in the Prometheus text format, on an HTTP/1 listener
//! of its own (`--metrics-listen`), apart from the gRPC port so that a scraper needs no
//! credentials and no gRPC, and a firewall can keep it inside the cluster's network.

use std::{net::SocketAddr, sync::Arc};

use axum::{Router, extract::State, http::header, response::IntoResponse, routing::get};
use engine::telemetry;
use tokio::{net::TcpListener, task::JoinHandle};

use crate::{
    error::{GatewayError, Result},
    node_metrics::NodeSampler,
};

/// A running `/metrics` endpoint; dropping it stops it.
#[derive(Debug)]
pub struct MetricsEndpoint {
    local_addr: SocketAddr,
    task: JoinHandle<()>,
}

impl MetricsEndpoint {
    /// Binds `addr` (port 0: any free port) and serves the node's metrics there, each scrape
    /// reading `sampler` first.
    ///
    /// # Errors
    /// When `addr` cannot be bound.
    pub async fn start(sampler: NodeSampler, addr: SocketAddr) -> Result<Self> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| GatewayError::io(format!("binding the metrics address {addr}"), e))?;
        let local_addr = listener
            .local_addr()
            .map_err(|e| GatewayError::io("reading the metrics address", e))?;
        let app = Router::new()
            .route("/metrics", get(scrape))
            .with_state(Arc::new(sampler));
        let task = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::warn!(%error, "the metrics endpoint stopped");
            }
        });
        Ok(Self { local_addr, task })
    }

    /// `http://<address>/metrics`.
    pub fn url(&self) -> String {
        format!("http://{}/metrics", self.local_addr)
    }
}

impl Drop for MetricsEndpoint {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn scrape(State(sampler): State<Arc<NodeSampler>>) -> impl IntoResponse {
    let metrics = sampler.metrics();
    metrics.set_sample(sampler.sample().await);
    (
        [(header::CONTENT_TYPE, telemetry::CONTENT_TYPE)],
        metrics.encode(),
    )
}
