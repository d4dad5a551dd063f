//! Data partitions and API keys over the real gRPC API: keys shown once and listed masked,
//! rotation with overlap, revocation, expiry, a mistyped key refused without touching the
//! store, the cascades (partition, client and tenant), keys as credentials of this API within
//! their scopes (and recorded as such), and the bootstrap key of CreateTenant.
//! Needs `ENTITY_TEST_DATABASE_URL`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

#[path = "support/grpc.rs"]
mod grpc_support;

use std::time::Duration;

use engine::{
    domain::{ApiKeyId, TenantId},
    secrets::api_key,
};
use entity_proto::v1 as pb;
use gateway::AuthMode;
use grpc_support::{
    Clients, PgNode, bearer, create_api_key, create_client, create_partition, create_tenant,
    create_tenant_request, reason, with_request_id,
};
use pb::verify_api_key_response::Reason;
use tonic::Code;

async fn verify(c: &mut Clients, key: &str) -> pb::VerifyApiKeyResponse {
    c.api_keys
        .verify_api_key(pb::VerifyApiKeyRequest {
            api_key: key.into(),
        })
        .await
        .unwrap()
        .into_inner()
}

fn why(answer: &pb::VerifyApiKeyResponse) -> Reason {
    Reason::try_from(answer.reason).unwrap()
}

async fn get_key(c: &mut Clients, tenant: &str, id: &str) -> pb::ApiKey {
    c.api_keys
        .get_api_key(pb::GetApiKeyRequest {
            tenant_id: tenant.into(),
            id: id.into(),
        })
        .await
        .unwrap()
        .into_inner()
}

