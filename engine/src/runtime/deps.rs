//! What every actor of a node shares.

use std::sync::Arc;

use tokio::sync::Semaphore;

use super::{EngineConfig, clock::Clock};
use crate::{
    journal::{GroupCommitWriter, Journal},
    personal::Vault,
};

/// Shared services of one node's runtime.
pub(crate) struct Deps {
    /// Reads (recovery, snapshots).
    pub journal: Arc<dyn Journal>,
    /// The node's group-commit writer: every append goes through it.
    pub writer: GroupCommitWriter,
    /// Tuning.
    pub config: EngineConfig,
    /// Bounds concurrent recoveries.
    pub recovery: Semaphore,
    /// Bounds concurrent snapshot encodings and saves.
    pub snapshots: Semaphore,
    /// Time source.
    pub clock: Arc<dyn Clock>,
    /// Personal-data keys.
    pub vault: Arc<Vault>,
}
