//! `entity.v1.AdminService`: operator calls about this node's projections (platform admins).

use entity_proto::v1::{self as pb, admin_service_server::AdminService};
use projections::ProjectionStatus;
use tonic::{Request, Response, Status};

use super::{Shared, strip};
use crate::{auth::Target, convert::timestamp, status};

/// The AdminService implementation.
#[derive(Clone)]
pub struct AdminApi {
    shared: Shared,
}

impl AdminApi {
    pub(super) fn new(shared: Shared) -> Self {
        Self { shared }
    }
}

#[tonic::async_trait]
impl AdminService for AdminApi {
    async fn list_projections(
        &self,
        request: Request<pb::ListProjectionsRequest>,
    ) -> Result<Response<pb::ListProjectionsResponse>, Status> {
        self.shared
            .authorize(strip(request), Target::default())
            .await?;
        let mut all = self
            .shared
            .projections
            .status()
            .await
            .map_err(status::from_read_error)?;
        all.sort_by(|a, b| a.name.cmp(&b.name));
        let outbox = self
            .shared
            .projections
            .saga_outbox()
            .await
            .map_err(status::from_read_error)?;
        let projections = all
            .iter()
            .map(|s| pb::ProjectionStatus {
                saga_outbox: (s.name == projections::saga::SAGAS).then(|| outbox_to_proto(&outbox)),
                ..status_to_proto(s)
            })
            .collect();
        Ok(Response::new(pb::ListProjectionsResponse { projections }))
    }

    async fn rebuild_projection(
        &self,
        request: Request<pb::RebuildProjectionRequest>,
    ) -> Result<Response<pb::RebuildProjectionResponse>, Status> {
        let name = request.get_ref().name.clone();
        if name.is_empty() {
            return Err(status::invalid_argument(&[
                engine::domain::FieldViolation::new("name", "required"),
            ]));
        }
        self.shared
            .authorize(strip(request), Target::default())
            .await?;
        self.shared
            .projections
            .rebuild(&name)
            .await
            .map_err(status::from_read_error)?;
        tracing::warn!(projection = %name, "projection rebuild requested over the admin API");
        Ok(Response::new(pb::RebuildProjectionResponse {}))
    }

    async fn get_node_status(
        &self,
        request: Request<pb::GetNodeStatusRequest>,
    ) -> Result<Response<pb::NodeStatus>, Status> {
        self.shared
            .authorize(strip(request), Target::default())
            .await?;
        let active = self
            .shared
            .engine
            .active_entities()
            .await
            .map_err(|e| status::from_engine_error(e, ""))?;
        Ok(Response::new(pb::NodeStatus {
            rss_bytes: engine::telemetry::process::resident_bytes().unwrap_or(0),
            active_entities: u64::try_from(active).unwrap_or(u64::MAX),
            uptime_seconds: self.shared.started.elapsed().as_secs(),
            kafka: self.shared.kafka.as_ref().map(|k| {
                let m = k.metrics();
                pb::KafkaStatus {
                    delivered: m.delivered,
                    failed: m.failed,
                    failed_batches: m.failed_batches,
                }
            }),
            cluster: self.shared.keeper.as_ref().map(|k| pb::ClusterMembership {
                node_id: k.node_id().to_owned(),
                shards_held: u32::try_from(k.held_shards().len()).unwrap_or(u32::MAX),
                runs_projections: self.shared.projections.handle().is_some(),
                fenced_refusals: self.shared.engine.fenced_refusals(),
            }),
            unreadable_personal_values: self.shared.engine.unreadable_personal_values(),
        }))
    }
}

/// A projection's status as its proto message.
fn status_to_proto(s: &ProjectionStatus) -> pb::ProjectionStatus {
    pb::ProjectionStatus {
        name: s.name.clone(),
        checkpoint: s.checkpoint.to_string(),
        events_behind: s.events_behind.unwrap_or(-1),
        events_behind_capped: s.behind_capped,
        lag_ms: s.lag_ms.unwrap_or(-1),
        newest_applied_time: s.newest_applied_at.map(timestamp),
        applied_events: s.applied_events,
        failures: s.failures,
        consecutive_failures: s.consecutive_failures,
        last_error: s.last_error.clone().unwrap_or_default(),
        saga_outbox: None,
    }
}

fn outbox_to_proto(o: &projections::saga::OutboxStatus) -> pb::SagaOutboxStatus {
    pb::SagaOutboxStatus {
        pending: o.pending,
        retrying: o.retrying,
        oldest_pending_time: o.oldest_pending_at.map(timestamp),
        oldest_error: o.oldest_error.clone().unwrap_or_default(),
    }
}
