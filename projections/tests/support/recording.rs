//! A projection wrapper that records, in the same transaction as the wrapped projection's
//! writes, every event it was given (PostgreSQL only): the delivery log proves exactly-once
//! and per-stream order. It can also fail or stall halfway through a batch on demand.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use async_trait::async_trait;
use engine::domain::StreamKind;
use projections::{Connection, Envelope, Error, Projection, Result, Tx};

/// Creates the delivery log table.
pub async fn create_log(pool: &sqlx::PgPool) {
    sqlx::query(
        "CREATE TABLE delivered (
             ord BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
             projection TEXT NOT NULL,
             position BIGINT NOT NULL,
             transaction_id BIGINT NOT NULL,
             stream_id UUID NOT NULL,
             sequence BIGINT NOT NULL
         )",
    )
    .execute(pool)
    .await
    .unwrap();
}

/// Wraps a projection (same name, same events).
pub struct Recording {
    pub inner: Arc<dyn Projection>,
    /// Batches to fail halfway through (applying half of them first) before succeeding.
    pub fail_batches: AtomicUsize,
    /// Sleep this long halfway through every batch (a window to kill the runner in).
    pub stall: Option<Duration>,
    /// Batches inside `apply` right now.
    pub in_flight: Arc<AtomicUsize>,
}

/// Counts a batch in flight until dropped (also when its task is aborted).
struct InFlight(Arc<AtomicUsize>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Recording {
    pub fn new(inner: Arc<dyn Projection>) -> Self {
        Self {
            inner,
            fail_batches: AtomicUsize::new(0),
            stall: None,
            in_flight: Arc::new(AtomicUsize::new(0)),
        }
    }
}

#[async_trait]
impl Projection for Recording {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn wants(&self, kind: StreamKind) -> bool {
        self.inner.wants(kind)
    }

    async fn apply(&self, tx: &mut Tx<'_>, events: &[Envelope]) -> Result<()> {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        let _in_flight = InFlight(self.in_flight.clone());
        let half = events.len() / 2;
        self.inner.apply(tx, &events[..half]).await?;
        for e in events {
            let Connection::Postgres(c) = tx.connection()? else {
                panic!("the delivery log is PostgreSQL only");
            };
            sqlx::query(
                "INSERT INTO delivered (projection, position, transaction_id, stream_id, sequence)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(self.name())
            .bind(e.recorded.position)
            .bind(i64::try_from(e.recorded.transaction_id).unwrap())
            .bind(e.recorded.stream.id)
            .bind(e.recorded.sequence)
            .execute(c)
            .await?;
        }
        if let Some(stall) = self.stall {
            tokio::time::sleep(stall).await;
        }
        if self
            .fail_batches
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(Error::Database(
                "injected failure halfway through a batch".into(),
            ));
        }
        self.inner.apply(tx, &events[half..]).await
    }

    async fn reset(&self, tx: &mut Tx<'_>) -> Result<()> {
        self.inner.reset(tx).await
    }
}

/// Checks the delivery log against the journal: every event a projection wants was delivered
/// to it exactly once, and each stream's events in sequence order.
pub async fn assert_exactly_once_in_order(
    pool: &sqlx::PgPool,
    projections: &[Arc<dyn Projection>],
    journal: &[engine::journal::RecordedEvent],
) {
    use sqlx::Row;
    for p in projections {
        let rows = sqlx::query(
            "SELECT position, stream_id, sequence FROM delivered WHERE projection = $1 ORDER BY ord",
        )
        .bind(p.name())
        .fetch_all(pool)
        .await
        .unwrap();
        let delivered: Vec<(i64, uuid::Uuid, i64)> = rows
            .iter()
            .map(|r| (r.get("position"), r.get("stream_id"), r.get("sequence")))
            .collect();
        let mut positions: Vec<i64> = delivered.iter().map(|d| d.0).collect();
        positions.sort_unstable();
        let mut wanted: Vec<i64> = journal
            .iter()
            .filter(|e| p.wants(e.stream.kind))
            .map(|e| e.position)
            .collect();
        wanted.sort_unstable();
        assert_eq!(
            positions.len(),
            wanted.len(),
            "{}: {} deliveries for {} events",
            p.name(),
            positions.len(),
            wanted.len()
        );
        assert_eq!(
            positions,
            wanted,
            "{}: deliveries differ from the journal",
            p.name()
        );
        let mut last = std::collections::HashMap::new();
        for (position, stream, sequence) in delivered {
            let previous = last.insert(stream, sequence).unwrap_or(0);
            assert_eq!(
                sequence,
                previous + 1,
                "{}: stream {stream} got sequence {sequence} after {previous} (position {position})",
                p.name()
            );
        }
    }
}
