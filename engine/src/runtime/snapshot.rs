//! Tenant-scope snapshots: what one holds, when one is taken, and how it is taken without
//! holding up the actor (issue 14).
//!
//! ```text
//!  actor: commit ─▶ tail += (events, bytes) ─▶ policy due? ─▶ job: O(1) clones of the state
//!                                                               │ (persistent maps)
//!  worker (one per entity, while it has work):                  ▼
//!     [running job] ─▶ node-wide permit ─▶ spawn_blocking(seal + bincode) ─▶ save ─▶ next
//!     [pending job]  ◀── a newer job replaces the pending one; at most one save in flight
//! ```
//!
//! **The rule** ([`SnapshotPolicy::due`]): with `n` events of `b` stored bytes since the last
//! snapshot, whose encoding took `S` bytes, a snapshot is due when
//! `n ≥ every && 100·b ≥ percent·S`, or when `n ≥ max_events` whatever the bytes.
//! - *Write amplification.* Between two snapshots the tail grows by at least `percent`% of
//!   `S`, so the snapshot bytes written per event byte are at most `100 / percent` (2 with the
//!   default 50 %), whatever the tenant's size: a tenant of 100,000 users (a ~35 MB snapshot)
//!   is rewritten every ~17 MB of events, not every 100 events. Small tenants, whose snapshot
//!   is smaller than 100 events, keep the count rule (`every`).
//! - *Replay at activation.* Recovery folds the tail after the snapshot: at most
//!   `max(every, percent·S / 100 / e)` events for events of `e` bytes, and never more than
//!   `max_events` (+ the events committed while the last save was in flight). The default
//!   cap is sized from `benches/tenant_snapshot.rs` (see [`DEFAULT_MAX_EVENTS`]); beyond it a
//!   very large tenant pays `S / max_events` snapshot bytes per event instead.
//!
//! **One save in flight per entity.** A due snapshot becomes a job. If the entity's worker is
//! idle it starts on it; otherwise the job waits, and a newer job replaces a waiting one (only
//! the newest state is worth writing). Jobs are saved in the order they were taken, and the
//! store itself never lets an older `last_position` replace a newer one, so neither a slow save
//! nor one left by a stopped incarnation can overwrite a newer snapshot. Passivation queues the
//! final job and waits for the worker, so a passivated entity's last snapshot is stored before
//! its actor stops.
//!
//! **A node-wide bound** ([`EngineConfig::snapshot_concurrency`], half the cores by default):
//! a job waits for a permit before it is encoded and holds it until saved. Tenants written in
//! step come due together (64 tenants at the same rate, every ~1.3 s in the projection-lag
//! benchmark); unbounded, their encodings took both cores and their saves the journal's
//! connections for ~60 ms at a time, and every command and projection waited. While a job
//! waits, the entity's newer jobs replace its pending one, so a backlog writes fewer, newer
//! snapshots.
//!
//! **Off the actor.** The job holds clones of the scope and of the commit tokens (persistent
//! maps: O(1)), of the request window (1,024 entries at most) and a copy of the data keys
//! ([`Keyring::sealer`], O(1)). Sealing the personal values and bincode run on a blocking
//! thread; the actor only pays the first copy of each tree path it changes afterwards. The
//! users' values are sealed as the scope is written ([`SealedUsers`]), so the worker copies no
//! user either; the tenant's and the contacts' values are sealed in place on its copy.

use std::{
    convert::Infallible,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
};

use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;
use tracing::warn;
use uuid::Uuid;

use super::{EngineConfig, deps::Deps, idempotency::RequestRecord};
use crate::{
    EngineError, Result,
    domain::{PersonalField, SealValue, SealedUsers, StreamId, TenantId, TenantScope},
    journal::{CommitToken, EventMetadata, Snapshot},
    personal::{Keyring, Opened},
};

