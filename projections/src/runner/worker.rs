//! The loops that apply batches: one per projection ([`Lane::Solo`]), and one for the read
//! models that stand at the same checkpoint and apply each batch together ([`Lane::Shared`],
//! see `shared_batch`). Each reads a batch from the tail, verifies continuity, applies it with
//! the checkpoint in one transaction, repeats; backs off on failure, idles when caught up.

use std::{borrow::Cow, sync::Arc, time::Duration};

use engine::{
    journal::{CommitToken, RecordedEvent},
    personal::Vault,
};
use tokio::{
    sync::{Mutex, Notify, watch},
    time::Instant,
};

use super::{Shared, continuity::Continuity, shared_batch, status::Stats};
use crate::{Envelope, Error, Projection, Result, store::ReadStore};

/// The start of the journal.
pub(crate) const ORIGIN: CommitToken = CommitToken {
    transaction_id: 0,
    position: 0,
};

/// A running projection, shared by its task, the shared batch and the handle.
pub(crate) struct Worker {
    pub projection: Arc<dyn Projection>,
    /// The committed checkpoint, published after each commit (waiters subscribe).
    pub checkpoint: watch::Sender<CommitToken>,
    /// Wakes the idle loop (a reader waits for a token, a rebuild reset the checkpoint).
    pub kick: Notify,
    /// The projection's state; held for a whole batch, so a rebuild never interleaves with one.
    pub state: Mutex<WorkerState>,
    /// Counters for `status()`.
    pub stats: std::sync::Mutex<Stats>,
}

/// Where a projection is.
#[derive(Debug)]
pub(crate) struct WorkerState {
    /// Last applied event, as committed.
    pub checkpoint: CommitToken,
    /// Per-stream sequences seen (while it runs on its own).
    pub continuity: Continuity,
    /// False until the checkpoint was read from the store (and after it moved under us).
    pub loaded: bool,
    /// Whether it applies its batches in the shared batch (its own loop then waits).
    pub joined: bool,
    /// It failed the shared batch: it joins again only after a batch of its own succeeded.
    pub failing: bool,
}

impl Worker {
    pub(crate) fn new(projection: Arc<dyn Projection>) -> Self {
        Self {
            projection,
            checkpoint: watch::Sender::new(ORIGIN),
            kick: Notify::new(),
            state: Mutex::new(WorkerState {
                checkpoint: ORIGIN,
                continuity: Continuity::default(),
                loaded: false,
                joined: false,
                failing: false,
            }),
            stats: std::sync::Mutex::new(Stats::default()),
        }
    }

    pub(crate) fn name(&self) -> &str {
        self.projection.name()
    }

    fn with_stats(&self, f: impl FnOnce(&mut Stats)) {
        if let Ok(mut stats) = self.stats.lock() {
            f(&mut stats);
        }
    }

    /// Records a committed batch that moved the checkpoint to `last`.
    pub(crate) fn applied(
        &self,
        state: &mut WorkerState,
        last: CommitToken,
        count: usize,
        newest: Option<chrono::DateTime<chrono::Utc>>,
    ) {
        state.checkpoint = last;
        state.failing = false;
        self.checkpoint.send_replace(last);
        self.with_stats(|s| {
            s.applied_events += count as u64;
            s.newest_applied_at = s.newest_applied_at.max(newest);
            s.consecutive_failures = 0;
            s.last_error = None;
        });
    }

    /// Records a failed batch; returns how many failed in a row.
    pub(crate) fn failed(&self, error: &Error) -> u32 {
        let mut consecutive = 0;
        self.with_stats(|s| {
            s.failures += 1;
            s.consecutive_failures += 1;
            s.last_error = Some(error.to_string());
            consecutive = s.consecutive_failures;
        });
        consecutive
    }

    /// Reads the stored checkpoint unless it is loaded.
    pub(crate) async fn load(&self, store: &ReadStore, state: &mut WorkerState) -> Result<()> {
        if state.loaded {
            return Ok(());
        }
        store.ensure_checkpoint(self.name()).await?;
        let stored = store.checkpoint(self.name()).await?.unwrap_or(ORIGIN);
        state.checkpoint = stored;
        state.continuity.clear();
        state.loaded = true;
        self.checkpoint.send_replace(stored);
        Ok(())
    }
}

