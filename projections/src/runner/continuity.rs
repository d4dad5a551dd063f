//! Per-stream sequence continuity: every stream the runner sees must continue exactly where
//! it left off. A stream has one writer that commits its appends in order, so in the gap-safe
//! tail a stream's sequences arrive as 1, 2, 3, …; anything else means an event would be
//! skipped or applied twice, and the batch is refused (loudly, never skipped).
//!
//! The runner remembers the last sequence of the streams it has seen since it started (or
//! since a rebuild). For a stream it has not seen whose first event is not sequence 1 (after a
//! restart, say), it asks the journal where the predecessor was written: it must sort at or
//! below the checkpoint, i.e. it was consumed before.

use std::collections::HashMap;

use engine::journal::{CommitToken, RecordedEvent, tail::JournalTail};
use uuid::Uuid;

use crate::{Error, Result};

/// Streams remembered at most; beyond it the memory is dropped and the journal is asked
/// instead (correct either way, just more queries).
const MAX_REMEMBERED_STREAMS: usize = 1_000_000;

/// The last sequence consumed per stream.
#[derive(Debug, Default)]
pub(crate) struct Continuity {
    last: HashMap<Uuid, i64>,
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
    /// Forgets every stream (after a rebuild or a reload).
    pub(crate) fn clear(&mut self) {
        self.last.clear();
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
            match seen.get(&id).or_else(|| self.last.get(&id)).copied() {
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
        if self.last.len() + verified.heads.len() > MAX_REMEMBERED_STREAMS {
            self.last.clear();
        }
        self.last.extend(verified.heads);
    }
}
