//! The analytics history (issue 20): one row per change of a tenant, client, organization,
//! team, user, department, location or contact, read in history order for export (see
//! `models::analytics` for what the rows hold).
//!
//! Reads are bounded: a page holds at most [`MAX_ANALYTICS_PAGE`] rows and looks at most at
//! [`ANALYTICS_SCAN_WINDOW`] positions, so a filter that matches rarely costs a bounded range
//! of the index per query, never a scan of the whole history.

use chrono::{DateTime, Duration, Utc};
use engine::{
    domain::{StreamKind, TenantId},
    journal::CommitToken,
};
use uuid::Uuid;

use super::ReadModels;
use crate::{
    Error, Result,
    models::names,
    sql::{Arg, Row, Statement, Text},
};

/// Most rows a page returns.
pub const MAX_ANALYTICS_PAGE: usize = 1_000;
/// Most positions one page query looks at (its range of the position index).
pub const ANALYTICS_SCAN_WINDOW: i64 = 10_000;
/// How far after the first change recorded at or after a `since` time an export still looks
/// for changes committed before it (events are stamped before their transaction commits, so
/// history order and time order differ by the time a commit takes).
pub const COMMIT_SKEW: Duration = Duration::seconds(10);

/// An entity kind of the history.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AnalyticsKind {
    /// A tenant.
    Tenant,
    /// A tenant's client.
    Client,
    /// An organization.
    Organization,
    /// A team.
    Team,
    /// A user.
    User,
    /// A department.
    Department,
    /// A location.
    Location,
    /// A contact.
    Contact,
}

impl AnalyticsKind {
    /// Every kind, in the order of the issue.
    pub const ALL: [AnalyticsKind; 8] = [
        AnalyticsKind::Tenant,
        AnalyticsKind::Client,
        AnalyticsKind::Organization,
        AnalyticsKind::Team,
        AnalyticsKind::User,
        AnalyticsKind::Department,
        AnalyticsKind::Location,
        AnalyticsKind::Contact,
    ];

    /// The stored (and exported) name: its stream type, e.g. `organization`.
    pub fn as_str(self) -> &'static str {
        self.stream_kind().as_str()
    }

    /// The kind of a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        StreamKind::parse(name).and_then(Self::of_stream)
    }

    /// The kind whose changes a stream records (`None`: none of the history's, e.g. roles,
    /// API keys, partitions, claims).
    pub fn of_stream(kind: StreamKind) -> Option<Self> {
        Some(match kind {
            StreamKind::Tenant => AnalyticsKind::Tenant,
            StreamKind::Client => AnalyticsKind::Client,
            StreamKind::Organization => AnalyticsKind::Organization,
            StreamKind::Team => AnalyticsKind::Team,
            StreamKind::User => AnalyticsKind::User,
            StreamKind::Department => AnalyticsKind::Department,
            StreamKind::Location => AnalyticsKind::Location,
            StreamKind::Contact => AnalyticsKind::Contact,
            StreamKind::Role
            | StreamKind::Partition
            | StreamKind::PartitionGroup
            | StreamKind::ApiKey
            | StreamKind::Claims => return None,
        })
    }

    /// The entity's stream kind.
    pub fn stream_kind(self) -> StreamKind {
        match self {
            AnalyticsKind::Tenant => StreamKind::Tenant,
            AnalyticsKind::Client => StreamKind::Client,
            AnalyticsKind::Organization => StreamKind::Organization,
            AnalyticsKind::Team => StreamKind::Team,
            AnalyticsKind::User => StreamKind::User,
            AnalyticsKind::Department => StreamKind::Department,
            AnalyticsKind::Location => StreamKind::Location,
            AnalyticsKind::Contact => StreamKind::Contact,
        }
    }
}

/// What a change did to its entity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChangeOperation {
    /// Its first event.
    Create,
    /// Any later event but a deletion or an erasure.
    Update,
    /// Its deletion (a contact's also erases the person's values).
    Delete,
    /// A person's or a whole tenant's erasure.
    Erase,
}

