//! The single-node actor runtime: one shard region per node, one shard actor per shard, one
//! entity actor per live tenant scope. [`Engine`] is the handle callers use.
//!
//! ```text
//! Engine::execute ─▶ region ─▶ shard (by hash of tenant id) ─▶ tenant-scope entity actor
//!                                                               └▶ group-commit writer ─▶ journal
//! ```
//! Admission control happens before anything is queued: each shard has a bound on commands in
//! flight, beyond which callers get [`EngineError::Overloaded`] at once.
//!
//! A command may carry the caller's [`PermissionRequirement`] ([`RequestMeta::authorization`]):
//! the tenant's actor checks it in the same message that decides the command (see
//! [`authorization`](self::authorization)).

mod authorization;
mod claims_sync;
mod clock;
mod deps;
mod entity;
mod idempotency;
mod leases;
mod messages;
mod onboarding;
pub mod peer;
mod region;
mod shard;
mod sharding;
pub(crate) mod snapshot;
mod timers;

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
};

use ractor::{Actor, ActorRef};
use tokio::{sync::Semaphore, task::JoinHandle};
use tracing::Instrument;

use crate::telemetry::trace::{TraceParent, exporting, traced_or_root};

pub use authorization::{Conferral, PermissionRequirement, Subject};
pub use clock::{Clock, SystemClock};
pub use leases::ShardLeases;
pub use peer::{Answer, PeerError, Query, ShardPeers};
pub use sharding::shard_of;
pub use snapshot::{SnapshotJob, SnapshotPolicy, Tail};

use self::{
    deps::Deps,
    messages::{EntityMsg, RegionMsg},
    peer::{PeerAnswer, PeerCall, PeerReply, PeerRequest},
    region::{RegionActor, RegionArgs},
};
use crate::{
    EngineError, Result,
    domain::{
        ApiKey, ApiKeyId, Client, ClientId, Decision, DomainError, EffectivePermission, KeyRefusal,
        Organization, OrganizationId, PermissionPattern, Record, RecordId, RecordKind,
        ResourceKind, RoleDefinition, RoleId, Scope, TENANT_SLUG_NAMESPACE, Team, TeamId, Tenant,
        TenantCommand, TenantId, TenantScope, TenantScopeCommand, User, UserClaims, UserId,
    },
    journal::{
        AuditActor, CommitToken, EventLog, GroupCommitConfig, GroupCommitWriter, Journal,
        JournalError,
    },
    personal::{MasterKeys, Vault},
    secrets::api_key::PresentedKey,
    telemetry::{Metrics, Outcome},
};

