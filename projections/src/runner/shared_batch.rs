//! The shared batch: the read models that stand at the same checkpoint apply each batch
//! together, in one transaction with one checkpoint statement for all of them (DESIGN §6;
//! issue 14). A batch then costs BEGIN, the checkpoint compare-and-set, each read model's bulk
//! writes and COMMIT, instead of all of that once per read model.
//!
//! Membership:
//! - At start the read models at the newest stored checkpoint form the batch; the others run
//!   on their own ([`Lane::Solo`](super::worker::Lane)) until they reach it.
//! - A read model on its own never passes the shared batch: its last batch stops at the shared
//!   checkpoint, applied while the shared batch waits, and it joins ([`cross`]). One that is
//!   ahead (possible only after the batch was re-formed) waits until the batch passes it.
//! - A rebuild takes a read model out (its state says `joined = false`); the next shared step
//!   drops it. When the stored checkpoints move under the batch (another node applied it, or a
//!   rebuild elsewhere), the members reload and those at the newest checkpoint stay.
//! - With no members, the first read model idle at the head of the tail forms it again.
//!
//! Lock order: the batch's state, then the workers' states (never the other way round).

use std::sync::Arc;

use tokio::{
    sync::{Mutex, MutexGuard, Notify, watch},
    time::Instant,
};

use engine::journal::CommitToken;

use super::{
    Shared,
    continuity::Continuity,
    worker::{BatchFailure, ORIGIN, Step, Worker, WorkerState, apply_alone, apply_batch, token_of},
};
use crate::{Error, Projection, Result};

/// The shared batch of a runner.
pub(crate) struct SharedBatch {
    pub state: Mutex<BatchState>,
    /// Wakes the shared loop (a reader waits for a token).
    pub kick: Notify,
    /// The shared checkpoint while the batch has members: a read model on its own never
    /// passes it.
    pub bound: watch::Sender<Option<CommitToken>>,
}

/// The members and where they stand.
pub(crate) struct BatchState {
    members: Vec<Arc<Worker>>,
    checkpoint: CommitToken,
    continuity: Continuity,
}

impl SharedBatch {
    pub(crate) fn new() -> Self {
        Self {
            state: Mutex::new(BatchState {
                members: Vec::new(),
                checkpoint: ORIGIN,
                continuity: Continuity::default(),
            }),
            kick: Notify::new(),
            bound: watch::Sender::new(None),
        }
    }
}

/// Loads the checkpoints of the read models that share batches; those at the newest form the
/// batch. Called before the loops start.
pub(crate) async fn form(shared: &Shared) -> Result<()> {
    let mut batch = shared.group.state.lock().await;
    let workers: Vec<&Arc<Worker>> = shared
        .workers
        .values()
        .filter(|w| w.projection.shares_batches())
        .collect();
    let mut states = Vec::with_capacity(workers.len());
    for worker in &workers {
        let mut state = worker.state.lock().await;
        worker.load(&shared.store, &mut state).await?;
        states.push(state);
    }
    let newest = states.iter().map(|s| s.checkpoint).max().unwrap_or(ORIGIN);
    for (worker, state) in workers.into_iter().zip(states.iter_mut()) {
        if state.checkpoint == newest {
            state.joined = true;
            batch.members.push(Arc::clone(worker));
        }
    }
    batch.checkpoint = newest;
    publish(shared, &batch);
    Ok(())
}

fn publish(shared: &Shared, batch: &BatchState) {
    let bound = (!batch.members.is_empty()).then_some(batch.checkpoint);
    shared.group.bound.send_replace(bound);
}

/// Locks the members' states and keeps those still in step (a rebuild takes one out).
async fn lock_members<'a>(
    batch: &mut BatchState,
    members: &'a [Arc<Worker>],
) -> Vec<MutexGuard<'a, WorkerState>> {
    let mut kept = Vec::with_capacity(members.len());
    let mut states = Vec::with_capacity(members.len());
    for worker in members {
        let mut state = worker.state.lock().await;
        if state.joined && state.loaded && state.checkpoint == batch.checkpoint {
            kept.push(Arc::clone(worker));
            states.push(state);
        } else {
            state.joined = false;
            state.continuity.clear();
            worker.kick.notify_one();
        }
    }
    batch.members = kept;
    states
}

