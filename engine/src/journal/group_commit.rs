//! Group commit: one writer task per node batches the appends of all entity actors.
//!
//! ```text
//!  actor ─append(batch)─┐                      ┌─► oneshot ─► actor
//!  actor ─append(batch)─┼─► mpsc (bounded) ─► writer task ─► EventLog::append(&[b1, b2, …])
//!  actor ─append(batch)─┘   take one, then drain what is queued (≤ max_batches, ≤ max_events)
//! ```
//!
//! Every caller waits for the transaction that holds its batch; a busy store therefore folds
//! more batches into each transaction (higher throughput), an idle one commits each at once (no
//! added latency: the writer never waits for more work).
//!
//! A conflict ([`JournalError::StreamConflict`], [`JournalError::UniqueViolation`], or a stale
//! shard lease, [`JournalError::Fenced`]) in a group aborts the whole transaction. The error
//! names the stream, the key or the fence, so the writer answers the batch that wrote it (the last one of the group, when several claim one key: the
//! first is entitled to it) and appends the rest again as one group; one bad command therefore
//! costs one extra transaction, not one per batch. Only if the offender cannot be told apart
//! does it fall back to appending each batch on its own. Any other error goes to every caller
//! of the group. A caller that gives up waiting does not withdraw its batch: it may still commit.

use std::{panic::AssertUnwindSafe, sync::Arc};

use futures::FutureExt;
use tokio::sync::{mpsc, oneshot};

use super::{AppendBatch, AppendReceipt, EventLog, JournalError, Result};

/// Tuning of the group-commit writer.
#[derive(Clone, Debug)]
pub struct GroupCommitConfig {
    /// Most appends (commands) folded into one transaction.
    pub max_batches: usize,
    /// Most events folded into one transaction (a single larger batch still commits alone).
    pub max_events: usize,
    /// Appends waiting for the writer before callers wait for room.
    pub queue_capacity: usize,
}

impl Default for GroupCommitConfig {
    fn default() -> Self {
        Self {
            max_batches: 512,
            max_events: 4096,
            queue_capacity: 8192,
        }
    }
}

/// One caller's batch and where to send its answer.
struct Request {
    batch: AppendBatch,
    reply: oneshot::Sender<Result<AppendReceipt>>,
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
    pub fn spawn(log: Arc<dyn EventLog>, config: GroupCommitConfig) -> Self {
        let (requests, queue) = mpsc::channel(config.queue_capacity.max(1));
        tokio::spawn(run(log, queue, config));
        Self { requests }
    }

    /// Appends one batch atomically; resolves once it is committed (or refused). Fails with
    /// [`JournalError::Unavailable`] if the writer task is gone.
    pub async fn append(&self, batch: AppendBatch) -> Result<AppendReceipt> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(Request { batch, reply })
            .await
            .map_err(|_| writer_gone())?;
        answer.await.map_err(|_| writer_gone())?
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
) {
    let max_batches = config.max_batches.max(1);
    // A request that did not fit into the previous group starts the next one.
    let mut carried: Option<Request> = None;
    loop {
        let first = match carried.take() {
            Some(request) => request,
            None => match queue.recv().await {
                Some(request) => request,
                None => return,
            },
        };
        let mut events = first.batch.events.len();
        let mut group = vec![first];
        while group.len() < max_batches {
            let Ok(next) = queue.try_recv() else { break };
            if events + next.batch.events.len() > config.max_events {
                carried = Some(next);
                break;
            }
            events += next.batch.events.len();
            group.push(next);
        }
        commit(log.as_ref(), group).await;
    }
}

/// Appends one group and answers its callers.
async fn commit(log: &dyn EventLog, group: Vec<Request>) {
    let (mut batches, mut replies): (Vec<AppendBatch>, Vec<_>) =
        group.into_iter().map(|r| (r.batch, r.reply)).unzip();
    loop {
        match guarded_append(log, &batches).await {
            Ok(receipts) if receipts.len() == batches.len() => {
                for (reply, receipt) in replies.into_iter().zip(receipts) {
                    let _ = reply.send(Ok(receipt));
                }
            }
            Ok(receipts) => {
                let message = format!(
                    "store returned {} receipts for {} batches",
                    receipts.len(),
                    batches.len()
                );
                for reply in replies {
                    let _ = reply.send(Err(JournalError::Database(message.clone())));
                }
            }
            Err(
                error @ (JournalError::StreamConflict { .. }
                | JournalError::UniqueViolation { .. }
                | JournalError::Fenced { .. }),
            ) if batches.len() > 1 => {
                if let Some(index) = offender(&batches, &error) {
                    // Answer the offender, then try the others again together.
                    batches.remove(index);
                    let _ = replies.remove(index).send(Err(error));
                    continue;
                }
                one_by_one(log, &batches, replies).await;
            }
            Err(error) => {
                for reply in replies {
                    let _ = reply.send(Err(copy_error(&error)));
                }
            }
        }
        return;
    }
}

/// The batch a conflict is about: the last one writing the named stream or claiming the key.
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
        _ => None,
    }
}

/// Appends each batch in its own transaction, so each caller gets its own answer.
async fn one_by_one(
    log: &dyn EventLog,
    batches: &[AppendBatch],
    replies: Vec<oneshot::Sender<Result<AppendReceipt>>>,
) {
    for (batch, reply) in batches.iter().zip(replies) {
        let single = guarded_append(log, std::slice::from_ref(batch)).await;
        let _ = reply.send(single.and_then(|mut receipts| {
            receipts
                .pop()
                .ok_or_else(|| JournalError::Database("store returned no receipt".into()))
        }));
    }
}

/// `log.append`, with a panic of the store turned into an error for this group only.
async fn guarded_append(log: &dyn EventLog, batches: &[AppendBatch]) -> Result<Vec<AppendReceipt>> {
    AssertUnwindSafe(log.append(batches))
        .catch_unwind()
        .await
        .unwrap_or_else(|_| {
            Err(JournalError::Database(
                "the store panicked while appending".into(),
            ))
        })
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