/// What one step did.
pub(crate) enum Step {
    /// Applied a batch; more may be waiting: read again at once.
    Applied,
    /// Applied what a read brought, less than a full batch: read again at the next tick (or a
    /// reader's kick), so that under a steady load each batch gathers a tick's worth of events
    /// instead of one or two (every batch costs a read, BEGIN, the checkpoint write, COMMIT).
    Partial,
    /// Nothing new below the horizon (or nothing to do now).
    Idle,
}

/// A loop that applies batches.
pub(crate) enum Lane {
    /// One projection on its own: one that does not share batches, or a read model that is
    /// catching up (after a rebuild) until it reaches the shared batch.
    Solo(Arc<Worker>),
    /// The read models that stand at the same checkpoint, together.
    Shared,
}

impl Lane {
    fn label(&self) -> &str {
        match self {
            Lane::Solo(worker) => worker.name(),
            Lane::Shared => "shared batch",
        }
    }

    fn kick<'a>(&'a self, shared: &'a Shared) -> &'a Notify {
        match self {
            Lane::Solo(worker) => &worker.kick,
            Lane::Shared => &shared.group.kick,
        }
    }

    /// A solo loop whose projection applies in the shared batch waits.
    async fn parked(&self) -> bool {
        match self {
            Lane::Solo(worker) => worker.state.lock().await.joined,
            Lane::Shared => false,
        }
    }

    async fn step(&self, shared: &Shared, fresh_from: Instant) -> Result<(Step, Instant)> {
        match self {
            Lane::Solo(worker) => solo_step(shared, worker, fresh_from).await,
            Lane::Shared => shared_batch::step(shared, fresh_from).await,
        }
    }

    /// While idle: joins the shared batch when level with it, and (when `recheck`) compares
    /// the stored checkpoints with ours (notices a rebuild done by another process).
    async fn idle(&self, shared: &Shared, recheck: bool) {
        match self {
            Lane::Solo(worker) => {
                if recheck {
                    recheck_solo(shared, worker).await;
                }
                if worker.projection.shares_batches() {
                    shared_batch::join_if_level(shared, worker).await;
                }
            }
            Lane::Shared => {
                if recheck {
                    shared_batch::recheck(shared).await;
                }
            }
        }
    }

    fn failed(&self, shared: &Shared, error: &Error) -> u32 {
        match self {
            Lane::Solo(worker) => worker.failed(error),
            Lane::Shared => shared_batch::failed(shared, error),
        }
    }
}

/// Doubling delays between `initial` and `max`.
struct Backoff {
    initial: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    fn new(initial: Duration, max: Duration) -> Self {
        Self {
            initial,
            max,
            next: initial,
        }
    }

    fn reset(&mut self) {
        self.next = self.initial;
    }

    fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (self.next * 2).min(self.max);
        delay
    }
}

