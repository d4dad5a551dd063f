//! `entity.v1.AuditService`: the audit trail, read from the journal itself.

use entity_proto::v1::{self as pb, audit_service_server::AuditService};
use tonic::{Request, Response, Status};

use super::Shared;
use crate::{auth::Target, convert::reads};

/// The AuditService implementation.
#[derive(Clone)]
pub struct AuditApi {
    shared: Shared,
}

impl AuditApi {
    pub(super) fn new(shared: Shared) -> Self {
        Self { shared }
    }
}

#[tonic::async_trait]
impl AuditService for AuditApi {
    async fn list_audit_events(
        &self,
        request: Request<pb::ListAuditEventsRequest>,
    ) -> Result<Response<pb::ListAuditEventsResponse>, Status> {
        let (tenant_id, query) = reads::list_audit_events(request.get_ref())?;
        let page = self
            .shared
            .read_model(request, Target::tenant(tenant_id), |r| async move {
                r.audit_trail(tenant_id, &query.filter, &query.page, query.consistency)
                    .await
            })
            .await?;
        Ok(Response::new(pb::ListAuditEventsResponse {
            events: page.items.iter().map(reads::audit_event_to_proto).collect(),
            next_page_token: page.next_page_token.unwrap_or_default(),
        }))
    }
}
