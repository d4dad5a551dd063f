//! The tenant-scope entity actor: owns one tenant and its organizations in memory, handles one
//! command at a time, persists before it replies.
//!
//! ```text
//!  spawn ─▶ Recover (snapshot + later events) ─▶ Execute* / Read* ─▶ Passivate (snapshot) ─▶ stop
//!                                                   │
//!     caller's permission ─▶ replay? ─▶ decide ─▶ group-commit append ─▶ apply ─▶ reply
//! ```
//! Faults (unreadable journal data, an append whose outcome is unknown) stop the actor; the
//! next message starts a fresh incarnation that recovers from the journal.
//!
//! Personal values are sealed where events and snapshots are encoded and opened where they
//! are decoded, with the tenant's [`Keyring`] (see [`crate::personal`]); in memory the state
//! holds plaintext.

use std::{collections::HashMap, sync::Arc};

use ractor::{Actor, ActorProcessingErr, ActorRef};
use tracing::{Instrument, debug, warn};

use super::{
    CommandOutcome, EntityView, RequestMeta, claims_sync,
    deps::Deps,
    idempotency::{RequestRecord, RequestWindow, fingerprint},
    messages::EntityMsg,
    onboarding,
    sharding::shard_of,
    snapshot::{self, SNAPSHOT_KIND, SnapshotJob, SnapshotPolicy, Snapshots, Tail},
};
use crate::{
    EngineError, Result,
    domain::{
        ApiKeyId, Context, Effect, REGISTRATION_DOMAIN_NAMESPACE, REGISTRATION_HOST_NAMESPACE,
        RecordId, RecordKind, StreamId, StreamKind, TenantId, TenantScope, TenantScopeCommand,
        TenantScopeEvent,
    },
    journal::{
        AppendBatch, CommitToken, EventMetadata, JournalError, KeyChange, NewEvent, RecordedEvent,
        TimerChange, UniqueClaim, UniqueRelease,
    },
    personal::{Keyring, KeyringError, Opened, SEALED_SINCE_SCHEMA, Vault, VaultError},
    telemetry::trace::{TraceParent, traced_under},
};

/// Event payload version of the unsealed mode: version 1 is the plaintext format.
const UNSEALED_EVENT_SCHEMA_VERSION: i32 = 1;

/// Arguments of a new incarnation.
pub(crate) struct EntityArgs {
    pub tenant_id: TenantId,
    pub deps: Arc<Deps>,
}

/// The actor behaviour (stateless; state lives in [`EntityState`]).
pub(crate) struct TenantScopeActor;

/// An incarnation's state; `live` is filled by the `Recover` message.
pub(crate) struct EntityState {
    tenant_id: TenantId,
    deps: Arc<Deps>,
    live: Option<Live>,
    /// Whether a [`EntityMsg::SyncClaims`] is in the mailbox (never more than one).
    sync_queued: bool,
}

impl EntityState {
    /// Sends the actor the next claims re-synchronisation step if one is due and none queued.
    fn schedule_claims_sync(&mut self, myself: &ActorRef<EntityMsg>) {
        let due = self
            .live
            .as_ref()
            .is_some_and(|live| live.scope.claims_sync_pending());
        if due && !self.sync_queued && myself.cast(EntityMsg::SyncClaims).is_ok() {
            self.sync_queued = true;
        }
    }
}

/// The recovered state of a tenant scope.
pub(super) struct Live {
    pub(super) scope: TenantScope,
    window: RequestWindow,
    /// Latest write of each stream (for answers to commands that change nothing); persistent,
    /// so that a snapshot job copies it in O(1).
    tokens: imbl::OrdMap<StreamId, CommitToken>,
    /// Highest global position folded in.
    last_position: i64,
    /// The events since the last snapshot and the worker that saves them.
    snapshots: Snapshots,
    /// The tenant's unwrapped personal-data keys.
    keys: Keyring,
}

impl Live {
    /// A snapshot job of the current state (O(1) copies but the request window).
    fn snapshot_job(&self, seal: bool) -> SnapshotJob {
        SnapshotJob::new(
            self.scope.clone(),
            self.window.entries(),
            self.tokens.clone(),
            seal.then(|| self.keys.sealer()),
            self.last_position,
        )
    }
}

