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
//!
//! Before criterion's rows, paired runs of a command whose caller needs a permission (issue
//! 14): UpdateOrganization by a user with `org-admin` at the root organization (an HS256 JWT,
//! authorized by the role authorizer), one call at a time, alternating between the permission
//! checked by the tenant's actor with the command (`one visit`, the product) and checked in a
//! visit of its own before the command (`two visits`, the path before). Each prints both sides'
//! median and p90 and their ratio (two ÷ one). `in_process` is the same alternation on the
//! engine alone: `Engine::execute` carrying the requirement against `Engine::check_permission`
//! then `Engine::execute`.
//!
//! Then the extra cost of an API-key caller (issue 16): the same UpdateOrganization sent with
//! `authorization: ApiKey <key>` (an admin key of the tenant, issued at setup) and with the
//! JWT bearer above, alternating on the same server (both one visit). The key is read (format,
//! checksum, SHA-256), verified by the tenant's actor when the call is authenticated, and
//! verified again with the command; the JWT's HS256 signature is checked. Printed like the
//! pairs above, ratio API key ÷ JWT. `in_process` is the same alternation on the engine alone:
//! `secrets::api_key::parse`, `Engine::verify_api_key` then `Engine::execute` with the key as
//! the requirement's subject, against `Engine::execute` with the user as its subject.
//! Only the paired runs: `cargo bench --bench grpc_round_trip -- paired`.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use std::{
    future::Future,
    hint::black_box,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use criterion::{Criterion, criterion_group, criterion_main};
use engine::{
    domain::{OrganizationCommand, PermissionPattern, Scope, TenantId, TenantScopeCommand, UserId},
    runtime::{Engine, PermissionRequirement, RequestMeta, Subject},
    secrets::api_key,
    testing::TestDatabase,
};
use entity_proto::v1::{
    self as pb, access_service_client::AccessServiceClient,
    api_key_service_client::ApiKeyServiceClient,
    organization_service_client::OrganizationServiceClient,
    partition_service_client::PartitionServiceClient, tenant_service_client::TenantServiceClient,
    user_service_client::UserServiceClient,
};
use gateway::{
    AuthMode, Authenticator, Authorizer, Caller, DevIdentity, Node, NodeOptions, Storage,
    auth::{
        RoleAuthorizer, Target,
        api_key::ApiKeyAuthenticator,
        jwt::{JwtAuthenticator, JwtConfig},
    },
};
use tonic::{Status, metadata::MetadataMap, transport::Channel};
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

struct Fixture {
    tenant: String,
    user: String,
    org: String,
    /// An admin API key of the tenant (on a partition of its own).
    api_key: String,
}

const ISSUER: &str = "https://issuer.bench";
const AUDIENCE: &str = "entity-engine-bench";
const HS256_SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-bench-only";

/// Calls without a token are the dev platform admin (the fixture, the criterion rows); calls
/// with one are verified as JWTs (API keys are taken first, by [`ApiKeyAuthenticator`]).
struct SetupOrJwt(Arc<JwtAuthenticator>);

#[async_trait::async_trait]
impl Authenticator for SetupOrJwt {
    async fn authenticate(&self, metadata: &MetadataMap) -> Result<Caller, Status> {
        match metadata.get("authorization") {
            Some(_) => self.0.authenticate(metadata).await,
            None => DevIdentity.authenticate(metadata).await,
        }
    }
}

/// The role authorizer; while `upfront` is set, a command's permission is checked in a visit
/// of its own before the command is sent (the path before issue 14).
struct Switchable {
    roles: RoleAuthorizer,
    upfront: Arc<AtomicBool>,
}

#[async_trait::async_trait]
impl Authorizer for Switchable {
    async fn authorize(&self, caller: &Caller, rpc: &str, target: &Target) -> Result<(), Status> {
        self.roles.authorize(caller, rpc, target).await
    }

    async fn authorize_command(
        &self,
        caller: &Caller,
        rpc: &str,
        target: &Target,
    ) -> Result<Option<PermissionRequirement>, Status> {
        if self.upfront.load(Ordering::Relaxed) {
            self.roles
                .authorize(caller, rpc, target)
                .await
                .map(|()| None)
        } else {
            self.roles.authorize_command(caller, rpc, target).await
        }
    }
}

