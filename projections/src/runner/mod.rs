//! The projection runner: the read models that stand at the same checkpoint apply each batch
//! together (one transaction; `shared_batch`), and a task per projection runs it on its own
//! when it cannot share (it delivers outside the database, or it is catching up after a
//! rebuild), all following the gap-safe journal tail.
//!
//! - [`ProjectionService::start`] spawns the tasks; [`ProjectionService::stop`] lets each
//!   finish its batch and stops them (dropping the service aborts them instead, like a crash:
//!   an interrupted batch rolls back and is applied again on the next start).
//! - [`ProjectionHandle`] (cheap to clone) is what the rest of the node uses:
//!   [`wait_for`](ProjectionHandle::wait_for) a consistency token,
//!   [`status`](ProjectionHandle::status) for lag and failures,
//!   [`rebuild`](ProjectionHandle::rebuild) a projection from zero while the service runs.
//!
//! Personal values are opened with the node's [`Vault`] before a projection sees them
//! ([`Envelope::open_personal`](crate::Envelope::open_personal)); keys are loaded per batch,
//! never cached, so a value erased after a batch was applied reads as "" in the next one (and
//! in a rebuild).
//!
//! Guarantees: a projection's writes and its checkpoint commit in one transaction (exactly
//! once; the read models of a shared batch commit all of theirs in one); events arrive in `(transaction, position)` order with per-stream continuity checked;
//! a failing batch is retried with capped exponential backoff and reported
//! (`tracing::error!`, [`ProjectionStatus::failures`]), never skipped.

mod continuity;
#[cfg(test)]
mod fake_tail;
mod shared_batch;
mod status;
mod tail_feed;
mod traced;
mod worker;

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use chrono::Utc;
use engine::{
    journal::{CommitToken, tail::JournalTail},
    personal::Vault,
};
use tokio::{sync::watch, task::JoinHandle, time::Instant};

use shared_batch::SharedBatch;
pub use status::ProjectionStatus;
use tail_feed::TailFeed;
pub(crate) use worker::ORIGIN;
use worker::{Lane, Worker};

use crate::{Error, Projection, Result, store::ReadStore};

/// Runner tuning. The defaults suit one node of the 2-core reference machine.
#[derive(Clone, Debug)]
pub struct RunnerConfig {
    /// Events read (and applied in one transaction) per batch at most.
    pub batch_size: i64,
    /// How long an idle projection waits before looking at the tail again (a reader waiting
    /// for a token wakes it at once).
    pub idle_poll: Duration,
    /// First delay before retrying a failed batch; doubles up to `retry_max`.
    pub retry_initial: Duration,
    /// Longest delay between retries.
    pub retry_max: Duration,
    /// While idle, how often the stored checkpoint is compared with the runner's (notices a
    /// rebuild done by another process).
    pub checkpoint_recheck: Duration,
    /// `status()` counts events behind up to this many.
    pub behind_count_cap: i64,
}

impl Default for RunnerConfig {
    fn default() -> Self {
        Self {
            batch_size: 500,
            idle_poll: Duration::from_millis(10),
            retry_initial: Duration::from_millis(100),
            retry_max: Duration::from_secs(30),
            checkpoint_recheck: Duration::from_secs(1),
            behind_count_cap: 1_000_000,
        }
    }
}

/// State shared by the tasks and the handles.
pub(crate) struct Shared {
    store: ReadStore,
    tail: Arc<dyn JournalTail>,
    /// Opens the personal values of the events the workers apply.
    vault: Arc<Vault>,
    /// The tail as the workers read it: one read per batch for all of them.
    feed: TailFeed,
    /// Where the idle workers' common poll ticks are counted from.
    epoch: Instant,
    config: RunnerConfig,
    workers: BTreeMap<String, Arc<Worker>>,
    /// The read models that apply each batch together.
    group: SharedBatch,
    shutdown: watch::Sender<bool>,
}