#[tokio::test]
async fn keys_are_shown_once_listed_masked_rotated_with_overlap_and_revoked() {
    let node = PgNode::start(AuthMode::DevIdentity).await;
    let mut c = node.clients.clone();
    let (tenant, _) = create_tenant(&mut c, pb::Plan::Gold).await;
    let t = tenant.id.as_str();
    let prod = create_partition(&mut c, t, "", "prod").await;

    let issued = c
        .api_keys
        .create_api_key(pb::CreateApiKeyRequest {
            options: with_request_id("key-1"),
            tenant_id: t.into(),
            partition_id: prod.id.clone(),
            name: "ci".into(),
            scopes: vec!["organization:read".into()],
            foreign_key: "github-actions-7".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let key = issued.key.clone();
    let shown = issued.api_key.unwrap();
    assert!(
        key.starts_with("eek_") && key.len() == api_key::KEY_CHARS,
        "{key}"
    );
    assert_eq!(shown.masked_key, format!("eek_…{}", &key[key.len() - 4..]));
    assert_eq!(
        (shown.admin, shown.scopes.clone()),
        (false, vec!["organization:read".to_owned()])
    );
    assert_eq!(shown.state, pb::ApiKeyState::Active as i32);
    // a replay answers the first write, without the key (it was never stored)
    let replay = c
        .api_keys
        .create_api_key(pb::CreateApiKeyRequest {
            options: with_request_id("key-1"),
            tenant_id: t.into(),
            partition_id: prod.id.clone(),
            name: "ci".into(),
            scopes: vec!["organization:read".into()],
            foreign_key: "github-actions-7".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(replay.key.is_empty());
    assert!(replay.result.unwrap().replayed);
    assert_eq!(replay.api_key.unwrap().id, shown.id);

    let ok = verify(&mut c, &key).await;
    assert!(ok.valid);
    assert_eq!(
        (
            ok.tenant_id.as_str(),
            ok.partition_id.as_str(),
            ok.key_id.as_str(),
            ok.client_id.as_str()
        ),
        (t, prod.id.as_str(), shown.id.as_str(), "")
    );
    assert_eq!(ok.scopes, ["organization:read"]);

    let listed = c
        .api_keys
        .list_api_keys(pb::ListApiKeysRequest {
            tenant_id: t.into(),
            partition_id: prod.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.api_keys.len(), 1);
    assert!(
        !format!("{listed:?}").contains(&key[4..40]),
        "a list shows no secret"
    );

    // rotation: the old key works during the overlap, the new one at once
    let rotated = c
        .api_keys
        .rotate_api_key(pb::RotateApiKeyRequest {
            tenant_id: t.into(),
            id: shown.id.clone(),
            overlap_seconds: Some(3600),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let new_key = rotated.key.clone();
    let new = rotated.api_key.unwrap();
    assert_ne!(new.id, shown.id);
    assert_eq!(
        (
            new.rotated_from.as_str(),
            new.scopes.clone(),
            new.foreign_key.as_str()
        ),
        (shown.id.as_str(), shown.scopes.clone(), "github-actions-7")
    );
    assert!(verify(&mut c, &key).await.valid);
    assert!(verify(&mut c, &new_key).await.valid);
    let old = get_key(&mut c, t, &shown.id).await;
    assert_eq!(old.replaced_by, new.id);
    assert!(old.expire_time.is_some());
    // an overlap of 0 ends the replaced key at once
    let again = c
        .api_keys
        .rotate_api_key(pb::RotateApiKeyRequest {
            tenant_id: t.into(),
            id: new.id.clone(),
            overlap_seconds: Some(0),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(why(&verify(&mut c, &new_key).await), Reason::Expired);
    assert!(verify(&mut c, &again.key).await.valid);

    // revocation ends a key now; revoking it again writes nothing
    let revoked = c
        .api_keys
        .revoke_api_key(pb::RevokeApiKeyRequest {
            tenant_id: t.into(),
            id: again.api_key.unwrap().id,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(why(&verify(&mut c, &again.key).await), Reason::Revoked);
    let shown_revoked = revoked.api_key.unwrap();
    assert_eq!(shown_revoked.state, pb::ApiKeyState::Revoked as i32);
    assert_eq!(shown_revoked.revocation_reason, "revoked");
    let twice = c
        .api_keys
        .revoke_api_key(pb::RevokeApiKeyRequest {
            tenant_id: t.into(),
            id: shown_revoked.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(twice.api_key.unwrap().version, shown_revoked.version);

    // a TTL ends a key at its time
    let short = c
        .api_keys
        .create_api_key(pb::CreateApiKeyRequest {
            tenant_id: t.into(),
            partition_id: prod.id.clone(),
            name: "short".into(),
            admin: true,
            ttl_seconds: 3,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(verify(&mut c, &short.key).await.valid);
    let mut expired = false;
    for _ in 0..100 {
        if why(&verify(&mut c, &short.key).await) == Reason::Expired {
            expired = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(expired, "a key with a TTL of 3 s still worked after 10 s");

    // bad input is INVALID_ARGUMENT naming the fields
    let bad = c
        .api_keys
        .create_api_key(pb::CreateApiKeyRequest {
            tenant_id: t.into(),
            partition_id: prod.id.clone(),
            name: String::new(),
            scopes: vec!["Not A Permission".into()],
            ttl_seconds: -1,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument, "{bad:?}");
    assert_eq!(
        grpc_support::violation_fields(&bad),
        ["scopes[0]", "ttl_seconds"]
    );
    node.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_mistyped_key_is_refused_without_touching_the_store() {
    let node = PgNode::start(AuthMode::DevIdentity).await;
    let mut c = node.clients.clone();
    // a key of a tenant no actor has seen: any lookup would start one
    let stranger = api_key::issue(TenantId::new_v7(), ApiKeyId::new_v7()).unwrap();
    let mut typo = stranger.plaintext.clone().into_bytes();
    typo[30] = if typo[30] == b'x' { b'y' } else { b'x' };
    let typo = String::from_utf8(typo).unwrap();
    let active = node.engine.active_entities().await.unwrap();

    assert_eq!(why(&verify(&mut c, &typo).await), Reason::Malformed);
    assert_eq!(why(&verify(&mut c, "eek_short").await), Reason::Malformed);
    let refused = c
        .tenants
        .get_tenant(bearer(
            pb::GetTenantRequest {
                tenant_id: TenantId::new_v7().to_string(),
                ..Default::default()
            },
            &typo,
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated);
    assert_eq!(reason(&refused), "API_KEY_MALFORMED");
    assert_eq!(
        node.engine.active_entities().await.unwrap(),
        active,
        "a mistyped key was looked up"
    );

    // the engine can answer only if the tenant is in memory, loading nothing (the
    // authenticator's fast path; loading one waits for a bounded permit)
    let presented = api_key::parse(&stranger.plaintext).unwrap();
    assert!(
        node.engine
            .verify_api_key_if_live(presented.clone())
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(node.engine.active_entities().await.unwrap(), active);

    // the well-formed key is looked up (so the count above would have moved) and unknown
    assert_eq!(
        why(&verify(&mut c, &stranger.plaintext).await),
        Reason::Unknown
    );
    assert_eq!(node.engine.active_entities().await.unwrap(), active + 1);
    assert!(
        node.engine
            .verify_api_key_if_live(presented)
            .await
            .unwrap()
            .is_some()
    );
    node.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn deleting_a_partition_or_a_client_and_suspending_or_deleting_the_tenant_stop_keys_at_once()
{
    let node = PgNode::start(AuthMode::DevIdentity).await;
    let mut c = node.clients.clone();
    let (tenant, _) = create_tenant(&mut c, pb::Plan::Gold).await;
    let t = tenant.id.as_str();
    let dev = create_partition(&mut c, t, "", "dev").await;
    let prod = create_partition(&mut c, t, "", "prod").await;
    let client = create_client(&mut c, t, "Globex").await;
    let theirs = create_partition(&mut c, t, &client.id, "prod").await;
    let (dev_key, dev_key_id) = create_api_key(&mut c, t, &dev.id, &[]).await;
    let (prod_key, _) = create_api_key(&mut c, t, &prod.id, &[]).await;
    let (client_key, _) = create_api_key(&mut c, t, &theirs.id, &[]).await;
    assert_eq!(verify(&mut c, &client_key).await.client_id, client.id);

    // a partition's deletion revokes its keys in the same write
    c.partitions
        .delete_partition(pb::DeleteRecordRequest {
            tenant_id: t.into(),
            id: dev.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(why(&verify(&mut c, &dev_key).await), Reason::Revoked);
    assert_eq!(
        get_key(&mut c, t, &dev_key_id).await.revocation_reason,
        "partition_deleted"
    );

    // an inactive partition's keys stop until it is active again
    let set_active = |active: bool| pb::UpdatePartitionRequest {
        tenant_id: t.into(),
        id: prod.id.clone(),
        partition: Some(pb::Partition {
            active,
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["active".into()],
        }),
        ..Default::default()
    };
    c.partitions
        .update_partition(set_active(false))
        .await
        .unwrap();
    assert_eq!(
        why(&verify(&mut c, &prod_key).await),
        Reason::PartitionInactive
    );
    c.partitions
        .update_partition(set_active(true))
        .await
        .unwrap();
    assert!(verify(&mut c, &prod_key).await.valid);

    // a disabled client's keys stop; its deletion deletes its partitions and revokes them
    c.clients
        .disable_client(pb::DisableClientRequest {
            tenant_id: t.into(),
            client_id: client.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        why(&verify(&mut c, &client_key).await),
        Reason::ClientDisabled
    );
    c.clients
        .delete_client(pb::DeleteClientRequest {
            tenant_id: t.into(),
            client_id: client.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(why(&verify(&mut c, &client_key).await), Reason::Revoked);
    let gone = c
        .partitions
        .get_partition(pb::GetRecordRequest {
            tenant_id: t.into(),
            id: theirs.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(gone.code(), Code::NotFound);

    // the tenant's suspension stops every key; reactivation restores them
    c.tenants
        .suspend_tenant(pb::SuspendTenantRequest {
            tenant_id: t.into(),
            reason: "unpaid".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        why(&verify(&mut c, &prod_key).await),
        Reason::TenantNotActive
    );
    let refused = c
        .tenants
        .get_tenant(bearer(
            pb::GetTenantRequest {
                tenant_id: t.into(),
                ..Default::default()
            },
            &prod_key,
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&refused), "API_KEY_TENANT_NOT_ACTIVE");
    c.tenants
        .reactivate_tenant(pb::ReactivateTenantRequest {
            tenant_id: t.into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(verify(&mut c, &prod_key).await.valid);
    assert_eq!(
        why(&verify(&mut c, &dev_key).await),
        Reason::Revoked,
        "revoked stays revoked"
    );
    c.tenants
        .delete_tenant(pb::DeleteTenantRequest {
            tenant_id: t.into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        why(&verify(&mut c, &prod_key).await),
        Reason::TenantNotActive
    );
    node.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_key_calls_this_api_within_its_scopes_and_its_events_name_it() {
    let node = PgNode::start(AuthMode::DevIdentity).await;
    let mut c = node.clients.clone();
    let (tenant, _) = create_tenant(&mut c, pb::Plan::Gold).await;
    let t = tenant.id.as_str();
    let prod = create_partition(&mut c, t, "", "prod").await;
    let (key, key_id) =
        create_api_key(&mut c, t, &prod.id, &["organization:*", "api-key:create"]).await;

    let before = node.events().await.len();
    let org = c
        .orgs
        .create_organization(bearer(
            pb::CreateOrganizationRequest {
                tenant_id: t.into(),
                name: "Made by a key".into(),
                ..Default::default()
            },
            &key,
        ))
        .await
        .unwrap()
        .into_inner();
    let events = node.events().await;
    let actor = &events[before].metadata.actor;
    assert_eq!(actor.credential_kind, "api-key");
    assert_eq!(actor.credential_id.as_deref(), Some(key_id.as_str()));
    assert_eq!(actor.subject, format!("api-key:{key_id}"));
    assert!(
        !serde_json::to_string(&events[before].metadata)
            .unwrap()
            .contains(&key[4..])
    );

    // x-api-key works as well
    let mut request = tonic::Request::new(pb::GetOrganizationRequest {
        tenant_id: t.into(),
        organization_id: org.organization.unwrap().id,
        ..Default::default()
    });
    request
        .metadata_mut()
        .insert("x-api-key", key.parse().unwrap());
    c.orgs.get_organization(request).await.unwrap();

    // beyond its scopes: refused, naming the permission
    let denied = c
        .tenants
        .delete_tenant(bearer(
            pb::DeleteTenantRequest {
                tenant_id: t.into(),
                ..Default::default()
            },
            &key,
        ))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let info = tonic_types::StatusExt::get_details_error_info(&denied).unwrap();
    assert_eq!(info.metadata["permission"], "tenant:delete");
    // a key cannot mint a wider key
    let wider = c
        .api_keys
        .create_api_key(bearer(
            pb::CreateApiKeyRequest {
                tenant_id: t.into(),
                partition_id: prod.id.clone(),
                name: "wider".into(),
                admin: true,
                ..Default::default()
            },
            &key,
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&wider), "SCOPES_EXCEED_ISSUER");
    // another tenant is out of reach whatever the scopes
    let (other, _) = create_tenant(&mut c, pb::Plan::Gold).await;
    let foreign = c
        .orgs
        .create_organization(bearer(
            pb::CreateOrganizationRequest {
                tenant_id: other.id.clone(),
                name: "Evil".into(),
                ..Default::default()
            },
            &key,
        ))
        .await
        .unwrap_err();
    assert_eq!(foreign.code(), Code::PermissionDenied);
    assert_eq!(reason(&foreign), "TENANT_MISMATCH");
    node.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_bootstrap_key_sets_a_new_tenant_up_without_a_user() {
    let node = PgNode::start(AuthMode::DevIdentity).await;
    let mut c = node.clients.clone();
    let request = pb::CreateTenantRequest {
        options: with_request_id("bootstrap-1"),
        bootstrap_api_key: true,
        ..create_tenant_request("Provisioned", pb::Plan::Silver)
    };
    let created = c
        .tenants
        .create_tenant(request.clone())
        .await
        .unwrap()
        .into_inner();
    let key = created.bootstrap_api_key.clone();
    let t = created.tenant.unwrap().id;
    let verified = verify(&mut c, &key).await;
    assert!(verified.valid && verified.admin);
    assert_eq!(verified.key_id, created.bootstrap_api_key_id);
    let default = c
        .partitions
        .get_partition(pb::GetRecordRequest {
            tenant_id: t.clone(),
            id: verified.partition_id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(default.name, "default");
    // the automation sets the tenant up with it
    c.orgs
        .create_organization(bearer(
            pb::CreateOrganizationRequest {
                tenant_id: t.clone(),
                name: "Operations".into(),
                ..Default::default()
            },
            &key,
        ))
        .await
        .unwrap();
    // a replay does not show the key again
    let replay = c.tenants.create_tenant(request).await.unwrap().into_inner();
    assert!(replay.bootstrap_api_key.is_empty());
    node.server.shutdown().await.unwrap();
}
