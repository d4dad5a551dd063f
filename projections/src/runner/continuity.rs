//! Per-stream sequence continuity: every stream the runner sees must continue exactly where
//! it left off. A stream has one writer that commits its appends in order, so in the gap-safe
//! tail a stream's sequences arrive as 1, 2, 3, …; anything else means an event would be
//! skipped or applied twice, and the batch is refused (loudly, never skipped).
//!
//! The runner remembers the last sequence of the streams it has seen recently. For a stream it
//! does not remember whose first event is not sequence 1 (after a restart, or a stream silent
//! for a while), it asks the journal where the predecessor was written: it must sort at or
//! below the checkpoint, i.e. it was consumed before.
//!
//! The memory is kept in two generations of [`PERIOD`] each: a stream silent for two periods
//! is forgotten (and asked for again when it comes back, one query per batch for all such
//! streams), so the memory follows the streams written lately, not every stream ever written,
//! and an idle node gives it back (issue 14: RSS after passivation).

use std::{collections::HashMap, time::Duration};

use engine::journal::{CommitToken, RecordedEvent, tail::JournalTail};
use tokio::time::Instant;
use uuid::Uuid;

use crate::{Error, Result};

/// Streams remembered per generation at most; a full generation starts the next early.
const MAX_REMEMBERED_STREAMS: usize = 500_000;

/// How long a generation collects the streams consumed: a stream is remembered for one to two
/// periods after its last event.
pub(crate) const PERIOD: Duration = Duration::from_secs(30);

/// The last sequence consumed per stream, for the streams consumed lately.
#[derive(Debug)]
pub(crate) struct Continuity {
    /// Streams consumed in this generation.
    recent: HashMap<Uuid, i64>,
    /// Streams consumed in the generation before (and not since).
    older: HashMap<Uuid, i64>,
    /// When this generation started.
    since: Instant,
}

impl Default for Continuity {
    fn default() -> Self {
        Self {
            recent: HashMap::new(),
            older: HashMap::new(),
            since: Instant::now(),
        }
    }
}

/// The outcome of a verified batch: how many leading events continue their streams (to
/// apply, then [`Continuity::commit`]) and, if the batch stops short, why.
#[derive(Debug)]
pub(crate) struct Verified {
    heads: HashMap<Uuid, i64>,
    /// The length of the valid prefix of the batch.
    pub(crate) valid: usize,
    /// Why the event at `valid` was refused, when the batch stops short.
    pub(crate) refusal: Option<Error>,
}

impl Continuity {
    /// Forgets every stream (after a rebuild or a reload) and gives the memory back.
    pub(crate) fn clear(&mut self) {
        *self = Self::default();
    }

    /// Starts the next generation when this one has lasted [`PERIOD`]: the streams of the
    /// generation before that are forgotten. Called at every step of the runner, idle or not.
    pub(crate) fn age(&mut self, now: Instant) {
        if now.duration_since(self.since) >= PERIOD {
            self.next_generation(now);
        }
    }

    fn next_generation(&mut self, now: Instant) {
        self.older = std::mem::take(&mut self.recent);
        self.since = now;
    }

    /// The last sequence consumed of stream `id`, if remembered.
    fn last(&self, id: &Uuid) -> Option<i64> {
        self.recent.get(id).or_else(|| self.older.get(id)).copied()
    }

    /// Checks a batch read after `consumed`, without remembering it yet. The events before
    /// the first refused one stay applicable, so a projection stops exactly at a gap.
    ///
    /// A refusal is [`Error::StreamGap`] when a known stream does not continue with the next
    /// sequence, [`Error::StreamOutOfOrder`] when a new stream's predecessor was not consumed
    /// before.
    ///
    /// # Errors
    /// When the journal cannot be asked where a predecessor was written.
    pub(crate) async fn verify(
        &self,
        events: &[RecordedEvent],
        consumed: CommitToken,
        tail: &dyn JournalTail,
    ) -> Result<Verified> {
        let mut seen: HashMap<Uuid, i64> = HashMap::new();
        let mut unknown = Vec::new();
        let mut valid = events.len();
        let mut refusal = None;
        for (index, event) in events.iter().enumerate() {
            let id = event.stream.id;
            match seen.get(&id).copied().or_else(|| self.last(&id)) {
                Some(previous) if previous.checked_add(1) == Some(event.sequence) => {}
                Some(previous) => {
                    valid = index;
                    refusal = Some(Error::StreamGap {
                        stream: event.stream,
                        expected_after: previous,
                        found: event.sequence,
                        position: event.position,
                    });
                    break;
                }
                None if event.sequence == 1 => {}
                None => unknown.push(index),
            }
            seen.insert(id, event.sequence);
        }
        if !unknown.is_empty() {
            let keys: Vec<(Uuid, i64)> = unknown
                .iter()
                .map(|&i| (events[i].stream.id, events[i].sequence - 1))
                .collect();
            let found = tail.locate(&keys).await?;
            if let Some((index, predecessor)) = unknown
                .iter()
                .zip(found)
                .find(|(_, predecessor)| predecessor.is_none_or(|at| at > consumed))
            {
                let event = &events[*index];
                valid = *index;
                refusal = Some(Error::StreamOutOfOrder {
                    stream: event.stream,
                    sequence: event.sequence,
                    position: event.position,
                    predecessor,
                });
            }
        }
        let mut heads = HashMap::new();
        for event in &events[..valid] {
            heads.insert(event.stream.id, event.sequence);
        }
        Ok(Verified {
            heads,
            valid,
            refusal,
        })
    }

