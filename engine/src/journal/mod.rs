//! The event journal: storage traits and the types that cross them.
//!
//! The runtime depends only on these traits; [`postgres`] and [`sqlite`] implement them and
//! [`GroupCommitWriter`] batches the appends of all entity actors of a node into one
//! transaction.
//!
//! Contract every store keeps (checked by the conformance suite in `tests/`):
//! - [`EventLog::append`] is atomic over all its batches: every event, claim and timer change
//!   commits, or nothing does. `(stream, sequence)` is unique: a second writer of the same
//!   sequence gets [`JournalError::StreamConflict`]; a taken unique key gets
//!   [`JournalError::UniqueViolation`] naming its owner.
//! - Within a stream, sequences are contiguous from 1 and read back in order.
//! - Global positions rise with insertion; [`AppendReceipt`] names the transaction and the
//!   positions it wrote, which form the write's [`CommitToken`].
//! - [`AppendBatch::keys`] commit with the events: a key created twice for one subject (even
//!   after it was shredded) fails the append as a unique violation in [`KEY_NAMESPACE`]; a key
//!   wrapped by a retired master key is refused ([`JournalError::Unavailable`]).

mod group_commit;
mod keys;
mod pool;
pub mod postgres;
pub mod sqlite;
mod store_support;
pub mod tail;
mod token;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::{StreamId, TenantId};

pub use group_commit::{GroupCommitConfig, GroupCommitWriter};
pub use keys::{KEY_NAMESPACE, KeyChange, KeyPurpose, KeyStore, MasterKeyRecord, StoredKey};
pub use pool::{Kept, KeptConnections, LIVENESS_WINDOW, checked_when_idle_for, pool_options};
pub use token::{CommitToken, TokenParseError};

/// Who caused an event: the audit trail's "who" (SPEC §5.3).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditActor {
    /// The authenticated subject (user id, service name or `dev`).
    pub subject: String,
    /// Subject this call acts on behalf of, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_behalf_of: Option<String>,
    /// Credential kind: `jwt`, `api-key`, `dev`, `engine`.
    pub credential_kind: String,
    /// Credential id (token id, key id), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_id: Option<String>,
}

/// Metadata stored with every event.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventMetadata {
    /// Who.
    pub actor: AuditActor,
    /// The request id: the caller's idempotency key when it sent one (then `request_hash` is
    /// set and a retry is answered from this event), else the id the gateway gave the call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Fingerprint of the request (hex SHA-256 of the command) to detect key reuse; present
    /// exactly when `request_id` is an idempotency key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_hash: Option<String>,
    /// The stream the request was addressed to (its answer is that entity's state).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_target: Option<StreamId>,
    /// Correlation id (the request id, or the saga id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    /// Id of the event or command that caused this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub causation_id: Option<String>,
    /// Trace id of the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    /// W3C trace context of the span that wrote the event, when traces are exported: the work
    /// the event causes later (projections, the Kafka publish) joins that trace. Parsed with
    /// [`crate::telemetry::trace::TraceParent::parse`] wherever it is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
}

/// An event to append.
#[derive(Clone, Debug, PartialEq)]
pub struct NewEvent {
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// Stream.
    pub stream: StreamId,
    /// Sequence in the stream (previous + 1, from 1).
    pub sequence: i64,
    /// Type name, e.g. `TenantCreated`.
    pub event_type: String,
    /// Payload schema version.
    pub schema_version: i32,
    /// Payload as JSON.
    pub payload: serde_json::Value,
    /// Metadata.
    pub metadata: EventMetadata,
    /// When it happened (the decision's clock).
    pub recorded_at: DateTime<Utc>,
}

/// A platform-wide unique key taken together with the events of its batch.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UniqueClaim {
    /// Namespace, e.g. `tenant-slug`.
    pub namespace: String,
    /// Key.
    pub key: String,
    /// Entity that owns the key.
    pub owner: Uuid,
    /// Request id of the command that took it.
    pub request_id: Option<String>,
}

