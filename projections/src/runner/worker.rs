//! One projection's loop: read a batch from the tail, verify continuity, apply it with the
//! checkpoint in one transaction, repeat; back off on failure, idle when caught up.

use std::{sync::Arc, time::Duration};

use engine::{
    journal::{CommitToken, RecordedEvent},
    personal::Vault,
};
use tokio::{
    sync::{Mutex, Notify, watch},
    time::Instant,
};

use super::{Shared, continuity::Continuity, status::Stats};
use crate::{Envelope, Error, Projection, Result, store::ReadStore};

/// The start of the journal.
pub(crate) const ORIGIN: CommitToken = CommitToken {
    transaction_id: 0,
    position: 0,
};

/// A running projection, shared by its task and the handle.
pub(crate) struct Worker {
    pub projection: Arc<dyn Projection>,
    /// The committed checkpoint, published after each commit (waiters subscribe).
    pub checkpoint: watch::Sender<CommitToken>,
    /// Wakes the idle loop (a reader waits for a token, a rebuild reset the checkpoint).
    pub kick: Notify,
    /// The loop's state; held for a whole batch, so a rebuild never interleaves with one.
    pub state: Mutex<WorkerState>,
    /// Counters for `status()`.
    pub stats: std::sync::Mutex<Stats>,
}

/// Where the loop is.
#[derive(Debug)]
pub(crate) struct WorkerState {
    /// Last applied event, as committed.
    pub checkpoint: CommitToken,
    /// Per-stream sequences seen.
    pub continuity: Continuity,
    /// False until the checkpoint was read from the store (and after it moved under us).
    pub loaded: bool,
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
}

