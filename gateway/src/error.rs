//! Errors of starting and running the gateway (not of single requests: those are
//! `tonic::Status`, built in [`crate::status`]).

use engine::{EngineError, journal::JournalError};

/// Why the server or a binary could not start or keep running.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The configuration is invalid (the binaries exit with code 2).
    #[error("invalid configuration: {0}")]
    Config(String),
    /// Binding the listen address or another I/O step failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The journal store could not be opened or migrated.
    #[error("journal: {0}")]
    Journal(#[from] JournalError),
    /// The projections (read models) could not start.
    #[error("projections: {0}")]
    Projections(#[from] projections::Error),
    /// The engine failed to start.
    #[error("engine: {0}")]
    Engine(#[from] EngineError),
    /// The gRPC transport failed.
    #[error("gRPC transport: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// The reflection service could not be built.
    #[error("reflection service: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    /// The server task panicked or was cancelled.
    #[error("server task: {0}")]
    Task(#[from] tokio::task::JoinError),
}

impl GatewayError {
    /// Wraps an I/O error with what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        GatewayError::Io {
            context: context.into(),
            source,
        }
    }
}

/// Result alias of the gateway.
pub type Result<T, E = GatewayError> = std::result::Result<T, E>;
