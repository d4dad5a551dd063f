//! Database-independent parts of the stores: net timer changes, receipts, the steps of the key
//! changes, attributing a conflict to the batch input, and validating what is read back. Used
//! by [`super::postgres`] and [`super::sqlite`] so that both behave the same.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    AppendBatch, AppendReceipt, EventMetadata, JournalError, KEY_NAMESPACE, KeyChange, KeyPurpose,
    MasterKeyRecord, NewEvent, Result, StoredKey, TimerChange, UniqueClaim,
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

/// All releases of all batches, in order.
pub(super) fn all_releases(batches: &[AppendBatch]) -> impl Iterator<Item = &super::UniqueRelease> {
    batches.iter().flat_map(|b| &b.releases)
}

/// All claims of all batches, in order.
pub(super) fn all_claims(batches: &[AppendBatch]) -> impl Iterator<Item = &UniqueClaim> {
    batches.iter().flat_map(|b| &b.claims)
}

/// All key changes of all batches, in order.
pub(super) fn all_key_changes(batches: &[AppendBatch]) -> impl Iterator<Item = &KeyChange> {
    batches.iter().flat_map(|b| &b.keys)
}

/// All keys the batches create, in order.
pub(super) fn created_keys(batches: &[AppendBatch]) -> impl Iterator<Item = &StoredKey> {
    all_key_changes(batches).filter_map(|change| match change {
        KeyChange::Create(key) => Some(key),
        KeyChange::ShredSubject { .. } | KeyChange::ShredTenant { .. } => None,
    })
}

/// The master keys that wrap the keys the batches create: distinct, sorted (the order a store
/// locks them in).
pub(super) fn wrapping_master_keys(batches: &[AppendBatch]) -> Vec<&str> {
    let mut ids: Vec<&str> = created_keys(batches)
        .filter_map(|k| k.master_key_id.as_deref())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// The refusal of an append that creates a key wrapped by a retired master key.
pub(super) fn retired_master_key(id: &str) -> JournalError {
    JournalError::Unavailable(format!(
        "master key {id} is retired: restart this node with the current master key"
    ))
}

/// A key's name in a [`JournalError::UniqueViolation`] of [`KEY_NAMESPACE`]:
/// `<tenant_id>/<subject_id>/<purpose>/<version>`.
pub(super) fn key_name(
    tenant_id: TenantId,
    subject_id: Uuid,
    purpose: KeyPurpose,
    version: i32,
) -> String {
    format!(
        "{}/{}/{}/{version}",
        tenant_id.uuid().hyphenated(),
        subject_id.hyphenated(),
        purpose.as_str()
    )
}

/// The unique violation of creating `key`, which exists already.
pub(super) fn key_taken(key: &StoredKey) -> JournalError {
    JournalError::UniqueViolation {
        namespace: KEY_NAMESPACE.into(),
        key: key_name(key.tenant_id, key.subject_id, key.purpose, key.version),
        existing: None,
    }
}

/// One step of applying the key changes of an append; steps run in order.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum KeyStep<'a> {
    /// Insert these keys (consecutive creations, in order).
    Create(Vec<&'a StoredKey>),
    /// Shred a subject's data keys, leaving a tombstone if it had none.
    ShredSubject {
        /// Tenant.
        tenant_id: TenantId,
        /// Subject.
        subject_id: Uuid,
        /// When.
        at: DateTime<Utc>,
    },
    /// Shred every key of a tenant, leaving an index-key tombstone if it had none.
    ShredTenant {
        /// Tenant.
        tenant_id: TenantId,
        /// When.
        at: DateTime<Utc>,
    },
}

/// The key changes of all batches as steps: the changes in order, with consecutive creations
/// folded into one step (one statement where the store can insert many rows at once).
pub(super) fn key_steps(batches: &[AppendBatch]) -> Vec<KeyStep<'_>> {
    let mut steps = Vec::new();
    for change in all_key_changes(batches) {
        match change {
            KeyChange::Create(key) => match steps.last_mut() {
                Some(KeyStep::Create(keys)) => keys.push(key),
                _ => steps.push(KeyStep::Create(vec![key])),
            },
            KeyChange::ShredSubject {
                tenant_id,
                subject_id,
                at,
            } => steps.push(KeyStep::ShredSubject {
                tenant_id: *tenant_id,
                subject_id: *subject_id,
                at: *at,
            }),
            KeyChange::ShredTenant { tenant_id, at } => steps.push(KeyStep::ShredTenant {
                tenant_id: *tenant_id,
                at: *at,
            }),
        }
    }
    steps
}

/// The primary key of a key row.
type KeyId = (TenantId, Uuid, KeyPurpose, i32);

