//! The shard actor: starts, routes to, supervises and passivates the entity actors of one
//! shard.
//!
//! An entity being passivated (or stopping after a fault) keeps its slot as `Stopping`;
//! messages for it are buffered and delivered to a fresh incarnation only after the old one
//! has terminated, so two incarnations of one tenant never run at once (one writer per
//! tenant scope is what keeps tenant-wide invariants safe).

use std::{
    collections::HashMap,
    hash::Hash,
    sync::Arc,
    time::{Duration, Instant},
};

use ractor::{Actor, ActorId, ActorProcessingErr, ActorRef, RpcReplyPort, SupervisionEvent};
use tokio::task::JoinHandle;
use tracing::warn;

use super::{
    deps::Deps,
    entity::{EntityArgs, TenantScopeActor},
    messages::{EntityMsg, ShardMsg},
};
use crate::{EngineError, domain::TenantId};

/// Arguments of a shard.
pub(crate) struct ShardArgs {
    pub deps: Arc<Deps>,
}

/// The shard behaviour.
pub(crate) struct ShardActor;

enum Slot {
    Active {
        actor: ActorRef<EntityMsg>,
        last_used: Instant,
    },
    /// Terminating; messages wait for the next incarnation.
    Stopping {
        actor_id: ActorId,
        buffer: Vec<EntityMsg>,
    },
}

/// A shard's state.
pub(crate) struct ShardState {
    deps: Arc<Deps>,
    slots: HashMap<TenantId, Slot>,
    by_actor: HashMap<ActorId, TenantId>,
    sweeper: Option<JoinHandle<()>>,
    drain_waiters: Vec<RpcReplyPort<()>>,
}

impl ShardState {
    /// Gives back the room the maps kept from a peak that has passivated, so that a shard's
    /// memory follows its live entities (a `HashMap` never shrinks by itself).
    fn shrink_maps(&mut self) {
        shrink_if_sparse(&mut self.slots);
        shrink_if_sparse(&mut self.by_actor);
    }

    fn active_count(&self) -> usize {
        self.slots
            .values()
            .filter(|s| matches!(s, Slot::Active { .. }))
            .count()
    }
}

#[ractor::async_trait]
impl Actor for ShardActor {
    type Msg = ShardMsg;
    type State = ShardState;
    type Arguments = ShardArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<ShardMsg>,
        args: ShardArgs,
    ) -> Result<ShardState, ActorProcessingErr> {
        let period = (args.deps.config.idle_timeout / 2).max(Duration::from_millis(50));
        let sweeper = myself.send_interval(period, || ShardMsg::Sweep);
        Ok(ShardState {
            deps: args.deps,
            slots: HashMap::new(),
            by_actor: HashMap::new(),
            sweeper: Some(sweeper),
            drain_waiters: Vec::new(),
        })
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<ShardMsg>,
        state: &mut ShardState,
    ) -> Result<(), ActorProcessingErr> {
        if let Some(sweeper) = state.sweeper.take() {
            sweeper.abort();
        }
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<ShardMsg>,
        msg: ShardMsg,
        state: &mut ShardState,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            ShardMsg::Deliver { tenant_id, msg } => deliver(&myself, state, tenant_id, msg).await,
            ShardMsg::Sweep => {
                let idle = state.deps.config.idle_timeout;
                let now = Instant::now();
                let expired: Vec<TenantId> = state
                    .slots
                    .iter()
                    .filter_map(|(t, s)| match s {
                        Slot::Active { last_used, .. }
                            if now.duration_since(*last_used) >= idle =>
                        {
                            Some(*t)
                        }
                        _ => None,
                    })
                    .collect();
                for tenant_id in expired {
                    passivate(state, tenant_id);
                }
                // The entities passivated by the sweep before have terminated by now.
                state.shrink_maps();
            }
            ShardMsg::PassivateAll(reply) => {
                let tenants: Vec<TenantId> = state.slots.keys().copied().collect();
                for tenant_id in tenants {
                    passivate(state, tenant_id);
                }
                if state.slots.is_empty() {
                    let _ = reply.send(());
                } else {
                    state.drain_waiters.push(reply);
                }
            }
            ShardMsg::ActiveCount(reply) => {
                let _ = reply.send(state.active_count());
            }
        }
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<ShardMsg>,
        event: SupervisionEvent,
        state: &mut ShardState,
    ) -> Result<(), ActorProcessingErr> {
        // Never stop the shard because an entity stopped (ractor's default would).
        let cell = match event {
            SupervisionEvent::ActorTerminated(cell, _, _) => cell,
            SupervisionEvent::ActorFailed(cell, err) => {
                warn!(error = %err, "entity actor failed; it recovers on its next message");
                cell
            }
            _ => return Ok(()),
        };
        let Some(tenant_id) = state.by_actor.remove(&cell.get_id()) else {
            return Ok(());
        };
        let buffered = match state.slots.remove(&tenant_id) {
            Some(Slot::Stopping { actor_id, buffer }) if actor_id == cell.get_id() => buffer,
            Some(Slot::Active { actor, .. }) if actor.get_id() == cell.get_id() => Vec::new(),
            Some(other) => {
                // The slot already belongs to a newer incarnation.
                state.slots.insert(tenant_id, other);
                Vec::new()
            }
            None => Vec::new(),
        };
        for msg in buffered {
            deliver(&myself, state, tenant_id, msg).await;
        }
        if state.slots.is_empty() {
            for waiter in state.drain_waiters.drain(..) {
                let _ = waiter.send(());
            }
        }
        Ok(())
    }
}