#[ractor::async_trait]
impl Actor for TenantScopeActor {
    type Msg = EntityMsg;
    type State = EntityState;
    type Arguments = EntityArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        args: EntityArgs,
    ) -> Result<Self::State, ActorProcessingErr> {
        // Recovery runs as the first message so that spawning never blocks the shard.
        myself.cast(EntityMsg::Recover)?;
        Ok(EntityState {
            tenant_id: args.tenant_id,
            deps: args.deps,
            live: None,
            sync_queued: false,
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        msg: EntityMsg,
        state: &mut EntityState,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            EntityMsg::Recover => {
                let mut live = recover(state.tenant_id, &state.deps).await?;
                // Resume a saga a crash interrupted.
                let progress =
                    onboarding::drive(&mut live, state.tenant_id, &state.deps, None).await;
                state.live = Some(live);
                if let Some(reason) = progress.fault {
                    warn!(tenant = %state.tenant_id, %reason, "entity stopping to recover from the journal");
                    myself.stop(Some(reason));
                    return Ok(());
                }
                state.schedule_claims_sync(&myself);
            }
            EntityMsg::SyncClaims => {
                state.sync_queued = false;
                let Some(live) = state.live.as_mut() else {
                    return Ok(());
                };
                match claims_sync::step(live, state.tenant_id, &state.deps).await {
                    claims_sync::Step::Done(true) => state.schedule_claims_sync(&myself),
                    claims_sync::Step::Done(false) => {}
                    claims_sync::Step::Fault(reason) => {
                        warn!(tenant = %state.tenant_id, %reason, "entity stopping to recover from the journal");
                        myself.stop(Some(reason));
                    }
                }
            }
            EntityMsg::Execute {
                command,
                meta,
                reply,
                span,
            } => {
                let (answer, fault) = execute(state, *command, *meta)
                    .instrument(traced_under(
                        &span,
                        || tracing::info_span!(parent: &span, "entity.command"),
                    ))
                    .await;
                let _ = reply.send(answer);
                if let Some(reason) = fault {
                    warn!(tenant = %state.tenant_id, %reason, "entity stopping to recover from the journal");
                    myself.stop(Some(reason));
                } else {
                    state.schedule_claims_sync(&myself);
                }
            }
            EntityMsg::Read(read) | EntityMsg::ReadIfLive(read) => match &state.live {
                Some(live) => read(Ok(&live.scope)),
                None => read(Err(EngineError::Unavailable("entity is recovering".into()))),
            },
            EntityMsg::Passivate => {
                // The final snapshot waits behind the one in flight, if any; both are saved
                // (off this thread) before the actor stops.
                if let Some(live) = state.live.as_mut() {
                    if live.snapshots.unsaved() {
                        let job = live.snapshot_job(state.deps.config.seal_personal_data);
                        live.snapshots.submit(job, &state.deps);
                    }
                    live.snapshots.flush().await;
                }
                state.deps.config.metrics.passivations.inc();
                debug!(tenant = %state.tenant_id, "passivated");
                myself.stop(Some("passivated".into()));
            }
        }
        Ok(())
    }
}