    /// Remembers a batch that was applied.
    pub(crate) fn commit(&mut self, verified: Verified) {
        if self.recent.len() + verified.heads.len() > MAX_REMEMBERED_STREAMS {
            self.next_generation(Instant::now());
        }
        self.recent.extend(verified.heads);
    }
}

#[cfg(test)]
mod tests {
    use engine::{
        domain::{StreamId, StreamKind, TenantId},
        journal::EventMetadata,
    };

    use super::*;
    use crate::runner::fake_tail::FakeTail;

    /// A journal that says every predecessor was written at position 1 (consumed before).
    fn journal() -> FakeTail {
        FakeTail {
            predecessor: Some(token(1)),
            ..FakeTail::default()
        }
    }

    fn token(position: i64) -> CommitToken {
        CommitToken {
            transaction_id: 1,
            position,
        }
    }

    fn event(stream: Uuid, sequence: i64, position: i64) -> RecordedEvent {
        RecordedEvent {
            position,
            transaction_id: 1,
            tenant_id: TenantId(Uuid::nil()),
            stream: StreamId {
                kind: StreamKind::User,
                id: stream,
            },
            sequence,
            event_type: "UserInvited".into(),
            schema_version: 1,
            payload: serde_json::Value::Null,
            metadata: EventMetadata::default(),
            recorded_at: chrono::Utc::now(),
        }
    }

    /// Verifies and commits `events`; says how often the journal was asked.
    async fn consume(
        continuity: &mut Continuity,
        journal: &FakeTail,
        events: &[RecordedEvent],
    ) -> usize {
        let before = journal.lookups();
        let verified = continuity.verify(events, token(1), journal).await.unwrap();
        assert!(verified.refusal.is_none(), "{:?}", verified.refusal);
        assert_eq!(verified.valid, events.len());
        continuity.commit(verified);
        journal.lookups() - before
    }

    #[tokio::test]
    async fn a_stream_is_remembered_for_a_period_after_its_last_event_and_then_forgotten() {
        let journal = journal();
        let mut continuity = Continuity::default();
        let start = continuity.since;
        let (quiet, busy) = (Uuid::now_v7(), Uuid::now_v7());
        let first = [event(quiet, 1, 2), event(busy, 1, 3)];
        assert_eq!(consume(&mut continuity, &journal, &first).await, 0);

        // One period on: both are remembered; only `busy` writes again.
        continuity.age(start + PERIOD);
        assert_eq!(
            consume(&mut continuity, &journal, &[event(busy, 2, 4)]).await,
            0
        );
        // Two periods on: `quiet` (silent for both) is forgotten, `busy` is not.
        continuity.age(start + PERIOD * 2);
        assert_eq!(continuity.last(&quiet), None);
        assert_eq!(continuity.last(&busy), Some(2));
        assert_eq!(
            consume(&mut continuity, &journal, &[event(busy, 3, 5)]).await,
            0
        );
        // A forgotten stream that writes again is checked against the journal, once per batch.
        let back = [event(quiet, 2, 6), event(quiet, 3, 7)];
        assert_eq!(consume(&mut continuity, &journal, &back).await, 1);
        assert_eq!(continuity.last(&quiet), Some(3));
    }

    #[tokio::test]
    async fn an_idle_runner_gives_the_memory_back_after_two_periods() {
        let journal = journal();
        let mut continuity = Continuity::default();
        let start = continuity.since;
        let events: Vec<RecordedEvent> = (0..1_000)
            .map(|i| event(Uuid::now_v7(), 1, i + 2))
            .collect();
        consume(&mut continuity, &journal, &events).await;
        assert!(continuity.recent.capacity() >= 1_000);

        continuity.age(start + PERIOD / 2);
        assert_eq!(continuity.recent.len(), 1_000, "not a period yet");
        continuity.age(start + PERIOD);
        continuity.age(start + PERIOD * 2);
        assert_eq!(continuity.recent.capacity(), 0);
        assert_eq!(continuity.older.capacity(), 0);
    }

    #[tokio::test]
    async fn a_full_generation_starts_the_next_one_early() {
        let journal = journal();
        let mut continuity = Continuity::default();
        let events: Vec<RecordedEvent> = (0..3).map(|i| event(Uuid::now_v7(), 1, i + 2)).collect();
        consume(&mut continuity, &journal, &events).await;
        continuity
            .recent
            .extend((0..MAX_REMEMBERED_STREAMS).map(|_| (Uuid::now_v7(), 1)));
        let next = [event(Uuid::now_v7(), 1, 9)];
        consume(&mut continuity, &journal, &next).await;
        assert_eq!(continuity.recent.len(), 1);
        assert_eq!(continuity.older.len(), MAX_REMEMBERED_STREAMS + 3);
        assert_eq!(continuity.last(&events[0].stream.id), Some(1));
    }
}
