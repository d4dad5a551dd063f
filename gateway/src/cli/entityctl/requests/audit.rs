//! `entityctl audit …` requests.

use chrono::{DateTime, Utc};
use entity_proto::v1::{self as pb, audit_service_client::AuditServiceClient};

use super::listed;
use crate::{
    cli::entityctl::{
        Failure, Services,
        args::{AuditCommand, EntityKindArg},
        render::Rendered,
    },
    convert::timestamp,
};

list_rpcs! {
    pb::ListAuditEventsRequest: AuditServiceClient.list_audit_events -> events: pb::AuditEvent,
}

/// Runs an audit command.
pub(super) async fn run(
    services: &mut Services,
    command: AuditCommand,
) -> Result<Rendered, Failure> {
    let c = &mut services.audit;
    let rendered = match command {
        AuditCommand::List {
            tenant,
            entity_kind,
            entity_id,
            actor,
            since,
            until,
            page,
        } => {
            check_window(since, until)?;
            // clap guarantees --entity-kind and --entity-id together, and not with --actor.
            let entity = entity_kind.zip(entity_id).map(|(kind, id)| pb::EntityRef {
                kind: entity_kind_proto(kind) as i32,
                id,
            });
            let request = pb::ListAuditEventsRequest {
                tenant_id: tenant,
                entity,
                actor: actor.unwrap_or_default(),
                start_time: since.map(timestamp),
                end_time: until.map(timestamp),
                ..Default::default()
            };
            listed(c, request, page).await?
        }
    };
    Ok(rendered)
}

/// Refuses an empty time window (`--since` not before `--until`) before any call.
fn check_window(since: Option<DateTime<Utc>>, until: Option<DateTime<Utc>>) -> Result<(), Failure> {
    match (since, until) {
        (Some(since), Some(until)) if since >= until => Err(Failure::Usage(format!(
            "--since {} is not before --until {}",
            since.to_rfc3339(),
            until.to_rfc3339()
        ))),
        _ => Ok(()),
    }
}

fn entity_kind_proto(kind: EntityKindArg) -> pb::EntityKind {
    match kind {
        EntityKindArg::Tenant => pb::EntityKind::Tenant,
        EntityKindArg::Organization => pb::EntityKind::Organization,
        EntityKindArg::Team => pb::EntityKind::Team,
        EntityKindArg::User => pb::EntityKind::User,
        EntityKindArg::Role => pb::EntityKind::Role,
        EntityKindArg::Client => pb::EntityKind::Client,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_must_not_be_empty() {
        let t = |s: &str| s.parse::<DateTime<Utc>>().ok();
        assert!(check_window(t("2030-01-01T00:00:00Z"), t("2030-01-02T00:00:00Z")).is_ok());
        assert!(check_window(t("2030-01-01T00:00:00Z"), None).is_ok());
        assert!(check_window(None, t("2030-01-01T00:00:00Z")).is_ok());
        assert!(matches!(
            check_window(t("2030-01-02T00:00:00Z"), t("2030-01-01T00:00:00Z")),
            Err(Failure::Usage(_))
        ));
        assert!(check_window(t("2030-01-01T00:00:00Z"), t("2030-01-01T00:00:00Z")).is_err());
    }
}
