//! What operators see of a projection: [`ProjectionStatus`].

use chrono::{DateTime, Utc};
use engine::journal::CommitToken;

/// The state and lag of one projection, from [`crate::ProjectionHandle::status`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProjectionStatus {
    /// Projection name.
    pub name: String,
    /// The last event applied (its transaction and position); `(0, 0)` before the first.
    pub checkpoint: CommitToken,
    /// Committed events after the checkpoint, counted up to the configured cap (see
    /// `behind_capped`); `None` if the journal could not be asked.
    pub events_behind: Option<i64>,
    /// True when `events_behind` hit the cap: at least that many.
    pub behind_capped: bool,
    /// `recorded_at` of the newest event applied by this process.
    pub newest_applied_at: Option<DateTime<Utc>>,
    /// Milliseconds since `newest_applied_at`.
    pub since_newest_applied_ms: Option<i64>,
    /// The lag in time: 0 when no event is behind, else `since_newest_applied_ms` (`None` when
    /// behind but nothing was applied yet by this process).
    pub lag_ms: Option<i64>,
    /// Events applied by this process.
    pub applied_events: u64,
    /// Failed batch attempts since start (each retried, never skipped).
    pub failures: u64,
    /// Failed attempts in a row right now (0 when healthy).
    pub consecutive_failures: u32,
    /// The latest failure, if the projection is failing now.
    pub last_error: Option<String>,
}

/// Mutable counters of a worker.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub applied_events: u64,
    pub newest_applied_at: Option<DateTime<Utc>>,
    pub failures: u64,
    pub consecutive_failures: u32,
    pub last_error: Option<String>,
}
