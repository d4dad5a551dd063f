//! Errors of the projections crate: one enum for the runner and the queries.

use engine::{
    domain::StreamId,
    journal::{CommitToken, JournalError},
    personal::VaultError,
};

/// Why a projection step or a read-model query did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The read model cannot answer now: it has not reached the caller's consistency token
    /// in time, or the store is unreachable. Retry later (gRPC UNAVAILABLE).
    #[error("read model unavailable: {0}")]
    Unavailable(String),
    /// A page token that this query did not issue (or a damaged one).
    #[error("invalid page token: {0}")]
    InvalidPageToken(String),
    /// A query argument is out of range (gRPC INVALID_ARGUMENT).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The entity a query is anchored on does not exist in the read model.
    #[error("{resource} {id} not found")]
    NotFound {
        /// Resource kind, e.g. `organization`.
        resource: &'static str,
        /// Its id.
        id: String,
    },
    /// No projection of that name runs here.
    #[error("unknown projection {0:?}")]
    UnknownProjection(String),
    /// A stream's sequence does not follow the last one seen: an event would be skipped or
    /// applied twice. Never skipped: the batch is retried and the error reported.
    #[error(
        "stream {stream} jumps from sequence {expected_after} to {found} at position {position}"
    )]
    StreamGap {
        /// The stream.
        stream: StreamId,
        /// The last sequence consumed (0 if none).
        expected_after: i64,
        /// The sequence found instead of `expected_after + 1`.
        found: i64,
        /// Global position of the offending event.
        position: i64,
    },
    /// The first event seen of a stream does not follow an event consumed before: its
    /// predecessor is missing or sorts after the checkpoint.
    #[error(
        "event {sequence} of stream {stream} (position {position}) arrives before its \
         predecessor was consumed (predecessor at {predecessor:?})"
    )]
    StreamOutOfOrder {
        /// The stream.
        stream: StreamId,
        /// The sequence that arrived.
        sequence: i64,
        /// Its global position.
        position: i64,
        /// Where `sequence - 1` was written, if anywhere.
        predecessor: Option<CommitToken>,
    },
    /// The checkpoint row changed under the runner (a rebuild, or a second runner of the same
    /// projection): the batch was rolled back and the runner reloads.
    #[error("checkpoint of {projection} moved from {expected} to {found}")]
    CheckpointMoved {
        /// Projection name.
        projection: String,
        /// Where the runner thought it was.
        expected: CommitToken,
        /// Where the row is.
        found: CommitToken,
    },
    /// An event could not be decoded into a domain event.
    #[error("event at position {position} ({event_type}) cannot be decoded: {message}")]
    Decode {
        /// Global position.
        position: i64,
        /// Its type name.
        event_type: String,
        /// Why.
        message: String,
    },
    /// A row the projection relies on is missing or inconsistent (e.g. an update for an entity
    /// the read model never saw created).
    #[error("read model {model} is inconsistent: {message}")]
    Inconsistent {
        /// Read model.
        model: &'static str,
        /// What is wrong.
        message: String,
    },
    /// Stored data failed validation.
    #[error("read model data is corrupt: {0}")]
    Corrupt(String),
    /// Reading the journal failed.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// Personal values of stored events cannot be opened: a key is wrapped by a master key
    /// this node lacks, or unusable. Never skipped: the batch is retried (once the node has
    /// the key) and the error reported. (Erased and tampered values are not errors: they read
    /// as empty.)
    #[error("personal data cannot be opened: {0}")]
    PersonalData(String),
    /// Any other database error.
    #[error("read model database error: {0}")]
    Database(String),
    /// The projection service has stopped.
    #[error("projection service stopped")]
    Stopped,
    /// The Kafka publisher's configuration is unusable (no brokers, no topic, a property
    /// librdkafka rejects).
    #[error("invalid Kafka configuration: {0}")]
    KafkaConfig(String),
    /// The broker did not acknowledge every event of a batch (the runner retries the whole
    /// batch; nothing is skipped).
    #[error("Kafka delivery failed for {failed} of {total} events: {message}")]
    KafkaDelivery {
        /// Events of the batch not acknowledged.
        failed: usize,
        /// Events in the batch.
        total: usize,
        /// The first failure's reason.
        message: String,
    },
}

/// Result alias of the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<VaultError> for Error {
    fn from(error: VaultError) -> Self {
        match error {
            // The key table lives in the journal's database.
            VaultError::Store(e) => Error::Journal(e),
            VaultError::Keyring(e) => Error::PersonalData(e.to_string()),
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => Error::Unavailable(error.to_string()),
            sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
                Error::Corrupt(error.to_string())
            }
            _ => Error::Database(error.to_string()),
        }
    }
}
