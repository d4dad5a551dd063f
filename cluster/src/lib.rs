//! Cluster membership and shard ownership, kept in PostgreSQL (DESIGN §5).
//!
//! - [`placement`]: which live node should own each shard (rendezvous hashing), pure.
//! - [`ShardKeeper`]: one per node. It registers the node and heartbeats, renews the leases it
//!   holds, hands over shards whose target is another node (a capped number per round, after
//!   passivating their entities) and takes the free or expired shards targeted to it. It is
//!   the engine's [`engine::runtime::ShardLeases`]: appends are fenced with its leases, and it
//!   stops answering for a shard before that lease can expire (self-fencing), so a node that
//!   cannot reach PostgreSQL stops writing on its own while the journal's fence check refuses
//!   any stale write anyway.
//!
//! What is not here yet: routing a request from any node to the owner of its shard, and the
//! `entityd` flags that start a keeper. Until then a node runs alone and owns every shard.

mod error;
mod keeper;
pub mod mesh;
pub mod placement;
mod store;

pub use store::LEASES_CHANNEL;

pub use error::{ClusterError, Result};
pub use keeper::{KeeperConfig, ShardKeeper};
