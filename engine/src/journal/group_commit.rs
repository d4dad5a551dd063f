//! Group commit: one writer task per node batches the appends of all entity actors.
//!
//! ```text
//!  actor ─append(batch)─┐                      ┌─► oneshot ─► actor
//!  actor ─append(batch)─┼─► mpsc (bounded) ─► writer task ─┬─► EventLog::append(&[b1, b2, …])
//!  actor ─append(batch)─┘   take one, (yield once), then    ├─► EventLog::append(&[b3, …])
//!                           drain what is queued             └─► … (≤ max_in_flight_groups)
//! ```
//!
//! Every caller waits for the transaction that holds its batch; a busy store therefore folds
//! more batches into each transaction (higher throughput), an idle one commits each at once (no
//! added latency: the writer never waits for more work, it only lets the tasks that are already
//! runnable queue their appends first, see [`GroupCommitConfig::gather_yields`]).
//!
//! Up to [`GroupCommitConfig::max_in_flight_groups`] group transactions run at once, each on its
//! own connection of the store's pool: while one waits for its commit to be flushed, the next
//! group gathers and commits (PostgreSQL flushes the WAL of concurrent commits together). The
//! writer takes a free slot first, then the first queued request, then everything else queued:
//! under load every slot that frees up starts a group with what arrived meanwhile; when idle
//! a lone request commits at once, as before. Groups in flight at once may commit in any order.
//! That is safe because
//! - every stream has one writer (its entity actor) that waits for an append's answer before it
//!   sends the next, so two appends of one stream are never in flight together;
//! - the stores' gap-safe tail ([`super::tail`]) hands out events in commit order whatever the
//!   interleaving: PostgreSQL only returns transactions below the oldest one still running, and
//!   SQLite serializes its write transactions anyway (its own write lock; set the slots to 1
//!   there: a second group would only wait for that lock and hold back the requests behind it);
//! - a unique key claimed by two groups in flight together goes to the one that commits first,
//!   the other gets [`JournalError::UniqueViolation`] and is narrowed down as below (within a
//!   group the first claim still wins).
//!
//! One batch never fails the others of its group. If the store refuses the transaction (it
//! reports an error for a statement, COMMIT included: nothing was written), the writer answers
//! the batch that caused it and commits the rest, in their order:
//! - A conflict ([`JournalError::StreamConflict`], [`JournalError::UniqueViolation`], or a stale
//!   shard lease, [`JournalError::Fenced`]) names the stream, the key or the fence, so the writer
//!   answers the batch that wrote it (the last one of the group, when several claim one key: the
//!   first is entitled to it) and appends the rest again as one group: one extra transaction.
//! - Any other refusal ([`JournalError::Database`], [`JournalError::Corrupt`]: a payload the
//!   store rejects, a CHECK constraint, anything unforeseen) names no batch, so the writer splits
//!   the group into halves and appends each the same way, first half first. A bad batch among `n`
//!   costs at most `2·⌈log2 n⌉` extra transactions (12 for 64); a group of bad batches only,
//!   `2n - 2`.
//!
//! The narrowing down of a group happens in that group's slot, one transaction after the other;
//! the other slots go on committing other groups meanwhile.
//!
//! A batch refused on its own gets the error; every other caller gets its receipt. An error after
//! which the transaction may have committed ([`JournalError::Unavailable`]: the connection was
//! lost, perhaps after COMMIT was sent), a panic of the store or a wrong number of receipts goes
//! to every caller of the group unchanged and is never retried: only the journal knows what
//! committed. A caller that gives up waiting does not withdraw its batch: it may still commit.

use std::{panic::AssertUnwindSafe, sync::Arc};

use futures::FutureExt;
use tokio::sync::{Semaphore, mpsc, oneshot};
use tracing::Instrument;

use super::{AppendBatch, AppendReceipt, EventLog, JournalError, Result};
use crate::telemetry::{Metrics, trace::traced};