/// One shared batch (the read fresh from `fresh_from`); also says when that read started.
pub(crate) async fn step(shared: &Shared, fresh_from: Instant) -> Result<(Step, Instant)> {
    let mut batch = shared.group.state.lock().await;
    let members = batch.members.clone();
    let mut states = lock_members(&mut batch, &members).await;
    if batch.members.is_empty() {
        publish(shared, &batch);
        return Ok((Step::Idle, Instant::now()));
    }
    batch.continuity.age(Instant::now());
    let read = shared
        .feed
        .read(batch.checkpoint, shared.config.batch_size, fresh_from)
        .await?;
    let mut events = read.events;
    if events.is_empty() {
        return Ok((Step::Idle, read.started));
    }
    let full = i64::try_from(events.len()).is_ok_and(|n| n >= shared.config.batch_size);
    let mut verified = batch
        .continuity
        .verify(&events, batch.checkpoint, shared.tail.as_ref())
        .await?;
    let refusal = verified.refusal.take();
    events.truncate(verified.valid);
    let Some(last) = events.last().map(token_of) else {
        return refusal.map_or(Ok((Step::Idle, read.started)), Err);
    };
    let count = events.len();
    let newest = events.iter().map(|e| e.recorded_at).max();
    let projections: Vec<&dyn Projection> = batch
        .members
        .iter()
        .map(|w| w.projection.as_ref())
        .collect();
    let applied = apply_batch(
        &shared.store,
        &shared.vault,
        &projections,
        batch.checkpoint,
        last,
        events,
    )
    .await;
    if let Err(BatchFailure { error, by }) = applied {
        if matches!(error, Error::CheckpointMoved { .. }) {
            let kept = batch.members.clone();
            reload(shared, &mut batch, &kept, &mut states).await?;
        } else if let Some(by) = by {
            // One read model failed the batch: it leaves and retries on its own (with its
            // own backoff and failure count), so it does not hold back the others.
            let worker = batch.members.remove(by);
            let mut state = states.remove(by);
            let consecutive = worker.failed(&error);
            state.joined = false;
            state.failing = true;
            state.continuity.clear();
            worker.kick.notify_one();
            publish(shared, &batch);
            tracing::error!(
                projection = worker.name(),
                %error,
                consecutive_failures = consecutive,
                "projection failed the shared batch; it retries on its own (events are never \
                 skipped)"
            );
            return Ok((Step::Applied, Instant::now()));
        }
        return Err(error);
    }
    batch.continuity.commit(verified);
    batch.checkpoint = last;
    let members = batch.members.clone();
    for (worker, state) in members.iter().zip(states.iter_mut()) {
        worker.applied(state, last, count, newest);
    }
    publish(shared, &batch);
    let step = if full { Step::Applied } else { Step::Partial };
    refusal.map_or(Ok((step, read.started)), Err)
}