impl ChangeOperation {
    /// The stored (and exported) name.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeOperation::Create => "create",
            ChangeOperation::Update => "update",
            ChangeOperation::Delete => "delete",
            ChangeOperation::Erase => "erase",
        }
    }

    /// The operation of a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "create" => ChangeOperation::Create,
            "update" => ChangeOperation::Update,
            "delete" => ChangeOperation::Delete,
            "erase" => ChangeOperation::Erase,
            _ => return None,
        })
    }
}

/// One change: a row of the history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnalyticsChange {
    /// Its place in the history (1, 2, 3… in commit order): resume an export after it.
    pub position: i64,
    /// The entity's tenant.
    pub tenant_id: TenantId,
    /// The entity's kind.
    pub kind: AnalyticsKind,
    /// The entity's id.
    pub entity_id: Uuid,
    /// What the change did.
    pub operation: ChangeOperation,
    /// The entity's version after it.
    pub version: i64,
    /// The journal's event type, e.g. `UserInvited`.
    pub event_type: String,
    /// The entity's whole state after it, as JSON text (an erased person's values are "").
    pub state: String,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
}

impl AnalyticsChange {
    /// The event's id: `<entity id>:<version>`, as the audit trail and Kafka's `ce_id` name it.
    pub fn event_id(&self) -> String {
        format!("{}:{}", self.entity_id, self.version)
    }
}

/// Which rows a page of the history selects.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AnalyticsFilter {
    /// Only this tenant's rows.
    pub tenant: Option<TenantId>,
    /// Only these kinds (empty: every kind).
    pub kinds: Vec<AnalyticsKind>,
}

/// A page of the history: rows after a position, and where the next page starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnalyticsPage {
    /// The rows, in position order.
    pub changes: Vec<AnalyticsChange>,
    /// Where the next page starts (after this position): the last row's, or the end of the
    /// range the query looked at.
    pub resume_after: i64,
}

static START_TIME: Text = Text::new(
    "SELECT recorded_at FROM analytics_changes WHERE recorded_at >= $1::timestamptz \
     ORDER BY recorded_at, position LIMIT 1",
);
static START_POSITION: Text = Text::new(
    "SELECT COALESCE(MIN(position), 0) AS position FROM analytics_changes \
     WHERE recorded_at >= $1::timestamptz AND recorded_at <= $2::timestamptz",
);
static LAST_POSITION: Text =
    Text::new("SELECT COALESCE(MAX(position), 0) AS position FROM analytics_changes");

impl ReadModels {
    /// The newest position of the history (0 when it is empty), after waiting for
    /// `consistency` (the analytics projection has then applied that write).
    ///
    /// # Errors
    /// [`Error::Unavailable`] when the projection does not reach the token in time or the
    /// store is down.
    pub async fn analytics_end(&self, consistency: Option<CommitToken>) -> Result<i64> {
        self.ensure_consistent(&[names::ANALYTICS], consistency)
            .await?;
        let rows = self
            .store()
            .fetch(&Statement::query(&LAST_POSITION, vec![]))
            .await?;
        first_int(&rows, "position")
    }

    /// The position an export "since `time`" resumes after: just before the first change
    /// recorded at or after `time`, or before an earlier-positioned change recorded within
    /// [`COMMIT_SKEW`] after it (committed before it, stamped after it); the newest position
    /// when nothing was recorded since `time`.
    ///
    /// # Errors
    /// [`Error::Unavailable`] when the store is down.
    pub async fn analytics_position_at(&self, time: DateTime<Utc>) -> Result<i64> {
        let store = self.store();
        let first = store
            .fetch(&Statement::query(&START_TIME, vec![time.into()]))
            .await?;
        let Some(first) = first.first() else {
            let rows = store
                .fetch(&Statement::query(&LAST_POSITION, vec![]))
                .await?;
            return first_int(&rows, "position");
        };
        let until = first.time("recorded_at")? + COMMIT_SKEW;
        let rows = store
            .fetch(&Statement::query(
                &START_POSITION,
                vec![time.into(), until.into()],
            ))
            .await?;
        Ok((first_int(&rows, "position")? - 1).max(0))
    }

