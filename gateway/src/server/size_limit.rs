//! Reports requests tonic refuses before any handler runs with the codes clients expect.
//!
//! - A message above the server's decoding limit: tonic says OUT_OF_RANGE; the gRPC
//!   status-code guide (and every gRPC core server) uses RESOURCE_EXHAUSTED for "request larger
//!   than the server accepts", which is what clients retry-classify on.
//!
//! A message that does not decode, or whose text breaks the rules, never gets here as an error
//! of tonic's: the codec (`entity_proto::codec`) answers INVALID_ARGUMENT itself and logs it.
//!
//! This layer rewrites exactly that refusal (a trailers-only response produced before the
//! handler runs) and touches nothing else.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use tonic::{Code, Status, body::Body, codegen::http, server::NamedService};
use tower::{Layer, Service};

/// Prefix of tonic's message for a request above the decoding limit.
const TOO_LARGE: &str = "Error, decoded message length too large";

/// Tower layer applying [`SizeLimitStatus`].
#[derive(Clone, Copy, Debug, Default)]
pub struct SizeLimitStatusLayer;

impl<S> Layer<S> for SizeLimitStatusLayer {
    type Service = SizeLimitStatus<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SizeLimitStatus { inner }
    }
}

/// A service whose oversized-request refusals say RESOURCE_EXHAUSTED.
#[derive(Clone, Debug)]
pub struct SizeLimitStatus<S> {
    inner: S,
}

impl<S: NamedService> NamedService for SizeLimitStatus<S> {
    const NAME: &'static str = S::NAME;
}

type BoxFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

impl<S> Service<http::Request<Body>> for SizeLimitStatus<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>>,
    S::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let future = self.inner.call(request);
        Box::pin(async move {
            let response = future.await?;
            Ok(rewrite(response))
        })
    }
}

fn rewrite(response: http::Response<Body>) -> http::Response<Body> {
    match Status::from_header_map(response.headers()) {
        Some(status)
            if status.code() == Code::OutOfRange && status.message().starts_with(TOO_LARGE) =>
        {
            Status::resource_exhausted(format!("request too large: {}", status.message()))
                .into_http()
        }
        _ => response,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_only_the_size_refusal() {
        let big =
            Status::out_of_range(format!("{TOO_LARGE}: found 2 bytes, the limit is: 1 bytes"));
        let out = rewrite(big.into_http());
        let status = Status::from_header_map(out.headers()).unwrap();
        assert_eq!(status.code(), Code::ResourceExhausted);
        assert!(status.message().contains("the limit is"));

        let other = Status::out_of_range("page out of range");
        let out = rewrite(other.into_http());
        assert_eq!(
            Status::from_header_map(out.headers()).unwrap().code(),
            Code::OutOfRange
        );

        let internal = Status::internal("engine trouble");
        let out = rewrite(internal.into_http());
        assert_eq!(
            Status::from_header_map(out.headers()).unwrap().code(),
            Code::Internal
        );

        let ok = http::Response::new(Body::empty());
        assert!(Status::from_header_map(rewrite(ok).headers()).is_none());
    }
}