/// What one step did.
enum Step {
    /// Applied a batch.
    Applied,
    /// Nothing new below the horizon.
    Idle,
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

/// The task of one projection; returns on shutdown.
pub(crate) async fn run(shared: Arc<Shared>, worker: Arc<Worker>) {
    let mut shutdown = shared.shutdown.subscribe();
    let config = &shared.config;
    let mut backoff = Backoff::new(config.retry_initial, config.retry_max);
    let mut last_recheck = Instant::now();
    // From when the next journal read must be fresh (see `TailFeed`).
    let mut fresh_from = Instant::now();
    tracing::info!(projection = worker.name(), "projection started");
    loop {
        if *shutdown.borrow() {
            break;
        }
        match step(&shared, &worker, fresh_from).await {
            Ok((Step::Applied, read_started)) => {
                backoff.reset();
                last_recheck = Instant::now();
                // Anything read since the batch just applied is news.
                fresh_from = read_started;
            }
            Ok((Step::Idle, _)) => {
                backoff.reset();
                if last_recheck.elapsed() >= config.checkpoint_recheck {
                    last_recheck = Instant::now();
                    recheck(&shared, &worker).await;
                }
                // Idle projections wake on the same ticks, so one read serves them all.
                let tick = next_tick(shared.epoch, config.idle_poll);
                fresh_from = tokio::select! {
                    () = tokio::time::sleep_until(tick) => tick,
                    () = worker.kick.notified() => Instant::now(),
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
                let mut consecutive = 0;
                worker.with_stats(|s| {
                    s.failures += 1;
                    s.consecutive_failures += 1;
                    s.last_error = Some(error.to_string());
                    consecutive = s.consecutive_failures;
                });
                tracing::error!(
                    projection = worker.name(),
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
    tracing::info!(projection = worker.name(), "projection stopped");
}

/// The first multiple of `period` after `epoch` that is still ahead.
fn next_tick(epoch: Instant, period: Duration) -> Instant {
    let period_ns = period.as_nanos().max(1);
    let elapsed = epoch.elapsed().as_nanos();
    let ticks = elapsed / period_ns + 1;
    let offset = u64::try_from(ticks * period_ns).unwrap_or(u64::MAX);
    epoch + Duration::from_nanos(offset)
}

/// Reads and applies one batch (the read fresh from `fresh_from`); also says when that read
/// started.
async fn step(shared: &Shared, worker: &Worker, fresh_from: Instant) -> Result<(Step, Instant)> {
    let name = worker.name();
    let mut state = worker.state.lock().await;
    if !state.loaded {
        shared.store.ensure_checkpoint(name).await?;
        let stored = shared.store.checkpoint(name).await?.unwrap_or(ORIGIN);
        state.checkpoint = stored;
        state.continuity.clear();
        state.loaded = true;
        worker.checkpoint.send_replace(stored);
    }
    let batch = shared
        .feed
        .read(state.checkpoint, shared.config.batch_size, fresh_from)
        .await?;
    let (mut events, read_started) = (batch.events, batch.started);
    if events.is_empty() {
        return Ok((Step::Idle, read_started));
    }
    let mut verified = state
        .continuity
        .verify(&events, state.checkpoint, shared.tail.as_ref())
        .await?;
    let refusal = verified.refusal.take();
    events.truncate(verified.valid);
    let Some(last) = events.last() else {
        // The very first event is refused: nothing to apply before it.
        return refusal.map_or(Ok((Step::Idle, read_started)), Err);
    };
    let last = CommitToken {
        transaction_id: last.transaction_id,
        position: last.position,
    };
    let count = events.len();
    let newest = events.iter().map(|e| e.recorded_at).max();
    match apply_batch(
        &shared.store,
        &shared.vault,
        worker.projection.as_ref(),
        state.checkpoint,
        last,
        events,
    )
    .await
    {
        Ok(()) => {}
        Err(error) => {
            if matches!(error, Error::CheckpointMoved { .. }) {
                state.loaded = false;
            }
            return Err(error);
        }
    }
    state.continuity.commit(verified);
    state.checkpoint = last;
    worker.checkpoint.send_replace(last);
    worker.with_stats(|s| {
        s.applied_events += count as u64;
        s.newest_applied_at = s.newest_applied_at.max(newest);
        s.consecutive_failures = 0;
        s.last_error = None;
    });
    // The events before a gap are applied; the gap itself is reported and retried.
    refusal.map_or(Ok((Step::Applied, read_started)), Err)
}

/// Applies `events` (read after `expected`) and moves the checkpoint to `last`, in one
/// transaction that first checks the checkpoint row still says `expected`. The wanted events
/// are decoded and their personal values opened with `vault` (before the transaction opens:
/// loading keys is a read of the journal's key table); a vault failure fails the batch, which
/// is retried like any other failure.
pub(crate) async fn apply_batch(
    store: &ReadStore,
    vault: &Vault,
    projection: &dyn Projection,
    expected: CommitToken,
    last: CommitToken,
    events: Vec<RecordedEvent>,
) -> Result<()> {
    let name = projection.name();
    let mut wanted = events
        .into_iter()
        .filter(|e| projection.wants(e.stream.kind))
        .map(Envelope::decode)
        .collect::<Result<Vec<_>>>()?;
    Envelope::open_personal(&mut wanted, vault).await?;
    if !wanted.is_empty() {
        projection.deliver(&wanted).await?;
    }
    let mut tx = store.begin().await?;
    // Compare-and-set on the checkpoint row, locked until commit: a rebuild or a second
    // runner of this projection cannot interleave, and a stale runner reloads.
    let found = tx.lock_checkpoint(name).await?;
    if found != Some(expected) {
        return Err(Error::CheckpointMoved {
            projection: name.to_owned(),
            expected,
            found: found.unwrap_or(ORIGIN),
        });
    }
    if !wanted.is_empty() {
        projection.apply(&mut tx, &wanted).await?;
    }
    tx.save_checkpoint(name, last).await?;
    tx.commit().await?;
    if wanted.iter().any(|e| e.event.is_erasure()) {
        store.flush_erased().await;
    }
    Ok(())
}

/// While idle: if the stored checkpoint differs from ours (a rebuild by another process),
/// reload it.
async fn recheck(shared: &Shared, worker: &Worker) {
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