/// Runtime tuning. Defaults suit one node of the 2-core reference machine.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Number of shards (fixed for the life of a cluster).
    pub shard_count: u32,
    /// An entity actor idle this long is passivated.
    pub idle_timeout: Duration,
    /// Live entity actors per shard at most; the least recently used is passivated beyond it.
    pub max_active_per_shard: usize,
    /// Take a snapshot after at least this many events since the last one (and see the next
    /// two fields; the arithmetic is in [`SnapshotPolicy`]'s module).
    pub snapshot_every: u32,
    /// ... and once those events' stored bytes reach this percentage of the last snapshot's
    /// size: snapshot bytes written per event byte stay below `100 / percent` however large
    /// the tenant. 0: the count alone decides.
    pub snapshot_bytes_percent: u32,
    /// Take a snapshot after this many events whatever their bytes: bounds the events a
    /// recovery replays after the snapshot.
    pub snapshot_max_events: u32,
    /// Entity recoveries running at once on the node (no thundering herd after a restart).
    pub recovery_concurrency: usize,
    /// Snapshots encoded and saved at once on the node. Tenants written in step come due
    /// together; unbounded, their encodings would take every core and their saves the
    /// journal's connections, and every tenant's commands and the projections would wait
    /// (BENCHMARKS.md, "Projection lag with ten read models"). Beyond the bound they queue,
    /// and a waiting tenant's newer snapshot replaces its older one.
    pub snapshot_concurrency: usize,
    /// How often due timers (grace periods) are looked for.
    pub timer_poll_interval: Duration,
    /// Commands in flight per shard before new ones are refused with `Overloaded`.
    pub max_in_flight_per_shard: usize,
    /// How long a caller waits for an entity's answer.
    pub ask_timeout: Duration,
    /// Group-commit writer tuning.
    pub group_commit: GroupCommitConfig,
    /// The shard leases of a cluster node; `None` for a single node (every shard is local and
    /// appends are unfenced).
    pub leases: Option<Arc<dyn ShardLeases>>,
    /// The master keys that wrap personal-data keys. The default is this process's
    /// [`MasterKeys::ephemeral`] key, for tests and benchmarks only: a node must set its own.
    pub master_keys: Arc<MasterKeys>,
    /// The node's metrics (the engine counts its commands there; `Metrics::new()` by default).
    pub metrics: Arc<Metrics>,
    /// Seal personal values at rest (always, but in the benchmark that measures what sealing
    /// costs: `false` stores them in plaintext, in formats a sealing node ignores or reads as
    /// legacy plaintext).
    pub seal_personal_data: bool,
    /// The node mesh: how a call for a shard another node holds reaches that node (`None`:
    /// every call is served here, fenced by [`leases`](Self::leases) on a cluster node).
    pub peers: Option<Arc<dyn ShardPeers>>,
    /// How long a call waits for a shard that has no owner (it is moving) before UNAVAILABLE.
    pub move_wait: Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            shard_count: 256,
            idle_timeout: Duration::from_secs(300),
            max_active_per_shard: 4096,
            snapshot_every: 100,
            snapshot_bytes_percent: snapshot::DEFAULT_BYTES_PERCENT,
            snapshot_max_events: snapshot::DEFAULT_MAX_EVENTS,
            recovery_concurrency: 16,
            snapshot_concurrency: snapshot::default_concurrency(),
            timer_poll_interval: Duration::from_secs(5),
            max_in_flight_per_shard: 1024,
            ask_timeout: Duration::from_secs(10),
            group_commit: GroupCommitConfig::default(),
            leases: None,
            master_keys: MasterKeys::ephemeral(),
            metrics: Metrics::new(),
            seal_personal_data: true,
            peers: None,
            move_wait: Duration::from_secs(3),
        }
    }
}

/// Per-request information that travels with a command: what the journal records about it,
/// and the permission its caller must hold.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct RequestMeta {
    /// Idempotency key: a retry with the same key returns the first answer.
    pub request_id: Option<String>,
    /// The call's id for the audit trail when it carries no idempotency key (`x-request-id`,
    /// or one the gateway generated). Recorded as the events' request id; never deduplicates.
    pub call_id: Option<String>,
    /// Optimistic concurrency check on the target entity.
    pub expected_version: Option<i64>,
    /// Who is calling (audit).
    pub actor: AuditActor,
    /// Trace id for the audit trail.
    pub trace_id: Option<String>,
    /// What the caller must hold for the command to run, checked by the tenant's actor against
    /// the state the command is decided on, before anything else (a replay of an idempotent
    /// request included): [`EngineError::PermissionDenied`] otherwise, nothing written.
    /// `None`: the caller was authorized without the tenant's state (or is the system).
    pub authorization: Option<PermissionRequirement>,
}

/// The entity a command targeted, as it is after the command.
#[allow(
    clippy::large_enum_variant,
    reason = "moved once per request into the gRPC response; boxing would only add an allocation"
)]
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum EntityView {
    /// A tenant.
    Tenant(Tenant),
    /// An organization.
    Organization(Organization),
    /// A team.
    Team(Team),
    /// A user.
    User(User),
    /// A custom role.
    Role(RoleDefinition),
    /// A client.
    Client(Client),
    /// A department, location, contact, partition or partition group.
    Record(Record),
    /// An API key.
    ApiKey(ApiKey),
}

/// The answer to an accepted command.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct CommandOutcome {
    /// The target entity after the command.
    pub view: EntityView,
    /// The target entity's version after the command.
    pub version: i64,
    /// Names the write (or, when nothing was written, the entity's latest write).
    pub token: CommitToken,
    /// True when this answers a retried `request_id`.
    pub replayed: bool,
    /// An invitation token the engine issued while running this command (the owner's, during
    /// onboarding). Shown once: only its hash is stored.
    pub invitation_token: Option<String>,
}

