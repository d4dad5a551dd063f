//! The saga outbox (`saga_steps`): one row per step, keyed by its request id. The same SQL for
//! both stores (`crate::sql`).

use chrono::{DateTime, Utc};
use engine::{
    domain::{StreamId, StreamKind, TenantId, TenantScopeCommand},
    journal::RecordedEvent,
};

use crate::{
    Error, Result,
    sql::{Arg, Row, Statement, insert_rows},
    store::{ReadStore, Tx},
};

/// A step to record.
#[derive(Clone, Debug)]
pub(super) struct NewStep {
    request_id: String,
    target: TenantId,
    source: TenantId,
    cause: StreamId,
    cause_sequence: i64,
    index: i64,
    command: Option<String>,
    at: DateTime<Utc>,
}

impl NewStep {
    /// Step `index` of the steps `cause` implies, for `target`.
    pub(super) fn caused_by(cause: &RecordedEvent, index: usize, target: TenantId) -> Self {
        Self {
            request_id: format!("saga/{}/{index}", cause.position),
            target,
            source: cause.tenant_id,
            cause: cause.stream,
            cause_sequence: cause.sequence,
            index: i64::try_from(index).unwrap_or(i64::MAX),
            command: None,
            at: cause.recorded_at,
        }
    }

    /// The compensation of a refused step: its command is stored (it holds no personal data).
    pub(super) fn compensating(
        refused: &SagaStepRow,
        target: TenantId,
        command: &TenantScopeCommand,
        at: DateTime<Utc>,
    ) -> Result<Self> {
        let command = serde_json::to_string(command)
            .map_err(|e| Error::Corrupt(format!("a compensation does not encode: {e}")))?;
        Ok(Self {
            request_id: format!("{}/compensation", refused.request_id),
            target,
            source: refused.source,
            cause: refused.cause,
            cause_sequence: refused.cause_sequence,
            index: refused.index,
            command: Some(command),
            at,
        })
    }

    fn values(self) -> Vec<Arg> {
        vec![
            self.request_id.into(),
            self.target.0.into(),
            self.source.0.into(),
            self.cause.kind.as_str().into(),
            self.cause.id.into(),
            self.cause_sequence.into(),
            self.index.into(),
            Arg::OptText(self.command),
            self.at.into(),
            self.at.into(),
        ]
    }
}

const INSERT: &str = "saga_steps (request_id, target_tenant, source_tenant, cause_stream_type, \
     cause_stream_id, cause_sequence, step_index, command, next_attempt_at, created_at)";

/// Records steps; a request id recorded before is left as it is.
pub(super) async fn record(tx: &mut Tx<'_>, steps: Vec<NewStep>) -> Result<()> {
    let rows = steps.into_iter().map(NewStep::values).collect();
    tx.run_all(&insert_rows(
        INSERT,
        "ON CONFLICT (request_id) DO NOTHING",
        rows,
    ))
    .await?;
    Ok(())
}

/// A step waiting to run (or, once done, its record).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SagaStepRow {
    /// `saga/<cause position>/<step>` (`…/compensation` for a compensation).
    pub request_id: String,
    /// The tenant that runs it.
    pub target: TenantId,
    /// The tenant whose event caused it.
    pub source: TenantId,
    /// The causing event's stream.
    pub cause: StreamId,
    /// The causing event's sequence.
    pub cause_sequence: i64,
    /// Which of the cause's steps.
    pub index: i64,
    /// A compensation's command (JSON); `None` for a step derived from its cause.
    pub command: Option<String>,
    /// Tries so far.
    pub attempts: i64,
    /// The last try's error.
    pub last_error: Option<String>,
}

impl SagaStepRow {
    fn from_row(row: &Row) -> Result<Self> {
        let kind = row.text("cause_stream_type")?;
        let kind = StreamKind::parse(&kind)
            .ok_or_else(|| Error::Corrupt(format!("unknown stream type {kind:?}")))?;
        Ok(Self {
            request_id: row.text("request_id")?,
            target: TenantId(row.uuid("target_tenant")?),
            source: TenantId(row.uuid("source_tenant")?),
            cause: StreamId::new(kind, row.uuid("cause_stream_id")?),
            cause_sequence: row.int("cause_sequence")?,
            index: row.int("step_index")?,
            command: row.opt_text("command")?,
            attempts: row.int("attempts")?,
            last_error: row.opt_text("last_error")?,
        })
    }
}