/// Running projections. Dropping it aborts the tasks (a crash, as far as the read models can
/// tell); call [`stop`](Self::stop) to stop gracefully.
pub struct ProjectionService {
    handle: ProjectionHandle,
    tasks: Vec<JoinHandle<()>>,
}

/// Access to running projections: consistency waits, status, rebuilds. Cheap to clone.
#[derive(Clone)]
pub struct ProjectionHandle {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for ProjectionHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProjectionHandle")
            .field("projections", &self.names())
            .finish()
    }
}

impl ProjectionService {
    /// Starts one task per projection, each resuming from its stored checkpoint. `vault` (the
    /// node's, [`Engine::vault`](engine::runtime::Engine::vault), over the same journal as
    /// `tail`) opens the personal values of the events before the projections see them.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for two projections of the same name or a zero batch size;
    /// store errors while creating the checkpoint rows.
    pub async fn start(
        store: ReadStore,
        tail: Arc<dyn JournalTail>,
        vault: Arc<Vault>,
        projections: Vec<Arc<dyn Projection>>,
        config: RunnerConfig,
    ) -> Result<Self> {
        if config.batch_size <= 0 {
            return Err(Error::InvalidArgument("batch_size must be positive".into()));
        }
        let mut workers = BTreeMap::new();
        for projection in projections {
            let name = projection.name().to_owned();
            store.ensure_checkpoint(&name).await?;
            if workers
                .insert(name.clone(), Arc::new(Worker::new(projection)))
                .is_some()
            {
                return Err(Error::InvalidArgument(format!(
                    "two projections are named {name:?}"
                )));
            }
        }
        let shared = Arc::new(Shared {
            store,
            feed: TailFeed::new(Arc::clone(&tail)),
            epoch: Instant::now(),
            tail,
            vault,
            config,
            workers,
            group: SharedBatch::new(),
            shutdown: watch::Sender::new(false),
        });
        shared_batch::form(&shared).await?;
        let mut tasks: Vec<JoinHandle<()>> = shared
            .workers
            .values()
            .map(|w| {
                let lane = Lane::Solo(Arc::clone(w));
                tokio::spawn(worker::run(Arc::clone(&shared), lane))
            })
            .collect();
        tasks.push(tokio::spawn(worker::run(Arc::clone(&shared), Lane::Shared)));
        Ok(Self {
            handle: ProjectionHandle { shared },
            tasks,
        })
    }

    /// A handle for waits, status and rebuilds.
    pub fn handle(&self) -> ProjectionHandle {
        self.handle.clone()
    }

    /// Lets every projection finish the batch it is applying, then stops them.
    pub async fn stop(mut self) {
        self.handle.shared.shutdown.send_replace(true);
        for task in std::mem::take(&mut self.tasks) {
            if let Err(e) = task.await
                && e.is_panic()
            {
                tracing::error!(error = %e, "projection task panicked");
            }
        }
    }
}

impl Drop for ProjectionService {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl ProjectionHandle {
    /// Names of the running projections.
    pub fn names(&self) -> Vec<String> {
        self.shared.workers.keys().cloned().collect()
    }

    /// The store the projections write to.
    pub fn store(&self) -> &ReadStore {
        &self.shared.store
    }

    fn worker(&self, name: &str) -> Result<&Arc<Worker>> {
        self.shared
            .workers
            .get(name)
            .ok_or_else(|| Error::UnknownProjection(name.to_owned()))
    }

    /// The projection's committed checkpoint, as this process knows it.
    ///
    /// # Errors
    /// [`Error::UnknownProjection`].
    pub fn checkpoint(&self, name: &str) -> Result<CommitToken> {
        Ok(*self.worker(name)?.checkpoint.borrow())
    }