async fn auth(engine: &Engine, upfront: Arc<AtomicBool>) -> AuthMode {
    let jwt = JwtAuthenticator::new(JwtConfig {
        issuer: ISSUER.into(),
        audience: AUDIENCE.into(),
        jwks: None,
        hs256_secret: Some(HS256_SECRET.to_vec()),
        platform_admin_claim: "platform_admin".into(),
    })
    .await
    .unwrap();
    AuthMode::Custom {
        authenticator: Arc::new(ApiKeyAuthenticator::new(
            Arc::new(SetupOrJwt(Arc::new(jwt))),
            engine.clone(),
        )),
        authorizer: Arc::new(Switchable {
            roles: RoleAuthorizer::new(engine.clone()),
            upfront,
        }),
    }
}

/// An HS256 bearer token of `user` in `tenant`, valid for a day.
fn token(user: &str, tenant: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = serde_json::json!({
        "iss": ISSUER, "aud": AUDIENCE, "sub": user, "tenant_id": tenant,
        "iat": now, "exp": now + 86_400,
    });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(HS256_SECRET),
    )
    .unwrap()
}

/// Alternates `run(first, n)` between the two sides `[first, second]` for `rounds` rounds
/// (which side goes first alternates too), so that drift on a busy machine hits both alike;
/// prints each side's median and p90 and the ratios second ÷ first.
async fn paired<F, Fut>(label: &str, [a, b]: [&str; 2], rounds: usize, mut run: F)
where
    F: FnMut(bool, u64) -> Fut,
    Fut: Future<Output = ()>,
{
    let mut times = [Vec::with_capacity(rounds), Vec::with_capacity(rounds)];
    let mut n = 0;
    for round in 0..rounds {
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for side in order {
            n += 1;
            let call = run(side == 0, n);
            let start = Instant::now();
            call.await;
            times[side].push(start.elapsed());
        }
    }
    let stat = |v: &mut Vec<Duration>, q: f64| {
        v.sort();
        v[((v.len() as f64 - 1.0) * q) as usize]
    };
    let [mut one, mut two] = times;
    let (o50, o90, t50, t90) = (
        stat(&mut one, 0.5),
        stat(&mut one, 0.9),
        stat(&mut two, 0.5),
        stat(&mut two, 0.9),
    );
    println!(
        "paired {label}, {rounds} rounds: {a} median {o50:?} p90 {o90:?}; {b} median {t50:?} \
         p90 {t90:?}; {b} / {a} {:.3} (median) {:.3} (p90)",
        t50.as_secs_f64() / o50.as_secs_f64(),
        t90.as_secs_f64() / o90.as_secs_f64()
    );
}

/// The sides of the one-visit pairs.
const VISITS: [&str; 2] = ["one visit", "two visits"];
/// The sides of the API-key pairs.
const CREDENTIALS: [&str; 2] = ["JWT", "API key"];

/// The paired runs (see the module docs).
async fn paired_commands(
    engine: &Engine,
    channel: Channel,
    upfront: &AtomicBool,
    f: &Fixture,
    rounds: usize,
) {
    let orgs = OrganizationServiceClient::new(channel);
    let bearer = token(&f.user, &f.tenant);
    paired(
        "grpc/update_organization",
        VISITS,
        rounds,
        |one_visit, n| {
            upfront.store(!one_visit, Ordering::Relaxed);
            let mut orgs = orgs.clone();
            let mut request = tonic::Request::new(pb::UpdateOrganizationRequest {
                tenant_id: f.tenant.clone(),
                organization_id: f.org.clone(),
                organization: Some(pb::OrganizationUpdate {
                    name: format!("Engineering {n}"),
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["name".into()],
                }),
                ..Default::default()
            });
            request
                .metadata_mut()
                .insert("authorization", format!("Bearer {bearer}").parse().unwrap());
            async move {
                black_box(orgs.update_organization(request).await.unwrap());
            }
        },
    )
    .await;
    upfront.store(false, Ordering::Relaxed);

    let tenant: TenantId = f.tenant.parse().unwrap();
    let user: UserId = f.user.parse().unwrap();
    let org = f.org.parse().unwrap();
    let permission: PermissionPattern = "organization:update".parse().unwrap();
    paired(
        "in_process/update_organization",
        VISITS,
        rounds,
        |one_visit, n| {
            let command = TenantScopeCommand::Organization(OrganizationCommand::Update {
                id: org,
                name: Some(format!("Engineering {n}")),
                description: None,
            });
            let requirement = PermissionRequirement {
                subject: Subject::User(user),
                permission: Some(permission.clone()),
                scopes: vec![Scope::Organization(org)],
                confers: Vec::new(),
            };
            let permission = permission.clone();
            async move {
                let meta = if one_visit {
                    RequestMeta {
                        authorization: Some(requirement),
                        ..RequestMeta::default()
                    }
                } else {
                    let decision = engine
                        .check_permission(tenant, user, permission, Scope::Organization(org))
                        .await
                        .unwrap();
                    assert!(decision.allowed);
                    RequestMeta::default()
                };
                black_box(engine.execute(tenant, command, meta).await.unwrap());
            }
        },
    )
    .await;
}