/// A platform-wide unique key given up together with the events of its batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UniqueRelease {
    /// Namespace.
    pub namespace: String,
    /// Key.
    pub key: String,
    /// The entity giving it up: a key another entity holds stays.
    pub owner: Uuid,
}

/// A timer change committed with the events of its batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TimerChange {
    /// Insert or move the tenant's timer of this kind.
    Set {
        /// Tenant.
        tenant_id: TenantId,
        /// Kind, e.g. `grace-period`.
        kind: String,
        /// When it fires.
        due_at: DateTime<Utc>,
    },
    /// Remove the tenant's timer of this kind (no error if absent).
    Clear {
        /// Tenant.
        tenant_id: TenantId,
        /// Kind.
        kind: String,
    },
}

/// Everything one command writes: appended atomically.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AppendBatch {
    /// Events, in order.
    pub events: Vec<NewEvent>,
    /// Unique keys to take.
    pub claims: Vec<UniqueClaim>,
    /// Unique keys to give up (before the claims are taken); each only if `owner` holds it.
    pub releases: Vec<UniqueRelease>,
    /// Timer changes.
    pub timers: Vec<TimerChange>,
    /// Personal-data keys created or shredded with these events.
    pub keys: Vec<KeyChange>,
    /// The writer's shard lease, checked in the append's transaction (cluster nodes); `None`
    /// for a single node, which owns every shard.
    pub fence: Option<Fence>,
}

/// A shard lease as its holder knows it. An append fenced with it commits only if the lease
/// is still exactly this (owner and epoch) and unexpired when the append runs; a node whose
/// shard was taken over (or whose lease ran out) cannot write the shard's streams any more.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Fence {
    /// Shard number.
    pub shard: i32,
    /// Node id of the holder.
    pub owner: String,
    /// Lease epoch (grows with every change of owner).
    pub epoch: i64,
}

/// Where one batch landed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppendReceipt {
    /// Global position of the batch's first event.
    pub first_position: i64,
    /// Global position of the batch's last event.
    pub last_position: i64,
    /// Id of the transaction that committed it.
    pub transaction_id: u64,
}

impl AppendReceipt {
    /// The consistency token naming this write.
    pub fn token(&self) -> CommitToken {
        CommitToken {
            transaction_id: self.transaction_id,
            position: self.last_position,
        }
    }
}

/// An event as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordedEvent {
    /// Global position.
    pub position: i64,
    /// Writing transaction.
    pub transaction_id: u64,
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// Stream.
    pub stream: StreamId,
    /// Sequence in the stream.
    pub sequence: i64,
    /// Type name.
    pub event_type: String,
    /// Payload schema version.
    pub schema_version: i32,
    /// Payload.
    pub payload: serde_json::Value,
    /// Metadata.
    pub metadata: EventMetadata,
    /// When it happened.
    pub recorded_at: DateTime<Utc>,
}

/// A saved state of an aggregate, valid up to `last_position`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// Aggregate id (the tenant id for a tenant scope).
    pub aggregate_id: Uuid,
    /// Aggregate kind, e.g. `tenant-scope`.
    pub aggregate_kind: String,
    /// State encoding version; a snapshot of another version is ignored.
    pub schema_version: i32,
    /// Highest global position folded into `state`.
    pub last_position: i64,
    /// Encoded state.
    pub state: Vec<u8>,
    /// When it was taken.
    pub taken_at: DateTime<Utc>,
}

/// A timer that is due.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DueTimer {
    /// Tenant.
    pub tenant_id: TenantId,
    /// Kind.
    pub kind: String,
    /// When it was due.
    pub due_at: DateTime<Utc>,
}

