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
//! - **Error size.** An error's `grpc-message` and `grpc-status-details-bin` together are kept
//!   within [`MAX_ERROR_HEADER_BYTES`], whatever built the status: an error that repeats a long
//!   request value (an unknown field-mask path, an unknown projection name, a duplicate product)
//!   is shortened here (message and detail values cut, at most [`MAX_VIOLATIONS`] field
//!   violations). Without this a response header list over a client's limit (16 KiB in tonic
//!   and hyper) makes the client's HTTP/2 stack drop the whole connection, failing every other
//!   call on it: other tenants' calls, where nodes forward over a shared channel.
//! - **Deadline.** Every call ends by its deadline: the client's `grpc-timeout`, at most the
//!   node's maximum call duration; past it the call is answered DEADLINE_EXCEEDED (reason
//!   `DEADLINE_EXCEEDED`) and its handler dropped. tonic wraps every call in its own timer on
//!   the same header and reports CANCELLED "Timeout expired" when it fires; ours wins because
//!   its deadline is taken before tonic's (tonic starts its timer after calling this layer)
//!   and tonic polls this layer's future before its own timer.

use std::{
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
/// Most bytes of an error's `grpc-message` and `grpc-status-details-bin` headers together.
pub const MAX_ERROR_HEADER_BYTES: usize = 8 * 1024;
/// Most field violations an error keeps when it has to be shortened.
pub const MAX_VIOLATIONS: usize = 16;
/// Most bytes of a shortened error's message (before percent-encoding, which can triple it).
const MAX_MESSAGE_BYTES: usize = 512;
/// Most bytes of each string of a shortened error's details.
const MAX_DETAIL_BYTES: usize = 96;
/// Most ErrorInfo metadata entries a shortened error keeps.
const MAX_METADATA_ENTRIES: usize = 8;
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

use crate::BoxFuture;

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
                Ok(response) => response.map(bounded_error),
                Err(_) => {
                    tracing::debug!(?timeout, "deadline exceeded");
                    Ok(deadline_exceeded(timeout).into_http())
                }
            }
        })
    }
}

/// `response` with its error status (if any) shortened to [`MAX_ERROR_HEADER_BYTES`].
fn bounded_error(mut response: http::Response<Body>) -> http::Response<Body> {
    const HEADERS: [&str; 2] = ["grpc-message", "grpc-status-details-bin"];
    let size = |headers: &http::HeaderMap| -> usize {
        HEADERS
            .iter()
            .filter_map(|h| headers.get(*h))
            .map(|v| v.len())
            .sum()
    };
    let before = size(response.headers());
    if before <= MAX_ERROR_HEADER_BYTES {
        return response;
    }
    let Some(status) = Status::from_header_map(response.headers()) else {
        return response;
    };
    let headers = response.headers_mut();
    for header in HEADERS {
        headers.remove(header);
    }
    let short = shortened(&status);
    if short.add_header(headers).is_err() || size(headers) > MAX_ERROR_HEADER_BYTES {
        for header in HEADERS {
            headers.remove(header);
        }
        let bare = Status::new(status.code(), cut(status.message(), MAX_MESSAGE_BYTES));
        // A plain message of at most 512 bytes always encodes.
        let _ = bare.add_header(headers);
    }
    tracing::debug!(
        before,
        after = size(response.headers()),
        "shortened an error response"
    );
    response
}

