//! Admission control on a real node over a real socket (embedded SQLite store, JWT auth with
//! the HS256 test secret, the server's DEFAULT bounds as `gateway::spawn_server` sets them):
//!
//! - a client holding thousands of unfinished calls (raw HTTP/2 streams: a real RPC's headers
//!   with a valid bearer token and part of a gRPC frame, never ended) on a few dozen
//!   connections — more streams than the node's 2,048 call slots — does not stop another
//!   tenant's or a platform admin's calls, and health stays SERVING; the unfinished calls
//!   end by the request-body deadline;
//! - a connection may hold at most 100 streams (the server's HTTP/2 setting);
//! - a `grpc-timeout` of 50 ms ends a call that would take longer with DEADLINE_EXCEEDED,
//!   whether its body never arrives or its handler waits (a read with a consistency token far
//!   ahead);
//! - `x-tenant-id` sent twice is INVALID_ARGUMENT; metadata above 16 KiB is
//!   RESOURCE_EXHAUSTED, and above the HTTP/2 limit (64 KiB) the client sees what h2 answers
//!   (UNKNOWN for an HTTP 431; RESOURCE_EXHAUSTED when h2 closes the connection).
//!
//! Latencies are printed, never asserted: each call only has to succeed within a generous
//! deadline.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

#[path = "support/grpc.rs"]
mod grpc_support;

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use bytes::Bytes;
use engine::journal::sqlite::SqliteJournal;
use entity_proto::v1 as pb;
use gateway::{Node, NodeOptions, RunningServer, Storage};
use grpc_support::{Clients, bearer, claims, hs256_token, jwt_auth, tenant_with_owner};
use tonic::{Code, Status, codegen::http, transport::Channel};
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus};
use tonic_types::StatusExt;

/// Connections of the attacking client.
const ATTACK_CONNECTIONS: usize = 24;
/// Streams the server allows on one connection (its default).
const STREAMS_PER_CONNECTION: usize = 100;
/// How long any one legitimate call may take before the test fails.
const CALL_DEADLINE: Duration = Duration::from_secs(5);

/// A node on a fresh SQLite store, its server and a platform admin's token.
struct TestNode {
    _dir: tempfile::TempDir,
    server: RunningServer,
    clients: Clients,
    admin: String,
}

impl TestNode {
    async fn start() -> TestNode {
        let dir = tempfile::tempdir().unwrap();
        let journal = SqliteJournal::open(&dir.path().join("journal.db"))
            .await
            .unwrap();
        journal.migrate().await.unwrap();
        let node = Node::start(&Storage::Sqlite(journal), NodeOptions::default())
            .await
            .expect("node starts");
        let (auth, _) = jwt_auth(None, true).await;
        let server = gateway::spawn_server(node, auth, "127.0.0.1:0".parse().unwrap())
            .await
            .expect("server starts");
        let clients = Clients::connect(&server.endpoint()).await;
        TestNode {
            _dir: dir,
            server,
            clients,
            admin: hs256_token(&claims("ops", None)),
        }
    }

    fn addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// A tenant on `plan` and a token of its owner (who accepted the invitation).
    async fn tenant(&self, plan: pb::Plan) -> (pb::Tenant, String) {
        tenant_with_owner(&mut self.clients.clone(), &self.admin, "Admission", plan).await
    }
}

// ---- a raw HTTP/2 gRPC client ----

/// A new HTTP/2 connection to `addr`, driven in the background.
async fn h2_connect(addr: SocketAddr) -> h2::client::SendRequest<Bytes> {
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.set_nodelay(true).unwrap();
    let (send, connection) = h2::client::handshake(tcp).await.unwrap();
    tokio::spawn(async move {
        // Ends when the test drops its handles or the server goes away.
        let _ = connection.await;
    });
    send
}