const COLUMNS: &str = "request_id, target_tenant, source_tenant, cause_stream_type, \
     cause_stream_id, cause_sequence, step_index, command, attempts, last_error";

/// Up to `limit` steps to try at `now`: of each target tenant, only its oldest step not done
/// (the order of its causes: a tenant's steps never overtake one another, so a suspension
/// retried with backoff is not passed by the reactivation that followed it), and only when
/// that step is due; the targets whose step has waited longest first.
///
/// One step per target and poll is also what keeps the outbox fair: a tenant whose cascades
/// flood it (or whose step fails again and again) holds back only its own later steps, never
/// another tenant's; and on a cluster, where each node runs only the targets it serves, other
/// nodes' backlogs take at most one row each of a node's batch.
pub async fn pending_steps(
    store: &ReadStore,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<SagaStepRow>> {
    let statement = Statement::new(
        format!(
            "SELECT {COLUMNS} FROM (\
                 SELECT {COLUMNS}, next_attempt_at, \
                     ROW_NUMBER() OVER (PARTITION BY target_tenant \
                         ORDER BY created_at, cause_sequence, step_index, request_id) AS turn \
                 FROM saga_steps WHERE done_at IS NULL\
             ) AS heads \
             WHERE turn = 1 AND next_attempt_at <= $1 \
             ORDER BY next_attempt_at, request_id LIMIT $2"
        ),
        vec![now.into(), limit.into()],
    );
    store
        .fetch(&statement)
        .await?
        .iter()
        .map(SagaStepRow::from_row)
        .collect()
}

/// Every step, done or not, in request-id order (tests and operators).
pub async fn all_steps(store: &ReadStore) -> Result<Vec<(SagaStepRow, Option<String>)>> {
    let statement = Statement::new(
        format!("SELECT {COLUMNS}, outcome FROM saga_steps ORDER BY created_at, request_id"),
        vec![],
    );
    store
        .fetch(&statement)
        .await?
        .iter()
        .map(|row| Ok((SagaStepRow::from_row(row)?, row.opt_text("outcome")?)))
        .collect()
}

/// Marks a step done with its outcome.
pub(super) async fn finish(
    store: &ReadStore,
    request_id: &str,
    outcome: &str,
    at: DateTime<Utc>,
) -> Result<()> {
    let mut tx = store.begin().await?;
    tx.run(&done(request_id, outcome, at)).await?;
    tx.commit().await
}

/// Marks a step done and records its compensation, in one transaction.
pub(super) async fn finish_with(
    store: &ReadStore,
    request_id: &str,
    outcome: &str,
    compensation: NewStep,
    at: DateTime<Utc>,
) -> Result<()> {
    let mut tx = store.begin().await?;
    record(&mut tx, vec![compensation]).await?;
    tx.run(&done(request_id, outcome, at)).await?;
    tx.commit().await
}

fn done(request_id: &str, outcome: &str, at: DateTime<Utc>) -> Statement {
    Statement::new(
        "UPDATE saga_steps SET done_at = $2, outcome = $3 WHERE request_id = $1",
        vec![request_id.into(), at.into(), outcome.into()],
    )
}

/// Records a failed try: the next one is due at `next`.
pub(super) async fn retry_at(
    store: &ReadStore,
    request_id: &str,
    error: &str,
    next: DateTime<Utc>,
) -> Result<()> {
    let mut tx = store.begin().await?;
    tx.run(&Statement::new(
        "UPDATE saga_steps SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3 \
         WHERE request_id = $1",
        vec![request_id.into(), error.into(), next.into()],
    ))
    .await?;
    tx.commit().await
}

/// The outbox at a glance: what operators watch (`ListProjections`, `entityd projections
/// status`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutboxStatus {
    /// Steps not done yet.
    pub pending: i64,
    /// Of those, steps that failed at least once (retried with backoff).
    pub retrying: i64,
    /// When the oldest pending step was recorded.
    pub oldest_pending_at: Option<DateTime<Utc>>,
    /// The oldest pending step's last error, if it failed.
    pub oldest_error: Option<String>,
}