/// `status` with its message and the strings of its details cut (ErrorInfo, BadRequest,
/// ResourceInfo and RetryInfo: the details this service sends).
fn shortened(status: &Status) -> Status {
    let details = status.get_error_details();
    let mut short = ErrorDetails::new();
    if let Some(info) = details.error_info() {
        let metadata: std::collections::HashMap<String, String> = info
            .metadata
            .iter()
            .take(MAX_METADATA_ENTRIES)
            .map(|(k, v)| (cut(k, MAX_DETAIL_BYTES), cut(v, MAX_DETAIL_BYTES)))
            .collect();
        short.set_error_info(
            cut(&info.reason, MAX_DETAIL_BYTES),
            cut(&info.domain, MAX_DETAIL_BYTES),
            metadata,
        );
    }
    if let Some(bad) = details.bad_request() {
        for v in bad.field_violations.iter().take(MAX_VIOLATIONS) {
            short.add_bad_request_violation(
                cut(&v.field, MAX_DETAIL_BYTES),
                cut(&v.description, MAX_DETAIL_BYTES),
            );
        }
    }
    if let Some(r) = details.resource_info() {
        short.set_resource_info(
            cut(&r.resource_type, MAX_DETAIL_BYTES),
            cut(&r.resource_name, MAX_DETAIL_BYTES),
            cut(&r.owner, MAX_DETAIL_BYTES),
            cut(&r.description, MAX_DETAIL_BYTES),
        );
    }
    if let Some(retry) = details.retry_info() {
        short.set_retry_info(retry.retry_delay);
    }
    Status::with_error_details(
        status.code(),
        cut(status.message(), MAX_MESSAGE_BYTES),
        short,
    )
}

/// At most `max` bytes of `s` (on a character boundary), marked with `…` when cut.
fn cut(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
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
pub(crate) fn parse_grpc_timeout(value: &str) -> Option<Duration> {
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

    fn error_header_bytes(response: &http::Response<Body>) -> usize {
        ["grpc-message", "grpc-status-details-bin"]
            .iter()
            .filter_map(|h| response.headers().get(*h))
            .map(|v| v.len())
            .sum()
    }

    #[test]
    fn errors_repeating_long_values_are_shortened() {
        let long = "😀".repeat(4096);
        let mut details = ErrorDetails::with_error_info(
            "NOT_FOUND",
            ERROR_DOMAIN,
            [("name".to_owned(), long.clone())],
        );
        for i in 0..100 {
            details.add_bad_request_violation(format!("update_mask.paths[{i}]"), long.clone());
        }
        details.set_resource_info("projection", long.clone(), "", "not found");
        details.set_retry_info(Some(Duration::from_millis(250)));
        let huge = Status::with_error_details(
            Code::NotFound,
            format!("no projection named {long:?}"),
            details,
        )
        .into_http();
        assert!(error_header_bytes(&huge) > 64 * 1024);

        let out = bounded_error(huge);
        assert!(error_header_bytes(&out) <= MAX_ERROR_HEADER_BYTES);
        let status = Status::from_header_map(out.headers()).unwrap();
        assert_eq!(status.code(), Code::NotFound);
        assert!(status.message().starts_with("no projection named"));
        assert!(status.message().ends_with('…'));
        let info = status.get_details_error_info().unwrap();
        assert_eq!(info.reason, "NOT_FOUND");
        assert_eq!(info.domain, ERROR_DOMAIN);
        let violations = status.get_details_bad_request().unwrap().field_violations;
        assert_eq!(violations.len(), MAX_VIOLATIONS);
        assert_eq!(violations[3].field, "update_mask.paths[3]");
        assert_eq!(
            status.get_details_resource_info().unwrap().resource_type,
            "projection"
        );
        assert_eq!(
            status.get_details_retry_info().unwrap().retry_delay,
            Some(Duration::from_millis(250))
        );
    }

    #[test]
    fn ordinary_errors_and_answers_pass_untouched() {
        let status = Status::with_error_details(
            Code::InvalidArgument,
            "invalid argument: name: must not be empty",
            ErrorDetails::with_bad_request_violation("name", "must not be empty"),
        );
        let before = status.clone().into_http();
        let expected = error_header_bytes(&before);
        let out = bounded_error(before);
        assert_eq!(error_header_bytes(&out), expected);
        assert_eq!(
            Status::from_header_map(out.headers()).unwrap().message(),
            status.message()
        );
        let ok = bounded_error(http::Response::new(Body::empty()));
        assert!(Status::from_header_map(ok.headers()).is_none());
        assert_eq!(cut("abc", 3), "abc");
        assert_eq!(cut("ééé", 5), "é…");
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