/// Journal failures.
#[derive(Debug, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum JournalError {
    /// `(stream, sequence)` is already taken: another writer got there first.
    #[error("stream {stream} already has sequence {sequence}")]
    StreamConflict {
        /// Stream.
        stream: StreamId,
        /// Sequence that clashed.
        sequence: i64,
    },
    /// A unique key is already taken.
    #[error("unique key {namespace}/{key} is taken")]
    UniqueViolation {
        /// Namespace.
        namespace: String,
        /// Key.
        key: String,
        /// The current holder, if it could be read (boxed to keep the error small).
        existing: Option<Box<UniqueClaim>>,
    },
    /// The append's shard lease is no longer held by its writer (taken over, expired or
    /// unknown): nothing was written.
    #[error("shard {shard} is not leased to {owner} at epoch {epoch}")]
    Fenced {
        /// Shard.
        shard: i32,
        /// The writer that thought it held it.
        owner: String,
        /// The epoch it held.
        epoch: i64,
    },
    /// The store cannot be reached or refused the connection.
    #[error("journal unavailable: {0}")]
    Unavailable(String),
    /// Stored data failed validation.
    #[error("journal data is corrupt: {0}")]
    Corrupt(String),
    /// Any other database error.
    #[error("journal error: {0}")]
    Database(String),
}

impl JournalError {
    /// A refusal the store answered after checking the append (a conflict, a stale fence):
    /// nothing was written, and the connection it ran on is as good as after a success.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            JournalError::StreamConflict { .. }
                | JournalError::UniqueViolation { .. }
                | JournalError::Fenced { .. }
        )
    }
}

/// Result alias of the journal.
pub type Result<T, E = JournalError> = std::result::Result<T, E>;

/// Appending and reading events.
#[async_trait]
pub trait EventLog: Send + Sync + 'static {
    /// Appends every batch in one transaction: all or nothing. Receipts are in batch order.
    async fn append(&self, batches: &[AppendBatch]) -> Result<Vec<AppendReceipt>>;

    /// How many [`EventLog::append`] transactions gain from running at once: the group-commit
    /// writer never keeps more in flight. 1 (the default) for a store that serializes its
    /// writes anyway (SQLite's write lock).
    fn concurrent_appends(&self) -> usize {
        1
    }

    /// Events of one stream with `sequence > after_sequence`, in sequence order.
    async fn read_stream(
        &self,
        stream: StreamId,
        after_sequence: i64,
    ) -> Result<Vec<RecordedEvent>>;

    /// Events of a tenant (every stream kind) with `position > after_position`, in position
    /// order. Used to recover a tenant scope after its snapshot.
    async fn read_tenant(
        &self,
        tenant_id: TenantId,
        after_position: i64,
    ) -> Result<Vec<RecordedEvent>>;

    /// Up to `limit` events of all tenants with `position > after_position`, in position order.
    async fn read_all(&self, after_position: i64, limit: i64) -> Result<Vec<RecordedEvent>>;

    /// The holder of a unique key, if any.
    async fn unique_claim(&self, namespace: &str, key: &str) -> Result<Option<UniqueClaim>>;
}

/// Aggregate snapshots.
#[async_trait]
pub trait SnapshotStore: Send + Sync + 'static {
    /// The snapshot of an aggregate, if any.
    async fn load_snapshot(
        &self,
        aggregate_kind: &str,
        aggregate_id: Uuid,
    ) -> Result<Option<Snapshot>>;
    /// Saves (replaces) a snapshot; an older `last_position` never replaces a newer one.
    async fn save_snapshot(&self, snapshot: &Snapshot) -> Result<()>;
}

/// Durable per-tenant timers (written through [`AppendBatch::timers`]).
#[async_trait]
pub trait TimerStore: Send + Sync + 'static {
    /// Up to `limit` timers with `due_at <= now`, earliest first.
    async fn due_timers(&self, now: DateTime<Utc>, limit: i64) -> Result<Vec<DueTimer>>;
}

/// Everything the runtime needs from a store.
pub trait Journal: EventLog + SnapshotStore + TimerStore + KeyStore {}
impl<T: EventLog + SnapshotStore + TimerStore + KeyStore> Journal for T {}