/// Handle to a running node runtime. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    deps: Arc<Deps>,
    region: ActorRef<RegionMsg>,
    in_flight: Arc<[AtomicUsize]>,
    stopping: Arc<AtomicBool>,
    background: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("shard_count", &self.deps.config.shard_count)
            .field("stopping", &self.stopping.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// The payload of `$query`'s answer when it is `Answer::$variant` (a read's answer always
/// follows its query; anything else is a defect, reported as INTERNAL).
macro_rules! answer {
    ($query:expr, $variant:ident) => {
        match $query.await? {
            Answer::$variant(value) => Ok(value),
            _ => Err(wrong_answer(stringify!($variant))),
        }
    };
}

/// A defect: an answer that does not follow its call.
fn wrong_answer(what: &str) -> EngineError {
    tracing::error!(what, "a call got an answer of another kind");
    EngineError::Internal(format!("wrong kind of answer ({what})"))
}

/// What the scope says of a presented key at `now`.
fn verdict(
    scope: &TenantScope,
    key: &PresentedKey,
    now: chrono::DateTime<chrono::Utc>,
) -> std::result::Result<ApiKey, KeyRefusal> {
    scope.verify_api_key(key.id, &key.hash, now).cloned()
}

/// The scope's tenant, or `NotFound` if it was never created.
fn existing_tenant(scope: &TenantScope) -> Result<&Tenant> {
    scope
        .tenant()
        .ok_or_else(|| not_found(ResourceKind::Tenant, scope.tenant_id()))
}

fn not_found(resource: ResourceKind, id: impl std::fmt::Display) -> EngineError {
    EngineError::Domain(DomainError::NotFound {
        resource,
        id: id.to_string(),
    })
}

/// Decrements a shard's in-flight count when a request ends, however it ends.
struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Engine {
    /// Starts the runtime on `journal` with the system clock.
    pub async fn start(journal: Arc<dyn Journal>, config: EngineConfig) -> Result<Self> {
        Self::start_with_clock(journal, config, Arc::new(SystemClock)).await
    }

    /// Starts the runtime with an injected clock (tests of grace periods and expiries).
    pub async fn start_with_clock(
        journal: Arc<dyn Journal>,
        config: EngineConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Self> {
        if config.shard_count == 0 || config.max_in_flight_per_shard == 0 {
            return Err(EngineError::Internal(
                "engine configuration: shard_count and max_in_flight_per_shard must be positive"
                    .into(),
            ));
        }
        let log: Arc<dyn EventLog> = journal.clone();
        let writer = GroupCommitWriter::spawn_measured(
            log,
            config.group_commit.clone(),
            config.metrics.clone(),
        );
        let vault = Arc::new(Vault::new(config.master_keys.clone(), journal.clone()));
        let deps = Arc::new(Deps {
            journal,
            writer,
            vault,
            recovery: Semaphore::new(config.recovery_concurrency.max(1)),
            snapshots: Semaphore::new(config.snapshot_concurrency.max(1)),
            config,
            clock,
        });
        let (region, _) = Actor::spawn(
            None,
            RegionActor,
            RegionArgs {
                deps: Arc::clone(&deps),
            },
        )
        .await
        .map_err(|e| EngineError::Internal(format!("cannot start shard region: {e}")))?;
        let in_flight = (0..deps.config.shard_count)
            .map(|_| AtomicUsize::new(0))
            .collect();
        let engine = Self {
            deps,
            region,
            in_flight,
            stopping: Arc::new(AtomicBool::new(false)),
            background: Arc::new(Mutex::new(Vec::new())),
        };
        let poller =
            timers::spawn_timer_poller(engine.clone(), engine.deps.config.timer_poll_interval);
        if let Ok(mut background) = engine.background.lock() {
            background.push(poller);
        }
        Ok(engine)
    }

    /// Runs a command on its tenant's actor; resolves after its events are committed.
    pub async fn execute(
        &self,
        tenant_id: TenantId,
        command: TenantScopeCommand,
        meta: RequestMeta,
    ) -> Result<CommandOutcome> {
        let kind = command.kind();
        let span = traced_or_root(
            || tracing::info_span!("engine.execute", command = kind, tenant = %tenant_id),
        );
        let answer = self
            .execute_once(tenant_id, command, meta)
            .instrument(span)
            .await;
        let outcome = match &answer {
            Ok(_) => Outcome::Ok,
            Err(e) => e.outcome(),
        };
        self.deps.config.metrics.command(kind, outcome);
        answer
    }

    /// Appends waiting for the node's group-commit writer.
    pub fn journal_queue(&self) -> usize {
        self.deps.writer.queued()
    }

    /// Shards of the cluster ([`EngineConfig::shard_count`]).
    pub fn shard_count(&self) -> u32 {
        self.deps.config.shard_count
    }

    /// The node's metrics ([`EngineConfig::metrics`]).
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.deps.config.metrics
    }

    async fn execute_once(
        &self,
        tenant_id: TenantId,
        command: TenantScopeCommand,
        meta: RequestMeta,
    ) -> Result<CommandOutcome> {
        // A retried CreateTenant carries a fresh tenant id, so it reaches a new actor; keep
        // what is needed to send it on to the actor that holds the first attempt.
        let create = match &command {
            TenantScopeCommand::Tenant(TenantCommand::Create(c)) => Some((
                c.slug.clone(),
                meta.request_id
                    .is_some()
                    .then(|| (command.clone(), meta.clone())),
            )),
            _ => None,
        };
        let answer = self.execute_on(tenant_id, command, meta).await;
        let Some((slug, retry)) = create else {
            return answer;
        };
        match answer {
            Err(EngineError::Journal(JournalError::UniqueViolation {
                namespace,
                existing,
                ..
            })) if namespace == TENANT_SLUG_NAMESPACE => {
                match (existing, retry) {
                    // Taken by this very request's first attempt: its actor answers the retry
                    // from its request window (the first answer, nothing written).
                    (Some(claim), Some((command, meta))) if claim.request_id == meta.request_id => {
                        self.execute_on(TenantId(claim.owner), command, meta).await
                    }
                    _ => Err(EngineError::Domain(DomainError::AlreadyExists {
                        resource: ResourceKind::Tenant,
                        field: "slug",
                        value: slug,
                    })),
                }
            }
            answer => answer,
        }
    }

    async fn execute_on(
        &self,
        tenant_id: TenantId,
        command: TenantScopeCommand,
        meta: RequestMeta,
    ) -> Result<CommandOutcome> {
        let call = PeerCall::Execute {
            command: Box::new(command),
            meta: Box::new(meta),
        };
        match self.call(tenant_id, call).await? {
            PeerAnswer::Executed(outcome) => Ok(outcome),
            PeerAnswer::Answered(_) => Err(wrong_answer("a read's answer to a command")),
        }
    }

    /// Runs `read` inside the tenant's actor against its current state, on this node (the
    /// tenant's shard must be held here: reads that may travel are [`Query`]s).
    async fn read_here<T, F>(&self, tenant_id: TenantId, read: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&TenantScope) -> Result<T> + Send + 'static,
    {
        self.ask(tenant_id, |reply: ractor::RpcReplyPort<Result<T>>| {
            EntityMsg::Read(Box::new(move |scope| {
                let _ = reply.send(scope.and_then(read));
            }))
        })
        .await?
    }

    /// A copy of the tenant's whole in-memory state (tests; the tenant's shard must be held
    /// here).
    #[cfg(any(test, feature = "test-util"))]
    pub async fn state(&self, tenant_id: TenantId) -> Result<TenantScope> {
        self.read_here(tenant_id, |scope| Ok(scope.clone())).await
    }

    /// Answers `query` from the tenant's in-memory state (which holds every acknowledged
    /// write, so the answer is strongly consistent), on whichever node holds its shard.
    pub async fn query(&self, tenant_id: TenantId, query: Query) -> Result<Answer> {
        let call = PeerCall::Query {
            query,
            if_live: false,
        };
        match self.call(tenant_id, call).await? {
            PeerAnswer::Answered(Some(answer)) => Ok(answer),
            _ => Err(wrong_answer("no answer to a read")),
        }
    }

    /// The tenant (any status), or `NotFound`.
    pub async fn get_tenant(&self, tenant_id: TenantId) -> Result<Tenant> {
        answer!(self.query(tenant_id, Query::Tenant), Tenant)
    }

    /// An organization of the tenant (deleted ones too), or `NotFound`.
    pub async fn get_organization(
        &self,
        tenant_id: TenantId,
        organization_id: OrganizationId,
    ) -> Result<Organization> {
        let query = Query::Organization(organization_id);
        answer!(self.query(tenant_id, query), Organization)
    }

    /// Live organizations of the tenant (only children of `parent` when given), by id.
    pub async fn list_organizations(
        &self,
        tenant_id: TenantId,
        parent: Option<OrganizationId>,
    ) -> Result<Vec<Organization>> {
        let query = Query::Organizations { parent };
        answer!(self.query(tenant_id, query), Organizations)
    }

    /// A team of the tenant (deleted ones too), or `NotFound`.
    pub async fn get_team(&self, tenant_id: TenantId, team_id: TeamId) -> Result<Team> {
        answer!(self.query(tenant_id, Query::Team(team_id)), Team)
    }

    /// A user of the tenant (any status), or `NotFound`.
    pub async fn get_user(&self, tenant_id: TenantId, user_id: UserId) -> Result<User> {
        answer!(self.query(tenant_id, Query::User(user_id)), User)
    }

    /// A custom role of the tenant (deleted ones too), or `NotFound`.
    pub async fn get_role(&self, tenant_id: TenantId, role_id: RoleId) -> Result<RoleDefinition> {
        answer!(self.query(tenant_id, Query::Role(role_id)), Role)
    }

    /// The tenant's live custom roles, by id.
    pub async fn list_roles(&self, tenant_id: TenantId) -> Result<Vec<RoleDefinition>> {
        answer!(self.query(tenant_id, Query::Roles), Roles)
    }

    /// A client of the tenant (deleted ones too), or `NotFound`.
    pub async fn get_client(&self, tenant_id: TenantId, client_id: ClientId) -> Result<Client> {
        answer!(self.query(tenant_id, Query::Client(client_id)), Client)
    }

    /// A live department, location or contact of the tenant, or `NotFound` (also once deleted).
    pub async fn get_record(
        &self,
        tenant_id: TenantId,
        kind: RecordKind,
        record_id: RecordId,
    ) -> Result<Record> {
        answer!(
            self.query(tenant_id, Query::Record(kind, record_id)),
            Record
        )
    }

    /// VerifyApiKey: the key a presented key names, or why it opens nothing, answered from
    /// the tenant's in-memory state (so every acknowledged revocation, expiry and suspension
    /// counts) at the owning engine's clock. A tenant that does not exist knows no key.
    pub async fn verify_api_key(
        &self,
        key: PresentedKey,
    ) -> Result<std::result::Result<ApiKey, KeyRefusal>> {
        answer!(self.query(key.tenant, Query::VerifyApiKey(key)), KeyVerdict)
    }

    /// [`verify_api_key`](Self::verify_api_key) when the key's tenant is in memory on the node
    /// that holds it; `None` (and nothing loaded) when it is not. Lets an authenticator bound
    /// how many tenants unauthenticated callers can make a node load (a made-up key names any
    /// tenant).
    pub async fn verify_api_key_if_live(
        &self,
        key: PresentedKey,
    ) -> Result<Option<std::result::Result<ApiKey, KeyRefusal>>> {
        let tenant = key.tenant;
        let call = PeerCall::Query {
            query: Query::VerifyApiKey(key),
            if_live: true,
        };
        match self.call(tenant, call).await? {
            PeerAnswer::Answered(None) => Ok(None),
            PeerAnswer::Answered(Some(Answer::KeyVerdict(verdict))) => Ok(Some(verdict)),
            _ => Err(wrong_answer("a key verification")),
        }
    }

    /// An API key of the tenant (revoked and expired ones included), or `NotFound`.
    pub async fn get_api_key(&self, tenant_id: TenantId, key_id: ApiKeyId) -> Result<ApiKey> {
        answer!(self.query(tenant_id, Query::ApiKey(key_id)), ApiKey)
    }

    /// The tenant's API keys in id order after `after`, at most `limit`, of one partition
    /// when given (answered by the tenant's actor: keys are few per partition, and the
    /// answer holds every acknowledged write).
    pub async fn list_api_keys(
        &self,
        tenant_id: TenantId,
        partition: Option<RecordId>,
        after: Option<ApiKeyId>,
        limit: usize,
    ) -> Result<Vec<ApiKey>> {
        let query = Query::ApiKeys {
            partition,
            after,
            limit: u32::try_from(limit).unwrap_or(u32::MAX),
        };
        answer!(self.query(tenant_id, query), ApiKeys)
    }

    /// CheckPermission, answered from the tenant's in-memory state.
    pub async fn check_permission(
        &self,
        tenant_id: TenantId,
        user_id: UserId,
        permission: PermissionPattern,
        scope: Scope,
    ) -> Result<Decision> {
        let query = Query::CheckPermission {
            user: user_id,
            permission,
            scope,
        };
        answer!(self.query(tenant_id, query), Decision)
    }

    /// Checks `requirement` against the tenant's in-memory state, in one visit however many
    /// scopes it names (the authorization of reads; commands carry theirs in
    /// [`RequestMeta::authorization`]).
    ///
    /// # Errors
    /// See [`PermissionRequirement::check`].
    pub async fn authorize(
        &self,
        tenant_id: TenantId,
        requirement: PermissionRequirement,
    ) -> Result<()> {
        match self.query(tenant_id, Query::Authorize(requirement)).await? {
            Answer::Authorized => Ok(()),
            _ => Err(wrong_answer("an authorization")),
        }
    }

    /// ListEffectivePermissions, answered from the tenant's in-memory state.
    pub async fn effective_permissions(
        &self,
        tenant_id: TenantId,
        user_id: UserId,
        scope: Option<Scope>,
    ) -> Result<Vec<EffectivePermission>> {
        let query = Query::EffectivePermissions {
            user: user_id,
            scope,
        };
        answer!(self.query(tenant_id, query), EffectivePermissions)
    }

    /// GetUserClaims: what an identity provider puts in the user's tokens, answered by the
    /// tenant's actor (consistent with every acknowledged write).
    pub async fn user_claims(&self, tenant_id: TenantId, user_id: UserId) -> Result<UserClaims> {
        answer!(
            self.query(tenant_id, Query::UserClaims(user_id)),
            UserClaims
        )
    }

    /// Whether this node holds `shard` now (always on a single node).
    fn holds(&self, shard: u32) -> bool {
        self.deps
            .config
            .leases
            .as_ref()
            .is_none_or(|leases| leases.fence(shard).is_some())
    }

    /// Serves `call` for `tenant_id` here when this node holds its shard (or has no mesh),
    /// else on the node that does; waits up to [`EngineConfig::move_wait`] for a shard that
    /// is moving.
    async fn call(&self, tenant_id: TenantId, call: PeerCall) -> Result<PeerAnswer> {
        let shard = shard_of(tenant_id, self.deps.config.shard_count);
        let Some(peers) = self.deps.config.peers.clone() else {
            return self.serve_here(tenant_id, call).await;
        };
        let started = tokio::time::Instant::now();
        let budget = self.deps.config.ask_timeout;
        let mut request = None;
        loop {
            if self.holds(shard) {
                return self.serve_here(tenant_id, call).await;
            }
            let encoded = match &request {
                Some(encoded) => encoded,
                None => request.insert(peer::encode(&PeerRequest {
                    tenant: tenant_id,
                    call: &call,
                    budget_ms: u64::try_from(budget.as_millis()).unwrap_or(u64::MAX),
                    traceparent: TraceParent::current().map(|t| t.to_string()),
                })?),
            };
            let left = budget.saturating_sub(started.elapsed());
            match peers.call(shard, encoded.clone(), left).await {
                Ok(reply) => match peer::decode::<PeerReply>(&reply) {
                    Ok(PeerReply::Served(answer)) => return answer,
                    Ok(PeerReply::NotHeld) => {}
                    Err(reason) => {
                        tracing::error!(%reason, shard, "a peer's answer does not decode");
                        return Err(EngineError::Unavailable(format!(
                            "the node serving shard {shard} answered unreadably; retry"
                        )));
                    }
                },
                Err(PeerError::NoRoute(_)) => {}
                Err(error) => {
                    return Err(EngineError::Unavailable(format!(
                        "{error}; retry (with the same request_id)"
                    )));
                }
            }
            if started.elapsed() >= self.deps.config.move_wait.min(budget) {
                return Err(EngineError::Unavailable(format!(
                    "shard {shard} of tenant {tenant_id} has no reachable owner right now \
                     (it is moving); retry"
                )));
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Serves `call` on this node's actors (never forwarded again).
    async fn serve_here(&self, tenant_id: TenantId, call: PeerCall) -> Result<PeerAnswer> {
        match call {
            PeerCall::Execute { command, meta } => self
                .ask(tenant_id, |reply| EntityMsg::Execute {
                    command,
                    meta,
                    reply,
                    span: tracing::Span::current(),
                })
                .await?
                .map(PeerAnswer::Executed),
            PeerCall::Query { query, if_live } => {
                let now = self.deps.clock.now();
                if !if_live {
                    let answer = self
                        .read_here(tenant_id, move |scope| query.answer(scope, now))
                        .await?;
                    return Ok(PeerAnswer::Answered(Some(answer)));
                }
                let answer = self
                    .ask(tenant_id, |reply: ractor::RpcReplyPort<Result<Answer>>| {
                        EntityMsg::ReadIfLive(Box::new(move |scope| {
                            let _ = reply.send(scope.and_then(|s| query.answer(s, now)));
                        }))
                    })
                    .await?;
                match answer {
                    Ok(answer) => Ok(PeerAnswer::Answered(Some(answer))),
                    Err(EngineError::NotLive) => Ok(PeerAnswer::Answered(None)),
                    Err(e) => Err(e),
                }
            }
        }
    }

    /// Serves a peer's encoded [`PeerRequest`] and encodes the reply: the node mesh calls this
    /// for requests other nodes send here. A request for a shard this node does not hold is
    /// answered [`PeerReply::NotHeld`] without running.
    pub async fn serve_peer(&self, request: &[u8]) -> Vec<u8> {
        let reply = match peer::decode::<PeerRequest>(request) {
            Err(reason) => {
                tracing::warn!(%reason, "refused a peer request that does not decode");
                PeerReply::Served(Err(EngineError::Internal(format!(
                    "the request does not decode: {reason}"
                ))))
            }
            Ok(request) => self.serve_peer_request(request).await,
        };
        peer::encode(&reply).unwrap_or_else(|error| {
            tracing::error!(%error, "cannot encode a peer reply");
            peer::encode(&PeerReply::Served(Err(EngineError::Internal(
                "the answer does not encode".into(),
            ))))
            .unwrap_or_default()
        })
    }

    async fn serve_peer_request(&self, request: PeerRequest) -> PeerReply {
        let shard = shard_of(request.tenant, self.deps.config.shard_count);
        if !self.holds(shard) {
            return PeerReply::NotHeld;
        }
        let parent = request.traceparent.as_deref().and_then(TraceParent::parse);
        let span = match parent.filter(|p| p.sampled() && exporting()) {
            Some(parent) => {
                let span = tracing::info_span!(
                    "engine.peer_call",
                    otel.kind = "server",
                    tenant = %request.tenant,
                );
                parent.adopt(&span);
                span
            }
            None => tracing::Span::none(),
        };
        let budget = Duration::from_millis(request.budget_ms).min(self.deps.config.ask_timeout);
        let served = tokio::time::timeout(budget, self.serve_here(request.tenant, request.call))
            .instrument(span)
            .await;
        PeerReply::Served(served.unwrap_or_else(|_| {
            Err(EngineError::Unavailable(
                "the entity did not answer in time; retry (with the same request_id)".into(),
            ))
        }))
    }

    /// The tenant that verified a registration domain (`REGISTRATION_DOMAIN_NAMESPACE`) or
    /// holds a custom registration host (`REGISTRATION_HOST_NAMESPACE`), from the journal's
    /// platform-wide claims; `None` when no tenant does.
    pub async fn registration_owner(&self, namespace: &str, key: &str) -> Result<Option<TenantId>> {
        Ok(self
            .deps
            .journal
            .unique_claim(namespace, key)
            .await?
            .map(|claim| TenantId(claim.owner)))
    }

    /// Live entity actors on this node (after passivation, fewer than tenants touched).
    pub async fn active_entities(&self) -> Result<usize> {
        match self
            .region
            .call(RegionMsg::ActiveCount, Some(self.deps.config.ask_timeout))
            .await
        {
            Ok(ractor::rpc::CallResult::Success(n)) => Ok(n),
            _ => Err(EngineError::Unavailable(
                "shard region did not answer".into(),
            )),
        }
    }

    /// Fires the timers due now (the background poller does this periodically); returns how
    /// many fired.
    pub async fn fire_due_timers(&self) -> usize {
        timers::fire_due(self).await
    }

    /// Stops accepting work, passivates every entity (saving snapshots) and stops the region.
    pub async fn shutdown(&self) {
        if self.stopping.swap(true, Ordering::AcqRel) {
            return;
        }
        if let Ok(mut background) = self.background.lock() {
            for task in background.drain(..) {
                task.abort();
            }
        }
        let wait = Some(self.deps.config.ask_timeout * 3);
        if !matches!(
            self.region.call(RegionMsg::PassivateAll, wait).await,
            Ok(ractor::rpc::CallResult::Success(()))
        ) {
            tracing::warn!("entities did not all passivate before shutdown");
        }
        self.region.stop(Some("engine shutdown".into()));
    }

    /// Whether this node serves `tenant` now: always on a single node; on a cluster node, while
    /// it holds the lease of the tenant's shard.
    pub fn serves(&self, tenant: TenantId) -> bool {
        self.deps.config.leases.as_ref().is_none_or(|leases| {
            leases
                .fence(shard_of(tenant, self.deps.config.shard_count))
                .is_some()
        })
    }

    /// Writes refused by fencing since start: commands for shards this node did not hold
    /// (self-fencing) and appends the journal refused because the lease had moved on.
    pub fn fenced_refusals(&self) -> u64 {
        self.deps.config.metrics.fencing_refusals.get()
    }

    /// The node's personal-data vault (for readers of the journal: projections, the audit
    /// trail, the Kafka publisher).
    pub fn vault(&self) -> Arc<Vault> {
        self.deps.vault.clone()
    }

    /// Personal values refused since start (tampered or moved ciphertexts).
    pub fn unreadable_personal_values(&self) -> u64 {
        self.deps.vault.unreadable_values()
    }

    /// Passivates every live entity of `shard` (their state is saved in the journal already):
    /// called when the shard is handed to another node, so that no stale in-memory state is
    /// left behind should the shard come back later.
    ///
    /// # Errors
    /// [`EngineError::Unavailable`] when the region does not answer in time.
    pub async fn passivate_shard(&self, shard: u32) -> Result<()> {
        match self
            .region
            .call(
                |reply| RegionMsg::PassivateShard(shard, reply),
                Some(self.deps.config.ask_timeout * 3),
            )
            .await
        {
            Ok(ractor::rpc::CallResult::Success(())) => Ok(()),
            _ => Err(EngineError::Unavailable(format!(
                "shard {shard} did not passivate in time"
            ))),
        }
    }

    /// Sends a message to the tenant's entity actor and waits for its answer, within the
    /// shard's in-flight bound and the ask timeout.
    async fn ask<T: Send + 'static>(
        &self,
        tenant_id: TenantId,
        build: impl FnOnce(ractor::RpcReplyPort<T>) -> EntityMsg,
    ) -> Result<T> {
        if self.stopping.load(Ordering::Acquire) {
            return Err(EngineError::Unavailable("node is shutting down".into()));
        }
        let shard = shard_of(tenant_id, self.deps.config.shard_count);
        let counter = &self.in_flight[shard as usize];
        let _in_flight = InFlight(counter);
        if counter.fetch_add(1, Ordering::AcqRel) >= self.deps.config.max_in_flight_per_shard {
            return Err(EngineError::Overloaded(format!(
                "shard {shard} has {} requests in flight",
                self.deps.config.max_in_flight_per_shard
            )));
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.region
            .cast(RegionMsg::Route {
                shard,
                tenant_id,
                msg: build(tx.into()),
            })
            .map_err(|_| EngineError::Unavailable("shard region is not running".into()))?;
        match tokio::time::timeout(self.deps.config.ask_timeout, rx).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(_)) => Err(EngineError::Unavailable(
                "the entity stopped before answering; retry (with the same request_id)".into(),
            )),
            Err(_) => Err(EngineError::Unavailable(
                "the entity did not answer in time; retry (with the same request_id)".into(),
            )),
        }
    }
}
