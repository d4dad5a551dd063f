//! What a node reads from its parts for each scrape of `/metrics` ([`Sample`]): the figures
//! that live elsewhere already (actors, leases, checkpoints, the outbox, the Kafka producer)
//! are read when asked rather than counted twice.
//!
//! The projections' and sagas' figures come only from the node that runs the projections (on a
//! single node, itself): in a cluster the other nodes would report the same stored checkpoints
//! again, and an alert on them would fire once per node.

use std::{sync::Arc, time::Duration};

use engine::{
    runtime::Engine,
    telemetry::{KafkaSample, Metrics, ProjectionSample, SagaSample, Sample},
};
use projections::KafkaPublisher;

use crate::{node::Node, projection_host::ProjectionHost};

/// How long one part may take to answer a scrape; a part that does not is left out of it.
const PART_TIMEOUT: Duration = Duration::from_secs(2);

/// Reads a node's [`Sample`] (cheap to clone).
#[derive(Clone)]
pub struct NodeSampler {
    engine: Engine,
    projections: Arc<ProjectionHost>,
    kafka: Option<Arc<KafkaPublisher>>,
    keeper: Option<Arc<cluster::ShardKeeper>>,
}

impl NodeSampler {
    /// The sampler of `node`.
    pub fn new(node: &Node) -> Self {
        Self {
            engine: node.engine().clone(),
            projections: node.projections(),
            kafka: node.kafka(),
            keeper: node.keeper(),
        }
    }

    /// The node's registry.
    pub fn metrics(&self) -> &Arc<Metrics> {
        self.engine.metrics()
    }

    /// Reads every part (each within [`PART_TIMEOUT`]).
    pub async fn sample(&self) -> Sample {
        let live_entities = within(self.engine.active_entities())
            .await
            .and_then(Result::ok)
            .map_or(0, |n| u64::try_from(n).unwrap_or(u64::MAX));
        let shards_held = match &self.keeper {
            Some(keeper) => keeper.held_shards().len() as u64,
            None => u64::from(self.engine.shard_count()),
        };
        let (projections, sagas) = if self.projections.handle().is_some() {
            (self.projections().await, self.sagas().await)
        } else {
            (Vec::new(), SagaSample::default())
        };
        let kafka = self.kafka.as_ref().map_or_else(KafkaSample::default, |k| {
            let m = k.metrics();
            KafkaSample {
                delivered: m.delivered,
                failed: m.failed,
                failed_batches: m.failed_batches,
                in_flight: m.in_flight,
            }
        });
        Sample {
            journal_queue: self.engine.journal_queue() as u64,
            live_entities,
            shards_held,
            projections,
            sagas,
            kafka,
        }
    }

    async fn projections(&self) -> Vec<ProjectionSample> {
        let Some(Ok(statuses)) = within(self.projections.status()).await else {
            return Vec::new();
        };
        statuses
            .into_iter()
            .map(|s| ProjectionSample {
                lag_events: s.events_behind,
                #[allow(clippy::cast_precision_loss)] // milliseconds far below 2^52
                lag_seconds: s.lag_ms.map(|ms| ms as f64 / 1000.0),
                failures: s.failures,
                name: s.name,
            })
            .collect()
    }

    async fn sagas(&self) -> SagaSample {
        let Some(Ok(outbox)) = within(self.projections.saga_outbox()).await else {
            return SagaSample::default();
        };
        #[allow(clippy::cast_precision_loss)] // milliseconds far below 2^52
        let lag_seconds = outbox.oldest_pending_at.map_or(0.0, |at| {
            (chrono::Utc::now() - at).num_milliseconds().max(0) as f64 / 1000.0
        });
        SagaSample {
            pending: outbox.pending,
            lag_seconds,
        }
    }
}

async fn within<T>(part: impl Future<Output = T>) -> Option<T> {
    tokio::time::timeout(PART_TIMEOUT, part).await.ok()
}
