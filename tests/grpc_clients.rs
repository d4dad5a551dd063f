//! Clients over the real gRPC API: the lifecycle (create, read, list with a consistency token,
//! update by field mask, disable, enable, delete), the rules a disabled client and the plan
//! impose, and the built-in `client-editor` and `client-viewer` roles.
//! Needs `ENTITY_TEST_DATABASE_URL`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

#[path = "support/grpc.rs"]
mod grpc_support;

use entity_proto::v1 as pb;
use gateway::AuthMode;
use grpc_support::{
    Clients, PgNode, accept, bearer, claims, create_client, create_tenant, hs256_token, invite,
    jwt_node, reason, role_at,
};
use tonic::Code;

fn rename(tenant: &str, client: &str, name: &str) -> pb::UpdateClientRequest {
    pb::UpdateClientRequest {
        tenant_id: tenant.into(),
        client_id: client.into(),
        client: Some(pb::ClientUpdate {
            name: name.into(),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["name".into()],
        }),
        ..Default::default()
    }
}

async fn list(c: &mut Clients, request: pb::ListClientsRequest) -> Vec<(String, i32)> {
    let page = c.clients.list_clients(request).await.unwrap().into_inner();
    page.clients
        .into_iter()
        .map(|c| (c.name, c.status))
        .collect()
}

#[tokio::test]
async fn a_client_lives_disabled_enabled_and_deleted() {
    let node = PgNode::start(AuthMode::DevIdentity).await;
    let mut c = node.clients.clone();
    let (tenant, _) = create_tenant(&mut c, pb::Plan::Gold).await;
    let t = tenant.id.as_str();
    let profile = pb::BusinessProfile {
        legal_name: "Globex Corporation".into(),
        address: Some(pb::Address {
            city: "Cypress Creek".into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    let created = c
        .clients
        .create_client(pb::CreateClientRequest {
            tenant_id: t.into(),
            name: " Globex ".into(),
            external_id: "crm-7".into(),
            business_profile: Some(profile),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let client = created.client.unwrap();
    let id = client.id.clone();
    assert_eq!(
        (client.name.as_str(), client.status, client.version),
        ("Globex", pb::ClientStatus::Active as i32, 1)
    );
    let address = client.business_profile.unwrap().address.unwrap();
    assert_eq!(address.country, "US", "the country defaults to US");

    // the list reflects the write once its token is passed
    let token = created.result.unwrap().consistency_token;
    let listed = list(
        &mut c,
        pb::ListClientsRequest {
            tenant_id: t.into(),
            consistency_token: token,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        listed,
        [("Globex".to_owned(), pb::ClientStatus::Active as i32)]
    );

    // a second client may not take the external id
    let err = c
        .clients
        .create_client(pb::CreateClientRequest {
            tenant_id: t.into(),
            name: "Copycat".into(),
            external_id: "crm-7".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists, "{err:?}");

    // disabled: changes refused until enabled again
    c.clients
        .disable_client(pb::DisableClientRequest {
            tenant_id: t.into(),
            client_id: id.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    let err = c
        .clients
        .update_client(rename(t, &id, "Globex Corp"))
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), reason(&err).as_str()),
        (Code::FailedPrecondition, "CLIENT_DISABLED"),
        "{err:?}"
    );
    c.clients
        .enable_client(pb::EnableClientRequest {
            tenant_id: t.into(),
            client_id: id.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    let renamed = c
        .clients
        .update_client(rename(t, &id, "Globex Corp"))
        .await
        .unwrap()
        .into_inner()
        .client
        .unwrap();
    assert_eq!((renamed.name.as_str(), renamed.version), ("Globex Corp", 4));

    // deleted: gone from the default list, a tombstone on request, final
    let deleted = c
        .clients
        .delete_client(pb::DeleteClientRequest {
            tenant_id: t.into(),
            client_id: id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let token = deleted.result.unwrap().consistency_token;
    let default_list = list(
        &mut c,
        pb::ListClientsRequest {
            tenant_id: t.into(),
            consistency_token: token.clone(),
            ..Default::default()
        },
    )
    .await;
    assert!(default_list.is_empty(), "{default_list:?}");
    let tombstones = list(
        &mut c,
        pb::ListClientsRequest {
            tenant_id: t.into(),
            status: pb::ClientStatus::Deleted as i32,
            consistency_token: token,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        tombstones,
        [("Globex Corp".to_owned(), pb::ClientStatus::Deleted as i32)]
    );
    let err = c
        .clients
        .enable_client(pb::EnableClientRequest {
            tenant_id: t.into(),
            client_id: id,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{err:?}");
    node.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_plan_caps_clients() {
    let node = PgNode::start(AuthMode::DevIdentity).await;
    let mut c = node.clients.clone();
    let (tenant, _) = create_tenant(&mut c, pb::Plan::Bronze).await;
    for n in 0..10 {
        create_client(&mut c, &tenant.id, &format!("Client {n}")).await;
    }
    let err = c
        .clients
        .create_client(pb::CreateClientRequest {
            tenant_id: tenant.id.clone(),
            name: "One too many".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), reason(&err).as_str()),
        (Code::FailedPrecondition, "PLAN_LIMIT_EXCEEDED"),
        "{err:?}"
    );
    node.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn client_editors_edit_client_viewers_read_and_neither_ends_a_client() {
    let node = jwt_node().await;
    let mut c = node.clients.clone();
    let answer = grpc_support::create_tenant_answer(&mut c, pb::Plan::Gold).await;
    let t = answer.tenant.unwrap().id;
    let client = create_client(&mut c, &t, "Globex").await;
    let user_with = |role: &'static str, email: &'static str| {
        let mut c = c.clone();
        let t = t.clone();
        async move {
            let invited = invite(&mut c, &t, email, "", vec![role_at(role, None)]).await;
            let user = accept(&mut c, &t, &invited.invitation_token).await;
            hs256_token(&claims(&user.id, Some(&t)))
        }
    };
    let editor = user_with("client-editor", "editor@globex.test").await;
    let viewer = user_with("client-viewer", "viewer@globex.test").await;
    let get = || pb::GetClientRequest {
        tenant_id: t.clone(),
        client_id: client.id.clone(),
        ..Default::default()
    };
    for token in [&editor, &viewer] {
        c.clients.get_client(bearer(get(), token)).await.unwrap();
    }
    c.clients
        .update_client(bearer(rename(&t, &client.id, "Globex Corp"), &editor))
        .await
        .unwrap();
    c.clients
        .create_client(bearer(
            pb::CreateClientRequest {
                tenant_id: t.clone(),
                name: "Initech".into(),
                ..Default::default()
            },
            &editor,
        ))
        .await
        .unwrap();
    let denied = c
        .clients
        .update_client(bearer(rename(&t, &client.id, "Nope"), &viewer))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied, "{denied:?}");
    for token in [&editor, &viewer] {
        let denied = c
            .clients
            .disable_client(bearer(
                pb::DisableClientRequest {
                    tenant_id: t.clone(),
                    client_id: client.id.clone(),
                    ..Default::default()
                },
                token,
            ))
            .await
            .unwrap_err();
        assert_eq!(denied.code(), Code::PermissionDenied, "{denied:?}");
    }
    node.server.shutdown().await.unwrap();
}
