//! The gap-safe tail of the journal: every committed event, once, in commit order. What
//! projections (read models, the Kafka publisher) consume.
//!
//! Why not `global_position` alone: positions are handed out when a row is inserted, not when
//! its transaction commits. A reader that follows positions skips the events of a transaction
//! that took its positions early and committed late (ZITADEL's long-standing bug, #8517):
//!
//! ```text
//!   tx A: insert (pos 10) ······························ commit
//!   tx B:            insert (pos 11) ── commit
//!   reader:                                    reads 11, checkpoints 11 ─▶ never sees 10
//! ```
//!
//! [`JournalTail::read_committed`] instead orders by `(transaction id, position)` and only
//! returns events of transactions below the oldest transaction still running (the "xid
//! horizon"), so nothing can commit later below what it returned. A reader checkpoints the
//! `(transaction id, position)` of the last event it consumed, as a [`CommitToken`], and asks
//! for events strictly after it.
//!
//! - PostgreSQL: `transaction_id < pg_snapshot_xmin(pg_current_snapshot())`. Cost: one
//!   long-running transaction anywhere on the server holds every tail back (the stores set
//!   `idle_in_transaction_session_timeout`; alert on projection lag).
//! - SQLite: one writer at a time (`BEGIN IMMEDIATE` plus the store's lock), and each append
//!   takes the next value of a counter inside its write transaction, so transaction ids are in
//!   commit order and every committed transaction is visible to a reader before a later one
//!   is: no horizon is needed.
//!
//! Per-stream order follows: a stream has one writer that waits for each append to commit
//! before it starts the next, so its later events always have later transaction ids.

use async_trait::async_trait;
use uuid::Uuid;

use super::{CommitToken, RecordedEvent, Result};

/// Reads the journal in a gap-safe commit order. Implemented by both stores.
///
/// Contract (the same for every store):
/// - `read_committed(after, n)` returns at most `n` events with
///   `(transaction_id, position) > (after.transaction_id, after.position)`, ascending by that
///   pair, all from transactions that have finished: a later call never returns an event that
///   sorts at or below the last event an earlier call returned.
/// - A reader that starts at `(0, 0)` and always continues after the last event it got sees
///   every committed event exactly once.
#[async_trait]
pub trait JournalTail: Send + Sync + 'static {
    /// Up to `limit` committed events strictly after `after`, in `(transaction id, position)`
    /// order, only from transactions below the oldest one still running.
    async fn read_committed(&self, after: CommitToken, limit: i64) -> Result<Vec<RecordedEvent>>;

    /// How many committed events sort after `after` (including ones the horizon still holds
    /// back), counting at most `cap`: a lag figure that stays cheap when far behind.
    async fn count_after(&self, after: CommitToken, cap: i64) -> Result<i64>;

    /// The token of the newest committed event (whether or not the horizon has passed it yet),
    /// or `None` for an empty journal. A reader that has passed it has seen every write
    /// acknowledged before this call.
    async fn head(&self) -> Result<Option<CommitToken>>;

    /// Where each `(stream id, sequence)` was written, in input order (`None` if no such
    /// event). Lets a reader that starts mid-journal check that the predecessor of the first
    /// event it sees of a stream was already consumed (per-stream continuity).
    async fn locate(&self, events: &[(Uuid, i64)]) -> Result<Vec<Option<CommitToken>>>;
}
