//! AnalyticsService: the `ExportChanges` request decoded and validated (every problem as a
//! field violation), and the history's rows as proto messages.

use chrono::{DateTime, Utc};
use engine::{domain::TenantId, journal::CommitToken};
use entity_proto::v1 as pb;
use projections::{AnalyticsChange, AnalyticsKind, ChangeOperation};
use tonic::Status;

use super::{Violations, timestamp};

/// Changes a call returns when the request names no cap.
pub const DEFAULT_MAX_CHANGES: usize = 10_000;
/// Most changes one call returns (a longer export is resumed by the next call).
pub const MAX_CHANGES: usize = 100_000;

/// Where an export starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Since {
    /// After this position (0: from the first change).
    Position(i64),
    /// From the first change recorded at or after this time.
    Time(DateTime<Utc>),
}

/// A validated `ExportChangesRequest`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Export {
    /// Only this tenant's changes; `None`: every tenant's.
    pub tenant: Option<TenantId>,
    pub since: Since,
    /// Only these kinds (empty: every kind).
    pub kinds: Vec<AnalyticsKind>,
    /// At most this many changes in the call.
    pub max_changes: usize,
    pub consistency: Option<CommitToken>,
}

/// Decodes `ExportChangesRequest`.
///
/// # Errors
/// INVALID_ARGUMENT naming every bad field: `tenant_id` (not a UUID), `since` (missing),
/// `after_position` (negative), `since_time` (not a timestamp), `entity_kinds[i]` (unknown,
/// or not a kind of the history), `max_changes` (negative or above [`MAX_CHANGES`]),
/// `consistency_token` (malformed).
pub fn export_changes(req: &pb::ExportChangesRequest) -> Result<Export, Status> {
    use pb::export_changes_request::Since as S;
    let mut v = Violations::default();
    let tenant = v.optional_id::<TenantId>("tenant_id", &req.tenant_id);
    let since = match req.since {
        None => {
            v.add(
                "since",
                "required: after_position (0: from the start) or since_time",
            );
            None
        }
        Some(S::AfterPosition(p)) if p < 0 => {
            v.add("after_position", "must not be negative");
            None
        }
        Some(S::AfterPosition(p)) => Some(Since::Position(p)),
        Some(S::SinceTime(t)) => v.timestamp("since_time", t).map(Since::Time),
    };
    let mut kinds = Vec::with_capacity(req.entity_kinds.len());
    for (i, kind) in req.entity_kinds.iter().enumerate() {
        match pb::EntityKind::try_from(*kind).ok().and_then(history_kind) {
            Some(kind) => kinds.push(kind),
            None => v.add(
                format!("entity_kinds[{i}]"),
                "must be tenant, client, organization, team, user, department, location or \
                 contact",
            ),
        }
    }
    let max_changes = match usize::try_from(req.max_changes) {
        Ok(0) => Some(DEFAULT_MAX_CHANGES),
        Ok(n) if n <= MAX_CHANGES => Some(n),
        _ => {
            v.add("max_changes", "must be between 0 (10,000) and 100,000");
            None
        }
    };
    let consistency = v.consistency_token(&req.consistency_token);
    v.finish()?;
    match (tenant, since, max_changes) {
        (Some(tenant), Some(since), Some(max_changes)) => Ok(Export {
            tenant,
            since,
            kinds,
            max_changes,
            consistency,
        }),
        // Each `None` recorded a violation, and `finish` returned it.
        _ => Err(Status::invalid_argument("invalid ExportChangesRequest")),
    }
}

/// The history's kind of a proto entity kind (`None` for kinds it does not record).
fn history_kind(kind: pb::EntityKind) -> Option<AnalyticsKind> {
    Some(match kind {
        pb::EntityKind::Tenant => AnalyticsKind::Tenant,
        pb::EntityKind::Client => AnalyticsKind::Client,
        pb::EntityKind::Organization => AnalyticsKind::Organization,
        pb::EntityKind::Team => AnalyticsKind::Team,
        pb::EntityKind::User => AnalyticsKind::User,
        pb::EntityKind::Department => AnalyticsKind::Department,
        pb::EntityKind::Location => AnalyticsKind::Location,
        pb::EntityKind::Contact => AnalyticsKind::Contact,
        pb::EntityKind::Unspecified
        | pb::EntityKind::Role
        | pb::EntityKind::Partition
        | pb::EntityKind::PartitionGroup
        | pb::EntityKind::ApiKey => return None,
    })
}

