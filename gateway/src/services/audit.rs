//! `entity.v1.AuditService`: the audit trail, read from the journal itself.
//!
//! Journal payloads hold personal values sealed (`pd1.…`, SPEC §6). Before a page leaves, its
//! events are opened with the node's [`Vault`] (one key lookup per page, keys dropped with
//! it): values read as plaintext, those of erased people as "" (the "erased" rendering). No
//! ciphertext ever reaches a caller.

use engine::{
    domain::TenantScopeEvent,
    journal::RecordedEvent,
    personal::{SEALED_SINCE_SCHEMA, Vault, cipher::SEALED_PREFIX},
};
use entity_proto::v1::{self as pb, audit_service_server::AuditService};
use tonic::{Request, Response, Status};

use super::Shared;
use crate::{auth::Target, convert::reads, status};

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
        let mut page = self
            .shared
            .read_model(request, Target::tenant(tenant_id), |r| async move {
                r.audit_trail(tenant_id, &query.filter, &query.page, query.consistency)
                    .await
            })
            .await?;
        open_personal_values(&self.shared.engine.vault(), &mut page.items).await?;
        Ok(Response::new(pb::ListAuditEventsResponse {
            events: page.items.iter().map(reads::audit_event_to_proto).collect(),
            next_page_token: page.next_page_token.unwrap_or_default(),
        }))
    }
}

/// Replaces the sealed personal values of `events` by their plaintext ("" for an erased
/// person, or for a value that does not authenticate, which the vault reports). Events written
/// before sealing existed hold plaintext and stay as they are.
///
/// # Errors
/// UNAVAILABLE when the keys cannot be read (store down, a master key this node lacks).
async fn open_personal_values(vault: &Vault, events: &mut [RecordedEvent]) -> Result<(), Status> {
    let mut decoded: Vec<(&mut RecordedEvent, TenantScopeEvent)> = Vec::new();
    for e in events.iter_mut() {
        if e.schema_version < SEALED_SINCE_SCHEMA {
            continue;
        }
        match TenantScopeEvent::from_stored(e.stream.kind, e.schema_version, e.payload.clone()) {
            Ok(event) => decoded.push((e, event)),
            Err(error) => {
                // Not an event this node knows: show it without any sealed value.
                tracing::error!(
                    position = e.position, event_type = %e.event_type, %error,
                    "audit event does not decode; its sealed values are hidden"
                );
                scrub_sealed(&mut e.payload);
            }
        }
    }
    let mut pairs: Vec<_> = decoded
        .iter_mut()
        .map(|(e, event)| (&mut **e, event))
        .collect();
    vault.open_stored(&mut pairs).await.map_err(|error| {
        tracing::warn!(%error, "cannot open the personal values of an audit page");
        status::unavailable("personal data keys are unavailable; retry")
    })
}

/// Blanks every sealed string of a JSON value.
fn scrub_sealed(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(s) if s.starts_with(SEALED_PREFIX) => s.clear(),
        serde_json::Value::Array(items) => items.iter_mut().for_each(scrub_sealed),
        serde_json::Value::Object(fields) => fields.values_mut().for_each(scrub_sealed),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrubbing_blanks_only_sealed_strings() {
        let mut v = serde_json::json!({
            "email": "pd1.abc",
            "name": "Engineering",
            "nested": [{"display_name": "pd1.x"}, 3, "plain"],
        });
        scrub_sealed(&mut v);
        assert_eq!(
            v,
            serde_json::json!({
                "email": "",
                "name": "Engineering",
                "nested": [{"display_name": ""}, 3, "plain"],
            })
        );
    }
}
