//! Call metrics (issue 18): the outermost tower layer times every gRPC call from its first
//! byte in to its last byte out (a server stream's whole life) and counts it in
//! `rpc_server_call_duration_seconds` by service, method and status code.
//!
//! - **The code** is the response's `grpc-status`: in its headers (a trailers-only answer,
//!   which every refused call is), else in its trailers, else the status the body failed
//!   with; a call whose response is dropped before it ends (the client went away) counts as
//!   CANCELLED.
//! - **The method** comes from a fixed table of the API's methods and the health service's,
//!   read from their descriptor sets: any other path (a scanner's, reflection) counts as
//!   service and method `other`, so a caller cannot add series.

use std::{
    collections::HashMap,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use engine::telemetry::{Metrics, RpcLabels};
use http_body::{Frame, SizeHint};
use prost::Message;
use tokio::time::Instant;
use tonic::{
    Code, Status,
    body::Body,
    codegen::{Bytes, http},
    server::NamedService,
};
use tower::{Layer, Service};

/// Label value of a path outside the table.
const OTHER: &str = "other";

/// `/package.Service/Method` → its labels.
#[derive(Debug)]
struct Methods {
    known: HashMap<String, (Arc<str>, Arc<str>)>,
    other: (Arc<str>, Arc<str>),
}

impl Methods {
    /// The methods of the API and of the health service.
    fn new() -> Self {
        let mut known = HashMap::new();
        for set in [
            entity_proto::FILE_DESCRIPTOR_SET,
            tonic_health::pb::FILE_DESCRIPTOR_SET,
        ] {
            // Both sets are compiled in; one that does not decode only leaves its methods
            // counted as `other`.
            let Ok(set) = prost_types::FileDescriptorSet::decode(set) else {
                continue;
            };
            for file in &set.file {
                for service in &file.service {
                    let name: Arc<str> = format!("{}.{}", file.package(), service.name()).into();
                    for method in &service.method {
                        let path = format!("/{name}/{}", method.name());
                        known.insert(path, (name.clone(), method.name().into()));
                    }
                }
            }
        }
        Self {
            known,
            other: (OTHER.into(), OTHER.into()),
        }
    }

    fn of(&self, path: &str) -> (Arc<str>, Arc<str>) {
        self.known.get(path).unwrap_or(&self.other).clone()
    }
}

/// Tower layer timing every call into the node's [`Metrics`].
#[derive(Clone, Debug)]
pub struct CallMetricsLayer {
    metrics: Arc<Metrics>,
    methods: Arc<Methods>,
}

impl CallMetricsLayer {
    /// Counts into `metrics`.
    pub fn new(metrics: Arc<Metrics>) -> Self {
        Self {
            metrics,
            methods: Arc::new(Methods::new()),
        }
    }
}

impl<S> Layer<S> for CallMetricsLayer {
    type Service = CallMetrics<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CallMetrics {
            inner,
            layer: self.clone(),
        }
    }
}

/// A service behind [`CallMetricsLayer`].
#[derive(Clone, Debug)]
pub struct CallMetrics<S> {
    inner: S,
    layer: CallMetricsLayer,
}

impl<S: NamedService> NamedService for CallMetrics<S> {
    const NAME: &'static str = S::NAME;
}

use crate::BoxFuture;

impl<S, B> Service<http::Request<B>> for CallMetrics<S>
where
    S: Service<http::Request<B>, Response = http::Response<Body>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let (service, method) = self.layer.methods.of(request.uri().path());
        let call = Call {
            metrics: Arc::clone(&self.layer.metrics),
            service,
            method,
            started: Instant::now(),
            code: None,
        };
        let future = self.inner.call(request);
        Box::pin(async move {
            let mut call = call;
            match future.await {
                Ok(response) => {
                    call.code = grpc_status(response.headers());
                    Ok(response.map(|body| {
                        Body::new(Timed {
                            inner: body,
                            call: Some(call),
                        })
                    }))
                }
                Err(error) => {
                    // The transport failed the call (tonic answers errors as responses).
                    call.finish(Code::Unknown);
                    Err(error)
                }
            }
        })
    }
}

/// One call being timed.
struct Call {
    metrics: Arc<Metrics>,
    service: Arc<str>,
    method: Arc<str>,
    started: Instant,
    /// The status once known (headers, trailers or the body's error).
    code: Option<Code>,
}

impl Call {
    fn finish(self, code: Code) {
        self.metrics
            .rpc_duration
            .get_or_create(&RpcLabels {
                rpc_system: "grpc",
                rpc_service: self.service,
                rpc_method: self.method,
                rpc_grpc_status_code: code_number(code),
            })
            .observe(self.started.elapsed().as_secs_f64());
    }
}

fn code_number(code: Code) -> u8 {
    // gRPC codes are 0–16.
    u8::try_from(i32::from(code)).unwrap_or(2)
}

/// The `grpc-status` of `headers`, if any.
fn grpc_status(headers: &http::HeaderMap) -> Option<Code> {
    let value = headers.get("grpc-status")?.to_str().ok()?;
    Some(Code::from_i32(value.parse().ok()?))
}

/// A response body that finishes its [`Call`] when it ends or is dropped.
struct Timed {
    inner: Body,
    call: Option<Call>,
}

impl Timed {
    fn finish(&mut self, ended: bool) {
        if let Some(call) = self.call.take() {
            let code = call.code.unwrap_or(if ended {
                // A body that ended without a status broke the protocol.
                Code::Unknown
            } else {
                Code::Cancelled
            });
            call.finish(code);
        }
    }
}

impl http_body::Body for Timed {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(code) = frame.trailers_ref().and_then(grpc_status)
                    && let Some(call) = self.call.as_mut()
                {
                    call.code.get_or_insert(code);
                }
            }
            Poll::Ready(Some(Err(status))) => {
                if let Some(call) = self.call.as_mut() {
                    call.code.get_or_insert(status.code());
                }
            }
            Poll::Ready(None) => self.finish(true),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Timed {
    fn drop(&mut self) {
        self.finish(false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_holds_the_api_and_health_and_nothing_else() {
        let methods = Methods::new();
        let (service, method) = methods.of("/entity.v1.TenantService/CreateTenant");
        assert_eq!(
            (&*service, &*method),
            ("entity.v1.TenantService", "CreateTenant")
        );
        let (service, _) = methods.of("/grpc.health.v1.Health/Check");
        assert_eq!(&*service, "grpc.health.v1.Health");
        for path in [
            "/entity.v1.TenantService/Nope",
            "/x",
            "",
            "/01890a5d-ac96/whatever",
        ] {
            let (service, method) = methods.of(path);
            assert_eq!((&*service, &*method), (OTHER, OTHER), "{path}");
        }
    }
}
