//! Errors of the cluster crate.

/// Why a cluster operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The configuration is unusable.
    #[error("invalid cluster configuration: {0}")]
    Config(String),
    /// PostgreSQL refused or could not be reached.
    #[error("cluster store: {0}")]
    Store(#[from] sqlx::Error),
    /// Stored cluster data failed validation.
    #[error("cluster data is corrupt: {0}")]
    Corrupt(String),
}

/// Result alias of the crate.
pub type Result<T, E = ClusterError> = std::result::Result<T, E>;