/// Tuning of the group-commit writer.
#[derive(Clone, Debug)]
pub struct GroupCommitConfig {
    /// Most appends (commands) folded into one transaction.
    pub max_batches: usize,
    /// Most events folded into one transaction (a single larger batch still commits alone).
    pub max_events: usize,
    /// Appends waiting for the writer before callers wait for room.
    pub queue_capacity: usize,
    /// Group transactions in flight at once, each on its own pooled connection (at least 1).
    /// 1 commits one group after the other (the writer's behaviour before issue 14). On a store
    /// that serializes its writes (SQLite) use 1 ([`GroupCommitConfig::serial`]): more only
    /// queue small groups behind its write lock, each paying its own commit (measured 10–20 %
    /// slower there). The PostgreSQL pool needs this many connections for the writer besides its
    /// readers.
    pub max_in_flight_groups: usize,
    /// After draining the queue behind a group's first request, yield to the runtime and drain
    /// again, at most this many times and only while a yield brought more requests: callers
    /// woken in the same tick (the answers of the previous group, a burst of commands) join this
    /// group instead of the next one. 0 never yields. A yield costs one trip through the run
    /// queue (microseconds) and nothing is waited for: an idle writer still commits a lone
    /// request at once.
    pub gather_yields: u32,
}

impl GroupCommitConfig {
    /// The writer as it was before issue 14: one group transaction at a time, no yield before
    /// draining the queue. The right setting for SQLite (one writer at a time).
    pub fn serial() -> Self {
        Self {
            max_in_flight_groups: 1,
            gather_yields: 0,
            ..Self::default()
        }
    }
}

impl Default for GroupCommitConfig {
    fn default() -> Self {
        Self {
            max_batches: 512,
            max_events: 4096,
            queue_capacity: 8192,
            max_in_flight_groups: DEFAULT_MAX_IN_FLIGHT_GROUPS,
            gather_yields: DEFAULT_GATHER_YIELDS,
        }
    }
}

/// Chosen with `benches/journal_append.rs` (BENCHMARKS.md, "Journal append"), PostgreSQL with
/// and without fsync: 2, 4 and 8 all beat 1 at 16 and 128 concurrent commands; 4 was best in
/// the closed loop of 128 callers, 8 no better. Costs up to 4 of the pool's connections.
const DEFAULT_MAX_IN_FLIGHT_GROUPS: usize = 4;
/// Same bench: with 4 slots and no yield, a burst of 16 concurrent commands became four groups
/// of one and one of twelve (5.1 transactions per burst; 0.34–0.54 of the raw INSERT); with one
/// yield 1.7 transactions per burst (0.56–1.00, at or near the single-transaction append).
/// Yielding on while it brings more (up to 8) was no better in the burst and worse in the
/// closed loop of 128 callers.
const DEFAULT_GATHER_YIELDS: u32 = 1;

/// One caller's batch and where to send its answer.
struct Request {
    batch: AppendBatch,
    reply: Reply,
}

/// Handle to the node's group-commit writer task. Cheap to clone; the task ends when the last
/// handle is dropped and the queue is empty.
#[derive(Clone, Debug)]
pub struct GroupCommitWriter {
    requests: mpsc::Sender<Request>,
}

impl GroupCommitWriter {
    /// Starts the writer task on the current tokio runtime (panics outside one, like
    /// [`tokio::spawn`]).
    /// Keeps at most [`EventLog::concurrent_appends`] groups in flight whatever the config says.
    pub fn spawn(log: Arc<dyn EventLog>, config: GroupCommitConfig) -> Self {
        Self::spawn_measured(log, config, Metrics::new())
    }

    /// [`GroupCommitWriter::spawn`], counting each transaction's duration and size in
    /// `metrics`.
    pub fn spawn_measured(
        log: Arc<dyn EventLog>,
        mut config: GroupCommitConfig,
        metrics: Arc<Metrics>,
    ) -> Self {
        config.max_in_flight_groups = config
            .max_in_flight_groups
            .min(log.concurrent_appends())
            .max(1);
        let (requests, queue) = mpsc::channel(config.queue_capacity.max(1));
        tokio::spawn(run(log, queue, config, metrics));
        Self { requests }
    }

    /// Appends waiting for the writer now.
    pub fn queued(&self) -> usize {
        self.requests.max_capacity() - self.requests.capacity()
    }