/// The task of one lane; returns on shutdown.
pub(crate) async fn run(shared: Arc<Shared>, lane: Lane) {
    let mut shutdown = shared.shutdown.subscribe();
    let config = &shared.config;
    let mut backoff = Backoff::new(config.retry_initial, config.retry_max);
    let mut last_recheck = Instant::now();
    // From when the next journal read must be fresh (see `TailFeed`).
    let mut fresh_from = Instant::now();
    tracing::debug!(lane = lane.label(), "projection loop started");
    loop {
        if *shutdown.borrow() {
            break;
        }
        if lane.parked().await {
            tokio::select! {
                () = lane.kick(&shared).notified() => {}
                _ = shutdown.changed() => {}
            }
            fresh_from = Instant::now();
            continue;
        }
        match lane.step(&shared, fresh_from).await {
            Ok((Step::Applied, read_started)) => {
                backoff.reset();
                last_recheck = Instant::now();
                // Anything read since the batch just applied is news.
                fresh_from = read_started;
            }
            Ok((Step::Partial, _)) => {
                backoff.reset();
                last_recheck = Instant::now();
                let tick = next_tick(shared.epoch, config.idle_poll);
                fresh_from = tokio::select! {
                    () = tokio::time::sleep_until(tick) => tick,
                    () = lane.kick(&shared).notified() => Instant::now(),
                    _ = shutdown.changed() => Instant::now(),
                };
            }
            Ok((Step::Idle, _)) => {
                backoff.reset();
                let recheck = last_recheck.elapsed() >= config.checkpoint_recheck;
                if recheck {
                    last_recheck = Instant::now();
                }
                lane.idle(&shared, recheck).await;
                // Idle loops wake on the same ticks, so one read serves them all.
                let tick = next_tick(shared.epoch, config.idle_poll);
                fresh_from = tokio::select! {
                    () = tokio::time::sleep_until(tick) => tick,
                    () = lane.kick(&shared).notified() => Instant::now(),
                    _ = shutdown.changed() => Instant::now(),
                };
            }
            Err(Error::CheckpointMoved {
                projection,
                expected,
                found,
            }) => {
                // Expected on a cluster, where every node runs the projections and one of them
                // applies each batch first; also after a rebuild started elsewhere.
                tracing::debug!(
                    projection,
                    %expected,
                    %found,
                    "checkpoint moved under the runner (another runner or a rebuild); reloading"
                );
            }
            Err(error) => {
                let delay = backoff.next_delay();
                let consecutive = lane.failed(&shared, &error);
                tracing::error!(
                    projection = lane.label(),
                    %error,
                    consecutive_failures = consecutive,
                    retry_in_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                    "projection batch failed; it will be retried (events are never skipped)"
                );
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    _ = shutdown.changed() => {}
                }
                fresh_from = Instant::now();
            }
        }
    }
    tracing::debug!(lane = lane.label(), "projection loop stopped");
}

/// The first multiple of `period` after `epoch` that is still ahead.
fn next_tick(epoch: Instant, period: Duration) -> Instant {
    let period_ns = period.as_nanos().max(1);
    let elapsed = epoch.elapsed().as_nanos();
    let ticks = elapsed / period_ns + 1;
    let offset = u64::try_from(ticks * period_ns).unwrap_or(u64::MAX);
    epoch + Duration::from_nanos(offset)
}

/// The token of a stored event.
pub(crate) fn token_of(event: &RecordedEvent) -> CommitToken {
    CommitToken {
        transaction_id: event.transaction_id,
        position: event.position,
    }
}

/// One batch of a projection on its own (the read fresh from `fresh_from`); also says when
/// that read started. A read model catching up never passes the shared batch: its last batch
/// before it stops there, and it joins (see [`shared_batch::cross`]); one ahead of the shared
/// batch waits for it.
async fn solo_step(
    shared: &Shared,
    worker: &Arc<Worker>,
    fresh_from: Instant,
) -> Result<(Step, Instant)> {
    let bound = if worker.projection.shares_batches() {
        *shared.group.bound.borrow()
    } else {
        None
    };
    {
        let mut state = worker.state.lock().await;
        if state.joined {
            return Ok((Step::Idle, Instant::now()));
        }
        state.continuity.age(Instant::now());
        worker.load(&shared.store, &mut state).await?;
        let batch = shared
            .feed
            .read(state.checkpoint, shared.config.batch_size, fresh_from)
            .await?;
        let Some(last) = batch.events.last().map(token_of) else {
            return Ok((Step::Idle, batch.started));
        };
        match bound {
            Some(level) if state.checkpoint > level => return Ok((Step::Idle, batch.started)),
            Some(level) if last > level => {}
            _ => {
                let step = apply_alone(shared, worker, &mut state, batch.events).await?;
                return Ok((step, batch.started));
            }
        }
    }
    shared_batch::cross(shared, worker, fresh_from).await
}

/// Verifies and applies `events` (read after the worker's checkpoint) for one projection.
pub(crate) async fn apply_alone(
    shared: &Shared,
    worker: &Worker,
    state: &mut WorkerState,
    mut events: Vec<RecordedEvent>,
) -> Result<Step> {
    let mut verified = state
        .continuity
        .verify(&events, state.checkpoint, shared.tail.as_ref())
        .await?;
    let refusal = verified.refusal.take();
    events.truncate(verified.valid);
    let Some(last) = events.last().map(token_of) else {
        // The very first event is refused: nothing to apply before it.
        return refusal.map_or(Ok(Step::Idle), Err);
    };
    let count = events.len();
    let newest = events.iter().map(|e| e.recorded_at).max();
    let projections = [worker.projection.as_ref()];
    if let Err(BatchFailure { error, .. }) = apply_batch(
        &shared.store,
        &shared.vault,
        &projections,
        state.checkpoint,
        last,
        events,
    )
    .await
    {
        if matches!(error, Error::CheckpointMoved { .. }) {
            state.loaded = false;
        }
        return Err(error);
    }
    state.continuity.commit(verified);
    worker.applied(state, last, count, newest);
    // The events before a gap are applied; the gap itself is reported and retried.
    refusal.map_or(Ok(Step::Applied), Err)
}