/// Loads the newest usable snapshot and folds every later event of the tenant.
async fn recover(tenant_id: TenantId, deps: &Deps) -> Result<Live, ActorProcessingErr> {
    let _permit = deps.recovery.acquire().await?;
    let started = std::time::Instant::now();
    let seal = deps.config.seal_personal_data;
    // The snapshot is read first, alone: it is what the recovery waits for (37 MB at 100,000
    // users, fetched in ~180 ms alone and in 350–440 ms beside the key table's read, as both
    // share the cores). The key table is then read and unwrapped while the snapshot is decoded
    // (on a blocking thread: ~0.2 s for 100,000 users); its values are opened once both are
    // there.
    let snapshot = deps
        .journal
        .load_snapshot(SNAPSHOT_KIND, tenant_id.0)
        .await?;
    let fetched_at = started.elapsed();
    let keyring = async {
        match seal {
            true => deps.vault.keyring(tenant_id).await.map_err(vault_error),
            false => Ok(Keyring::empty(tenant_id)),
        }
    };
    let stored = async {
        let Some(snapshot) = snapshot else {
            return Ok::<_, ActorProcessingErr>(None);
        };
        let (bytes, position) = (snapshot.state.len() as u64, snapshot.last_position);
        let body =
            tokio::task::spawn_blocking(move || snapshot::decode_body(&snapshot, tenant_id, seal))
                .await?;
        Ok(Some((body, bytes, position)))
    };
    let (keys, stored) = tokio::join!(keyring, stored);
    let (keys, stored) = (keys?, stored?);
    let decoded_at = started.elapsed();
    let mut live = Live {
        scope: TenantScope::new(tenant_id),
        window: RequestWindow::default(),
        tokens: imbl::OrdMap::new(),
        last_position: 0,
        snapshots: Snapshots::recovered(Tail::default(), 0),
        keys,
    };
    let mut snapshot_bytes = 0;
    match stored {
        None => {}
        Some((None, _, _)) => {
            warn!(tenant = %tenant_id, "ignoring unusable snapshot; rebuilding from events")
        }
        Some((Some(body), bytes, position)) => {
            let keys = live.keys;
            let (decoded, keys) = tokio::task::spawn_blocking(move || {
                (snapshot::open_body(body, seal.then_some(&keys)), keys)
            })
            .await?;
            live.keys = keys;
            report_unreadable(&deps.vault, tenant_id, decoded.unreadable);
            let body = decoded.body;
            snapshot_bytes = bytes;
            live.scope = body.scope;
            live.window = RequestWindow::from_entries(body.window);
            live.tokens = body
                .tokens
                .into_iter()
                .map(|(s, (tx, pos))| {
                    (
                        s,
                        CommitToken {
                            transaction_id: tx,
                            position: pos,
                        },
                    )
                })
                .collect();
            live.last_position = position;
        }
    }
    let opened_at = started.elapsed();
    let events = deps
        .journal
        .read_tenant(tenant_id, live.last_position)
        .await?;
    let read_at = started.elapsed();
    let mut tail = Tail::default();
    for mut event in events {
        tail.add(1, snapshot::stored_len(&event.payload, &event.metadata));
        fold_recorded(&mut live, tenant_id, &deps.vault, &mut event)?;
    }
    live.snapshots = Snapshots::recovered(tail, snapshot_bytes);
    let total = started.elapsed();
    deps.config.metrics.recovery.observe(total.as_secs_f64());
    // Where a slow activation went (a large tenant's, typically).
    if total >= std::time::Duration::from_millis(200) {
        tracing::info!(
            tenant = %tenant_id,
            total_ms = total.as_millis() as u64,
            snapshot_read_ms = fetched_at.as_millis() as u64,
            keys_and_decode_ms = decoded_at.saturating_sub(fetched_at).as_millis() as u64,
            open_ms = opened_at.saturating_sub(decoded_at).as_millis() as u64,
            tail_read_ms = read_at.saturating_sub(opened_at).as_millis() as u64,
            tail_fold_ms = total.saturating_sub(read_at).as_millis() as u64,
            snapshot_bytes,
            tail_events = tail.events,
            "slow recovery"
        );
    }
    Ok(live)
}

/// Logs and counts every value that did not open (erased ones are expected, not reported).
fn report_unreadable(vault: &Vault, tenant_id: TenantId, opened: Vec<(uuid::Uuid, &str, Opened)>) {
    for (subject, field, found) in opened {
        if let Opened::Unreadable(why) = found {
            vault.report_unreadable(tenant_id, subject, field, &why);
        }
    }
}

/// A key-table failure as the engine reports it.
fn vault_error(error: VaultError) -> EngineError {
    match error {
        VaultError::Store(e) => EngineError::from(e),
        VaultError::Keyring(e) => keyring_error(e),
    }
}

fn keyring_error(error: KeyringError) -> EngineError {
    match error {
        KeyringError::Erased { .. } | KeyringError::UnreadableKey { .. } => {
            EngineError::Domain(crate::domain::DomainError::InvalidState {
                reason: "PERSONAL_DATA_ERASED",
                message: error.to_string(),
            })
        }
        KeyringError::MissingMasterKey { .. } => EngineError::Unavailable(error.to_string()),
        KeyringError::Crypto(e) => EngineError::Internal(format!("personal data: {e}")),
    }
}