    /// Appends one batch atomically; resolves once it is committed (or refused). Fails with
    /// [`JournalError::Unavailable`] if the writer task is gone.
    pub async fn append(&self, batch: AppendBatch) -> Result<AppendReceipt> {
        let span = traced(|| tracing::info_span!("journal.append", events = batch.events.len()));
        async {
            let (reply, answer) = oneshot::channel();
            self.requests
                .send(Request { batch, reply })
                .await
                .map_err(|_| writer_gone())?;
            answer.await.map_err(|_| writer_gone())?
        }
        .instrument(span)
        .await
    }
}

fn writer_gone() -> JournalError {
    JournalError::Unavailable("the group-commit writer has stopped".into())
}

/// The writer task: one group per iteration until every handle is dropped.
async fn run(
    log: Arc<dyn EventLog>,
    mut queue: mpsc::Receiver<Request>,
    config: GroupCommitConfig,
    metrics: Arc<Metrics>,
) {
    let max_batches = config.max_batches.max(1);
    let in_flight = config.max_in_flight_groups.max(1);
    // One permit per group transaction in flight (only used with more than one slot).
    let slots = Arc::new(Semaphore::new(in_flight));
    // A request that did not fit into the previous group starts the next one.
    let mut carried: Option<Request> = None;
    loop {
        // A free slot first: requests arriving meanwhile wait in the queue and join the group.
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
            return; // never closed
        };
        let first = match carried.take() {
            Some(request) => request,
            None => match queue.recv().await {
                Some(request) => request,
                None => return,
            },
        };
        let mut events = first.batch.events.len();
        let mut group = vec![first];
        let mut yields = 0;
        loop {
            let before = group.len();
            while group.len() < max_batches && carried.is_none() {
                let Ok(next) = queue.try_recv() else { break };
                if events + next.batch.events.len() > config.max_events {
                    carried = Some(next);
                    break;
                }
                events += next.batch.events.len();
                group.push(next);
            }
            let full = group.len() >= max_batches || carried.is_some();
            // Stop once full, out of yields, or when the last yield brought no one.
            if full || yields == config.gather_yields || (yields > 0 && group.len() == before) {
                break;
            }
            yields += 1;
            tokio::task::yield_now().await;
        }
        if in_flight == 1 {
            // Inline: exactly the serial writer, no task per group.
            commit(log.as_ref(), group, &metrics).await;
            drop(slot);
        } else {
            let (log, metrics) = (Arc::clone(&log), Arc::clone(&metrics));
            tokio::spawn(async move {
                commit(log.as_ref(), group, &metrics).await;
                drop(slot);
            });
        }
    }
}

/// A caller's end of its answer.
type Reply = oneshot::Sender<Result<AppendReceipt>>;

/// Batches to append in one transaction, and their callers (in the same order).
struct Group {
    batches: Vec<AppendBatch>,
    replies: Vec<Reply>,
}

impl Group {
    /// Sends every caller its receipt.
    fn answer_each(self, receipts: Vec<AppendReceipt>) {
        for (reply, receipt) in self.replies.into_iter().zip(receipts) {
            let _ = reply.send(Ok(receipt));
        }
    }

    /// Sends every caller the error.
    fn answer_all(self, error: &JournalError) {
        for reply in self.replies {
            let _ = reply.send(Err(copy_error(error)));
        }
    }

    /// Takes the batch at `index` out of the group and sends its caller the error.
    fn refuse(&mut self, index: usize, error: JournalError) {
        self.batches.remove(index);
        let _ = self.replies.remove(index).send(Err(error));
    }

    /// Splits off the second half (the larger one for an odd count).
    fn split_second_half(&mut self) -> Group {
        let half = self.batches.len() / 2;
        Group {
            batches: self.batches.split_off(half),
            replies: self.replies.split_off(half),
        }
    }
}

/// What one transaction of a group came to.
enum Outcome {
    /// Committed: one receipt per batch, in batch order.
    Committed(Vec<AppendReceipt>),
    /// The store refused it: nothing was written, so any part of the group may be tried again.
    Refused(JournalError),
    /// It may have committed: no part of the group may be tried again.
    Unknown(JournalError),
}