/// Why a batch failed, and which projection failed it (`None`: a cause common to all of them,
/// such as the store, the tail or the vault).
#[derive(Debug)]
pub(crate) struct BatchFailure {
    pub error: Error,
    pub by: Option<usize>,
}

impl From<Error> for BatchFailure {
    fn from(error: Error) -> Self {
        Self { error, by: None }
    }
}

/// Applies `events` (read after `expected`) for `projections`, and moves their checkpoints to
/// `last`, in one transaction that first checks (and locks) that every checkpoint row still
/// says `expected`. The wanted events are decoded once, and their personal values opened with
/// `vault` before the transaction opens (loading keys is a read of the journal's key table);
/// a vault failure fails the batch, which is retried like any other failure.
pub(crate) async fn apply_batch(
    store: &ReadStore,
    vault: &Vault,
    projections: &[&dyn Projection],
    expected: CommitToken,
    last: CommitToken,
    events: Vec<RecordedEvent>,
) -> std::result::Result<(), BatchFailure> {
    let blame = |by: usize| {
        move |error: Error| BatchFailure {
            error,
            by: Some(by),
        }
    };
    let mut decoded = events
        .into_iter()
        .filter(|e| projections.iter().any(|p| p.wants(e.stream.kind)))
        .map(Envelope::decode)
        .collect::<Result<Vec<_>>>()?;
    Envelope::open_personal(&mut decoded, vault).await?;
    let names: Vec<&str> = projections.iter().map(|p| p.name()).collect();
    // Open until the batch has committed (or failed).
    let _spans = super::traced::event_spans(&names, &decoded);
    let wanted: Vec<Cow<'_, [Envelope]>> = projections
        .iter()
        .map(|p| {
            if decoded.iter().all(|e| p.wants(e.recorded.stream.kind)) {
                Cow::Borrowed(decoded.as_slice())
            } else {
                Cow::Owned(
                    decoded
                        .iter()
                        .filter(|e| p.wants(e.recorded.stream.kind))
                        .cloned()
                        .collect(),
                )
            }
        })
        .collect();
    for (by, (projection, events)) in projections.iter().zip(&wanted).enumerate() {
        if !events.is_empty() {
            projection.deliver(events).await.map_err(blame(by))?;
        }
    }
    let mut tx = store.begin().await?;
    // Compare-and-set on the checkpoint rows, locked until commit: a rebuild or a second
    // runner of these projections cannot interleave, and a stale runner reloads.
    tx.advance_checkpoints(&names, expected, last).await?;
    for (by, (projection, events)) in projections.iter().zip(&wanted).enumerate() {
        if !events.is_empty() {
            projection.apply(&mut tx, events).await.map_err(blame(by))?;
        }
    }
    tx.commit().await?;
    if decoded.iter().any(|e| e.event.is_erasure()) {
        store.flush_erased().await;
    }
    Ok(())
}

/// While idle: if the stored checkpoint differs from ours (a rebuild by another process),
/// reload it.
async fn recheck_solo(shared: &Shared, worker: &Worker) {
    let mut state = worker.state.lock().await;
    match shared.store.checkpoint(worker.name()).await {
        Ok(Some(stored)) if stored != state.checkpoint => {
            tracing::warn!(
                projection = worker.name(),
                %stored,
                ours = %state.checkpoint,
                "stored checkpoint changed (rebuild elsewhere); reloading"
            );
            state.loaded = false;
        }
        Ok(_) => {}
        Err(error) => {
            tracing::warn!(projection = worker.name(), %error, "cannot read checkpoint");
        }
    }
}
