//! The shard region: one per node, owner of the node's shard actors and the only actor other
//! nodes will address. All shards are local until the cluster crate assigns ownership.

use std::sync::Arc;

use ractor::{Actor, ActorProcessingErr, ActorRef, SupervisionEvent};
use tracing::{error, warn};

use super::{
    deps::Deps,
    messages::{RegionMsg, ShardMsg},
    shard::{ShardActor, ShardArgs},
};

/// Arguments of the region.
pub(crate) struct RegionArgs {
    pub deps: Arc<Deps>,
}

/// The region behaviour.
pub(crate) struct RegionActor;

/// The region's state: shard actors by shard number.
pub(crate) struct RegionState {
    deps: Arc<Deps>,
    shards: Vec<ActorRef<ShardMsg>>,
}

async fn spawn_shard(
    myself: &ActorRef<RegionMsg>,
    deps: &Arc<Deps>,
) -> Result<ActorRef<ShardMsg>, ActorProcessingErr> {
    let args = ShardArgs {
        deps: Arc::clone(deps),
    };
    let (shard, _) = Actor::spawn_linked(None, ShardActor, args, myself.get_cell()).await?;
    Ok(shard)
}

#[ractor::async_trait]
impl Actor for RegionActor {
    type Msg = RegionMsg;
    type State = RegionState;
    type Arguments = RegionArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<RegionMsg>,
        args: RegionArgs,
    ) -> Result<RegionState, ActorProcessingErr> {
        let mut shards = Vec::with_capacity(args.deps.config.shard_count as usize);
        for _ in 0..args.deps.config.shard_count {
            shards.push(spawn_shard(&myself, &args.deps).await?);
        }
        Ok(RegionState {
            deps: args.deps,
            shards,
        })
    }

    async fn handle(
        &self,
        _myself: ActorRef<RegionMsg>,
        msg: RegionMsg,
        state: &mut RegionState,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            RegionMsg::Route {
                shard,
                tenant_id,
                msg,
            } => match state.shards.get(shard as usize) {
                Some(s) => {
                    if s.cast(ShardMsg::Deliver { tenant_id, msg }).is_err() {
                        warn!(shard, "shard unavailable; message dropped");
                    }
                }
                None => error!(shard, "message for a shard this node does not have"),
            },
            RegionMsg::PassivateAll(reply) => {
                let timeout = Some(state.deps.config.ask_timeout);
                let calls = state
                    .shards
                    .iter()
                    .map(|s| s.call(ShardMsg::PassivateAll, timeout));
                for result in futures::future::join_all(calls).await {
                    if !matches!(result, Ok(ractor::rpc::CallResult::Success(()))) {
                        warn!("a shard did not passivate in time");
                    }
                }
                let _ = reply.send(());
            }
            RegionMsg::PassivateShard(shard, reply) => {
                let timeout = Some(state.deps.config.ask_timeout);
                if let Some(s) = usize::try_from(shard)
                    .ok()
                    .and_then(|i| state.shards.get(i))
                {
                    let result = s.call(ShardMsg::PassivateAll, timeout).await;
                    if !matches!(result, Ok(ractor::rpc::CallResult::Success(()))) {
                        warn!(shard, "shard did not passivate in time");
                    }
                }
                let _ = reply.send(());
            }
            RegionMsg::ActiveCount(reply) => {
                let timeout = Some(state.deps.config.ask_timeout);
                let calls = state
                    .shards
                    .iter()
                    .map(|s| s.call(ShardMsg::ActiveCount, timeout));
                let total = futures::future::join_all(calls)
                    .await
                    .into_iter()
                    .filter_map(|r| match r {
                        Ok(ractor::rpc::CallResult::Success(n)) => Some(n),
                        _ => None,
                    })
                    .sum();
                let _ = reply.send(total);
            }
        }
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<RegionMsg>,
        event: SupervisionEvent,
        state: &mut RegionState,
    ) -> Result<(), ActorProcessingErr> {
        // A shard that fails is restarted in place; its entities recover on their next message.
        if let SupervisionEvent::ActorFailed(cell, err) = event
            && let Some(index) = state
                .shards
                .iter()
                .position(|s| s.get_id() == cell.get_id())
        {
            error!(shard = index, error = %err, "shard failed; restarting");
            state.shards[index] = spawn_shard(&myself, &state.deps).await?;
        }
        Ok(())
    }
}
