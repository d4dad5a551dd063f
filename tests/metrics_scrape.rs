//! `/metrics` for real (issue 18): `entityd` in embedded mode with `--metrics-listen`, driven
//! by a gRPC client; the scrape before and after a workload must differ by exactly the calls
//! and commands made, and no label may carry a tenant's or user's value.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

#[path = "support/grpc.rs"]
mod grpc_support;

use std::collections::BTreeMap;

use entity_proto::v1 as pb;
use grpc_support::{Clients, Entityd, create_tenant_request};
use tonic::Code;

/// A scrape: every sample line as `name{labels}` → value.
type Scrape = BTreeMap<String, f64>;

async fn scrape(url: &str) -> Scrape {
    let response = reqwest::get(url).await.expect("scrape");
    assert!(response.status().is_success());
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = response.text().await.unwrap();
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').expect("a sample line");
            (series.to_owned(), value.parse().expect("a number"))
        })
        .collect()
}

fn delta(before: &Scrape, after: &Scrape, series: &str) -> f64 {
    after.get(series).copied().unwrap_or(0.0) - before.get(series).copied().unwrap_or(0.0)
}

fn calls(method: &str, code: Code) -> String {
    let service = if method.starts_with("Check") {
        "grpc.health.v1.Health"
    } else {
        "entity.v1.TenantService"
    };
    format!(
        "rpc_server_call_duration_seconds_count{{rpc_system=\"grpc\",rpc_service=\"{service}\",\
         rpc_method=\"{method}\",rpc_grpc_status_code=\"{}\"}}",
        i32::from(code)
    )
}

fn commands(command: &str, outcome: &str) -> String {
    format!("entity_commands_total{{command=\"{command}\",outcome=\"{outcome}\"}}")
}

#[tokio::test]
async fn a_scrape_counts_every_call_and_command_and_names_no_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let node = Entityd::start(&[
        "--dev-identity",
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
        "--metrics-listen",
        "127.0.0.1:0",
    ])
    .await;
    let url = node
        .ready_line
        .split("metrics at ")
        .nth(1)
        .and_then(|rest| rest.split([',', ')']).next())
        .expect("the ready line names the metrics address")
        .to_owned();
    let mut c = Clients::connect(&node.endpoint()).await;
    let before = scrape(&url).await;

    let mut created = Vec::new();
    let mut token = String::new();
    for _ in 0..3 {
        let answer = c
            .tenants
            .create_tenant(create_tenant_request("Metrics Co", pb::Plan::Gold))
            .await
            .unwrap()
            .into_inner();
        created.push(answer.tenant.unwrap().id);
        token = answer.result.unwrap().consistency_token;
    }
    for _ in 0..2 {
        let refused = c
            .tenants
            .create_tenant(create_tenant_request("", pb::Plan::Gold))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::InvalidArgument);
    }
    let missing = c
        .tenants
        .get_tenant(pb::GetTenantRequest {
            tenant_id: uuid::Uuid::now_v7().to_string(),
            consistency_token: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    let got = c
        .tenants
        .get_tenant(pb::GetTenantRequest {
            tenant_id: created[2].clone(),
            consistency_token: token,
        })
        .await;
    assert!(got.is_ok(), "{got:?}");

    let after = scrape(&url).await;
    assert_eq!(
        delta(&before, &after, &calls("CreateTenant", Code::Ok)),
        3.0
    );
    assert_eq!(
        delta(
            &before,
            &after,
            &calls("CreateTenant", Code::InvalidArgument)
        ),
        2.0
    );
    assert_eq!(
        delta(&before, &after, &calls("GetTenant", Code::NotFound)),
        1.0
    );
    assert_eq!(delta(&before, &after, &calls("GetTenant", Code::Ok)), 1.0);
    // The nameless tenants were refused by the domain's rules (INVALID_ARGUMENT), nothing
    // written: commands rejected, not failed.
    assert_eq!(delta(&before, &after, &commands("tenant", "ok")), 3.0);
    assert_eq!(delta(&before, &after, &commands("tenant", "rejected")), 2.0);
    assert_eq!(delta(&before, &after, &commands("tenant", "failed")), 0.0);
    // Every call of the histogram also fell in its +Inf bucket, and took some time.
    let sum = calls("CreateTenant", Code::Ok).replace("_count{", "_sum{");
    assert!(delta(&before, &after, &sum) > 0.0);

    // No label value is a tenant's, a user's or any id.
    for series in after.keys() {
        for id in &created {
            assert!(!series.contains(id.as_str()), "{series} names tenant {id}");
        }
        let labels = series.split_once('{').map_or("", |(_, l)| l);
        for value in labels.split('"').skip(1).step_by(2) {
            assert!(
                uuid::Uuid::parse_str(value).is_err() && !value.contains('@'),
                "{series}: label value {value:?} looks like an id or an email"
            );
        }
    }
}
