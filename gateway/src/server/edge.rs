//! The server-wide edge of every call (health and reflection included), in front of routing:
//!
//! - **Metadata size.** A request whose metadata (header list, counted as HTTP/2 does: name +
//!   value + 32 bytes per field, pseudo-headers included) exceeds [`MAX_METADATA_BYTES`] is
//!   answered RESOURCE_EXHAUSTED (reason `METADATA_TOO_LARGE`). HTTP/2 itself is allowed up to
//!   [`HTTP2_MAX_HEADER_LIST_BYTES`] so that such requests reach this layer. Above that, h2
//!   answers before any of our code runs, and nothing here can change what it sends: an HTTP
//!   431 without a gRPC status, which a tonic client reports as UNKNOWN ("grpc-status header
//!   missing, mapped from HTTP status code 431"); and for a block of more than 7
//!   HEADERS/CONTINUATION frames (~112 KiB encoded) or over 256 KiB decoded, a GOAWAY
//!   `ENHANCE_YOUR_CALM` that closes the whole connection (tonic: RESOURCE_EXHAUSTED "h2
//!   protocol error").
//! - **Deadline.** Every call ends by its deadline: the client's `grpc-timeout`, at most the
//!   node's maximum call duration; past it the call is answered DEADLINE_EXCEEDED (reason
//!   `DEADLINE_EXCEEDED`) and its handler dropped. tonic wraps every call in its own timer on
//!   the same header and reports CANCELLED "Timeout expired" when it fires; ours wins because
//!   its deadline is taken before tonic's (tonic starts its timer after calling this layer)
//!   and tonic polls this layer's future before its own timer.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use tokio::time::Instant;
use tonic::{Code, Status, body::Body, codegen::http, server::NamedService};
use tonic_types::{ErrorDetails, StatusExt};
use tower::{Layer, Service};

use crate::status::{self, ERROR_DOMAIN};

/// Largest request metadata (header list) answered normally; more gets RESOURCE_EXHAUSTED.
pub const MAX_METADATA_BYTES: usize = 16 * 1024;
/// The HTTP/2 `SETTINGS_MAX_HEADER_LIST_SIZE` of the server: header lists up to this size are
/// decoded (and, above [`MAX_METADATA_BYTES`], refused with a gRPC status); larger ones are
/// refused by h2 itself with HTTP 431.
pub const HTTP2_MAX_HEADER_LIST_BYTES: u32 = 64 * 1024;
/// The `grpc-timeout` request header.
const GRPC_TIMEOUT: &str = "grpc-timeout";

/// Tower layer applying [`Edge`] to the whole router.
#[derive(Clone, Copy, Debug)]
pub struct EdgeLayer {
    max_call: Duration,
}

impl EdgeLayer {
    /// Calls last at most `max_call`, whatever their `grpc-timeout`.
    pub fn new(max_call: Duration) -> Self {
        Self { max_call }
    }
}

impl<S> Layer<S> for EdgeLayer {
    type Service = Edge<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Edge {
            inner,
            max_call: self.max_call,
        }
    }
}

/// A service behind [`EdgeLayer`].
#[derive(Clone, Debug)]
pub struct Edge<S> {
    inner: S,
    max_call: Duration,
}

impl<S: NamedService> NamedService for Edge<S> {
    const NAME: &'static str = S::NAME;
}

type BoxFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

impl<S, B> Service<http::Request<B>> for Edge<S>
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
        // Taken first, before tonic's own timer starts (see the module documentation).
        let now = Instant::now();
        let size = metadata_size(&request);
        if size > MAX_METADATA_BYTES {
            tracing::debug!(size, path = request.uri().path(), "metadata too large");
            return Box::pin(std::future::ready(Ok(metadata_too_large(size).into_http())));
        }
        let timeout = match client_timeout(request.headers()) {
            Some(client) => client.min(self.max_call),
            None => self.max_call,
        };
        let deadline = now + timeout;
        let future = self.inner.call(request);
        Box::pin(async move {
            match tokio::time::timeout_at(deadline, future).await {
                Ok(response) => response,
                Err(_) => {
                    tracing::debug!(?timeout, "deadline exceeded");
                    Ok(deadline_exceeded(timeout).into_http())
                }
            }
        })
    }
}

/// The size of the request's header list as HTTP/2 counts it (RFC 9113 §6.5.2).
fn metadata_size<B>(request: &http::Request<B>) -> usize {
    const FIELD_OVERHEAD: usize = 32;
    let uri = request.uri();
    let pseudo = [
        (":method", request.method().as_str().len()),
        (":scheme", uri.scheme_str().map_or(0, str::len)),
        (
            ":authority",
            uri.authority().map_or(0, |a| a.as_str().len()),
        ),
        (
            ":path",
            uri.path_and_query().map_or(0, |p| p.as_str().len()),
        ),
    ]
    .iter()
    .map(|(name, value)| name.len() + value + FIELD_OVERHEAD)
    .sum::<usize>();
    let fields = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + FIELD_OVERHEAD)
        .sum::<usize>();
    pseudo + fields
}

/// The client's `grpc-timeout`; `None` when absent or malformed (a malformed one is ignored,
/// as tonic does, and the node's maximum applies).
fn client_timeout(headers: &http::HeaderMap) -> Option<Duration> {
    let value = headers.get(GRPC_TIMEOUT)?;
    let parsed = value.to_str().ok().and_then(parse_grpc_timeout);
    if parsed.is_none() {
        tracing::debug!(?value, "ignoring a malformed grpc-timeout");
    }
    parsed
}

