//! One gRPC command and one query round trip against a bare tonic unary call, in the same run.
//! Run: `cargo bench --bench grpc_round_trip` (needs `ENTITY_TEST_DATABASE_URL`).
//!
//! The real server (`gateway::spawn_server`, dev identity, PostgreSQL node with its read
//! models) on loopback, one client connection, sequential calls:
//!
//! - `baseline/health_check`: `grpc.health.v1.Health/Check`, served by the same server: a bare
//!   tonic unary call (no auth, no engine), the floor of any RPC here.
//! - `query/check_permission`: CheckPermission of an active user (allowed via an inherited
//!   organization role).
//! - `query/get_tenant`: GetTenant (the tenant actor's state).
//! - `command/update_user_profile`: UpdateUserProfile with a new display name each time: one
//!   event, committed to PostgreSQL before the answer.
//! - `in_process/check_permission`: the same check through `Engine::check_permission`, so the
//!   gRPC layer's own cost is the difference.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use engine::{
    domain::{PermissionPattern, Scope, TenantId, UserId},
    testing::TestDatabase,
};
use entity_proto::v1::{
    self as pb, access_service_client::AccessServiceClient,
    organization_service_client::OrganizationServiceClient,
    tenant_service_client::TenantServiceClient, user_service_client::UserServiceClient,
};
use gateway::{AuthMode, Node, NodeOptions, Storage};
use tonic::transport::Channel;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

struct Fixture {
    tenant: String,
    user: String,
    org: String,
}

async fn fixture(channel: Channel) -> Fixture {
    let mut tenants = TenantServiceClient::new(channel.clone());
    let mut orgs = OrganizationServiceClient::new(channel.clone());
    let mut users = UserServiceClient::new(channel);
    let created = tenants
        .create_tenant(pb::CreateTenantRequest {
            name: "Bench".into(),
            slug: format!("bench-{}", uuid::Uuid::new_v4().simple()),
            kind: pb::TenantKind::Business as i32,
            plan: pb::Plan::Gold as i32,
            owner_email: "owner@bench.example.com".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let tenant = created.tenant.unwrap();
    let root = tenant.onboarding.unwrap().default_organization_id;
    let child = orgs
        .create_organization(pb::CreateOrganizationRequest {
            tenant_id: tenant.id.clone(),
            name: "Engineering".into(),
            parent_id: root.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .organization
        .unwrap()
        .id;
    let invited = users
        .invite_user(pb::InviteUserRequest {
            tenant_id: tenant.id.clone(),
            email: "bob@bench.example.com".into(),
            roles: vec![pb::RoleAssignment {
                role: "org-admin".into(),
                scope: Some(pb::Scope {
                    kind: pb::ScopeKind::Organization as i32,
                    id: root,
                }),
            }],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    users
        .accept_invitation(pb::AcceptInvitationRequest {
            tenant_id: tenant.id.clone(),
            token: invited.invitation_token,
            ..Default::default()
        })
        .await
        .unwrap();
    Fixture {
        tenant: tenant.id,
        user: invited.user.unwrap().id,
        org: child,
    }
}

fn bench(c: &mut Criterion) {
    let runtime = support::runtime();
    let (db, server, engine, channel, f) = runtime.block_on(async {
        let db = TestDatabase::create().await;
        let journal = db.journal().await;
        let node = Node::start(&Storage::Postgres(journal), NodeOptions::default())
            .await
            .unwrap();
        let engine = node.engine().clone();
        let server =
            gateway::spawn_server(node, AuthMode::DevIdentity, "127.0.0.1:0".parse().unwrap())
                .await
                .unwrap();
        let channel = Channel::from_shared(server.endpoint())
            .unwrap()
            .tcp_nodelay(true)
            .connect()
            .await
            .unwrap();
        let f = fixture(channel.clone()).await;
        (db, server, engine, channel, f)
    });

    let health = HealthClient::new(channel.clone());
    let service = gateway::SERVICE_NAMES[0].to_owned();
    c.bench_function("grpc/baseline/health_check", |b| {
        b.to_async(&runtime).iter(|| {
            let mut health = health.clone();
            let service = service.clone();
            async move { black_box(health.check(HealthCheckRequest { service }).await.unwrap()) }
        })
    });

    let access = AccessServiceClient::new(channel.clone());
    let check = pb::CheckPermissionRequest {
        tenant_id: f.tenant.clone(),
        user_id: f.user.clone(),
        permission: "team:manage".into(),
        scope: Some(pb::Scope {
            kind: pb::ScopeKind::Organization as i32,
            id: f.org.clone(),
        }),
        consistency_token: String::new(),
    };
    let answer = runtime
        .block_on(access.clone().check_permission(check.clone()))
        .unwrap()
        .into_inner();
    assert!(answer.allowed, "{answer:?}");
    c.bench_function("grpc/query/check_permission", |b| {
        b.to_async(&runtime).iter(|| {
            let mut access = access.clone();
            let check = check.clone();
            async move { black_box(access.check_permission(check).await.unwrap()) }
        })
    });

    let tenants = TenantServiceClient::new(channel.clone());
    c.bench_function("grpc/query/get_tenant", |b| {
        b.to_async(&runtime).iter(|| {
            let mut tenants = tenants.clone();
            let tenant_id = f.tenant.clone();
            async move {
                black_box(
                    tenants
                        .get_tenant(pb::GetTenantRequest {
                            tenant_id,
                            ..Default::default()
                        })
                        .await
                        .unwrap(),
                )
            }
        })
    });

    let users = UserServiceClient::new(channel.clone());
    let mut n = 0u64;
    c.bench_function("grpc/command/update_user_profile", |b| {
        b.to_async(&runtime).iter(|| {
            n += 1;
            let mut users = users.clone();
            let request = pb::UpdateUserProfileRequest {
                tenant_id: f.tenant.clone(),
                user_id: f.user.clone(),
                user: Some(pb::UserProfileUpdate {
                    display_name: format!("Bob {n}"),
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["display_name".into()],
                }),
                ..Default::default()
            };
            async move { black_box(users.update_user_profile(request).await.unwrap()) }
        })
    });

    let tenant: TenantId = f.tenant.parse().unwrap();
    let user: UserId = f.user.parse().unwrap();
    let org = Scope::Organization(f.org.parse().unwrap());
    let permission: PermissionPattern = "team:manage".parse().unwrap();
    c.bench_function("grpc/in_process/check_permission", |b| {
        b.to_async(&runtime).iter(|| {
            let engine = &engine;
            let permission = permission.clone();
            async move {
                black_box(
                    engine
                        .check_permission(tenant, user, permission, org)
                        .await
                        .unwrap(),
                )
            }
        })
    });

    drop(channel);
    runtime.block_on(async {
        let _ = server.shutdown().await;
    });
    drop(db);
}

criterion_group!(benches, bench);
criterion_main!(benches);