    /// Resolves once the projection's checkpoint has passed `token` (compared as
    /// `(transaction id, position)`), i.e. its read model reflects that write.
    ///
    /// # Errors
    /// [`Error::Unavailable`] after `timeout`, naming how far behind the projection is;
    /// [`Error::UnknownProjection`].
    pub async fn wait_for(&self, name: &str, token: CommitToken, timeout: Duration) -> Result<()> {
        let worker = self.worker(name)?;
        let mut checkpoint = worker.checkpoint.subscribe();
        if *checkpoint.borrow_and_update() >= token {
            return Ok(());
        }
        let deadline = Instant::now() + timeout;
        loop {
            // Wake the loop if it idles: the write may be below the horizon by now.
            worker.kick.notify_one();
            self.shared.group.kick.notify_one();
            let now = Instant::now();
            if now >= deadline {
                return Err(self.lag_error(name, token, timeout).await);
            }
            let slice = (deadline - now).min(Duration::from_millis(10));
            if let Ok(Err(_)) = tokio::time::timeout(slice, checkpoint.changed()).await {
                return Err(Error::Stopped);
            }
            if *checkpoint.borrow_and_update() >= token {
                return Ok(());
            }
        }
    }

    async fn lag_error(&self, name: &str, token: CommitToken, timeout: Duration) -> Error {
        let status = self.status_of(name).await;
        let behind = match status.as_ref().ok().and_then(|s| s.events_behind) {
            Some(n) => format!("{n} events behind"),
            None => "an unknown number of events behind".to_owned(),
        };
        let at = status
            .as_ref()
            .map_or_else(|_| "?".to_owned(), |s| s.checkpoint.to_string());
        let lag = status
            .as_ref()
            .ok()
            .and_then(|s| s.since_newest_applied_ms)
            .map_or_else(String::new, |ms| {
                format!(", newest applied event {ms} ms old")
            });
        let failing = status
            .as_ref()
            .ok()
            .and_then(|s| s.last_error.clone())
            .map_or_else(String::new, |e| format!(", failing: {e}"));
        Error::Unavailable(format!(
            "projection {name} has not reached consistency token {token} within {} ms: it is \
             at {at}, {behind}{lag}{failing}; retry later",
            timeout.as_millis()
        ))
    }

    /// Lag and health of every projection.
    pub async fn status(&self) -> Vec<ProjectionStatus> {
        let mut all = Vec::with_capacity(self.shared.workers.len());
        for name in self.shared.workers.keys() {
            if let Ok(status) = self.status_of(name).await {
                all.push(status);
            }
        }
        all
    }

    /// Lag and health of one projection.
    ///
    /// # Errors
    /// [`Error::UnknownProjection`].
    pub async fn status_of(&self, name: &str) -> Result<ProjectionStatus> {
        let worker = self.worker(name)?;
        let checkpoint = *worker.checkpoint.borrow();
        let cap = self.shared.config.behind_count_cap;
        let events_behind = match self.shared.tail.count_after(checkpoint, cap).await {
            Ok(n) => Some(n),
            Err(error) => {
                tracing::warn!(projection = name, %error, "cannot count events behind");
                None
            }
        };
        let (applied_events, newest_applied_at, failures, consecutive_failures, last_error) =
            match worker.stats.lock() {
                Ok(s) => (
                    s.applied_events,
                    s.newest_applied_at,
                    s.failures,
                    s.consecutive_failures,
                    s.last_error.clone(),
                ),
                Err(_) => (0, None, 0, 0, None),
            };
        let since_newest_applied_ms =
            newest_applied_at.map(|at| (Utc::now() - at).num_milliseconds().max(0));
        let lag_ms = match events_behind {
            Some(0) => Some(0),
            _ => since_newest_applied_ms,
        };
        Ok(ProjectionStatus {
            name: name.to_owned(),
            checkpoint,
            events_behind,
            behind_capped: events_behind.is_some_and(|n| n >= cap),
            newest_applied_at,
            since_newest_applied_ms,
            lag_ms,
            applied_events,
            failures,
            consecutive_failures,
            last_error,
        })
    }

