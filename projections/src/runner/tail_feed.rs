//! One journal read shared by the projections that stand at the same checkpoint.
//!
//! The projections of a node usually move in step: each reads the same batch after the same
//! checkpoint, and idle ones poll on the same clock ticks. The feed lets one of them read and
//! hands the others a copy, so the journal is read once per batch (and once per idle tick)
//! instead of once per projection.
//!
//! A caller says from when it needs news (`fresh_from`): a read that *started* at or after
//! that instant is as good as its own, so it is reused; an older one is not. That keeps a
//! projection woken for a new write (its `fresh_from` is the wake-up) from being handed a read
//! made before the write, while projections woken by the same tick share one read. (Reusing an
//! older non-empty read would still be correct — a gap-safe read only grows at its end — but
//! would make the projection apply a shorter batch.)

use std::sync::Arc;

use engine::journal::{CommitToken, RecordedEvent, tail::JournalTail};
use tokio::{sync::Mutex, time::Instant};

use crate::Result;

/// The journal tail, read once for every projection at the same checkpoint.
pub(crate) struct TailFeed {
    tail: Arc<dyn JournalTail>,
    /// The last read; the lock also makes concurrent readers wait for one read.
    last: Mutex<Option<Read>>,
}

struct Read {
    after: CommitToken,
    limit: i64,
    events: Arc<[RecordedEvent]>,
    started: Instant,
}

/// What [`TailFeed::read`] returns: the events and when the read that found them started.
pub(crate) struct Batch {
    pub events: Vec<RecordedEvent>,
    pub started: Instant,
}

impl TailFeed {
    pub(crate) fn new(tail: Arc<dyn JournalTail>) -> Self {
        Self {
            tail,
            last: Mutex::new(None),
        }
    }

    /// At most `limit` committed events after `after`, as [`JournalTail::read_committed`]
    /// returns them, from a read that started no earlier than `fresh_from`.
    pub(crate) async fn read(
        &self,
        after: CommitToken,
        limit: i64,
        fresh_from: Instant,
    ) -> Result<Batch> {
        let mut last = self.last.lock().await;
        if let Some(read) = last.as_ref()
            && read.after == after
            && read.limit >= limit
            && read.started >= fresh_from
        {
            let take = usize::try_from(limit).unwrap_or(usize::MAX);
            return Ok(Batch {
                events: read.events.iter().take(take).cloned().collect(),
                started: read.started,
            });
        }
        let started = Instant::now();
        let events = self.tail.read_committed(after, limit).await?;
        *last = Some(Read {
            after,
            limit,
            events: events.clone().into(),
            started,
        });
        Ok(Batch { events, started })
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use crate::runner::fake_tail::FakeTail;

    fn event(position: i64) -> RecordedEvent {
        RecordedEvent {
            position,
            transaction_id: 10,
            tenant_id: engine::domain::TenantId(Uuid::nil()),
            stream: engine::domain::StreamId {
                kind: engine::domain::StreamKind::Tenant,
                id: Uuid::nil(),
            },
            sequence: position,
            event_type: "TenantCreated".into(),
            schema_version: 1,
            payload: serde_json::Value::Null,
            metadata: engine::journal::EventMetadata::default(),
            recorded_at: chrono::Utc::now(),
        }
    }

    fn feed(events: usize) -> (Arc<FakeTail>, TailFeed) {
        let tail = Arc::new(FakeTail {
            events: (1..=events as i64).map(event).collect(),
            ..FakeTail::default()
        });
        (tail.clone(), TailFeed::new(tail))
    }

    const START: CommitToken = CommitToken {
        transaction_id: 0,
        position: 0,
    };

    #[tokio::test]
    async fn projections_at_one_checkpoint_share_one_read() {
        let (tail, feed) = feed(5);
        let tick = Instant::now();
        for _ in 0..5 {
            let batch = feed.read(START, 500, tick).await.unwrap();
            assert_eq!(batch.events.len(), 5);
        }
        assert_eq!(tail.reads(), 1);
        // A smaller limit is served from the same read, cut to size.
        assert_eq!(feed.read(START, 2, tick).await.unwrap().events.len(), 2);
        assert_eq!(tail.reads(), 1);
    }

    #[tokio::test]
    async fn a_read_older_than_the_caller_needs_is_not_reused() {
        let (tail, feed) = feed(5);
        let first = feed.read(START, 500, Instant::now()).await.unwrap();
        // A projection woken after that read (say, for a new write) reads again.
        let woken = Instant::now();
        let again = feed.read(START, 500, woken).await.unwrap();
        assert_eq!(tail.reads(), 2);
        assert!(again.started >= woken && first.started < woken);
        // ...and one that needs news since the first read may share the second.
        feed.read(START, 500, first.started).await.unwrap();
        assert_eq!(tail.reads(), 2);
    }

    #[tokio::test]
    async fn another_checkpoint_or_a_larger_limit_go_to_the_journal() {
        let (tail, feed) = feed(5);
        let tick = Instant::now();
        feed.read(START, 2, tick).await.unwrap();
        feed.read(START, 500, tick).await.unwrap();
        assert_eq!(tail.reads(), 2, "larger limit");
        let after = CommitToken {
            transaction_id: 10,
            position: 3,
        };
        assert_eq!(feed.read(after, 500, tick).await.unwrap().events.len(), 2);
        assert_eq!(tail.reads(), 3, "other checkpoint");
    }

    #[tokio::test]
    async fn idle_projections_woken_by_one_tick_share_an_empty_read() {
        let (tail, feed) = feed(0);
        let tick = Instant::now();
        for _ in 0..5 {
            assert!(feed.read(START, 500, tick).await.unwrap().events.is_empty());
        }
        assert_eq!(tail.reads(), 1);
    }
}
