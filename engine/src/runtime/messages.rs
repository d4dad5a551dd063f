//! Messages between the engine handle, the region, shards and entity actors.

use ractor::RpcReplyPort;

use super::{CommandOutcome, RequestMeta};
use crate::{
    Result,
    domain::{TenantId, TenantScope, TenantScopeCommand},
};

/// A read run inside the entity actor against its state (strongly consistent: the state
/// holds every acknowledged write). It must be quick and must not block.
pub(crate) type ReadFn = Box<dyn FnOnce(Result<&TenantScope>) + Send>;

/// Messages of a tenant-scope entity actor.
pub(crate) enum EntityMsg {
    /// First message of every incarnation (sent to itself): load snapshot and events.
    Recover,
    /// Decide, persist, apply, answer.
    Execute {
        command: Box<TenantScopeCommand>,
        meta: Box<RequestMeta>,
        reply: RpcReplyPort<Result<CommandOutcome>>,
        /// The caller's span: the actor's work is traced as its child.
        span: tracing::Span,
    },
    /// Answer a read from memory.
    Read(ReadFn),
    /// Answer a read from memory if the entity is live on this node; otherwise the shard
    /// answers [`EngineError::NotLive`](crate::EngineError::NotLive) and starts nothing (for
    /// callers that must not make a node load a tenant: an unauthenticated API key).
    ReadIfLive(ReadFn),
    /// Write the next batch of a tenant-wide claims re-synchronisation (sent to itself).
    SyncClaims,
    /// Save a snapshot if anything changed since the last one, then stop. Sent in-band by the
    /// shard after it stopped routing to this actor, so every earlier message is handled first.
    Passivate,
}

/// Messages of a shard actor.
pub(crate) enum ShardMsg {
    /// Route to the tenant's entity actor, starting it if needed.
    Deliver { tenant_id: TenantId, msg: EntityMsg },
    /// Passivate entities idle longer than the idle timeout.
    Sweep,
    /// Passivate every entity; answer once all have stopped.
    PassivateAll(RpcReplyPort<()>),
    /// Number of live entity actors.
    ActiveCount(RpcReplyPort<usize>),
}

/// Messages of the node's shard region.
pub(crate) enum RegionMsg {
    /// Route to a shard.
    Route {
        shard: u32,
        tenant_id: TenantId,
        msg: EntityMsg,
    },
    /// Passivate every entity of every shard; answer when done.
    PassivateAll(RpcReplyPort<()>),
    /// Passivate every entity of one shard (it is handed to another node); answer when done.
    PassivateShard(u32, RpcReplyPort<()>),
    /// Live entity actors on the node.
    ActiveCount(RpcReplyPort<usize>),
}

// ractor's `cluster` feature (the node mesh) takes away its blanket `Message` impl: these
// messages stay local to the node (closures, reply ports), so they are plain local messages.
impl ractor::Message for EntityMsg {}
impl ractor::Message for ShardMsg {}
impl ractor::Message for RegionMsg {}
