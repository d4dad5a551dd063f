//! Errors of the engine runtime, as seen by its callers (the gateway maps them to gRPC).

use crate::{
    domain::{DomainError, KeyRefusal, PermissionPattern, Scope},
    journal::JournalError,
};

/// Why a command or read did not succeed.
#[derive(Debug, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum EngineError {
    /// The domain refused the command; nothing was written.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// `expected_version` did not match (gRPC ABORTED).
    #[error("expected version {expected}, entity is at version {actual}")]
    VersionMismatch {
        /// What the caller expected.
        expected: i64,
        /// The entity's version.
        actual: i64,
    },
    /// The caller does not hold the permission a command's
    /// [`PermissionRequirement`](crate::runtime::PermissionRequirement) asks for; nothing was
    /// written (gRPC PERMISSION_DENIED).
    #[error("permission {permission} is not held at {scope:?}")]
    PermissionDenied {
        /// The permission required.
        permission: PermissionPattern,
        /// The first scope where it is not held.
        scope: Scope,
    },
    /// A command would give more than its caller holds: a role, or a custom role's
    /// permissions, beyond the caller's own where it is given; nothing was written (gRPC
    /// PERMISSION_DENIED, reason `GRANT_EXCEEDS_CALLER`).
    #[error("{granted} grants {permission} at {scope:?}, which the caller does not hold there")]
    GrantExceedsCaller {
        /// What was given (`role <name>`, or `the role` for a role's permissions).
        granted: String,
        /// The first of its permissions the caller does not hold.
        permission: PermissionPattern,
        /// Where it was given.
        scope: Scope,
    },
    /// The API key a requirement names does not verify (revoked, expired, its tenant,
    /// client or partition not active, or unknown); nothing was written (gRPC
    /// UNAUTHENTICATED).
    #[error("the API key is not valid: {}", .0.as_str())]
    KeyRefused(KeyRefusal),
    /// The request id was already used for a different request.
    #[error("request_id {request_id:?} was already used for a different request")]
    RequestIdReused {
        /// The reused key.
        request_id: String,
    },
    /// The node is overloaded; retry later (gRPC RESOURCE_EXHAUSTED).
    #[error("overloaded: {0}")]
    Overloaded(String),
    /// The tenant's entity is not in memory on this node, and the read asked not to load it
    /// ([`Engine::verify_api_key_if_live`](crate::runtime::Engine::verify_api_key_if_live)).
    #[error("the tenant is not loaded on this node")]
    NotLive,
    /// The engine cannot serve right now (shutting down, store unreachable); retry.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// The journal failed.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// A bug or broken invariant; logged, never shown in detail to callers.
    #[error("internal error: {0}")]
    Internal(String),
}

impl EngineError {
    /// How a command that failed with this error is counted.
    pub fn outcome(&self) -> crate::telemetry::Outcome {
        use crate::telemetry::Outcome;
        match self {
            EngineError::Domain(_)
            | EngineError::VersionMismatch { .. }
            | EngineError::RequestIdReused { .. } => Outcome::Rejected,
            EngineError::PermissionDenied { .. }
            | EngineError::GrantExceedsCaller { .. }
            | EngineError::KeyRefused(_) => Outcome::Denied,
            EngineError::Overloaded(_) => Outcome::Overloaded,
            EngineError::NotLive
            | EngineError::Unavailable(_)
            | EngineError::Journal(_)
            | EngineError::Internal(_) => Outcome::Failed,
        }
    }
}

/// Result alias of the engine.
pub type Result<T, E = EngineError> = std::result::Result<T, E>;