/// Snapshot kind of a tenant scope.
pub(crate) const SNAPSHOT_KIND: &str = "tenant-scope";
/// Bump when [`SnapshotBody`] or the domain state changes shape: older snapshots are ignored.
/// Version 2: personal values sealed, the email index not stored. (The persistent maps of
/// issue 14 encode byte for byte as the `BTreeMap`s they replaced: same version.)
/// Version 3: clients. Version 4: directory records (departments, locations, contacts).
/// Version 5: partitions, partition groups and API keys. Version 6: registration settings
/// and the claims re-synchronisation on the tenant. Version 7: classified business profiles
/// (social profiles with their platform).
pub(crate) const SNAPSHOT_SCHEMA_VERSION: i32 = 7;
/// Snapshot version of the benchmark-only unsealed mode ([`EngineConfig`]'s
/// `seal_personal_data: false`): personal values in plaintext; never read by a sealing node.
const UNSEALED_SNAPSHOT_SCHEMA_VERSION: i32 = 1_000_007;

/// Default of [`EngineConfig::snapshot_bytes_percent`].
pub const DEFAULT_BYTES_PERCENT: u32 = 50;
/// Default of [`EngineConfig::snapshot_max_events`]: the tail recovery replays at most.
/// Folding a stored event (JSON text to event, values opened, applied) costs ~3.4 µs
/// (`benches/tenant_snapshot.rs`, `replay`), so the whole tail is ~35 ms of CPU plus its read,
/// against ~0.5 s to decode the snapshot of a 100,000-user scope; at that size the cap, not
/// the byte rule, sets the interval (~39 MB / 10,000 ≈ 3.9 KB of snapshot per event).
pub const DEFAULT_MAX_EVENTS: u32 = 10_000;

/// What a snapshot stores (bincode). Written with the scope as [`SealedUsers`] (or a plain
/// reference, unsealed), read back as a [`TenantScope`]: the same bytes.
#[derive(Serialize, Deserialize)]
pub(crate) struct SnapshotBody<Scope = TenantScope> {
    pub(crate) scope: Scope,
    pub(super) window: Vec<(String, RequestRecord)>,
    pub(super) tokens: Vec<(StreamId, (u64, i64))>,
}

/// Events folded since the last snapshot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tail {
    /// How many.
    pub events: u32,
    /// Their stored size: payload and metadata as JSON text.
    pub bytes: u64,
}

impl Tail {
    /// Adds events.
    pub fn add(&mut self, events: usize, bytes: u64) {
        self.events = self
            .events
            .saturating_add(u32::try_from(events).unwrap_or(u32::MAX));
        self.bytes = self.bytes.saturating_add(bytes);
    }
}

/// When a tenant scope takes a snapshot (the arithmetic is in the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SnapshotPolicy {
    /// Events since the last snapshot before one is considered.
    pub every: u32,
    /// And the bytes of those events, in percent of the last snapshot's size.
    pub bytes_percent: u32,
    /// Events after which a snapshot is taken whatever the bytes (bounds the replay).
    pub max_events: u32,
}

impl SnapshotPolicy {
    /// The policy of a runtime configuration.
    pub fn of(config: &EngineConfig) -> Self {
        Self {
            every: config.snapshot_every,
            bytes_percent: config.snapshot_bytes_percent,
            max_events: config.snapshot_max_events,
        }
    }

    /// Whether a snapshot is due after `tail`, the last snapshot having encoded to
    /// `last_snapshot_bytes` (0 when there is none). Never with an empty tail.
    pub fn due(&self, tail: Tail, last_snapshot_bytes: u64) -> bool {
        if tail.events == 0 {
            return false;
        }
        let grown = u128::from(tail.bytes) * 100
            >= u128::from(last_snapshot_bytes) * u128::from(self.bytes_percent);
        tail.events >= self.max_events || (tail.events >= self.every && grown)
    }
}

/// The stored size of an event: its payload and metadata as JSON text.
pub(super) fn stored_len(payload: &serde_json::Value, metadata: &EventMetadata) -> u64 {
    let mut counter = ByteCounter(0);
    // Writing to a counter cannot fail, and neither can serializing these types.
    let _ = serde_json::to_writer(&mut counter, payload);
    let _ = serde_json::to_writer(&mut counter, metadata);
    counter.0
}

struct ByteCounter(u64);

impl std::io::Write for ByteCounter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Everything one snapshot is made of, copied from the actor's state in O(1) but the window.
pub struct SnapshotJob {
    tenant_id: TenantId,
    scope: TenantScope,
    window: Vec<(String, RequestRecord)>,
    tokens: imbl::OrdMap<StreamId, CommitToken>,
    /// The data keys when sealing; `None` writes the benchmark-only plaintext form.
    keys: Option<Keyring>,
    last_position: i64,
}

