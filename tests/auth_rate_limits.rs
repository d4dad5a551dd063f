//! Per-tenant rate limits by plan: a bronze tenant (50/s) flooded with calls gets
//! RESOURCE_EXHAUSTED with RetryInfo for some of them, while a gold tenant (5,000/s) on the
//! same node, flooded the same way at the same time, is unaffected. Outcomes are counted; no
//! timing is asserted. Needs `ENTITY_TEST_DATABASE_URL`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

#[path = "support/grpc.rs"]
mod grpc_support;

use entity_proto::v1 as pb;
use grpc_support::{PgNode, bearer, claims, hs256_token, jwt_auth, tenant_with_owner};
use tonic::Code;
use tonic_types::StatusExt;

const CALLS: usize = 300;

async fn flood(node: &PgNode, tenant: &str, token: &str) -> (usize, usize, Vec<tonic::Status>) {
    let calls = (0..CALLS).map(|_| {
        let mut c = node.clients.clone();
        let request = bearer(
            pb::GetTenantRequest {
                tenant_id: tenant.to_owned(),
                consistency_token: String::new(),
            },
            token,
        );
        async move { c.tenants.get_tenant(request).await }
    });
    let results = futures::future::join_all(calls).await;
    let mut ok = 0;
    let mut limited = 0;
    let mut other = Vec::new();
    for r in results {
        match r {
            Ok(_) => ok += 1,
            Err(s) if s.code() == Code::ResourceExhausted => {
                assert!(s.get_details_retry_info().is_some(), "{s:?}");
                assert_eq!(s.get_details_error_info().unwrap().reason, "RATE_LIMITED");
                limited += 1;
            }
            Err(s) => other.push(s),
        }
    }
    (ok, limited, other)
}

#[tokio::test]
async fn a_bronze_tenant_over_its_rate_is_limited_while_gold_is_not() {
    let (auth, _) = jwt_auth(None, true).await;
    let node = PgNode::start(auth).await;
    let admin = hs256_token(&claims("ops", None));
    let c = node.clients.clone();
    let make = |plan: pb::Plan| {
        let mut c = c.clone();
        let admin = admin.clone();
        async move { tenant_with_owner(&mut c, &admin, "Rate", plan).await }
    };
    let (bronze, bronze_token) = make(pb::Plan::Bronze).await;
    let (gold, gold_token) = make(pb::Plan::Gold).await;

    let ((b_ok, b_limited, b_other), (g_ok, g_limited, g_other)) = tokio::join!(
        flood(&node, &bronze.id, &bronze_token),
        flood(&node, &gold.id, &gold_token)
    );
    assert!(
        b_other.is_empty() && g_other.is_empty(),
        "{b_other:?} {g_other:?}"
    );
    assert!(b_limited > 0, "bronze: {b_ok} ok, {b_limited} limited");
    assert!(b_ok >= 50, "bronze keeps its burst: {b_ok} ok");
    assert_eq!(g_limited, 0, "gold is unaffected");
    assert_eq!(g_ok, CALLS);
    node.server.shutdown().await.unwrap();
}
