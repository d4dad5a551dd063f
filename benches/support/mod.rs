//! Shared helpers of the benches: a runtime, a tenant to work on, journal rows, and the raw
//! PostgreSQL baseline (a plain multi-row INSERT of the same rows into a copy of `events`).
//!
//! Include with `mod support;`. Benches that need PostgreSQL read `ENTITY_TEST_DATABASE_URL`
//! (`scripts/bench` starts a throwaway server when it is unset).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use chrono::Utc;
use engine::{
    domain::{
        Assignment, OrganizationCommand, OrganizationId, Scope, StreamId, StreamKind, TenantId,
        TenantScopeCommand, UserCommand, UserId,
    },
    journal::{AppendBatch, AuditActor, EventMetadata, NewEvent},
    secrets::issue_invitation_token,
};
use sqlx::{PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

/// A multi-thread runtime with two workers (the machine's cores).
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// CreateTenant (gold plan) with its onboarding plan.
pub fn create_tenant(tenant: TenantId) -> TenantScopeCommand {
    engine::testing::create_tenant(tenant, "Bench")
}

/// CreateOrganization under `parent`.
pub fn create_org(
    id: OrganizationId,
    name: String,
    parent: Option<OrganizationId>,
) -> TenantScopeCommand {
    TenantScopeCommand::Organization(OrganizationCommand::Create {
        id,
        name,
        description: String::new(),
        parent_id: parent,
    })
}

/// InviteUser with `viewer` at tenant scope and a unique email.
pub fn invite(id: UserId) -> TenantScopeCommand {
    let token = issue_invitation_token(id);
    TenantScopeCommand::User(UserCommand::Invite {
        id,
        email: format!("{}@bench.example.com", id.uuid().simple()),
        display_name: String::new(),
        roles: vec![Assignment {
            role: "viewer".into(),
            scope: Scope::Tenant,
        }],
        organization_id: None,
        expires_in_days: 7,
        token_hash: token.hash,
    })
}

/// AssignRole `role` at `scope` to `user`.
pub fn assign(user: UserId, role: &str, scope: Scope) -> TenantScopeCommand {
    TenantScopeCommand::User(UserCommand::AssignRole {
        id: user,
        assignment: Assignment {
            role: role.into(),
            scope,
        },
    })
}

/// `streams` batches (one command each), each a new user stream with `events_per_stream`
/// events of a realistic size (~350 bytes of JSON payload, audit metadata).
pub fn sample_batches(streams: usize, events_per_stream: usize) -> Vec<AppendBatch> {
    let tenant = TenantId::new_v7();
    (0..streams)
        .map(|_| {
            let user = Uuid::now_v7();
            let events = (1..=events_per_stream as i64)
                .map(|sequence| NewEvent {
                    tenant_id: tenant,
                    stream: StreamId::new(StreamKind::User, user),
                    sequence,
                    event_type: "user_invited".into(),
                    schema_version: 1,
                    payload: serde_json::json!({
                        "id": user,
                        "email": format!("{}@bench.example.com", user.simple()),
                        "display_name": "Bench User",
                        "roles": [{"role": "viewer", "scope": {"kind": "tenant"}}],
                        "organization_id": null,
                        "expires_at": "2026-12-01T00:00:00Z",
                        "token_hash": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                    }),
                    metadata: EventMetadata {
                        actor: AuditActor {
                            subject: "platform-admin".into(),
                            on_behalf_of: None,
                            credential_kind: "jwt".into(),
                            credential_id: Some(Uuid::new_v4().to_string()),
                        },
                        request_id: Some(Uuid::new_v4().to_string()),
                        correlation_id: Some(Uuid::new_v4().to_string()),
                        ..Default::default()
                    },
                    recorded_at: Utc::now(),
                })
                .collect();
            AppendBatch {
                events,
                ..Default::default()
            }
        })
        .collect()
}

/// Creates `raw_events`, a copy of `events` with the same columns, defaults, constraints and
/// indexes, for the raw INSERT baseline.
pub async fn create_raw_table(pool: &PgPool) {
    sqlx::raw_sql("CREATE TABLE IF NOT EXISTS raw_events (LIKE events INCLUDING ALL)")
        .execute(pool)
        .await
        .unwrap();
}

/// The baseline: one plain multi-row `INSERT … VALUES (…), (…)` of every event of `batches`
/// into `raw_events`, in one implicit transaction, no checks, nothing returned.
pub async fn raw_insert(pool: &PgPool, batches: &[AppendBatch]) {
    let mut query: QueryBuilder<Postgres> = QueryBuilder::new(
        "INSERT INTO raw_events (tenant_id, stream_type, stream_id, sequence, event_type, \
         schema_version, payload, metadata, recorded_at) ",
    );
    query.push_values(batches.iter().flat_map(|b| &b.events), |mut row, e| {
        row.push_bind(e.tenant_id.uuid())
            .push_bind(e.stream.kind.as_str())
            .push_bind(e.stream.id)
            .push_bind(e.sequence)
            .push_bind(e.event_type.as_str())
            .push_bind(e.schema_version)
            .push_bind(&e.payload)
            .push_bind(sqlx::types::Json(&e.metadata))
            .push_bind(e.recorded_at);
    });
    query.build().execute(pool).await.unwrap();
}

/// Total time of `iters` runs of `op`, each on fresh input that `setup` makes outside the
/// timing (the `iter_custom` loop of the benches that build their input per iteration).
pub async fn time_each<I, Fut>(
    iters: u64,
    mut setup: impl FnMut() -> I,
    mut op: impl FnMut(I) -> Fut,
) -> std::time::Duration
where
    Fut: std::future::Future<Output = ()>,
{
    let mut total = std::time::Duration::ZERO;
    for _ in 0..iters {
        let run = op(setup());
        let start = std::time::Instant::now();
        run.await;
        total += start.elapsed();
    }
    total
}

/// Spawns every future and waits for all of them; a failed one fails the bench.
pub async fn join_spawned<E: std::fmt::Debug + Send + 'static>(
    calls: impl IntoIterator<Item = tokio::task::JoinHandle<Result<(), E>>>,
) {
    for call in futures::future::join_all(calls).await {
        call.unwrap().unwrap();
    }
}

/// A message of [`Echo`]: a number and where to send it back.
pub struct EchoMsg(pub u64, pub ractor::RpcReplyPort<u64>);

impl ractor::Message for EchoMsg {}

/// An actor that answers every message with the number it was sent: the baseline round trip
/// of any actor-hosted answer.
pub struct Echo;

#[ractor::async_trait]
impl ractor::Actor for Echo {
    type Msg = EchoMsg;
    type State = ();
    type Arguments = ();

    async fn pre_start(
        &self,
        _: ractor::ActorRef<Self::Msg>,
        _: (),
    ) -> Result<(), ractor::ActorProcessingErr> {
        Ok(())
    }

    async fn handle(
        &self,
        _: ractor::ActorRef<Self::Msg>,
        EchoMsg(n, reply): Self::Msg,
        _: &mut (),
    ) -> Result<(), ractor::ActorProcessingErr> {
        let _ = reply.send(n);
        Ok(())
    }
}