    /// The rows of `filter` after position `after` up to position `end`, in position order:
    /// at most `limit` rows (capped at [`MAX_ANALYTICS_PAGE`]) from at most
    /// [`ANALYTICS_SCAN_WINDOW`] positions.
    ///
    /// # Errors
    /// [`Error::Corrupt`] for a row this build cannot read; [`Error::Unavailable`] when the
    /// store is down.
    pub async fn analytics_page(
        &self,
        filter: &AnalyticsFilter,
        after: i64,
        end: i64,
        limit: usize,
    ) -> Result<AnalyticsPage> {
        let until = end.min(after.saturating_add(ANALYTICS_SCAN_WINDOW));
        if until <= after {
            return Ok(AnalyticsPage {
                changes: Vec::new(),
                resume_after: after,
            });
        }
        let limit = limit.clamp(1, MAX_ANALYTICS_PAGE);
        let mut sql = String::from(
            "SELECT position, tenant_id, entity_kind, entity_id, operation, version, \
             event_type, state, recorded_at FROM analytics_changes \
             WHERE position > $1 AND position <= $2",
        );
        let mut args: Vec<Arg> = vec![after.into(), until.into()];
        if let Some(tenant) = filter.tenant {
            args.push(tenant.0.into());
            sql.push_str(&format!(" AND tenant_id = ${}", args.len()));
        }
        let mut kinds = filter.kinds.clone();
        kinds.sort();
        kinds.dedup();
        if !kinds.is_empty() && kinds.len() < AnalyticsKind::ALL.len() {
            let first = args.len() + 1;
            args.extend(kinds.iter().map(|k| Arg::from(k.as_str())));
            sql.push_str(&format!(
                " AND entity_kind IN ({})",
                crate::sql::placeholders(kinds.len(), first)
            ));
        }
        args.push(i64::try_from(limit).unwrap_or(i64::MAX).into());
        sql.push_str(&format!(" ORDER BY position LIMIT ${}", args.len()));
        let rows = self.store().fetch(&Statement::new(sql, args)).await?;
        let changes = rows.iter().map(change).collect::<Result<Vec<_>>>()?;
        let resume_after = match changes.last() {
            Some(last) if changes.len() == limit => last.position,
            _ => until,
        };
        Ok(AnalyticsPage {
            changes,
            resume_after,
        })
    }
}

/// The integer column of the first row (0 without rows).
fn first_int(rows: &[Row], column: &str) -> Result<i64> {
    rows.first().map_or(Ok(0), |row| row.int(column))
}

fn change(row: &Row) -> Result<AnalyticsChange> {
    let kind = row.text("entity_kind")?;
    let operation = row.text("operation")?;
    Ok(AnalyticsChange {
        position: row.int("position")?,
        tenant_id: TenantId(row.uuid("tenant_id")?),
        kind: AnalyticsKind::parse(&kind).ok_or_else(|| {
            Error::Corrupt(format!("analytics_changes.entity_kind {kind:?} is unknown"))
        })?,
        entity_id: row.uuid("entity_id")?,
        operation: ChangeOperation::parse(&operation).ok_or_else(|| {
            Error::Corrupt(format!(
                "analytics_changes.operation {operation:?} is unknown"
            ))
        })?,
        version: row.int("version")?,
        event_type: row.text("event_type")?,
        state: row.text("state")?,
        recorded_at: row.time("recorded_at")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_their_streams() {
        for kind in AnalyticsKind::ALL {
            assert_eq!(AnalyticsKind::parse(kind.as_str()), Some(kind));
            assert_eq!(AnalyticsKind::of_stream(kind.stream_kind()), Some(kind));
        }
        for other in [
            "role",
            "partition",
            "partition_group",
            "api_key",
            "claims",
            "",
        ] {
            assert_eq!(AnalyticsKind::parse(other), None, "{other}");
        }
    }

    #[test]
    fn operations_round_trip() {
        for op in [
            ChangeOperation::Create,
            ChangeOperation::Update,
            ChangeOperation::Delete,
            ChangeOperation::Erase,
        ] {
            assert_eq!(ChangeOperation::parse(op.as_str()), Some(op));
        }
        assert_eq!(ChangeOperation::parse("upsert"), None);
    }
}
