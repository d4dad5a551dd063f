//! `entityctl admin …`.

use clap::Subcommand;

/// Operator commands (platform admins only), about the node that answers.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// State and lag of every projection: checkpoint, events behind, lag, failures.
    Projections,
    /// The answering node: memory, live entities, uptime, Kafka delivery, cluster shards and
    /// personal values refused as tampered.
    Node,
    /// Rebuild a projection from zero while the service runs (reads with a consistency token
    /// wait until it has caught up).
    RebuildProjection {
        /// Projection name, as `admin projections` lists it.
        name: String,
    },
}
