//! Database-independent parts of the stores: net timer changes, receipts, attributing a
//! conflict to the batch input, and validating what is read back. Used by [`super::postgres`]
//! and [`super::sqlite`] so that both behave the same.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    AppendBatch, AppendReceipt, EventMetadata, JournalError, NewEvent, Result, TimerChange,
    UniqueClaim,
};
use crate::domain::{StreamId, StreamKind, TenantId};

/// The net effect of the timer changes of one append: every `(tenant, kind)` appears at most
/// once, in either list.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct TimerPlan<'a> {
    /// Timers to insert or move.
    pub set: Vec<(TenantId, &'a str, DateTime<Utc>)>,
    /// Timers to remove.
    pub clear: Vec<(TenantId, &'a str)>,
}

/// Folds the timer changes of all batches, applied in batch and list order, into their net
/// effect: the last change of each `(tenant, kind)` wins. Lets a store apply them with one
/// statement per direction without ordering concerns.
pub(super) fn fold_timers(batches: &[AppendBatch]) -> TimerPlan<'_> {
    let mut last: Vec<(TenantId, &str, Option<DateTime<Utc>>)> = Vec::new();
    let mut index: HashMap<(TenantId, &str), usize> = HashMap::new();
    for change in batches.iter().flat_map(|b| &b.timers) {
        let (tenant_id, kind, due_at) = match change {
            TimerChange::Set {
                tenant_id,
                kind,
                due_at,
            } => (*tenant_id, kind.as_str(), Some(*due_at)),
            TimerChange::Clear { tenant_id, kind } => (*tenant_id, kind.as_str(), None),
        };
        match index.get(&(tenant_id, kind)) {
            Some(&i) => last[i].2 = due_at,
            None => {
                index.insert((tenant_id, kind), last.len());
                last.push((tenant_id, kind, due_at));
            }
        }
    }
    let mut plan = TimerPlan::default();
    for (tenant_id, kind, due_at) in last {
        match due_at {
            Some(due_at) => plan.set.push((tenant_id, kind, due_at)),
            None => plan.clear.push((tenant_id, kind)),
        }
    }
    plan
}

/// All events of all batches, in order.
pub(super) fn all_events(batches: &[AppendBatch]) -> impl Iterator<Item = &NewEvent> {
    batches.iter().flat_map(|b| &b.events)
}

/// All claims of all batches, in order.
pub(super) fn all_claims(batches: &[AppendBatch]) -> impl Iterator<Item = &UniqueClaim> {
    batches.iter().flat_map(|b| &b.claims)
}

/// Builds one receipt per batch from the positions the store assigned, keyed by
/// `(stream id, sequence)`. A batch without events gets positions 0.
pub(super) fn receipts(
    batches: &[AppendBatch],
    positions: &HashMap<(Uuid, i64), i64>,
    transaction_id: u64,
) -> Result<Vec<AppendReceipt>> {
    batches
        .iter()
        .map(|batch| {
            let mut first = None::<i64>;
            let mut last = None::<i64>;
            for event in &batch.events {
                let position = *positions
                    .get(&(event.stream.id, event.sequence))
                    .ok_or_else(|| {
                        JournalError::Corrupt(format!(
                            "store returned no position for {} sequence {}",
                            event.stream, event.sequence
                        ))
                    })?;
                first = Some(first.map_or(position, |p| p.min(position)));
                last = Some(last.map_or(position, |p| p.max(position)));
            }
            Ok(AppendReceipt {
                first_position: first.unwrap_or(0),
                last_position: last.unwrap_or(0),
                transaction_id,
            })
        })
        .collect()
}

/// The stream of the batches' events whose id is `stream_id`, if any.
pub(super) fn stream_of(batches: &[AppendBatch], stream_id: Uuid) -> Option<StreamId> {
    all_events(batches)
        .map(|e| e.stream)
        .find(|s| s.id == stream_id)
}

