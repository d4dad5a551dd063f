//! One journal read shared by the projections that stand at the same checkpoint.
//!
//! The projections of a node usually move in step: each reads the same batch after the same
//! checkpoint. The feed makes the first of them read it and hands the others a copy, so the
//! journal is read once per batch instead of once per projection. A cached read is only reused
//! while it is fresh; reusing an older one is still correct (a gap-safe read only ever grows
//! at its end), it merely makes a projection apply a shorter batch and read again at once.

use std::{sync::Arc, time::Duration};

use engine::journal::{CommitToken, RecordedEvent, tail::JournalTail};
use tokio::{sync::Mutex, time::Instant};

use crate::Result;

/// How long one read serves the other projections.
const FRESH: Duration = Duration::from_millis(10);

/// The journal tail, read once per batch for every projection at the same checkpoint.
pub(crate) struct TailFeed {
    tail: Arc<dyn JournalTail>,
    /// The last non-empty read; the lock also makes concurrent readers wait for one read.
    last: Mutex<Option<Read>>,
}

struct Read {
    after: CommitToken,
    limit: i64,
    events: Arc<[RecordedEvent]>,
    at: Instant,
}

impl TailFeed {
    pub(crate) fn new(tail: Arc<dyn JournalTail>) -> Self {
        Self {
            tail,
            last: Mutex::new(None),
        }
    }

    /// At most `limit` committed events after `after`, as
    /// [`JournalTail::read_committed`] returns them.
    pub(crate) async fn read(&self, after: CommitToken, limit: i64) -> Result<Vec<RecordedEvent>> {
        let mut last = self.last.lock().await;
        if let Some(read) = last.as_ref()
            && read.after == after
            && read.limit >= limit
            && read.at.elapsed() <= FRESH
        {
            let take = usize::try_from(limit).unwrap_or(usize::MAX);
            return Ok(read.events.iter().take(take).cloned().collect());
        }
        let events = self.tail.read_committed(after, limit).await?;
        // An empty read is not shared: a projection woken for a new write must look again.
        *last = (!events.is_empty()).then(|| Read {
            after,
            limit,
            events: events.clone().into(),
            at: Instant::now(),
        });
        Ok(events)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use async_trait::async_trait;
    use engine::journal::{JournalError, tail::JournalTail};
    use uuid::Uuid;

    use super::*;

    /// A tail of `n` fixed events that counts its reads.
    struct CountingTail {
        events: Vec<RecordedEvent>,
        reads: AtomicUsize,
    }

    #[async_trait]
    impl JournalTail for CountingTail {
        async fn read_committed(
            &self,
            after: CommitToken,
            limit: i64,
        ) -> std::result::Result<Vec<RecordedEvent>, JournalError> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            Ok(self
                .events
                .iter()
                .filter(|e| (e.transaction_id, e.position) > (after.transaction_id, after.position))
                .take(usize::try_from(limit).unwrap_or(0))
                .cloned()
                .collect())
        }
        async fn count_after(
            &self,
            _after: CommitToken,
            _cap: i64,
        ) -> std::result::Result<i64, JournalError> {
            Ok(0)
        }
        async fn head(&self) -> std::result::Result<Option<CommitToken>, JournalError> {
            Ok(None)
        }
        async fn locate(
            &self,
            events: &[(Uuid, i64)],
        ) -> std::result::Result<Vec<Option<CommitToken>>, JournalError> {
            Ok(vec![None; events.len()])
        }
    }

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

    fn feed(events: usize) -> (Arc<CountingTail>, TailFeed) {
        let tail = Arc::new(CountingTail {
            events: (1..=events as i64).map(event).collect(),
            reads: AtomicUsize::new(0),
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
        for _ in 0..5 {
            let events = feed.read(START, 500).await.unwrap();
            assert_eq!(events.len(), 5);
        }
        assert_eq!(tail.reads.load(Ordering::SeqCst), 1);
        // A smaller limit is served from the same read, cut to size.
        assert_eq!(feed.read(START, 2).await.unwrap().len(), 2);
        assert_eq!(tail.reads.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn another_checkpoint_a_larger_limit_or_an_old_read_go_to_the_journal() {
        let (tail, feed) = feed(5);
        feed.read(START, 2).await.unwrap();
        feed.read(START, 500).await.unwrap();
        assert_eq!(tail.reads.load(Ordering::SeqCst), 2, "larger limit");
        let after = CommitToken {
            transaction_id: 10,
            position: 3,
        };
        assert_eq!(feed.read(after, 500).await.unwrap().len(), 2);
        assert_eq!(tail.reads.load(Ordering::SeqCst), 3, "other checkpoint");
        tokio::time::sleep(FRESH * 2).await;
        feed.read(after, 500).await.unwrap();
        assert_eq!(tail.reads.load(Ordering::SeqCst), 4, "stale read");
    }

    #[tokio::test]
    async fn an_empty_read_is_never_reused() {
        let (tail, feed) = feed(0);
        assert!(feed.read(START, 500).await.unwrap().is_empty());
        assert!(feed.read(START, 500).await.unwrap().is_empty());
        assert_eq!(tail.reads.load(Ordering::SeqCst), 2);
    }
}