/// Appends one group and answers its callers; a refused group is narrowed down to the batches
/// that caused the refusal (see the module docs).
async fn commit(log: &dyn EventLog, group: Vec<Request>, metrics: &Metrics) {
    let (batches, replies) = group.into_iter().map(|r| (r.batch, r.reply)).unzip();
    // Groups still to append, the next one last: halves commit in the order of their batches.
    let mut pending = vec![Group { batches, replies }];
    while let Some(mut group) = pending.pop() {
        match attempt(log, &group.batches, metrics).await {
            Outcome::Committed(receipts) => group.answer_each(receipts),
            Outcome::Unknown(error) => group.answer_all(&error),
            Outcome::Refused(error) if group.batches.len() == 1 => group.refuse(0, error),
            Outcome::Refused(error) => match offender(&group.batches, &error) {
                Some(index) => {
                    group.refuse(index, error);
                    pending.push(group);
                }
                None => {
                    let second = group.split_second_half();
                    pending.push(second);
                    pending.push(group);
                }
            },
        }
    }
}

/// One transaction of `batches`, with a panic of the store caught (it fails this group only).
async fn attempt(log: &dyn EventLog, batches: &[AppendBatch], metrics: &Metrics) -> Outcome {
    let started = std::time::Instant::now();
    let result = AssertUnwindSafe(log.append(batches)).catch_unwind().await;
    metrics
        .journal_append
        .observe(started.elapsed().as_secs_f64());
    #[allow(clippy::cast_precision_loss)] // a group holds far fewer than 2^52 batches
    metrics.journal_group.observe(batches.len() as f64);
    let Ok(result) = result else {
        // It may have panicked after COMMIT.
        return Outcome::Unknown(JournalError::Database(
            "the store panicked while appending".into(),
        ));
    };
    match result {
        Ok(receipts) if receipts.len() == batches.len() => Outcome::Committed(receipts),
        Ok(receipts) => Outcome::Unknown(JournalError::Database(format!(
            "store returned {} receipts for {} batches",
            receipts.len(),
            batches.len()
        ))),
        Err(error @ JournalError::Unavailable(_)) => Outcome::Unknown(error),
        // A statement error: the transaction rolled back. Listed one by one, so that a new kind
        // of error has to be placed here.
        Err(
            error @ (JournalError::StreamConflict { .. }
            | JournalError::UniqueViolation { .. }
            | JournalError::Fenced { .. }
            | JournalError::Corrupt(_)
            | JournalError::Database(_)),
        ) => Outcome::Refused(error),
    }
}

/// The batch a conflict is about: the last one writing the named stream or claiming the key.
/// `None` for other errors, which name no batch.
fn offender(batches: &[AppendBatch], error: &JournalError) -> Option<usize> {
    match error {
        JournalError::StreamConflict { stream, .. } => batches
            .iter()
            .rposition(|b| b.events.iter().any(|e| e.stream == *stream)),
        JournalError::UniqueViolation { namespace, key, .. } => batches.iter().rposition(|b| {
            b.claims
                .iter()
                .any(|c| c.namespace == *namespace && c.key == *key)
        }),
        JournalError::Fenced {
            shard,
            owner,
            epoch,
        } => batches.iter().rposition(|b| {
            b.fence
                .as_ref()
                .is_some_and(|f| f.shard == *shard && f.owner == *owner && f.epoch == *epoch)
        }),
        JournalError::Unavailable(_) | JournalError::Corrupt(_) | JournalError::Database(_) => None,
    }
}

/// The same error again, for each caller of a failed group.
fn copy_error(error: &JournalError) -> JournalError {
    match error {
        JournalError::StreamConflict { stream, sequence } => JournalError::StreamConflict {
            stream: *stream,
            sequence: *sequence,
        },
        JournalError::UniqueViolation {
            namespace,
            key,
            existing,
        } => JournalError::UniqueViolation {
            namespace: namespace.clone(),
            key: key.clone(),
            existing: existing.clone(),
        },
        JournalError::Fenced {
            shard,
            owner,
            epoch,
        } => JournalError::Fenced {
            shard: *shard,
            owner: owner.clone(),
            epoch: *epoch,
        },
        JournalError::Unavailable(m) => JournalError::Unavailable(m.clone()),
        JournalError::Corrupt(m) => JournalError::Corrupt(m.clone()),
        JournalError::Database(m) => JournalError::Database(m.clone()),
    }
}

#[cfg(test)]
mod tests;