/// Checks that every stream's sequences within the batches are consecutive, and returns each
/// stream's first new sequence, in order of first appearance. A break (a gap or a repeat) is
/// a [`JournalError::StreamConflict`] on the sequence that does not follow.
pub(super) fn first_sequences(batches: &[AppendBatch]) -> Result<Vec<(StreamId, i64)>> {
    let mut last: HashMap<Uuid, i64> = HashMap::new();
    let mut firsts = Vec::new();
    for event in all_events(batches) {
        match last.get_mut(&event.stream.id) {
            Some(previous) => {
                if previous.checked_add(1) != Some(event.sequence) {
                    return Err(JournalError::StreamConflict {
                        stream: event.stream,
                        sequence: event.sequence,
                    });
                }
                *previous = event.sequence;
            }
            None => {
                last.insert(event.stream.id, event.sequence);
                firsts.push((event.stream, event.sequence));
            }
        }
    }
    Ok(firsts)
}

/// The first stream whose first new sequence does not follow its stored head (`head` gives 0
/// for a stream without events), as a [`JournalError::StreamConflict`].
pub(super) fn misplaced(
    firsts: &[(StreamId, i64)],
    head: impl Fn(Uuid) -> i64,
) -> Option<JournalError> {
    firsts
        .iter()
        .find(|(stream, first)| head(stream.id).checked_add(1) != Some(*first))
        .map(|&(stream, sequence)| JournalError::StreamConflict { stream, sequence })
}

/// The first unique key claimed twice by the batches themselves, if any.
pub(super) fn duplicate_claim(batches: &[AppendBatch]) -> Option<&UniqueClaim> {
    let mut seen = HashSet::new();
    all_claims(batches).find(|c| !seen.insert((c.namespace.as_str(), c.key.as_str())))
}

/// Metadata as read back.
pub(super) fn decode_metadata(value: serde_json::Value, position: i64) -> Result<EventMetadata> {
    serde_json::from_value(value)
        .map_err(|e| corrupt(format!("metadata of event {position} is invalid: {e}")))
}

/// A stored stream type.
pub(super) fn stream_kind(stored: &str, position: i64) -> Result<StreamKind> {
    StreamKind::parse(stored).ok_or_else(|| {
        corrupt(format!(
            "event {position} has unknown stream type {stored:?}"
        ))
    })
}

/// A stored global position (always positive).
pub(super) fn position(stored: i64) -> Result<i64> {
    if stored > 0 {
        Ok(stored)
    } else {
        Err(corrupt(format!("invalid global position {stored}")))
    }
}

/// A stored stream sequence (always positive).
pub(super) fn sequence(stored: i64, position: i64) -> Result<i64> {
    if stored > 0 {
        Ok(stored)
    } else {
        Err(corrupt(format!(
            "event {position} has invalid sequence {stored}"
        )))
    }
}

/// A stored transaction id (never negative).
pub(super) fn transaction_id(stored: i64) -> Result<u64> {
    u64::try_from(stored).map_err(|_| corrupt(format!("invalid transaction id {stored}")))
}

/// A stored snapshot position (never negative).
pub(super) fn snapshot_position(stored: i64) -> Result<i64> {
    if stored >= 0 {
        Ok(stored)
    } else {
        Err(corrupt(format!("invalid snapshot position {stored}")))
    }
}