/// The first key the batches create over a row they wrote themselves: one they created before,
/// or the tombstone a shredding before it may have left (the subject's data key version 1, the
/// tenant's index key version 1). The batches alone can tell; used to attribute a clash when
/// the store cannot name the row.
pub(super) fn key_clash_within(batches: &[AppendBatch]) -> Option<&StoredKey> {
    let mut written: HashSet<KeyId> = HashSet::new();
    for change in all_key_changes(batches) {
        match change {
            KeyChange::Create(key) => {
                if !written.insert((key.tenant_id, key.subject_id, key.purpose, key.version)) {
                    return Some(key);
                }
            }
            KeyChange::ShredSubject {
                tenant_id,
                subject_id,
                ..
            } => {
                written.insert((*tenant_id, *subject_id, KeyPurpose::Data, 1));
            }
            KeyChange::ShredTenant { tenant_id, .. } => {
                written.insert((*tenant_id, tenant_id.uuid(), KeyPurpose::Index, 1));
            }
        }
    }
    None
}

/// A key row as read, before validation.
pub(super) struct KeyRow {
    pub tenant_id: Uuid,
    pub subject_id: Uuid,
    pub purpose: String,
    pub version: i64,
    pub wrapped: Option<Vec<u8>>,
    pub master_key_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub shredded_at: Option<DateTime<Utc>>,
}

/// Validates a stored key row: a known purpose, a version of at least 1, and key material
/// together with its master key's id exactly until the key was shredded.
pub(super) fn stored_key(row: KeyRow) -> Result<StoredKey> {
    let name = format!(
        "personal key {}/{}/{}/{}",
        row.tenant_id, row.subject_id, row.purpose, row.version
    );
    let purpose = KeyPurpose::parse(&row.purpose)
        .ok_or_else(|| corrupt(format!("{name} has an unknown purpose")))?;
    let version = i32::try_from(row.version)
        .ok()
        .filter(|v| *v >= 1)
        .ok_or_else(|| corrupt(format!("{name} has an invalid version")))?;
    if row.wrapped.is_some() != row.master_key_id.is_some() {
        return Err(corrupt(format!(
            "{name} has key material without a master key id or the reverse"
        )));
    }
    if row.master_key_id.as_deref() == Some("") {
        return Err(corrupt(format!("{name} has an empty master key id")));
    }
    if row.wrapped.is_some() == row.shredded_at.is_some() {
        return Err(corrupt(match row.shredded_at {
            Some(_) => format!("{name} is shredded but still has key material"),
            None => format!("{name} has no key material but is not shredded"),
        }));
    }
    Ok(StoredKey {
        tenant_id: TenantId(row.tenant_id),
        subject_id: row.subject_id,
        purpose,
        version,
        wrapped: row.wrapped,
        master_key_id: row.master_key_id,
        created_at: row.created_at,
        shredded_at: row.shredded_at,
    })
}

