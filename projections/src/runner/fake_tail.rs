//! A journal tail for the runner's unit tests: fixed events, reads and lookups counted.

use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use engine::journal::{CommitToken, JournalError, RecordedEvent, tail::JournalTail};
use uuid::Uuid;

/// Serves `events` (in order) and answers every predecessor lookup with `predecessor`.
#[derive(Default)]
pub(crate) struct FakeTail {
    pub events: Vec<RecordedEvent>,
    pub predecessor: Option<CommitToken>,
    pub reads: AtomicUsize,
    pub lookups: AtomicUsize,
}

impl FakeTail {
    pub fn reads(&self) -> usize {
        self.reads.load(Ordering::SeqCst)
    }

    pub fn lookups(&self) -> usize {
        self.lookups.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl JournalTail for FakeTail {
    async fn read_committed(
        &self,
        after: CommitToken,
        limit: i64,
    ) -> Result<Vec<RecordedEvent>, JournalError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        Ok(self
            .events
            .iter()
            .filter(|e| (e.transaction_id, e.position) > (after.transaction_id, after.position))
            .take(usize::try_from(limit).unwrap_or(0))
            .cloned()
            .collect())
    }
    async fn count_after(&self, _after: CommitToken, _cap: i64) -> Result<i64, JournalError> {
        Ok(0)
    }
    async fn head(&self) -> Result<Option<CommitToken>, JournalError> {
        Ok(None)
    }
    async fn locate(
        &self,
        events: &[(Uuid, i64)],
    ) -> Result<Vec<Option<CommitToken>>, JournalError> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        Ok(vec![self.predecessor; events.len()])
    }
}