/// A [`JournalError::Corrupt`].
pub(super) fn corrupt(message: impl Into<String>) -> JournalError {
    JournalError::Corrupt(message.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(tenant: TenantId, kind: &str, secs: i64) -> TimerChange {
        TimerChange::Set {
            tenant_id: tenant,
            kind: kind.into(),
            due_at: DateTime::from_timestamp(secs, 0).unwrap(),
        }
    }

    fn clear(tenant: TenantId, kind: &str) -> TimerChange {
        TimerChange::Clear {
            tenant_id: tenant,
            kind: kind.into(),
        }
    }

    #[test]
    fn last_timer_change_wins() {
        let (a, b) = (TenantId::new_v7(), TenantId::new_v7());
        let batches = [
            AppendBatch {
                timers: vec![set(a, "x", 1), clear(b, "x")],
                ..Default::default()
            },
            AppendBatch {
                timers: vec![clear(a, "x"), set(b, "x", 2)],
                ..Default::default()
            },
            AppendBatch {
                timers: vec![set(a, "y", 3), clear(a, "z")],
                ..Default::default()
            },
        ];
        let plan = fold_timers(&batches);
        assert_eq!(
            plan.set,
            vec![
                (b, "x", DateTime::from_timestamp(2, 0).unwrap()),
                (a, "y", DateTime::from_timestamp(3, 0).unwrap())
            ]
        );
        assert_eq!(plan.clear, vec![(a, "x"), (a, "z")]);
    }

    fn events(stream: StreamId, sequences: &[i64]) -> AppendBatch {
        let events = sequences
            .iter()
            .map(|&sequence| NewEvent {
                tenant_id: TenantId(stream.id),
                stream,
                sequence,
                event_type: "TenantCreated".into(),
                schema_version: 1,
                payload: serde_json::Value::Null,
                metadata: EventMetadata::default(),
                recorded_at: DateTime::from_timestamp(0, 0).unwrap(),
            })
            .collect();
        AppendBatch {
            events,
            ..Default::default()
        }
    }

    #[test]
    fn sequences_must_be_consecutive_within_an_append() {
        let a = StreamId::new(StreamKind::Tenant, Uuid::now_v7());
        let b = StreamId::new(StreamKind::Organization, Uuid::now_v7());
        let ok = [events(a, &[3, 4]), events(b, &[1]), events(a, &[5])];
        assert_eq!(first_sequences(&ok).unwrap(), vec![(a, 3), (b, 1)]);
        for bad in [
            vec![events(a, &[1, 3])],
            vec![events(a, &[1]), events(a, &[1])],
        ] {
            assert!(matches!(
                first_sequences(&bad),
                Err(JournalError::StreamConflict { stream, .. }) if stream == a
            ));
        }
    }

    #[test]
    fn first_sequences_must_follow_the_stored_head() {
        let a = StreamId::new(StreamKind::Tenant, Uuid::now_v7());
        let b = StreamId::new(StreamKind::Tenant, Uuid::now_v7());
        let head = |id: Uuid| if id == a.id { 2 } else { 0 };
        assert!(misplaced(&[(a, 3), (b, 1)], head).is_none());
        assert!(matches!(
            misplaced(&[(a, 3), (b, 2)], head),
            Some(JournalError::StreamConflict { stream, sequence: 2 }) if stream == b
        ));
        assert!(matches!(
            misplaced(&[(a, 2)], head),
            Some(JournalError::StreamConflict { stream, sequence: 2 }) if stream == a
        ));
    }

    #[test]
    fn empty_batches_get_zero_positions() {
        let receipts = receipts(&[AppendBatch::default()], &HashMap::new(), 9).unwrap();
        assert_eq!(
            receipts,
            vec![AppendReceipt {
                first_position: 0,
                last_position: 0,
                transaction_id: 9
            }]
        );
    }

    #[test]
    fn rejects_invalid_stored_values() {
        assert!(matches!(position(0), Err(JournalError::Corrupt(_))));
        assert!(matches!(sequence(-1, 5), Err(JournalError::Corrupt(_))));
        assert!(matches!(transaction_id(-3), Err(JournalError::Corrupt(_))));
        assert!(matches!(
            stream_kind("bogus", 1),
            Err(JournalError::Corrupt(_))
        ));
        let bad = serde_json::json!({ "actor": 5 });
        assert!(matches!(
            decode_metadata(bad, 1),
            Err(JournalError::Corrupt(_))
        ));
    }
}
