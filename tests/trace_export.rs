//! Traces for real (issue 18): two `entityd serve` nodes of one cluster export over OTLP to a
//! collector in this process (a tonic server of the OTLP trace service). One CreateOrganization
//! sent with a W3C `traceparent` to the node that does not hold its tenant's shard must yield
//! one trace: the entry node's call and its engine's command, the owner's side of the call
//! over the node mesh, the tenant actor, the journal append and the projection batch, each the
//! child of the one before. Needs `ENTITY_TEST_DATABASE_URL`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

#[path = "support/grpc.rs"]
mod grpc_support;

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use engine::testing::TestDatabase;
use entity_proto::v1 as pb;
use grpc_support::{
    Clients, Entityd, TEST_HS256_SECRET, bearer, claims, create_tenant_request, hs256_token,
    serve_args,
};
use opentelemetry_proto::tonic::{
    collector::trace::v1::{
        ExportTraceServiceRequest, ExportTraceServiceResponse,
        trace_service_server::{TraceService, TraceServiceServer},
    },
    common::v1::any_value::Value,
};
use tokio_stream::wrappers::TcpListenerStream;

const SHARDS: u32 = 16;

/// An OTLP trace collector keeping every span it receives.
#[derive(Clone, Default)]
struct Collector(Arc<Mutex<Vec<Span>>>);

/// A received span, ids in hex.
#[derive(Clone, Debug)]
struct Span {
    node: String,
    trace_id: String,
    span_id: String,
    parent_span_id: String,
    name: String,
}

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut spans = self.0.lock().unwrap();
        for resource in request.into_inner().resource_spans {
            let node = resource
                .resource
                .iter()
                .flat_map(|r| &r.attributes)
                .find(|a| a.key == "service.instance.id")
                .and_then(|a| match a.value.as_ref()?.value.as_ref()? {
                    Value::StringValue(s) => Some(s.clone()),
                    _ => None,
                })
                .unwrap_or_default();
            for scope in resource.scope_spans {
                for span in scope.spans {
                    spans.push(Span {
                        node: node.clone(),
                        trace_id: hex(&span.trace_id),
                        span_id: hex(&span.span_id),
                        parent_span_id: hex(&span.parent_span_id),
                        name: span.name,
                    });
                }
            }
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Collector {
    async fn start() -> (Collector, String) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let collector = Collector::default();
        let service = TraceServiceServer::new(collector.clone());
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming(TcpListenerStream::new(listener)),
        );
        (collector, address)
    }

    fn trace(&self, trace_id: &str) -> Vec<Span> {
        let spans = self.0.lock().unwrap();
        spans
            .iter()
            .filter(|s| s.trace_id == trace_id)
            .cloned()
            .collect()
    }
}

async fn node(db: &TestDatabase, secret: &str, id: &str, collector: &str) -> Entityd {
    let attributes = format!("service.instance.id={id}");
    Entityd::start_with_env(
        &[
            &serve_args(db.url(), secret)[..],
            &[
                "--node-id",
                id,
                "--shard-count",
                "16",
                "--max-db-connections",
                "8",
            ],
        ]
        .concat(),
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", collector),
            ("OTEL_RESOURCE_ATTRIBUTES", &attributes),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ],
    )
    .await
}