/// Applies one stored event, checking that it belongs here and continues its stream. The
/// payload is moved out of `recorded` (decoded once, never copied).
fn fold_recorded(
    live: &mut Live,
    tenant_id: TenantId,
    vault: &Vault,
    recorded: &mut RecordedEvent,
) -> Result<()> {
    let corrupt = |what: String| {
        EngineError::Journal(JournalError::Corrupt(format!(
            "event at position {} of tenant {tenant_id}: {what}",
            recorded.position
        )))
    };
    if recorded.tenant_id != tenant_id {
        return Err(corrupt(format!("belongs to tenant {}", recorded.tenant_id)));
    }
    let mut event = TenantScopeEvent::from_stored(
        recorded.stream.kind,
        recorded.schema_version,
        std::mem::take(&mut recorded.payload),
    )
    .map_err(|e| corrupt(format!("undecodable payload: {e}")))?;
    if recorded.schema_version >= SEALED_SINCE_SCHEMA {
        let opened = live.keys.open(event.personal_fields_mut(tenant_id.0));
        report_unreadable(vault, tenant_id, opened);
    }
    if event.stream(tenant_id) != recorded.stream {
        return Err(corrupt(format!(
            "payload does not match stream {}",
            recorded.stream
        )));
    }
    let expected = live.scope.version_of(recorded.stream) + 1;
    if recorded.sequence != expected {
        return Err(corrupt(format!(
            "stream {} jumps from version {} to {}",
            recorded.stream,
            expected - 1,
            recorded.sequence
        )));
    }
    live.scope.apply(&event, recorded.recorded_at);
    let token = CommitToken {
        transaction_id: recorded.transaction_id,
        position: recorded.position,
    };
    remember_token(&mut live.tokens, recorded.stream, token);
    live.last_position = live.last_position.max(recorded.position);
    // A request's answer is the state of its target stream after its last event there. Only
    // idempotent requests (those with a fingerprint) are remembered.
    if let (Some(request_id), Some(hash)) = (
        &recorded.metadata.request_id,
        &recorded.metadata.request_hash,
    ) && recorded.metadata.request_target == Some(recorded.stream)
    {
        live.window.record(
            request_id.clone(),
            RequestRecord {
                hash: hash.clone(),
                stream: recorded.stream,
                version: recorded.sequence,
                token: (token.transaction_id, token.position),
            },
        );
    }
    Ok(())
}