/// The headers of a gRPC call of `path` with `token` and extra `headers`.
fn grpc_headers(
    addr: SocketAddr,
    path: &str,
    token: &str,
    headers: &[(&str, &str)],
) -> http::Request<()> {
    let mut request = http::Request::builder()
        .method("POST")
        .uri(format!("http://{addr}{path}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .header("authorization", format!("Bearer {token}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.body(()).unwrap()
}

/// A gRPC frame holding `message`.
fn grpc_frame(message: &[u8]) -> Bytes {
    let mut frame = vec![0];
    frame.extend_from_slice(&u32::try_from(message.len()).unwrap().to_be_bytes());
    frame.extend_from_slice(message);
    Bytes::from(frame)
}

/// The start of a gRPC frame announcing 64 bytes, with 10 of them.
fn partial_frame() -> Bytes {
    let mut frame = vec![0];
    frame.extend_from_slice(&64u32.to_be_bytes());
    frame.extend_from_slice(&[b'x'; 10]);
    Bytes::from(frame)
}

/// A protobuf string field.
fn string_field(number: u8, value: &str) -> Vec<u8> {
    let mut field = vec![(number << 3) | 2, u8::try_from(value.len()).unwrap()];
    field.extend_from_slice(value.as_bytes());
    field
}

/// A call in progress: its response and its (unfinished) request body.
struct OpenCall {
    response: h2::client::ResponseFuture,
    _body: h2::SendStream<Bytes>,
}

/// Sends `headers` and `data` on `send`, ending the request body when `end`.
async fn start_call(
    send: h2::client::SendRequest<Bytes>,
    headers: http::Request<()>,
    data: Bytes,
    end: bool,
) -> (h2::client::SendRequest<Bytes>, OpenCall) {
    let mut send = send.ready().await.unwrap();
    let (response, mut body) = send.send_request(headers, false).unwrap();
    body.send_data(data, end).unwrap();
    (
        send,
        OpenCall {
            response,
            _body: body,
        },
    )
}

/// The gRPC status a call ended with (from the response headers, or its trailers).
async fn outcome(response: h2::client::ResponseFuture) -> Status {
    let response = response.await.expect("a response");
    if let Some(status) = Status::from_header_map(response.headers()) {
        return status;
    }
    let mut body = response.into_body();
    while let Some(data) = body.data().await {
        let data = data.expect("response data");
        let _ = body.flow_control().release_capacity(data.len());
    }
    let trailers = body.trailers().await.expect("trailers").expect("trailers");
    Status::from_header_map(&trailers).expect("grpc-status in the trailers")
}

fn reason(status: &Status) -> String {
    status
        .get_details_error_info()
        .map(|i| i.reason)
        .unwrap_or_default()
}

/// Latencies as `min / median / max`.
fn summary(latencies: &mut [Duration]) -> String {
    latencies.sort();
    format!(
        "{:?} / {:?} / {:?} over {} calls",
        latencies[0],
        latencies[latencies.len() / 2],
        latencies[latencies.len() - 1],
        latencies.len()
    )
}

/// Times a call that must succeed within [`CALL_DEADLINE`].
async fn timed<T>(
    what: &str,
    call: impl Future<Output = Result<tonic::Response<T>, Status>>,
) -> Duration {
    let start = Instant::now();
    match tokio::time::timeout(CALL_DEADLINE, call).await {
        Ok(Ok(_)) => start.elapsed(),
        Ok(Err(status)) => panic!("{what} failed during the attack: {status:?}"),
        Err(_) => panic!("{what} did not finish within {CALL_DEADLINE:?}"),
    }
}

#[tokio::test]
async fn unfinished_streams_do_not_lock_out_other_tenants_or_platform_admins() {
    let node = TestNode::start().await;
    let (attacker, _) = node.tenant(pb::Plan::Gold).await;
    let (victim, victim_token) = node.tenant(pb::Plan::Silver).await;
    let attacker_token = hs256_token(&claims("attacker", Some(&attacker.id)));
    let get_attacker = || {
        grpc_headers(
            node.addr(),
            "/entity.v1.TenantService/GetTenant",
            &attacker_token,
            &[],
        )
    };

    // The attacker's credential is good: a whole call of its passes authentication.
    let probe = h2_connect(node.addr()).await;
    let request = grpc_frame(&string_field(1, &attacker.id));
    let (probe, call) = start_call(probe, get_attacker(), request, true).await;
    let status = outcome(call.response).await;
    assert_ne!(status.code(), Code::Unauthenticated, "{status:?}");

    // The attack: more unfinished calls than the node has call slots.
    let started = Instant::now();
    let mut open = Vec::new();
    for _ in 0..ATTACK_CONNECTIONS {
        let mut send = h2_connect(node.addr()).await;
        for _ in 0..STREAMS_PER_CONNECTION {
            let (next, call) = start_call(send, get_attacker(), partial_frame(), false).await;
            send = next;
            open.push(call);
        }
    }
    println!(
        "attack: {} unfinished calls on {ATTACK_CONNECTIONS} connections, opened in {:?}",
        open.len(),
        started.elapsed()
    );
    // Let the server take them all in (authenticate, start receiving) before measuring.
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Other callers, on their own connections, are served meanwhile.
    let clients = Clients::connect(&node.server.endpoint()).await;
    let mut health = tonic_health::pb::health_client::HealthClient::new(clients.channel.clone());
    let (mut tenant_latency, mut admin_latency, mut health_latency) =
        (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..10 {
        let mut c = clients.clone();
        let get = pb::GetTenantRequest {
            tenant_id: victim.id.clone(),
            consistency_token: String::new(),
        };
        tenant_latency.push(
            timed(
                "the other tenant's GetTenant",
                c.tenants.get_tenant(bearer(get.clone(), &victim_token)),
            )
            .await,
        );
        admin_latency.push(
            timed(
                "the platform admin's GetTenant",
                c.tenants.get_tenant(bearer(get, &node.admin)),
            )
            .await,
        );
        admin_latency.push(
            timed(
                "the platform admin's ListTenants",
                c.tenants
                    .list_tenants(bearer(pb::ListTenantsRequest::default(), &node.admin)),
            )
            .await,
        );
        let start = Instant::now();
        let serving = tokio::time::timeout(
            CALL_DEADLINE,
            health.check(HealthCheckRequest {
                service: String::new(),
            }),
        )
        .await
        .expect("health answers")
        .expect("health answers")
        .into_inner()
        .status;
        health_latency.push(start.elapsed());
        assert_eq!(
            serving,
            ServingStatus::Serving as i32,
            "health under attack"
        );
    }
    println!(
        "during the attack: other tenant {}; platform admin {}; health {}",
        summary(&mut tenant_latency),
        summary(&mut admin_latency),
        summary(&mut health_latency)
    );

    // The unfinished calls end by the request-body deadline (10 s), or were refused at once
    // when the attacker's tenant had too many requests being received.
    let mut timed_out = 0;
    let mut refused = 0;
    let ends = futures::future::join_all(open.into_iter().map(|call| outcome(call.response)));
    let ends = tokio::time::timeout(Duration::from_secs(30), ends)
        .await
        .expect("every unfinished call ends");
    for status in ends {
        match (status.code(), reason(&status).as_str()) {
            (Code::DeadlineExceeded, "REQUEST_BODY_TIMEOUT") => timed_out += 1,
            (Code::ResourceExhausted, "TENANT_CONCURRENCY") => refused += 1,
            _ => panic!("an unfinished call ended with {status:?}"),
        }
    }
    println!(
        "attack calls: {timed_out} ended DEADLINE_EXCEEDED, {refused} refused at once \
         (TENANT_CONCURRENCY), all within {:?}",
        started.elapsed()
    );
    assert!(timed_out > 0);
    // One connection could not have held more: the server allows 100 streams on each.
    assert_eq!(probe.current_max_send_streams(), STREAMS_PER_CONNECTION);
    node.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_grpc_timeout_of_50_ms_ends_a_longer_call_with_deadline_exceeded() {
    let node = TestNode::start().await;
    let (tenant, token) = node.tenant(pb::Plan::Silver).await;
    let mut send = h2_connect(node.addr()).await;
    let timeout = [("grpc-timeout", "50m")];

    // The request body never arrives.
    let headers = grpc_headers(
        node.addr(),
        "/entity.v1.TenantService/GetTenant",
        &token,
        &timeout,
    );
    let start = Instant::now();
    let (next, call) = start_call(send, headers, partial_frame(), false).await;
    send = next;
    let status = tokio::time::timeout(CALL_DEADLINE, outcome(call.response))
        .await
        .expect("the call ends");
    println!("unfinished body: {status:?} after {:?}", start.elapsed());
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    assert_eq!(reason(&status), "DEADLINE_EXCEEDED");

    // The handler waits (up to 5 s) for the read model to pass a write far in the future.
    let list = grpc_frame(&string_field(4, "ct1.999999999.999999999"));
    let headers = grpc_headers(
        node.addr(),
        "/entity.v1.TenantService/ListTenants",
        &node.admin,
        &timeout,
    );
    let start = Instant::now();
    let (next, call) = start_call(send, headers, list.clone(), true).await;
    send = next;
    let status = tokio::time::timeout(CALL_DEADLINE, outcome(call.response))
        .await
        .expect("the call ends");
    println!("waiting read: {status:?} after {:?}", start.elapsed());
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");

    // Without the header the same read waits out its bound (UNAVAILABLE), and a quick call
    // with the header is answered normally.
    let headers = grpc_headers(
        node.addr(),
        "/entity.v1.TenantService/ListTenants",
        &node.admin,
        &[],
    );
    let (next, call) = start_call(send, headers, list, true).await;
    send = next;
    let status = outcome(call.response).await;
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    let headers = grpc_headers(
        node.addr(),
        "/entity.v1.TenantService/GetTenant",
        &token,
        &[("grpc-timeout", "5S")],
    );
    let (_, call) = start_call(
        send,
        headers,
        grpc_frame(&string_field(1, &tenant.id)),
        true,
    )
    .await;
    let status = outcome(call.response).await;
    assert_eq!(status.code(), Code::Ok, "{status:?}");
    node.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn x_tenant_id_sent_twice_is_invalid_argument() {
    let node = TestNode::start().await;
    let (tenant, token) = node.tenant(pb::Plan::Silver).await;
    let mut c = node.clients.clone();
    let get = || {
        bearer(
            pb::GetTenantRequest {
                tenant_id: tenant.id.clone(),
                consistency_token: String::new(),
            },
            &token,
        )
    };
    let mut once = get();
    once.metadata_mut()
        .insert("x-tenant-id", tenant.id.parse().unwrap());
    c.tenants.get_tenant(once).await.expect("sent once: served");

    let other = uuid::Uuid::now_v7().to_string();
    for second in [tenant.id.clone(), other] {
        let mut twice = get();
        twice
            .metadata_mut()
            .append("x-tenant-id", tenant.id.parse().unwrap());
        twice
            .metadata_mut()
            .append("x-tenant-id", second.parse().unwrap());
        let status = c.tenants.get_tenant(twice).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        assert_eq!(
            grpc_support::violation_fields(&status),
            ["x-tenant-id"],
            "{status:?}"
        );
    }
    node.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn oversized_metadata_gets_a_clear_status() {
    let node = TestNode::start().await;
    let (tenant, token) = node.tenant(pb::Plan::Silver).await;
    let channel = Channel::from_shared(node.server.endpoint())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut c = Clients::from_channel(channel);
    let get = |padding: usize| {
        let mut request = bearer(
            pb::GetTenantRequest {
                tenant_id: tenant.id.clone(),
                consistency_token: String::new(),
            },
            &token,
        );
        if padding > 0 {
            request
                .metadata_mut()
                .insert("x-padding", "x".repeat(padding).parse().unwrap());
        }
        request
    };
    c.tenants
        .get_tenant(get(8 * 1024))
        .await
        .expect("8 KiB of metadata is fine");

    // Above the node's 16 KiB (within the HTTP/2 limit of 64 KiB): a gRPC status that says so.
    let status = c.tenants.get_tenant(get(32 * 1024)).await.unwrap_err();
    println!("32 KiB of metadata: {status:?}");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert_eq!(reason(&status), "METADATA_TOO_LARGE");

    // Above the HTTP/2 limit h2 answers before any of our code runs: HTTP 431 without a gRPC
    // status, which tonic reports as UNKNOWN (documented in server::edge).
    let status = c.tenants.get_tenant(get(100 * 1024)).await.unwrap_err();
    println!("100 KiB of metadata: {status:?}");
    assert_eq!(status.code(), Code::Unknown, "{status:?}");
    assert!(status.message().contains("431"), "{status:?}");

    // The connection still serves.
    c.tenants
        .get_tenant(get(0))
        .await
        .expect("served after the refusals");

    // Far above it (more than 7 HEADERS/CONTINUATION frames) h2 closes the whole connection
    // (GOAWAY ENHANCE_YOUR_CALM, which tonic reports as RESOURCE_EXHAUSTED "h2 protocol
    // error"); the channel reconnects for the next call.
    let status = c.tenants.get_tenant(get(300 * 1024)).await.unwrap_err();
    println!("300 KiB of metadata: {status:?}");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    let again = tokio::time::timeout(CALL_DEADLINE, async {
        loop {
            match c.tenants.get_tenant(get(0)).await {
                Ok(answer) => return answer,
                Err(status) => {
                    println!("after the GOAWAY: {status:?}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    })
    .await
    .expect("the channel serves again");
    assert_eq!(again.into_inner().id, tenant.id);
    node.server.shutdown().await.unwrap();
}
