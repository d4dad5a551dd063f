//! The seam between the runtime and shard ownership: a cluster node tells the runtime, per
//! shard, which lease to fence its appends with ([`ShardLeases`]). A single node has none and
//! owns every shard.

use std::fmt::Debug;

use crate::journal::Fence;

/// The shard leases a node holds now.
pub trait ShardLeases: Debug + Send + Sync + 'static {
    /// The fence to append shard `shard`'s events with, or `None` when this node does not hold
    /// the shard now (never acquired, handed over, or its lease is about to run out: a node
    /// stops writing before its lease ends). A command for such a shard is refused with
    /// UNAVAILABLE and writes nothing; the journal refuses a stale fence anyway.
    fn fence(&self, shard: u32) -> Option<Fence>;
}