/// Runs one command. Returns the answer and, when the actor must restart, why.
async fn execute(
    state: &mut EntityState,
    command: TenantScopeCommand,
    meta: RequestMeta,
) -> (Result<CommandOutcome>, Option<String>) {
    let tenant_id = state.tenant_id;
    let deps = Arc::clone(&state.deps);
    let Some(live) = state.live.as_mut() else {
        return (
            Err(EngineError::Unavailable("entity is recovering".into())),
            None,
        );
    };
    // The caller's permission, in the message that decides the command and against the same
    // state: no role change can slip in between. First, as when it was checked before the
    // command was sent: a caller who lost the permission gets no replay either.
    if let Some(requirement) = &meta.authorization
        && let Err(denied) = requirement.check(&live.scope, deps.clock.now())
    {
        return (Err(denied), None);
    }
    let target = command.target_stream(tenant_id);
    // Keyed by the tenant's index key: a fingerprint of a command holding an email is no
    // plaintext-searchable hash. None once the tenant's keys are shredded (it takes no writes).
    let hash = match &meta.request_id {
        Some(_) => live
            .keys
            .index_key(deps.vault.master(), deps.clock.now())
            .ok()
            .map(|key| fingerprint(&command, key)),
        None => None,
    };

    if let (Some(request_id), Some(hash)) = (&meta.request_id, &hash)
        && let Some(record) = live.window.get(request_id)
    {
        if &record.hash != hash {
            let err = EngineError::RequestIdReused {
                request_id: request_id.clone(),
            };
            return (Err(err), None);
        }
        let outcome = view_of(&live.scope, record.stream).map(|view| CommandOutcome {
            view,
            version: record.version,
            token: record.commit_token(),
            replayed: true,
            invitation_token: None,
        });
        return (outcome, None);
    }
    if let Some(expected) = meta.expected_version {
        let actual = live.scope.version_of(target);
        if expected != actual {
            return (Err(EngineError::VersionMismatch { expected, actual }), None);
        }
    }

    let recorded_id = meta.request_id.clone().or_else(|| meta.call_id.clone());
    let metadata = EventMetadata {
        actor: meta.actor.clone(),
        request_id: recorded_id.clone(),
        request_hash: hash.clone(),
        request_target: Some(target),
        correlation_id: recorded_id,
        causation_id: None,
        trace_id: meta.trace_id.clone(),
        traceparent: TraceParent::current().map(|t| t.to_string()),
    };
    let written = match commit(live, tenant_id, &deps, &command, metadata.clone()).await {
        Ok(written) => written,
        Err(Failure::Refused(e)) => return (Err(e), None),
        Err(Failure::Fault(e, reason)) => return (Err(e), Some(reason)),
    };

    // A new tenant's onboarding saga runs to its end before CreateTenant answers (its steps
    // carry this request's id); any other command also resumes a saga that an earlier crash or
    // refusal left unfinished.
    let cause = written.then_some(&metadata);
    let progress = onboarding::drive(live, tenant_id, &deps, cause).await;
    let token = live.tokens.get(&target).copied().unwrap_or(ZERO_TOKEN);
    if let (Some(request_id), Some(hash), true) = (meta.request_id, hash, written) {
        // What a retry of this request is answered with: its target after it (the record that
        // recovery rebuilds from the metadata of the target's last event of this request).
        let record = RequestRecord {
            hash,
            stream: target,
            version: live.scope.version_of(target),
            token: (token.transaction_id, token.position),
        };
        live.window.record(request_id, record);
    }
    let token = live.tokens.get(&target).copied().unwrap_or(ZERO_TOKEN);
    let outcome = view_of(&live.scope, target).map(|view| CommandOutcome {
        view,
        version: live.scope.version_of(target),
        token,
        replayed: false,
        invitation_token: progress.invitation_token,
    });
    (outcome, progress.fault)
}

/// Why [`commit`] wrote nothing.
pub(super) enum Failure {
    /// Refused cleanly (domain rule, taken unique key): the state is still current.
    Refused(EngineError),
    /// The outcome is unknown or the state is stale: answer with the error, then restart.
    Fault(EngineError, String),
}