/// The API-key pairs (see the module docs): the same UpdateOrganization by the tenant's admin
/// key and by the org-admin's JWT.
async fn paired_credentials(engine: &Engine, channel: Channel, f: &Fixture, rounds: usize) {
    let orgs = OrganizationServiceClient::new(channel);
    let bearer: tonic::metadata::MetadataValue<_> = format!("Bearer {}", token(&f.user, &f.tenant))
        .parse()
        .unwrap();
    let key: tonic::metadata::MetadataValue<_> = format!("ApiKey {}", f.api_key).parse().unwrap();
    paired("grpc/update_organization", CREDENTIALS, rounds, |jwt, n| {
        let mut orgs = orgs.clone();
        let mut request = tonic::Request::new(pb::UpdateOrganizationRequest {
            tenant_id: f.tenant.clone(),
            organization_id: f.org.clone(),
            organization: Some(pb::OrganizationUpdate {
                name: format!("Engineering {n}"),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["name".into()],
            }),
            ..Default::default()
        });
        let credential = if jwt { bearer.clone() } else { key.clone() };
        request.metadata_mut().insert("authorization", credential);
        async move {
            black_box(orgs.update_organization(request).await.unwrap());
        }
    })
    .await;

    let tenant: TenantId = f.tenant.parse().unwrap();
    let user: UserId = f.user.parse().unwrap();
    let org = f.org.parse().unwrap();
    let permission: PermissionPattern = "organization:update".parse().unwrap();
    let plaintext = f.api_key.clone();
    paired(
        "in_process/update_organization",
        CREDENTIALS,
        rounds,
        |jwt, n| {
            let command = TenantScopeCommand::Organization(OrganizationCommand::Update {
                id: org,
                name: Some(format!("Engineering {n}")),
                description: None,
            });
            let permission = permission.clone();
            let plaintext = plaintext.clone();
            async move {
                let subject = if jwt {
                    Subject::User(user)
                } else {
                    let key = api_key::parse(&plaintext).unwrap();
                    let verified = engine.verify_api_key(key.clone()).await.unwrap();
                    assert!(verified.is_ok(), "{verified:?}");
                    Subject::ApiKey {
                        id: key.id,
                        hash: key.hash,
                    }
                };
                let meta = RequestMeta {
                    authorization: Some(PermissionRequirement {
                        subject,
                        permission: Some(permission),
                        scopes: vec![Scope::Organization(org)],
                        confers: Vec::new(),
                    }),
                    ..RequestMeta::default()
                };
                black_box(engine.execute(tenant, command, meta).await.unwrap());
            }
        },
    )
    .await;
}

async fn fixture(channel: Channel) -> Fixture {
    let mut tenants = TenantServiceClient::new(channel.clone());
    let mut orgs = OrganizationServiceClient::new(channel.clone());
    let mut users = UserServiceClient::new(channel.clone());
    let mut partitions = PartitionServiceClient::new(channel.clone());
    let mut api_keys = ApiKeyServiceClient::new(channel);
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
    let partition = partitions
        .create_partition(pb::CreatePartitionRequest {
            tenant_id: tenant.id.clone(),
            partition: Some(pb::Partition {
                name: "bench".into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .partition
        .unwrap()
        .id;
    let issued = api_keys
        .create_api_key(pb::CreateApiKeyRequest {
            tenant_id: tenant.id.clone(),
            partition_id: partition,
            name: "bench".into(),
            admin: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    Fixture {
        tenant: tenant.id,
        user: invited.user.unwrap().id,
        org: child,
        api_key: issued.key,
    }
}

fn bench(c: &mut Criterion) {
    let runtime = support::runtime();
    let upfront = Arc::new(AtomicBool::new(false));
    let (db, server, engine, channel, f) = runtime.block_on(async {
        let db = TestDatabase::create().await;
        let journal = db.journal().await;
        let node = Node::start(&Storage::Postgres(journal), NodeOptions::default())
            .await
            .unwrap();
        let engine = node.engine().clone();
        let auth = auth(&engine, upfront.clone()).await;
        let server = gateway::spawn_server(node, auth, "127.0.0.1:0".parse().unwrap())
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
    runtime.block_on(paired_commands(
        &engine,
        channel.clone(),
        &upfront,
        &f,
        1_000,
    ));
    runtime.block_on(paired_credentials(&engine, channel.clone(), &f, 1_000));

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