impl SnapshotJob {
    /// A job of the given state (`keys`: the data keys when sealing, see [`Keyring::sealer`]).
    pub fn new(
        scope: TenantScope,
        window: Vec<(String, RequestRecord)>,
        tokens: imbl::OrdMap<StreamId, CommitToken>,
        keys: Option<Keyring>,
        last_position: i64,
    ) -> Self {
        Self {
            tenant_id: scope.tenant_id(),
            scope,
            window,
            tokens,
            keys,
            last_position,
        }
    }

    /// Seals and encodes (CPU-bound: run it on a blocking thread). `taken_at` is read once the
    /// encoding is done.
    ///
    /// # Errors
    /// [`EngineError::Internal`] when a person's values have no key (data written before
    /// encryption: no snapshot, the state is rebuilt from the journal) or encoding fails.
    pub fn encode(
        mut self,
        taken_at: impl FnOnce() -> chrono::DateTime<chrono::Utc>,
    ) -> Result<Snapshot> {
        let sealed = self.keys.is_some();
        let tokens = self
            .tokens
            .iter()
            .map(|(s, t)| (*s, (t.transaction_id, t.position)))
            .collect();
        let state = match &self.keys {
            Some(keys) => {
                // The tenant's and the contacts' values in place; the users' as written.
                let sealer = RingSealer(keys);
                self.scope
                    .try_for_each_personal_field_outside_users(|slot| {
                        *slot.value = sealer
                            .seal_value(slot.subject, slot.field, slot.value)
                            .map_err(EngineError::Internal)?;
                        Ok::<(), EngineError>(())
                    })?;
                encode_body(&SnapshotBody {
                    scope: SealedUsers::new(&self.scope, &sealer),
                    window: self.window,
                    tokens,
                })
            }
            None => encode_body(&SnapshotBody {
                scope: &self.scope,
                window: self.window,
                tokens,
            }),
        }?;
        Ok(Snapshot {
            aggregate_id: self.tenant_id.0,
            aggregate_kind: SNAPSHOT_KIND.to_owned(),
            schema_version: match sealed {
                true => SNAPSHOT_SCHEMA_VERSION,
                false => UNSEALED_SNAPSHOT_SCHEMA_VERSION,
            },
            last_position: self.last_position,
            state,
            taken_at: taken_at(),
        })
    }
}

fn encode_body<Scope: Serialize>(body: &SnapshotBody<Scope>) -> Result<Vec<u8>> {
    bincode::serde::encode_to_vec(body, bincode::config::standard())
        .map_err(|e| EngineError::Internal(format!("cannot encode snapshot: {e}")))
}

/// Seals a snapshot's values with the keys the ring holds (in place, or as the users are
/// written).
struct RingSealer<'a>(&'a Keyring);

impl SealValue for RingSealer<'_> {
    fn seal_value(
        &self,
        subject: Uuid,
        field: PersonalField,
        value: &str,
    ) -> std::result::Result<String, String> {
        match self.0.sealed_with_existing(subject, field, value) {
            Ok(Some(sealed)) => Ok(sealed),
            // A person without a key (data written before encryption existed).
            Ok(None) => Err("snapshot skipped: a person's values have no key yet".into()),
            Err(e) => Err(format!("cannot seal snapshot: {e}")),
        }
    }
}