/// Parses a `grpc-timeout` value: at most 8 digits and a unit (`H`, `M`, `S`, `m`, `u`, `n`).
fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    let digits = value.get(..value.len().checked_sub(1)?)?;
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let amount: u64 = digits.parse().ok()?;
    Some(match value.get(digits.len()..)? {
        "H" => Duration::from_secs(amount * 3600),
        "M" => Duration::from_secs(amount * 60),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

fn metadata_too_large(size: usize) -> Status {
    let details = ErrorDetails::with_error_info(
        "METADATA_TOO_LARGE",
        ERROR_DOMAIN,
        [
            ("size".to_owned(), size.to_string()),
            ("limit".to_owned(), MAX_METADATA_BYTES.to_string()),
        ],
    );
    Status::with_error_details(
        Code::ResourceExhausted,
        format!(
            "request metadata too large: {size} bytes, the limit is {MAX_METADATA_BYTES} bytes"
        ),
        details,
    )
}

fn deadline_exceeded(timeout: Duration) -> Status {
    status::refusal(
        Code::DeadlineExceeded,
        "DEADLINE_EXCEEDED",
        format!("the call did not complete within its deadline ({timeout:?})"),
    )
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use super::*;

    #[test]
    fn grpc_timeouts_parse_like_the_spec_says() {
        assert_eq!(parse_grpc_timeout("50m"), Some(Duration::from_millis(50)));
        assert_eq!(parse_grpc_timeout("2S"), Some(Duration::from_secs(2)));
        assert_eq!(parse_grpc_timeout("1H"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_grpc_timeout("3M"), Some(Duration::from_secs(180)));
        assert_eq!(parse_grpc_timeout("7u"), Some(Duration::from_micros(7)));
        assert_eq!(
            parse_grpc_timeout("99999999n"),
            Some(Duration::from_nanos(99_999_999))
        );
        for bad in ["", "m", "123456789m", "5", "5x", "-5m", "5 m", "é"] {
            assert_eq!(parse_grpc_timeout(bad), None, "{bad:?}");
        }
    }

    /// Answers after `delay`.
    #[derive(Clone)]
    struct After(Duration);

    impl Service<http::Request<Body>> for After {
        type Response = http::Response<Body>;
        type Error = Infallible;
        type Future = BoxFuture<Self::Response, Self::Error>;

        fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, _request: http::Request<Body>) -> Self::Future {
            let delay = self.0;
            Box::pin(async move {
                tokio::time::sleep(delay).await;
                Ok(http::Response::new(Body::empty()))
            })
        }
    }

    fn request(timeout: Option<&str>, extra: usize) -> http::Request<Body> {
        let mut request = http::Request::new(Body::empty());
        if let Some(t) = timeout {
            request
                .headers_mut()
                .insert(GRPC_TIMEOUT, http::HeaderValue::from_str(t).unwrap());
        }
        if extra > 0 {
            request.headers_mut().insert(
                "x-padding",
                http::HeaderValue::from_str(&"x".repeat(extra)).unwrap(),
            );
        }
        request
    }

    fn code(response: &http::Response<Body>) -> Option<Code> {
        Status::from_header_map(response.headers()).map(|s| s.code())
    }

    #[tokio::test]
    async fn the_shorter_of_grpc_timeout_and_the_maximum_ends_the_call() {
        let mut edge = EdgeLayer::new(Duration::from_secs(60)).layer(After(Duration::from_secs(1)));
        let late = edge.call(request(Some("50m"), 0)).await.unwrap();
        assert_eq!(code(&late), Some(Code::DeadlineExceeded));
        let status = Status::from_header_map(late.headers()).unwrap();
        assert_eq!(
            status.get_details_error_info().unwrap().reason,
            "DEADLINE_EXCEEDED"
        );
        let in_time = edge.call(request(Some("5S"), 0)).await.unwrap();
        assert_eq!(code(&in_time), None);
        // a malformed grpc-timeout is ignored: the maximum applies
        let in_time = edge.call(request(Some("soon"), 0)).await.unwrap();
        assert_eq!(code(&in_time), None);

        let mut capped =
            EdgeLayer::new(Duration::from_millis(200)).layer(After(Duration::from_secs(1)));
        let late = capped.call(request(Some("10S"), 0)).await.unwrap();
        assert_eq!(code(&late), Some(Code::DeadlineExceeded));
        let late = capped.call(request(None, 0)).await.unwrap();
        assert_eq!(code(&late), Some(Code::DeadlineExceeded));
    }

    #[tokio::test]
    async fn oversized_metadata_is_resource_exhausted() {
        let mut edge = EdgeLayer::new(Duration::from_secs(60)).layer(After(Duration::ZERO));
        let ok = edge
            .call(request(None, MAX_METADATA_BYTES / 2))
            .await
            .unwrap();
        assert_eq!(code(&ok), None);
        let refused = edge.call(request(None, MAX_METADATA_BYTES)).await.unwrap();
        let status = Status::from_header_map(refused.headers()).unwrap();
        assert_eq!(status.code(), Code::ResourceExhausted);
        let info = status.get_details_error_info().unwrap();
        assert_eq!(info.reason, "METADATA_TOO_LARGE");
        assert_eq!(info.metadata["limit"], MAX_METADATA_BYTES.to_string());
    }
}
