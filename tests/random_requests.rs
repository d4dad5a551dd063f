//! Random requests to every RPC of a running node (SPEC §4): `RANDOM_REQUEST_ROUNDS` rounds
//! (default 300; seeds from `RANDOM_REQUEST_SEED`, default 0) of one request from
//! `support/random_request.rs` to every RPC of the contract — structured, mutated and noise,
//! ids drawn from live fixtures so that many reach real entities — as the dev platform admin.
//! No answer is INTERNAL or UNKNOWN, the node still answers health checks, reads and writes
//! afterwards, and every string the journal holds (payloads and metadata) obeys the text
//! rules. Valid random writes may succeed. Prints the count of every status code. Needs
//! `ENTITY_TEST_DATABASE_URL`.
//!
//! A longer run: `RANDOM_REQUEST_ROUNDS=5000 cargo nextest run --release --test
//! random_requests`. A failure prints the RPC and the seed (the round);
//! `RANDOM_REQUEST_SEED=<seed> RANDOM_REQUEST_ROUNDS=1` replays it (against fresh fixtures).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

#[path = "support/grpc.rs"]
mod grpc_support;
#[path = "support/random_request.rs"]
mod random_request;
#[path = "support/raw.rs"]
mod raw;

use std::{collections::BTreeMap, time::Duration};

use entity_proto::v1 as pb;
use entity_text::TextKind;
use gateway::AuthMode;
use grpc_support::{Clients, Fixtures, PgNode, create_org, create_tenant};
use random_request::{random_request, rpcs};
use tonic::Code;
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus};

/// Longest wait for one answer: a request that hangs is a failure, not a stuck test.
const ANSWER_WITHIN: Duration = Duration::from_secs(60);
/// Rounds between new fixtures.
const FRESH_FIXTURES_EVERY: u64 = 20;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name).map_or(default, |v| v.parse().expect(name))
}

/// Ids of live entities of one gold tenant: the shared fixtures, a child organization, and
/// what onboarding made.
async fn fixtures(c: &mut Clients) -> Vec<(&'static str, String)> {
    let f = Fixtures::create(c).await;
    let child = create_org(c, &f.tenant, "Sales EU", &f.org).await;
    let onboarding = f.created.onboarding.unwrap_or_default();
    [
        ("customer", f.tenant.clone()),
        ("tenant", f.tenant),
        ("organization", f.org),
        ("organization", child.id),
        ("team", f.team),
        ("user", f.user),
        ("role", f.role),
        ("organization", onboarding.default_organization_id),
        ("user", onboarding.owner_user_id),
    ]
    .into_iter()
    .filter(|(_, id)| !id.is_empty())
    .collect()
}

/// Every string of a JSON value, object keys included, with its path.
fn json_strings<'a>(value: &'a serde_json::Value, path: &str, out: &mut Vec<(String, &'a str)>) {
    match value {
        serde_json::Value::String(s) => out.push((path.to_owned(), s)),
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                json_strings(item, &format!("{path}[{i}]"), out);
            }
        }
        serde_json::Value::Object(fields) => {
            for (key, item) in fields {
                out.push((format!("{path}.{key} (key)"), key));
                json_strings(item, &format!("{path}.{key}"), out);
            }
        }
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_requests_to_every_rpc_never_fail_internally() {
    let rounds = env("RANDOM_REQUEST_ROUNDS", 300);
    let first = env("RANDOM_REQUEST_SEED", 0);
    let node = PgNode::start(AuthMode::DevIdentity).await;
    let mut clients = node.clients.clone();
    let mut ids = fixtures(&mut clients).await;
    let tenant = ids[0].1.clone();
    let rpcs = rpcs();
    // A connection per RPC: an answer that breaks its HTTP/2 connection fails its own call,
    // not the others of the round.
    let mut channels = Vec::new();
    for _ in &rpcs {
        channels.push(Clients::connect(&node.server.endpoint()).await.channel);
    }

    let mut codes: BTreeMap<String, u64> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut exhausted = Vec::new();
    for seed in first..first + rounds {
        // Random deletes and suspensions wear the fixtures out.
        if seed > first && (seed - first).is_multiple_of(FRESH_FIXTURES_EVERY) {
            ids = fixtures(&mut clients).await;
        }
        // One request to every RPC, all at once.
        let calls = rpcs.iter().zip(&channels).map(|((path, input), channel)| {
            let case = random_request(input, seed, &ids);
            let channel = channel.clone();
            async move {
                let answer =
                    tokio::time::timeout(ANSWER_WITHIN, raw::call(channel, path, case.bytes, None))
                        .await;
                (path, case.shape, answer)
            }
        });
        for (path, shape, answer) in futures::future::join_all(calls).await {
            let code = match &answer {
                Ok(Ok(_)) => Code::Ok,
                Ok(Err(status)) => status.code(),
                Err(_) => {
                    failures.push(format!("{path} seed {seed} ({shape:?}): no answer"));
                    continue;
                }
            };
            *codes.entry(format!("{code:?}")).or_default() += 1;
            if let Ok(Err(status)) = answer {
                let message: String = status.message().chars().take(200).collect();
                let line = format!("{path} seed {seed} ({shape:?}): {code:?} {message}");
                match code {
                    Code::Internal | Code::Unknown => failures.push(line),
                    Code::ResourceExhausted => exhausted.push(line),
                    _ => {}
                }
            }
        }
    }
    let calls: u64 = codes.values().sum();
    println!(
        "random_requests: {calls} calls ({rounds} rounds of {} RPCs): {codes:?}",
        rpcs.len()
    );
    for line in exhausted.iter().take(20) {
        println!(
            "RESOURCE_EXHAUSTED (acceptable, {} in all): {line}",
            exhausted.len()
        );
    }

    // The node is still up: health, a read, and a write then a read.
    let mut health = tonic_health::pb::health_client::HealthClient::new(clients.channel.clone());
    let serving = health
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("health answers")
        .into_inner()
        .status;
    assert_eq!(serving, ServingStatus::Serving as i32);
    let get = |tenant_id: String| pb::GetTenantRequest {
        tenant_id,
        consistency_token: String::new(),
    };
    // The fixture tenant may have been suspended or deleted by a random request.
    if let Err(s) = clients.tenants.get_tenant(get(tenant)).await {
        assert!(
            !matches!(s.code(), Code::Internal | Code::Unknown | Code::Unavailable),
            "GetTenant of the fixture tenant: {s:?}"
        );
    }
    let (fresh, _) = create_tenant(&mut clients, pb::Plan::Bronze).await;
    let read = clients.tenants.get_tenant(get(fresh.id.clone())).await;
    assert_eq!(
        read.expect("GetTenant of a new tenant").into_inner().id,
        fresh.id
    );

    // Nothing invalid reached the journal.
    let events = node.events().await;
    for event in &events {
        let metadata = serde_json::to_value(&event.metadata).unwrap();
        let mut strings = vec![("event_type".to_owned(), event.event_type.as_str())];
        json_strings(&event.payload, "payload", &mut strings);
        json_strings(&metadata, "metadata", &mut strings);
        for (path, s) in strings {
            if let Err(v) = entity_text::check(s, TextKind::MultiLine) {
                let start: String = s.chars().take(80).collect();
                failures.push(format!(
                    "journal position {} ({}) {path}: {v}: {start:?}",
                    event.position, event.event_type
                ));
            }
        }
    }
    println!("random_requests: {} events in the journal", events.len());
    assert!(
        failures.is_empty(),
        "{} failures (the first 100):\n{}",
        failures.len(),
        failures[..failures.len().min(100)].join("\n")
    );
}