/// Validates a stored master key row (a non-empty id).
pub(super) fn master_key(record: MasterKeyRecord) -> Result<MasterKeyRecord> {
    if record.id.is_empty() {
        return Err(corrupt("a master key has an empty id"));
    }
    Ok(record)
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

    fn key(tenant_id: TenantId, subject_id: Uuid, purpose: KeyPurpose) -> StoredKey {
        StoredKey {
            tenant_id,
            subject_id,
            purpose,
            version: 1,
            wrapped: Some(vec![1; 60]),
            master_key_id: Some("mk".into()),
            created_at: DateTime::from_timestamp(0, 0).unwrap(),
            shredded_at: None,
        }
    }

    #[test]
    fn key_changes_run_in_order_with_creations_folded() {
        let tenant_id = TenantId::new_v7();
        let at = DateTime::from_timestamp(5, 0).unwrap();
        let (a, b, c) = (
            key(tenant_id, Uuid::now_v7(), KeyPurpose::Data),
            key(tenant_id, Uuid::now_v7(), KeyPurpose::Data),
            key(tenant_id, tenant_id.uuid(), KeyPurpose::Index),
        );
        let shred = KeyChange::ShredSubject {
            tenant_id,
            subject_id: a.subject_id,
            at,
        };
        let batches = [
            AppendBatch {
                keys: vec![KeyChange::Create(a.clone())],
                ..Default::default()
            },
            AppendBatch {
                keys: vec![KeyChange::Create(b.clone()), shred],
                ..Default::default()
            },
            AppendBatch {
                keys: vec![
                    KeyChange::Create(c.clone()),
                    KeyChange::ShredTenant { tenant_id, at },
                ],
                ..Default::default()
            },
        ];
        assert_eq!(
            key_steps(&batches),
            vec![
                KeyStep::Create(vec![&a, &b]),
                KeyStep::ShredSubject {
                    tenant_id,
                    subject_id: a.subject_id,
                    at
                },
                KeyStep::Create(vec![&c]),
                KeyStep::ShredTenant { tenant_id, at },
            ]
        );
        assert_eq!(created_keys(&batches).count(), 3);
        // c is created over nothing the batches wrote (the tenant is shredded after it).
        assert_eq!(key_clash_within(&batches), None);
        assert_eq!(
            key_taken(&a).to_string(),
            format!(
                "unique key {KEY_NAMESPACE}/{tenant_id}/{}/data/1 is taken",
                a.subject_id
            )
        );
    }

    #[test]
    fn finds_keys_the_batches_write_twice() {
        let tenant_id = TenantId::new_v7();
        let a = key(tenant_id, Uuid::now_v7(), KeyPurpose::Data);
        let index = key(tenant_id, tenant_id.uuid(), KeyPurpose::Index);
        let at = DateTime::from_timestamp(5, 0).unwrap();
        let in_order = |changes: Vec<KeyChange>| {
            [AppendBatch {
                keys: changes,
                ..Default::default()
            }]
        };
        let twice = in_order(vec![
            KeyChange::Create(a.clone()),
            KeyChange::Create(a.clone()),
        ]);
        assert_eq!(key_clash_within(&twice), Some(&a));
        let after_shred = in_order(vec![
            KeyChange::ShredSubject {
                tenant_id,
                subject_id: a.subject_id,
                at,
            },
            KeyChange::Create(a.clone()),
        ]);
        assert_eq!(key_clash_within(&after_shred), Some(&a));
        let after_tenant = in_order(vec![
            KeyChange::ShredTenant { tenant_id, at },
            KeyChange::Create(a.clone()),
            KeyChange::Create(index.clone()),
        ]);
        assert_eq!(key_clash_within(&after_tenant), Some(&index));
    }

    #[test]
    fn master_keys_of_new_keys_are_distinct_and_sorted() {
        let tenant_id = TenantId::new_v7();
        let mut keys = Vec::new();
        for master in ["mk-b", "mk-a", "mk-b"] {
            let mut k = key(tenant_id, Uuid::now_v7(), KeyPurpose::Data);
            k.master_key_id = Some(master.into());
            keys.push(KeyChange::Create(k));
        }
        let mut tombstone = key(tenant_id, Uuid::now_v7(), KeyPurpose::Data);
        (tombstone.wrapped, tombstone.master_key_id) = (None, None);
        keys.push(KeyChange::Create(tombstone));
        let batches = [AppendBatch {
            keys,
            ..Default::default()
        }];
        assert_eq!(wrapping_master_keys(&batches), vec!["mk-a", "mk-b"]);
        assert!(wrapping_master_keys(&[AppendBatch::default()]).is_empty());
    }

    #[test]
    fn validates_stored_keys() {
        let at = DateTime::from_timestamp(5, 0).unwrap();
        let row = || KeyRow {
            tenant_id: Uuid::now_v7(),
            subject_id: Uuid::now_v7(),
            purpose: "data".into(),
            version: 1,
            wrapped: Some(vec![1; 60]),
            master_key_id: Some("mk".into()),
            created_at: at,
            shredded_at: None,
        };
        let live = stored_key(row()).unwrap();
        assert_eq!(
            (live.purpose, live.version, live.master_key_id.as_deref()),
            (KeyPurpose::Data, 1, Some("mk"))
        );
        let shredded = stored_key(KeyRow {
            wrapped: None,
            master_key_id: None,
            shredded_at: Some(at),
            purpose: "index".into(),
            ..row()
        })
        .unwrap();
        assert_eq!(
            (shredded.purpose, shredded.wrapped, shredded.shredded_at),
            (KeyPurpose::Index, None, Some(at))
        );
        let bad = [
            KeyRow {
                purpose: "bogus".into(),
                ..row()
            },
            KeyRow {
                version: 0,
                ..row()
            },
            KeyRow {
                version: -1,
                ..row()
            },
            KeyRow {
                version: i64::from(i32::MAX) + 1,
                ..row()
            },
            KeyRow {
                master_key_id: None,
                ..row()
            },
            KeyRow {
                master_key_id: Some(String::new()),
                ..row()
            },
            KeyRow {
                wrapped: None,
                ..row()
            },
            KeyRow {
                shredded_at: Some(at),
                ..row()
            },
            KeyRow {
                wrapped: None,
                master_key_id: None,
                ..row()
            },
        ];
        for row in bad {
            assert!(matches!(stored_key(row), Err(JournalError::Corrupt(_))));
        }
        assert!(matches!(
            master_key(MasterKeyRecord {
                id: String::new(),
                registered_at: at,
                retired_at: None
            }),
            Err(JournalError::Corrupt(_))
        ));
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