/// Decides `command`, appends its events through the group-commit writer and applies them.
/// `Ok(false)` when the command changes nothing (nothing was written).
pub(super) async fn commit(
    live: &mut Live,
    tenant_id: TenantId,
    deps: &Arc<Deps>,
    command: &TenantScopeCommand,
    metadata: EventMetadata,
) -> Result<bool, Failure> {
    let now = deps.clock.now();
    let events = live
        .scope
        .decide(command, &Context::at(now))
        .map_err(|e| Failure::Refused(e.into()))?;
    if events.is_empty() {
        return Ok(false);
    }
    let fence = match &deps.config.leases {
        None => None,
        Some(leases) => {
            let shard = shard_of(tenant_id, deps.config.shard_count);
            let fence = leases.fence(shard).ok_or_else(|| {
                deps.config.metrics.fencing_refusals.inc();
                tracing::warn!(shard, %tenant_id, "write refused: this node does not hold the shard");
                Failure::Refused(EngineError::Unavailable(format!(
                    "shard {shard} is not served by this node now (it is moving); retry"
                )))
            })?;
            Some(fence)
        }
    };
    let master = deps.config.seal_personal_data.then(|| deps.vault.master());
    let built = build_batch(live, tenant_id, &events, &metadata, master, now);
    let mut batch = match built {
        Ok(batch) => batch,
        Err(e) => {
            live.keys.rollback();
            return Err(Failure::Refused(e));
        }
    };
    batch.fence = fence;
    let stored_bytes: u64 = batch
        .events
        .iter()
        .map(|e| snapshot::stored_len(&e.payload, &e.metadata))
        .sum();
    let shredded: Vec<KeyChange> = batch
        .keys
        .iter()
        .filter(|k| !matches!(k, KeyChange::Create(_)))
        .cloned()
        .collect();

    let appended = deps.writer.append(batch).await;
    if appended.is_ok() {
        live.keys.commit();
        for change in shredded {
            match change {
                KeyChange::ShredSubject { subject_id, .. } => live.keys.shred(subject_id),
                KeyChange::ShredTenant { .. } => live.keys.shred_all(),
                KeyChange::Create(_) => {}
            }
        }
    } else {
        live.keys.rollback();
    }
    match appended {
        Ok(receipt) => {
            let token = receipt.token();
            for event in &events {
                live.scope.apply(event, now);
                remember_token(&mut live.tokens, event.stream(tenant_id), token);
            }
            live.last_position = live.last_position.max(receipt.last_position);
            live.snapshots.record(events.len(), stored_bytes);
            if live.snapshots.due(&SnapshotPolicy::of(&deps.config)) {
                let job = live.snapshot_job(deps.config.seal_personal_data);
                live.snapshots.submit(job, deps);
            }
            Ok(true)
        }
        // Clean refusals: nothing was written and our state is still current.
        Err(e @ JournalError::UniqueViolation { .. }) => Err(Failure::Refused(taken(e))),
        // The shard's lease moved on: another node serves it now; nothing was written.
        Err(e @ JournalError::Fenced { .. }) => {
            deps.config.metrics.fencing_refusals.inc();
            let reason = e.to_string();
            tracing::warn!(%reason, "append refused by the journal's fence check");
            let answer = EngineError::Unavailable(format!(
                "this node no longer holds the tenant's shard ({reason}); retry"
            ));
            Err(Failure::Fault(answer, reason))
        }
        // Someone else wrote our streams: our state is stale.
        Err(e @ JournalError::StreamConflict { .. }) => {
            let reason = e.to_string();
            let answer =
                EngineError::Unavailable(format!("concurrent writer detected ({reason}); retry"));
            Err(Failure::Fault(answer, reason))
        }
        // The write may or may not have committed: only the journal knows.
        Err(e) => {
            let reason = format!("append outcome unknown: {e}");
            let answer = match e {
                JournalError::Unavailable(m) => EngineError::Unavailable(m),
                other => EngineError::Journal(other),
            };
            Err(Failure::Fault(answer, reason))
        }
    }
}

/// A unique key another entity holds, as the caller is told: a registration domain or host
/// another tenant verified is the domain's ALREADY_EXISTS; other namespaces (a tenant slug)
/// are answered by the caller that knows them.
fn taken(error: JournalError) -> EngineError {
    let field = match &error {
        JournalError::UniqueViolation { namespace, .. }
            if namespace == REGISTRATION_DOMAIN_NAMESPACE =>
        {
            "domain"
        }
        JournalError::UniqueViolation { namespace, .. }
            if namespace == REGISTRATION_HOST_NAMESPACE =>
        {
            "custom_host"
        }
        _ => return error.into(),
    };
    let JournalError::UniqueViolation { key, .. } = error else {
        return error.into();
    };
    EngineError::Domain(crate::domain::DomainError::AlreadyExists {
        resource: crate::domain::ResourceKind::RegistrationDomain,
        field,
        value: key,
    })
}

/// Keeps a stream's latest write, but a claims stream's: no command targets one, and a
/// tenant-wide re-synchronisation would add an entry per user to the state and its snapshots.
fn remember_token(
    tokens: &mut imbl::OrdMap<StreamId, CommitToken>,
    stream: StreamId,
    token: CommitToken,
) {
    if stream.kind != StreamKind::Claims {
        tokens.insert(stream, token);
    }
}

/// The token of an entity with no write yet: satisfied by every read.
const ZERO_TOKEN: CommitToken = CommitToken {
    transaction_id: 0,
    position: 0,
};