/// Routes a message to the tenant's incarnation, starting one (or buffering) as needed.
async fn deliver(
    myself: &ActorRef<ShardMsg>,
    state: &mut ShardState,
    tenant_id: TenantId,
    msg: EntityMsg,
) {
    let msg = match state.slots.get_mut(&tenant_id) {
        Some(Slot::Stopping { buffer, .. }) => {
            buffer.push(msg);
            return;
        }
        Some(Slot::Active { actor, last_used }) => {
            *last_used = Instant::now();
            match actor.cast(msg) {
                Ok(()) => return,
                // The incarnation is going away: keep the message for the next one.
                Err(e) => {
                    let actor_id = actor.get_id();
                    let msg = recover_message(e);
                    let buffer = msg.into_iter().collect();
                    state
                        .slots
                        .insert(tenant_id, Slot::Stopping { actor_id, buffer });
                    return;
                }
            }
        }
        None => msg,
    };
    if let EntityMsg::ReadIfLive(read) = msg {
        read(Err(EngineError::NotLive));
        return;
    }
    if !state.drain_waiters.is_empty() {
        // Shutting down: refuse by dropping (callers see Unavailable).
        return;
    }
    make_room(state);
    let args = EntityArgs {
        tenant_id,
        deps: Arc::clone(&state.deps),
    };
    match Actor::spawn_linked(None, TenantScopeActor, args, myself.get_cell()).await {
        Ok((actor, _)) => {
            state.by_actor.insert(actor.get_id(), tenant_id);
            if let Err(e) = actor.cast(msg) {
                warn!(tenant = %tenant_id, error = %e, "new entity refused its first message");
            }
            state.slots.insert(
                tenant_id,
                Slot::Active {
                    actor,
                    last_used: Instant::now(),
                },
            );
        }
        Err(e) => warn!(tenant = %tenant_id, error = %e, "cannot start entity actor"),
    }
}

fn recover_message(err: ractor::MessagingErr<EntityMsg>) -> Option<EntityMsg> {
    match err {
        ractor::MessagingErr::SendErr(msg) => Some(msg),
        _ => None,
    }
}

/// Passivates the least recently used entities while the shard is at its cap.
fn make_room(state: &mut ShardState) {
    let cap = state.deps.config.max_active_per_shard.max(1);
    while state.active_count() >= cap {
        let lru = state
            .slots
            .iter()
            .filter_map(|(t, s)| match s {
                Slot::Active { last_used, .. } => Some((*last_used, *t)),
                Slot::Stopping { .. } => None,
            })
            .min();
        match lru {
            Some((_, tenant_id)) => passivate(state, tenant_id),
            None => break,
        }
    }
}

/// Stops routing to the tenant's incarnation and asks it, in-band, to passivate.
fn passivate(state: &mut ShardState, tenant_id: TenantId) {
    let Some(Slot::Active { actor, .. }) = state.slots.get(&tenant_id) else {
        return;
    };
    let actor_id = actor.get_id();
    // A refused cast means it is already stopping; its termination event clears the slot.
    let _ = actor.cast(EntityMsg::Passivate);
    state.slots.insert(
        tenant_id,
        Slot::Stopping {
            actor_id,
            buffer: Vec::new(),
        },
    );
}

/// A map below this many slots is left as it is.
const SMALL_MAP: usize = 64;

/// Shrinks `map` to twice its length (room for the entities that come back) once three quarters
/// of it stand empty; small maps are left alone.
fn shrink_if_sparse<K: Eq + Hash, V>(map: &mut HashMap<K, V>) {
    let capacity = map.capacity();
    if capacity > SMALL_MAP && capacity / 4 > map.len() {
        map.shrink_to(2 * map.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map_of(count: u32) -> HashMap<u32, u32> {
        (0..count).map(|k| (k, k)).collect()
    }

    /// A map that held 10,000 entries and keeps the first `left`.
    fn after_peak(left: u32) -> HashMap<u32, u32> {
        let mut map = map_of(10_000);
        map.retain(|k, _| *k < left);
        map
    }

    #[test]
    fn a_map_left_mostly_empty_by_a_peak_gives_its_room_back() {
        let mut map = after_peak(100);
        let peak = map.capacity();
        shrink_if_sparse(&mut map);
        assert!(map.capacity() < peak / 10, "{} of {peak}", map.capacity());
        assert!(
            map.capacity() >= 200,
            "room for the entities that come back"
        );
        assert_eq!(map.len(), 100);
        assert!((0..100).all(|k| map.get(&k) == Some(&k)));
    }

    #[test]
    fn a_map_in_use_or_small_is_left_as_it_is() {
        let mut busy = after_peak(5_000);
        let capacity = busy.capacity();
        shrink_if_sparse(&mut busy);
        assert_eq!(busy.capacity(), capacity);

        let mut small = map_of(SMALL_MAP as u32 / 2);
        small.clear();
        let capacity = small.capacity();
        shrink_if_sparse(&mut small);
        assert_eq!(small.capacity(), capacity);
    }
}