/// Counts the pending steps and names the oldest (two indexed reads).
pub async fn outbox_status(store: &ReadStore) -> Result<OutboxStatus> {
    let counts = Statement::new(
        "SELECT COUNT(*) AS pending, COUNT(last_error) AS retrying FROM saga_steps \
         WHERE done_at IS NULL",
        vec![],
    );
    let oldest = Statement::new(
        "SELECT created_at, last_error FROM saga_steps WHERE done_at IS NULL \
         ORDER BY next_attempt_at, request_id LIMIT 1",
        vec![],
    );
    let mut status = OutboxStatus::default();
    if let Some(row) = store.fetch(&counts).await?.first() {
        status.pending = row.int("pending")?;
        status.retrying = row.int("retrying")?;
    }
    if let Some(row) = store.fetch(&oldest).await?.first() {
        status.oldest_pending_at = Some(row.time("created_at")?);
        status.oldest_error = row.opt_text("last_error")?;
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;
    use engine::domain::ClientId;

    use super::*;

    fn step(target: TenantId, n: i64, at: DateTime<Utc>) -> NewStep {
        NewStep {
            request_id: format!("saga/{target}/{n:05}"),
            target,
            source: TenantId(uuid::Uuid::from_u128(1)),
            cause: StreamId::new(StreamKind::Client, ClientId(uuid::Uuid::from_u128(2)).0),
            cause_sequence: n + 1,
            index: 0,
            command: None,
            at,
        }
    }

    fn targets(steps: &[SagaStepRow]) -> Vec<(TenantId, i64)> {
        steps.iter().map(|s| (s.target, s.cause_sequence)).collect()
    }

    /// One tenant's flood and its failing head hold back only its own steps; each tenant's
    /// steps run in the order of their causes.
    #[tokio::test]
    async fn a_flooding_or_failing_tenant_holds_back_only_itself() {
        let dir = tempfile::tempdir().unwrap();
        let journal = engine::testing::sqlite_journal(dir.path()).await;
        let store = ReadStore::sqlite(&journal);
        let (flood, quiet) = (
            TenantId(uuid::Uuid::from_u128(10)),
            TenantId(uuid::Uuid::from_u128(20)),
        );
        let t0 = Utc::now() - TimeDelta::seconds(60);
        let mut steps: Vec<NewStep> = (0..500)
            .map(|n| step(flood, n, t0 + TimeDelta::milliseconds(n)))
            .collect();
        // the quiet tenant's step comes after the whole flood
        steps.push(step(quiet, 0, t0 + TimeDelta::seconds(1)));
        let mut tx = store.begin().await.unwrap();
        record(&mut tx, steps).await.unwrap();
        tx.commit().await.unwrap();

        let now = Utc::now();
        let due = pending_steps(&store, now, 10).await.unwrap();
        assert_eq!(targets(&due), [(flood, 1), (quiet, 1)]);

        // the flood's head fails and waits: the quiet tenant still runs, the flood's next
        // step does not overtake its head
        let head = &due[0].request_id;
        retry_at(&store, head, "unavailable", now + TimeDelta::seconds(30))
            .await
            .unwrap();
        let due = pending_steps(&store, now, 10).await.unwrap();
        assert_eq!(targets(&due), [(quiet, 1)]);
        let status = outbox_status(&store).await.unwrap();
        assert_eq!((status.pending, status.retrying), (501, 1));

        // once the head is done, the flood's next step is the one offered
        finish(&store, head, "done", now).await.unwrap();
        let due = pending_steps(&store, now, 10).await.unwrap();
        assert_eq!(targets(&due), [(flood, 2), (quiet, 1)]);
    }
}
