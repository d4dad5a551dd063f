//! An OTLP/gRPC trace sink for benchmarks: accepts every export, counts the spans, prints the
//! count every 5 s. `cargo run --release --example otlp_sink -- 127.0.0.1:4317`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark tool: a panic ends it

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
    trace_service_server::{TraceService, TraceServiceServer},
};

#[derive(Clone, Default)]
struct Sink(Arc<AtomicU64>);

#[tonic::async_trait]
impl TraceService for Sink {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let spans: usize = request
            .get_ref()
            .resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .map(|s| s.spans.len())
            .sum();
        self.0.fetch_add(spans as u64, Ordering::Relaxed);
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:4317".into());
    let sink = Sink::default();
    let count = sink.0.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(5)).await;
            println!("spans received: {}", count.load(Ordering::Relaxed));
        }
    });
    println!("OTLP sink on {address}");
    tonic::transport::Server::builder()
        .add_service(TraceServiceServer::new(sink))
        .serve(address.parse().expect("an address"))
        .await
        .expect("the sink serves");
}