/// Turns decided events into one atomic append with their effects, their personal values
/// sealed (with the keys it creates for new people) and the keys their erasures destroy.
fn build_batch(
    live: &mut Live,
    tenant_id: TenantId,
    events: &[TenantScopeEvent],
    metadata: &EventMetadata,
    master: Option<&crate::personal::MasterKeys>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<AppendBatch> {
    let mut batch = AppendBatch::default();
    let mut next: HashMap<StreamId, i64> = HashMap::new();
    for event in events {
        let stream = event.stream(tenant_id);
        let sequence = next
            .entry(stream)
            .or_insert_with(|| live.scope.version_of(stream));
        *sequence += 1;
        let mut sealed = event.clone();
        let schema_version = match master {
            Some(master) => {
                live.keys
                    .seal(sealed.personal_fields_mut(tenant_id.0), master, now)
                    .map_err(keyring_error)?;
                TenantScopeEvent::SCHEMA_VERSION
            }
            None => UNSEALED_EVENT_SCHEMA_VERSION,
        };
        let payload = serde_json::to_value(&sealed)
            .map_err(|e| EngineError::Internal(format!("cannot encode event: {e}")))?;
        batch.events.push(NewEvent {
            tenant_id,
            stream,
            sequence: *sequence,
            event_type: event.event_type().to_owned(),
            schema_version,
            payload,
            metadata: metadata.clone(),
            recorded_at: now,
        });
        for effect in event.effects() {
            match effect {
                Effect::ClaimUnique { namespace, key } => batch.claims.push(UniqueClaim {
                    namespace: namespace.to_owned(),
                    key,
                    owner: stream.id,
                    // Only an idempotency key lets a retry recognize its own claim.
                    request_id: metadata
                        .request_hash
                        .as_ref()
                        .and(metadata.request_id.clone()),
                }),
                Effect::ReleaseUnique { namespace, key } => batch.releases.push(UniqueRelease {
                    namespace: namespace.to_owned(),
                    key,
                    owner: stream.id,
                }),
                Effect::SetTimer { kind, due_at } => batch.timers.push(TimerChange::Set {
                    tenant_id,
                    kind,
                    due_at,
                }),
                Effect::ClearTimer { kind } => {
                    batch.timers.push(TimerChange::Clear { tenant_id, kind })
                }
                Effect::ShredPersonKey { subject } => batch.keys.push(KeyChange::ShredSubject {
                    tenant_id,
                    subject_id: subject,
                    at: now,
                }),
                Effect::ShredTenantKeys => batch
                    .keys
                    .push(KeyChange::ShredTenant { tenant_id, at: now }),
            }
        }
    }
    // New keys first: a batch never shreds a key it creates.
    let mut keys = live.keys.pending().to_vec();
    keys.append(&mut batch.keys);
    batch.keys = keys;
    Ok(batch)
}

/// The entity a stream belongs to, as it is now.
fn view_of(scope: &TenantScope, stream: StreamId) -> Result<EntityView> {
    let missing = || {
        EngineError::Internal(format!(
            "stream {stream} has no entity after a successful command"
        ))
    };
    let view = match stream.kind {
        StreamKind::Tenant => scope.tenant().cloned().map(EntityView::Tenant),
        StreamKind::Organization => scope
            .organization(stream.id.into())
            .cloned()
            .map(EntityView::Organization),
        StreamKind::Team => scope.team(stream.id.into()).cloned().map(EntityView::Team),
        StreamKind::User => scope.user(stream.id.into()).cloned().map(EntityView::User),
        StreamKind::Claims => scope
            .user(crate::domain::claims_stream_user(stream.id).into())
            .cloned()
            .map(EntityView::User),
        StreamKind::Role => scope.role(stream.id.into()).cloned().map(EntityView::Role),
        StreamKind::Client => scope
            .client(stream.id.into())
            .cloned()
            .map(EntityView::Client),
        StreamKind::ApiKey => scope
            .api_key(ApiKeyId(stream.id))
            .cloned()
            .map(EntityView::ApiKey),
        StreamKind::Department
        | StreamKind::Location
        | StreamKind::Contact
        | StreamKind::Partition
        | StreamKind::PartitionGroup => RecordKind::of_stream(stream.kind)
            .and_then(|kind| scope.record(kind, RecordId(stream.id)))
            .cloned()
            .map(EntityView::Record),
    };
    view.ok_or_else(missing)
}