/// A decoded snapshot with its personal values opened and its indexes rebuilt.
pub(crate) struct Decoded {
    pub(crate) body: SnapshotBody,
    /// Values that failed to open (to log and count).
    pub(crate) unreadable: Vec<(Uuid, &'static str, Opened)>,
}

/// Decodes a stored snapshot of `tenant_id` and opens its values with `keys` (`None`: the
/// plaintext form). `None` for another schema version, another tenant or undecodable bytes.
/// CPU-bound: run it on a blocking thread for a large tenant.
#[cfg(any(test, feature = "test-util"))]
pub(crate) fn decode(
    snapshot: &Snapshot,
    tenant_id: TenantId,
    keys: Option<&Keyring>,
) -> Option<Decoded> {
    decode_body(snapshot, tenant_id, keys.is_some()).map(|body| open_body(body, keys))
}

/// The first half of [`decode`], which needs no key: bincode, the version and tenant checks.
pub(crate) fn decode_body(
    snapshot: &Snapshot,
    tenant_id: TenantId,
    sealed: bool,
) -> Option<SnapshotBody> {
    let expected = match sealed {
        true => SNAPSHOT_SCHEMA_VERSION,
        false => UNSEALED_SNAPSHOT_SCHEMA_VERSION,
    };
    if snapshot.schema_version != expected {
        return None;
    }
    let (body, _): (SnapshotBody, usize) =
        bincode::serde::decode_from_slice(&snapshot.state, bincode::config::standard()).ok()?;
    (body.scope.tenant_id() == tenant_id).then_some(body)
}

/// The second half of [`decode`]: opens the values (with `keys` when sealed) and rebuilds the
/// derived indexes.
pub(crate) fn open_body(mut body: SnapshotBody, keys: Option<&Keyring>) -> Decoded {
    let mut unreadable = Vec::new();
    if let Some(keys) = keys {
        let _ = body.scope.try_for_each_personal_field(|slot| {
            if let Some(found @ (_, _, Opened::Unreadable(_))) = keys.open_slot(slot) {
                unreadable.push(found);
            }
            Ok::<(), Infallible>(())
        });
    }
    body.scope.rebuild_indexes();
    Decoded { body, unreadable }
}

/// What the actor and its snapshot worker share.
#[derive(Default)]
struct Shared {
    queue: Mutex<Queue>,
    /// Encoded size of the newest snapshot saved (or loaded at recovery).
    last_bytes: AtomicU64,
    /// A save failed since the actor last looked: the tail it covered is not stored.
    failed: AtomicBool,
}

#[derive(Default)]
struct Queue {
    /// The worker is saving a job (and will take `pending` next).
    running: bool,
    pending: Option<SnapshotJob>,
}

/// An entity's snapshots as its actor sees them: the tail since the last one, and its worker.
pub(super) struct Snapshots {
    tail: Tail,
    shared: Arc<Shared>,
    worker: Option<JoinHandle<()>>,
}

impl Snapshots {
    /// After recovery: `tail` folded after a snapshot of `last_bytes` (0: none).
    pub(super) fn recovered(tail: Tail, last_bytes: u64) -> Self {
        let shared = Shared::default();
        shared.last_bytes.store(last_bytes, Ordering::Relaxed);
        Self {
            tail,
            shared: Arc::new(shared),
            worker: None,
        }
    }

    /// Events just committed.
    pub(super) fn record(&mut self, events: usize, bytes: u64) {
        self.tail.add(events, bytes);
    }

    /// Whether a snapshot is due by `policy` (or because the last save failed).
    pub(super) fn due(&self, policy: &SnapshotPolicy) -> bool {
        let last = self.shared.last_bytes.load(Ordering::Relaxed);
        policy.due(self.tail, last)
            || (self.tail.events > 0 && self.shared.failed.load(Ordering::Relaxed))
    }

    /// Whether passivation must take a final snapshot.
    pub(super) fn unsaved(&self) -> bool {
        self.tail.events > 0 || self.shared.failed.load(Ordering::Relaxed)
    }

    /// Hands a job to the worker (starting it if idle; replacing a waiting job otherwise).
    pub(super) fn submit(&mut self, job: SnapshotJob, deps: &Arc<Deps>) {
        self.tail = Tail::default();
        self.shared.failed.store(false, Ordering::Relaxed);
        let mut queue = lock(&self.shared.queue);
        if queue.running {
            queue.pending = Some(job);
            return;
        }
        queue.running = true;
        drop(queue);
        let shared = Arc::clone(&self.shared);
        let deps = Arc::clone(deps);
        self.worker = Some(tokio::spawn(run_worker(shared, deps, job)));
    }