/// The node holding `tenant`'s shard (a valid lease), if any.
async fn owner_of(pool: &sqlx::PgPool, tenant: &str) -> Option<String> {
    let tenant: engine::domain::TenantId = tenant.parse().unwrap();
    let shard = engine::runtime::shard_of(tenant, SHARDS);
    sqlx::query_scalar(
        "SELECT owner FROM shard_leases WHERE shard = $1 AND expires_at > clock_timestamp()",
    )
    .bind(i32::try_from(shard).unwrap())
    .fetch_optional(pool)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_sent_to_the_owner_is_one_trace_across_both_nodes_the_journal_and_the_projection()
{
    let (collector, endpoint) = Collector::start().await;
    let db = TestDatabase::create().await;
    let pool = db.journal().await.pool().clone();
    let secret = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(secret.path(), TEST_HS256_SECRET).unwrap();
    let secret = secret.path().to_str().unwrap().to_owned();
    let entry = node(&db, &secret, "node-1", &endpoint).await;
    let owner = node(&db, &secret, "node-2", &endpoint).await;
    let token = hs256_token(&claims("trace-test", None));
    let mut c = Clients::connect(&entry.endpoint()).await;
    let mut at_owner = Clients::connect(&owner.endpoint()).await;

    // A tenant whose shard node-2 holds (a node gives the tenants created through it an id in
    // one of its own shards).
    let deadline = Instant::now() + Duration::from_secs(60);
    let tenant = loop {
        assert!(Instant::now() < deadline, "no tenant landed on node-2");
        let created = at_owner
            .tenants
            .create_tenant(bearer(
                create_tenant_request("Traced Co", pb::Plan::Gold),
                &token,
            ))
            .await;
        let created = match created {
            Ok(created) => created,
            Err(status) => {
                eprintln!("create tenant: {status:?}");
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        let id = created.into_inner().tenant.unwrap().id;
        if owner_of(&pool, &id).await.as_deref() == Some("node-2") {
            break id;
        }
    };

    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let caller_span = "00f067aa0ba902b7";
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut request = bearer(
            pb::CreateOrganizationRequest {
                tenant_id: tenant.clone(),
                name: "Traced org".into(),
                options: Some(pb::MutationOptions {
                    request_id: "traced-1".into(),
                    expected_version: None,
                }),
                ..Default::default()
            },
            &token,
        );
        request.metadata_mut().insert(
            "traceparent",
            format!("00-{trace_id}-{caller_span}-01").parse().unwrap(),
        );
        match c.orgs.create_organization(request).await {
            Ok(_) => break,
            // the shard may still be settling: a retry with the same request id is safe
            Err(status) if Instant::now() < deadline => {
                eprintln!("retrying: {status:?}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(status) => panic!("{status:?}"),
        }
    }

    // Wait for every span: each node exports its own batches on its own timer, so they
    // arrive in any order.
    let deadline = Instant::now() + Duration::from_secs(30);
    let spans = loop {
        let spans = collector.trace(trace_id);
        if whole_trace(&spans, caller_span).is_some() && parents_arrived(&spans, caller_span) {
            break spans;
        }
        assert!(Instant::now() < deadline, "incomplete trace: {spans:#?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // The projections run on one of the nodes; their batch joins the trace under the command.
    let projection = whole_trace(&spans, caller_span).expect("the whole trace");
    assert!(["node-1", "node-2"].contains(&projection.node.as_str()));
    // Nothing of the HTTP/2 or database libraries is exported.
    assert!(
        spans
            .iter()
            .all(|s| !s.name.contains("h2") && !s.name.contains("hyper")),
        "{spans:#?}"
    );
    entry.kill9().await;
    owner.kill9().await;
}

/// The chain of spans one command over two nodes leaves, from the caller's span to the
/// projection's, when all of them have arrived: the entry node's call, the authenticated
/// caller's span (`rpc`) and the engine's command; the owner's side of the call over the mesh,
/// the tenant actor's work and its append; the projections' batch under the command. Returns
/// the projection's span.
fn whole_trace<'a>(spans: &'a [Span], caller_span: &str) -> Option<&'a Span> {
    let find = |node: &str, name: &str, parent: &str| {
        spans
            .iter()
            .find(|s| s.node == node && s.name == name && s.parent_span_id == parent)
    };
    let entry_call = find(
        "node-1",
        "entity.v1.OrganizationService/CreateOrganization",
        caller_span,
    )?;
    let entry_rpc = find("node-1", "rpc", &entry_call.span_id)?;
    let execute = find("node-1", "engine.execute", &entry_rpc.span_id)?;
    let peer_call = find("node-2", "engine.peer_call", &execute.span_id)?;
    let command = find("node-2", "entity.command", &peer_call.span_id)?;
    find("node-2", "journal.append", &command.span_id)?;
    spans
        .iter()
        .find(|s| s.name.starts_with("projection ") && s.parent_span_id == command.span_id)
}

/// Whether every span of the trace hangs off the caller's span through spans of the trace (a
/// parent ends after its children, so it may arrive in a later batch).
fn parents_arrived(spans: &[Span], caller_span: &str) -> bool {
    let ids: HashSet<&str> = spans.iter().map(|s| s.span_id.as_str()).collect();
    spans
        .iter()
        .all(|s| s.parent_span_id == caller_span || ids.contains(s.parent_span_id.as_str()))
}
