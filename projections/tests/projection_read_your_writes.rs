//! Read-your-writes: a write through `Engine` followed at once by a List with its consistency
//! token always sees the write — through the local runner and through checkpoint polling, on
//! PostgreSQL and on SQLite.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use engine::{
    domain::{OrganizationId, UserId},
    runtime::Engine,
};
use projections::{OrganizationFilter, OrganizationSelection, PageRequest, ReadModels, UserFilter};
use support::*;

const ROUNDS: usize = 60;

async fn read_your_writes(engine: &Engine, read: &ReadModels) {
    let (tenant, created) = new_tenant(engine).await;
    // The tenant itself, at once.
    let page = read
        .list_tenants(
            &Default::default(),
            &PageRequest::first(500),
            Some(created.token),
        )
        .await
        .unwrap();
    assert!(page.items.iter().any(|t| t.tenant_id == tenant));

    let root = OrganizationId::new_v7();
    engine
        .execute(tenant, create_org(root, "Root", None), meta())
        .await
        .unwrap();
    for i in 0..ROUNDS {
        let id = OrganizationId::new_v7();
        let done = engine
            .execute(
                tenant,
                create_org(id, &format!("Child {i}"), Some(root)),
                meta(),
            )
            .await
            .unwrap();
        let filter = OrganizationFilter {
            selection: OrganizationSelection::ChildrenOf(root),
            include_deleted: false,
        };
        let mut found = false;
        let mut page = PageRequest::first(500);
        loop {
            let got = read
                .list_organizations(tenant, &filter, &page, Some(done.token))
                .await
                .unwrap();
            found |= got.items.iter().any(|o| o.id == id);
            match got.next_page_token {
                Some(t) => page = PageRequest::after(500, t),
                None => break,
            }
        }
        assert!(
            found,
            "round {i}: organization {id} not visible with its token"
        );

        let user = UserId::new_v7();
        let email = format!("ryw{i}@example.com");
        let done = engine
            .execute(
                tenant,
                invite(user, &email, Some(id), &engine::secrets::token_hash(&email)),
                meta(),
            )
            .await
            .unwrap();
        let got = read
            .list_users(
                tenant,
                &UserFilter {
                    text: Some(email.to_uppercase()),
                    role: Some("member".into()),
                    ..UserFilter::default()
                },
                &PageRequest::first(10),
                Some(done.token),
            )
            .await
            .unwrap();
        assert_eq!(
            got.items.iter().map(|u| u.id).collect::<Vec<_>>(),
            vec![user],
            "round {i}: invited user not visible with its token"
        );
        assert_eq!(got.items[0].organization_ids, vec![id]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_local_runner() {
    let (_db, _journal, store) = postgres().await;
    let engine = start_engine(&store).await;
    let service = start_projections(&store).await;
    read_your_writes(&engine, &read_models(&store, &service.handle())).await;
    service.stop().await;
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_polling_the_checkpoints() {
    let (_db, _journal, store) = postgres().await;
    let engine = start_engine(&store).await;
    let service = start_projections(&store).await;
    // No local handle: the queries poll projection_checkpoints, as on a node without runner.
    read_your_writes(&engine, &ReadModels::new(store.read.clone())).await;
    service.stop().await;
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_local_runner() {
    let dir = tempfile::tempdir().unwrap();
    let (_journal, store) = sqlite(dir.path()).await;
    let engine = start_engine(&store).await;
    let service = start_projections(&store).await;
    read_your_writes(&engine, &read_models(&store, &service.handle())).await;
    service.stop().await;
    engine.shutdown().await;
}