    /// Waits until every submitted job is saved (or failed).
    pub(super) async fn flush(&mut self) {
        if let Some(worker) = self.worker.take() {
            let _ = worker.await;
        }
    }
}

fn lock(queue: &Mutex<Queue>) -> std::sync::MutexGuard<'_, Queue> {
    // The lock guards two fields and no code that can panic while holding it.
    queue
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Default of [`EngineConfig::snapshot_concurrency`]: half the cores, at least one.
pub(super) fn default_concurrency() -> usize {
    std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
}

/// Saves jobs one at a time until none waits, each under one of the node's permits.
async fn run_worker(shared: Arc<Shared>, deps: Arc<Deps>, mut job: SnapshotJob) {
    loop {
        // The semaphore is never closed; were it, the job would run unbounded.
        let permit = deps.snapshots.acquire().await.ok();
        let tenant = job.tenant_id;
        let clock = Arc::clone(&deps.clock);
        let encoded = tokio::task::spawn_blocking(move || job.encode(|| clock.now())).await;
        match encoded {
            Ok(Ok(snapshot)) => match deps.journal.save_snapshot(&snapshot).await {
                Ok(()) => {
                    let bytes = snapshot.state.len() as u64;
                    shared.last_bytes.store(bytes, Ordering::Relaxed);
                    #[allow(clippy::cast_precision_loss)] // sizes far below 2^52
                    deps.config.metrics.snapshot_bytes.observe(bytes as f64);
                }
                Err(e) => {
                    shared.failed.store(true, Ordering::Relaxed);
                    warn!(%tenant, error = %e, "snapshot save failed");
                }
            },
            // Not retried before the next interval: it would fail the same way.
            Ok(Err(e)) => warn!(%tenant, error = %e, "snapshot encode failed"),
            Err(e) => warn!(%tenant, error = %e, "snapshot encode panicked"),
        }
        drop(permit);
        let mut queue = lock(&shared.queue);
        match queue.pending.take() {
            Some(next) => job = next,
            None => {
                queue.running = false;
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: SnapshotPolicy = SnapshotPolicy {
        every: 100,
        bytes_percent: 50,
        max_events: 10_000,
    };

    fn tail(events: u32, bytes: u64) -> Tail {
        Tail { events, bytes }
    }

    #[test]
    fn the_first_snapshot_follows_the_count() {
        assert!(!POLICY.due(tail(99, 1_000_000), 0));
        assert!(POLICY.due(tail(100, 0), 0));
    }

    #[test]
    fn a_small_scope_snapshots_every_n_events() {
        // 100 events of 500 bytes against a 20 KB snapshot: the count decides.
        assert!(!POLICY.due(tail(99, 99 * 500), 20_000));
        assert!(POLICY.due(tail(100, 100 * 500), 20_000));
    }

    #[test]
    fn a_large_scope_waits_for_half_its_size_in_events() {
        let size = 35_000_000;
        assert!(!POLICY.due(tail(100, 100_000), size));
        assert!(!POLICY.due(tail(9_999, 17_499_999), size));
        assert!(POLICY.due(tail(5_000, 17_500_000), size));
    }

    #[test]
    fn the_replay_bound_wins_over_the_bytes() {
        assert!(POLICY.due(tail(10_000, 1_000), 35_000_000));
    }

    #[test]
    fn nothing_is_due_without_events() {
        let eager = SnapshotPolicy {
            every: 0,
            bytes_percent: 0,
            max_events: 0,
        };
        assert!(!eager.due(tail(0, 0), 0));
        assert!(eager.due(tail(1, 0), 1_000));
    }

    #[test]
    fn zero_percent_is_the_count_rule() {
        let count_only = SnapshotPolicy {
            bytes_percent: 0,
            ..POLICY
        };
        assert!(count_only.due(tail(100, 0), u64::MAX));
    }

    #[test]
    fn amortized_snapshot_bytes_per_event_byte_stay_bounded() {
        // Feed events of `e` bytes and add up the snapshot bytes the rule writes, for scopes
        // of every size: at most 100 / percent snapshot bytes per event byte, once past the
        // count rule (and below the replay bound).
        for size in [50_000u64, 1_000_000, 5_000_000] {
            let e = 700u64;
            let (mut t, mut written, mut events) = (Tail::default(), 0u64, 0u64);
            while events < 200_000 {
                t.add(1, e);
                events += 1;
                if POLICY.due(t, size) {
                    written += size;
                    t = Tail::default();
                }
            }
            let per_event_byte = written as f64 / (events * e) as f64;
            let count_rule = size as f64 / (100 * e) as f64;
            assert!(
                per_event_byte <= (100.0 / 50.0f64).max(count_rule) + 0.01,
                "{size}: {per_event_byte}"
            );
        }
    }
}
