//! Group commit: one writer task per node batches the appends of all entity actors.
//! (Journal helper implements.)

use std::sync::Arc;

use super::{AppendBatch, AppendReceipt, EventLog, Result};

/// Tuning of the group-commit writer.
#[derive(Clone, Debug)]
pub struct GroupCommitConfig {
    /// Most appends (commands) folded into one transaction.
    pub max_batches: usize,
    /// Most events folded into one transaction.
    pub max_events: usize,
    /// Appends waiting for the writer before callers wait for room.
    pub queue_capacity: usize,
}

impl Default for GroupCommitConfig {
    fn default() -> Self {
        Self { max_batches: 512, max_events: 4096, queue_capacity: 8192 }
    }
}

/// Handle to the node's group-commit writer task. Cheap to clone.
#[derive(Clone)]
pub struct GroupCommitWriter {
    _log: Arc<dyn EventLog>,
}

impl GroupCommitWriter {
    /// Starts the writer task on the current tokio runtime.
    pub fn spawn(log: Arc<dyn EventLog>, config: GroupCommitConfig) -> Self {
        let _ = config;
        Self { _log: log }
    }

    /// Appends one batch atomically; resolves once it is committed (or refused).
    pub async fn append(&self, batch: AppendBatch) -> Result<AppendReceipt> {
        let _ = batch;
        unimplemented!("journal helper implements")
    }
}