    /// Rebuilds a projection from zero while the service runs: deletes its rows and resets its
    /// checkpoint in one transaction (after the batch in flight, if any), then lets it catch
    /// up from the start of the journal. Until it has, reads with a consistency token wait
    /// (and may answer [`Error::Unavailable`]); reads without one see a partial model.
    ///
    /// # Errors
    /// [`Error::UnknownProjection`]; store errors (then nothing changed).
    pub async fn rebuild(&self, name: &str) -> Result<()> {
        let worker = self.worker(name)?;
        let mut state = worker.state.lock().await;
        reset(&self.shared.store, worker.projection.as_ref()).await?;
        state.checkpoint = ORIGIN;
        state.continuity.clear();
        state.loaded = true;
        // It leaves the shared batch, catches up on its own and joins again.
        state.joined = false;
        worker.checkpoint.send_replace(ORIGIN);
        drop(state);
        worker.kick.notify_one();
        tracing::info!(
            projection = name,
            "projection reset; rebuilding from the start"
        );
        Ok(())
    }

    /// Wait until every projection has passed the newest event committed now (all projections
    /// reflect every write acknowledged before this call).
    ///
    /// # Errors
    /// [`Error::Unavailable`] after `timeout`.
    pub async fn wait_caught_up(&self, timeout: Duration) -> Result<()> {
        let Some(head) = self.shared.tail.head().await? else {
            return Ok(());
        };
        let deadline = Instant::now() + timeout;
        for name in self.shared.workers.keys() {
            let left = deadline.saturating_duration_since(Instant::now());
            self.wait_for(name, head, left).await?;
        }
        Ok(())
    }
}

/// The state and lag of the named projections as the store records them, for a process that
/// does not run them: checkpoint, committed events after it (counted up to `cap`), and the lag
/// in time = the age of the oldest of those events (0 when none). Failure counters are the
/// running process's and stay 0 here.
///
/// # Errors
/// Store or journal errors.
pub async fn stored_status(
    store: &ReadStore,
    tail: &dyn JournalTail,
    names: &[&str],
    cap: i64,
) -> Result<Vec<ProjectionStatus>> {
    let mut all = Vec::with_capacity(names.len());
    for name in names {
        let checkpoint = store.checkpoint(name).await?.unwrap_or(ORIGIN);
        let behind = tail.count_after(checkpoint, cap).await?;
        let oldest_pending = tail.read_committed(checkpoint, 1).await?;
        let lag_ms = oldest_pending.first().map_or(0, |e| {
            (Utc::now() - e.recorded_at).num_milliseconds().max(0)
        });
        all.push(ProjectionStatus {
            name: (*name).to_owned(),
            checkpoint,
            events_behind: Some(behind),
            behind_capped: behind >= cap,
            newest_applied_at: None,
            since_newest_applied_ms: None,
            lag_ms: Some(lag_ms),
            applied_events: 0,
            failures: 0,
            consecutive_failures: 0,
            last_error: None,
        });
    }
    Ok(all)
}

/// Deletes a projection's rows and resets its checkpoint to the start, in one transaction.
/// A runner of it (here or in another process) notices and rebuilds from zero. What
/// `entityd`'s rebuild command calls when the projection runs elsewhere.
///
/// # Errors
/// Store errors (then nothing changed).
pub async fn reset(store: &ReadStore, projection: &dyn Projection) -> Result<()> {
    let name = projection.name();
    store.ensure_checkpoint(name).await?;
    let mut tx = store.begin().await?;
    tx.set_checkpoint(name, ORIGIN).await?;
    projection.reset(&mut tx).await?;
    tx.commit().await
}

/// [`reset`] of the projection called `name` among `projections`.
///
/// # Errors
/// [`Error::UnknownProjection`]; store errors (then nothing changed).
pub async fn reset_named(
    store: &ReadStore,
    projections: &[Arc<dyn Projection>],
    name: &str,
) -> Result<()> {
    let projection = projections
        .iter()
        .find(|p| p.name() == name)
        .ok_or_else(|| Error::UnknownProjection(name.to_owned()))?;
    reset(store, projection.as_ref()).await
}