fn entity_kind(kind: AnalyticsKind) -> pb::EntityKind {
    match kind {
        AnalyticsKind::Tenant => pb::EntityKind::Tenant,
        AnalyticsKind::Client => pb::EntityKind::Client,
        AnalyticsKind::Organization => pb::EntityKind::Organization,
        AnalyticsKind::Team => pb::EntityKind::Team,
        AnalyticsKind::User => pb::EntityKind::User,
        AnalyticsKind::Department => pb::EntityKind::Department,
        AnalyticsKind::Location => pb::EntityKind::Location,
        AnalyticsKind::Contact => pb::EntityKind::Contact,
    }
}

fn operation(op: ChangeOperation) -> pb::ChangeOperation {
    match op {
        ChangeOperation::Create => pb::ChangeOperation::Create,
        ChangeOperation::Update => pb::ChangeOperation::Update,
        ChangeOperation::Delete => pb::ChangeOperation::Delete,
        ChangeOperation::Erase => pb::ChangeOperation::Erase,
    }
}

/// A row of the history as an `AnalyticsChange`.
pub fn change_to_proto(change: AnalyticsChange) -> pb::AnalyticsChange {
    pb::AnalyticsChange {
        position: change.position,
        tenant_id: change.tenant_id.to_string(),
        entity_kind: entity_kind(change.kind) as i32,
        entity_id: change.entity_id.to_string(),
        operation: operation(change.operation) as i32,
        version: change.version,
        event_id: change.event_id(),
        event_type: change.event_type,
        time: Some(timestamp(change.recorded_at)),
        state_json: change.state,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::convert::violation_fields;

    fn request(since: Option<pb::export_changes_request::Since>) -> pb::ExportChangesRequest {
        pb::ExportChangesRequest {
            since,
            ..Default::default()
        }
    }

    #[test]
    fn a_position_or_a_time_is_required_and_checked() {
        use pb::export_changes_request::Since as S;
        let ok = export_changes(&request(Some(S::AfterPosition(0)))).unwrap();
        assert_eq!(ok.since, Since::Position(0));
        assert_eq!(ok.tenant, None);
        assert_eq!(ok.max_changes, DEFAULT_MAX_CHANGES);
        let at = prost_types::Timestamp {
            seconds: 1_700_000_000,
            nanos: 5,
        };
        assert!(matches!(
            export_changes(&request(Some(S::SinceTime(at))))
                .unwrap()
                .since,
            Since::Time(_)
        ));
        for (since, field) in [
            (None, "since"),
            (Some(S::AfterPosition(-1)), "after_position"),
            (
                Some(S::SinceTime(prost_types::Timestamp {
                    seconds: 0,
                    nanos: -1,
                })),
                "since_time",
            ),
        ] {
            let err = export_changes(&request(since)).unwrap_err();
            assert_eq!(violation_fields(&err), [field]);
        }
    }

    #[test]
    fn every_bad_field_is_named() {
        let err = export_changes(&pb::ExportChangesRequest {
            tenant_id: "nope".into(),
            since: None,
            entity_kinds: vec![
                pb::EntityKind::User as i32,
                pb::EntityKind::Role as i32,
                0,
                99,
            ],
            max_changes: 100_001,
            consistency_token: "x".into(),
        })
        .unwrap_err();
        assert_eq!(
            violation_fields(&err),
            [
                "tenant_id",
                "since",
                "entity_kinds[1]",
                "entity_kinds[2]",
                "entity_kinds[3]",
                "max_changes",
                "consistency_token"
            ]
        );
        let ok = export_changes(&pb::ExportChangesRequest {
            tenant_id: uuid::Uuid::now_v7().to_string(),
            since: Some(pb::export_changes_request::Since::AfterPosition(7)),
            entity_kinds: vec![pb::EntityKind::Contact as i32],
            max_changes: MAX_CHANGES as i32,
            consistency_token: String::new(),
        })
        .unwrap();
        assert_eq!(ok.kinds, [AnalyticsKind::Contact]);
        assert_eq!(ok.max_changes, MAX_CHANGES);
        assert!(ok.tenant.is_some());
    }
}