/// The stored checkpoints moved under the batch: every member reloads its own; those at the
/// newest stay, the others leave and catch up on their own.
async fn reload(
    shared: &Shared,
    batch: &mut BatchState,
    members: &[Arc<Worker>],
    states: &mut [MutexGuard<'_, WorkerState>],
) -> Result<()> {
    for (worker, state) in members.iter().zip(states.iter_mut()) {
        state.loaded = false;
        worker.load(&shared.store, state).await?;
    }
    let newest = states.iter().map(|s| s.checkpoint).max().unwrap_or(ORIGIN);
    let mut kept = Vec::with_capacity(members.len());
    for (worker, state) in members.iter().zip(states.iter_mut()) {
        if state.checkpoint == newest {
            kept.push(Arc::clone(worker));
        } else {
            state.joined = false;
            worker.kick.notify_one();
        }
    }
    batch.members = kept;
    batch.checkpoint = newest;
    batch.continuity.clear();
    publish(shared, batch);
    Ok(())
}

/// While idle: if a member's stored checkpoint differs from the batch's (a rebuild by
/// another process), the members reload.
pub(crate) async fn recheck(shared: &Shared) {
    let mut batch = shared.group.state.lock().await;
    let members = batch.members.clone();
    let mut states = lock_members(&mut batch, &members).await;
    let kept = batch.members.clone();
    for worker in &kept {
        match shared.store.checkpoint(worker.name()).await {
            Ok(Some(stored)) if stored == batch.checkpoint => {}
            Ok(stored) => {
                tracing::warn!(
                    projection = worker.name(),
                    stored = %stored.unwrap_or(ORIGIN),
                    ours = %batch.checkpoint,
                    "stored checkpoint changed (rebuild elsewhere); reloading"
                );
                if let Err(error) = reload(shared, &mut batch, &kept, &mut states).await {
                    tracing::warn!(%error, "cannot reload the checkpoints");
                }
                return;
            }
            Err(error) => {
                tracing::warn!(projection = worker.name(), %error, "cannot read checkpoint");
                return;
            }
        }
    }
}

/// A read model on its own whose next batch would pass the shared checkpoint: with the shared
/// batch held, applies up to that checkpoint and joins.
pub(crate) async fn cross(
    shared: &Shared,
    worker: &Arc<Worker>,
    fresh_from: Instant,
) -> Result<(Step, Instant)> {
    let mut batch = shared.group.state.lock().await;
    let mut state = worker.state.lock().await;
    if state.joined || !state.loaded {
        return Ok((Step::Applied, Instant::now()));
    }
    let read = shared
        .feed
        .read(state.checkpoint, shared.config.batch_size, fresh_from)
        .await?;
    let level = (!batch.members.is_empty()).then_some(batch.checkpoint);
    let mut events = read.events;
    if let Some(level) = level {
        let within = events.partition_point(|e| token_of(e) <= level);
        events.truncate(within);
    }
    let step = if events.is_empty() {
        Step::Idle
    } else {
        apply_alone(shared, worker, &mut state, events).await?
    };
    if level == Some(state.checkpoint) && !state.failing {
        join(shared, &mut batch, worker, &mut state);
    }
    Ok((step, read.started))
}

/// While a read model on its own is idle: joins the batch if level with it, or forms it if
/// it has no members.
pub(crate) async fn join_if_level(shared: &Shared, worker: &Arc<Worker>) {
    let mut batch = shared.group.state.lock().await;
    let mut state = worker.state.lock().await;
    if state.joined || !state.loaded || state.failing {
        return;
    }
    if batch.members.is_empty() {
        batch.checkpoint = state.checkpoint;
        batch.continuity.clear();
    }
    if batch.checkpoint == state.checkpoint {
        join(shared, &mut batch, worker, &mut state);
    }
}

/// Makes `worker` a member. It may still be listed from before a rebuild took it out (the
/// shared loop drops such members at its next step): listed twice, the next step would lock
/// its state twice and never return.
fn join(shared: &Shared, batch: &mut BatchState, worker: &Arc<Worker>, state: &mut WorkerState) {
    state.joined = true;
    state.continuity.clear();
    if !batch.members.iter().any(|m| Arc::ptr_eq(m, worker)) {
        batch.members.push(Arc::clone(worker));
    }
    publish(shared, batch);
    shared.group.kick.notify_one();
    tracing::info!(
        projection = worker.name(),
        checkpoint = %batch.checkpoint,
        "projection joined the shared batch"
    );
}

/// Records a failed shared batch on every member; returns the most failures in a row.
pub(crate) fn failed(shared: &Shared, error: &Error) -> u32 {
    let Ok(batch) = shared.group.state.try_lock() else {
        return 0;
    };
    batch
        .members
        .iter()
        .map(|w| w.failed(error))
        .max()
        .unwrap_or(0)
}
