//! The key table of personal data (`engine::journal::KeyStore` and `AppendBatch::keys`): the
//! contract both stores keep. Keys commit with their events or not at all, a key is never
//! created twice (not even after it was shredded), shredding destroys the key material for
//! good, retired master keys wrap no new key, and rotation rewraps under compare-and-set.
//!
//! Every behaviour is one async function generic over the store; `conformance!` runs each
//! against PostgreSQL (a fresh database in the server of `ENTITY_TEST_DATABASE_URL`, see
//! `scripts/test`) and against SQLite (a fresh file).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

#[path = "support/journal.rs"]
mod support;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use engine::{
    domain::{StreamId, TenantId},
    journal::{
        AppendBatch, GroupCommitConfig, GroupCommitWriter, Journal, JournalError, KEY_NAMESPACE,
        KeyChange, KeyPurpose, StoredKey,
    },
};
use futures::future::join_all;
use support::*;
use uuid::Uuid;

/// Everything these tests need from a store.
trait Store: Journal + Clone {}
impl<T: Journal + Clone> Store for T {}

macro_rules! conformance {
    ($($test:ident),* $(,)?) => {
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let db = engine::testing::TestDatabase::create().await;
                    super::$test(&db.journal().await).await;
                }
            )*
        }

        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let dir = tempfile::tempdir().unwrap();
                    super::$test(&engine::testing::sqlite_journal(dir.path()).await).await;
                }
            )*
        }
    };
}

conformance!(
    created_keys_read_back_and_are_never_created_twice,
    shredding_a_subject_destroys_its_data_keys_for_good,
    shredding_a_tenant_destroys_only_its_keys,
    retired_master_keys_wrap_no_new_key,
    rotation_rewraps_under_compare_and_set,
    group_commit_writer_isolates_a_taken_key,
    abandoning_a_lost_master_key_destroys_only_what_it_wrapped,
);

/// A live key wrapped by `master`, created now.
fn key(
    tenant_id: TenantId,
    subject_id: Uuid,
    purpose: KeyPurpose,
    version: i32,
    master: &str,
) -> StoredKey {
    StoredKey {
        tenant_id,
        subject_id,
        purpose,
        version,
        wrapped: Some(Uuid::new_v4().as_bytes().repeat(3)),
        master_key_id: Some(master.into()),
        created_at: now(),
        shredded_at: None,
    }
}

/// A tenant's index key wrapped by `master`.
fn index_key(tenant_id: TenantId, master: &str) -> StoredKey {
    key(tenant_id, tenant_id.uuid(), KeyPurpose::Index, 1, master)
}

/// A person's first data key wrapped by `master`.
fn data_key(tenant_id: TenantId, subject_id: Uuid, master: &str) -> StoredKey {
    key(tenant_id, subject_id, KeyPurpose::Data, 1, master)
}

/// The name a unique violation gives `key`.
fn name(key: &StoredKey) -> String {
    format!(
        "{}/{}/{}/{}",
        key.tenant_id,
        key.subject_id,
        key.purpose.as_str(),
        key.version
    )
}

/// A batch of one event on a new stream of `tenant_id`, with key changes; and that stream.
fn with_event(tenant_id: TenantId, keys: Vec<KeyChange>) -> (AppendBatch, StreamId) {
    let stream = organization_stream();
    let batch = AppendBatch {
        events: vec![event(tenant_id, stream, 1)],
        keys,
        ..Default::default()
    };
    (batch, stream)
}

/// Key changes only.
fn keys_only(keys: Vec<KeyChange>) -> AppendBatch {
    AppendBatch {
        keys,
        ..Default::default()
    }
}

fn shred_subject(tenant_id: TenantId, subject_id: Uuid, at: DateTime<Utc>) -> KeyChange {
    KeyChange::ShredSubject {
        tenant_id,
        subject_id,
        at,
    }
}

/// Sorted by primary key, for comparisons that do not depend on the read order.
fn sorted(mut keys: Vec<StoredKey>) -> Vec<StoredKey> {
    keys.sort_by_key(|k| (k.tenant_id, k.subject_id, k.purpose, k.version));
    keys
}

/// `key` as it reads after being shredded at `at`.
fn shredded(key: &StoredKey, at: DateTime<Utc>) -> StoredKey {
    StoredKey {
        wrapped: None,
        master_key_id: None,
        shredded_at: Some(at),
        ..key.clone()
    }
}

/// The tombstone a shredding leaves where there was no key.
fn tombstone(
    tenant_id: TenantId,
    subject_id: Uuid,
    purpose: KeyPurpose,
    at: DateTime<Utc>,
) -> StoredKey {
    StoredKey {
        tenant_id,
        subject_id,
        purpose,
        version: 1,
        wrapped: None,
        master_key_id: None,
        created_at: at,
        shredded_at: Some(at),
    }
}

/// Asserts that `result` is the unique violation of creating `key` again.
fn assert_taken<T: std::fmt::Debug>(result: Result<T, JournalError>, key: &StoredKey) {
    match result {
        Err(JournalError::UniqueViolation {
            namespace,
            key: taken,
            existing,
        }) => {
            assert_eq!(namespace, KEY_NAMESPACE);
            assert_eq!(taken, name(key));
            assert!(existing.is_none());
        }
        other => panic!(
            "expected a unique violation of {}, got {other:?}",
            name(key)
        ),
    }
}

async fn created_keys_read_back_and_are_never_created_twice<J: Store>(j: &J) {
    let tenant_id = TenantId::new_v7();
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    let created = vec![
        index_key(tenant_id, "mk-1"),
        data_key(tenant_id, a, "mk-1"),
        data_key(tenant_id, b, "mk-1"),
    ];
    let (batch, stream) = with_event(
        tenant_id,
        created.iter().cloned().map(KeyChange::Create).collect(),
    );
    j.append(&[batch]).await.unwrap();

    assert_eq!(j.read_stream(stream, 0).await.unwrap().len(), 1);
    assert_eq!(
        sorted(j.tenant_keys(tenant_id).await.unwrap()),
        sorted(created.clone())
    );
    assert_eq!(
        j.subject_keys(&[a]).await.unwrap(),
        vec![created[1].clone()]
    );
    assert_eq!(
        sorted(j.subject_keys(&[b, a, Uuid::now_v7()]).await.unwrap()),
        sorted(created[1..].to_vec())
    );
    assert_eq!(
        j.subject_keys(&[tenant_id.uuid()]).await.unwrap(),
        vec![created[0].clone()]
    );
    assert!(j.subject_keys(&[]).await.unwrap().is_empty());
    assert!(j.tenant_keys(TenantId::new_v7()).await.unwrap().is_empty());

    // The same key again, with other key material: refused, and none of the append is written.
    let again = data_key(tenant_id, a, "mk-2");
    let (batch, refused_stream) = with_event(
        tenant_id,
        vec![
            KeyChange::Create(key(tenant_id, a, KeyPurpose::Data, 2, "mk-1")),
            KeyChange::Create(again.clone()),
        ],
    );
    assert_taken(j.append(&[batch]).await, &again);
    assert!(j.read_stream(refused_stream, 0).await.unwrap().is_empty());
    assert_eq!(
        sorted(j.tenant_keys(tenant_id).await.unwrap()),
        sorted(created.clone())
    );

    // One key created twice within one append: the second loses, nothing is written.
    let c = Uuid::now_v7();
    let (first, first_stream) = with_event(
        tenant_id,
        vec![KeyChange::Create(data_key(tenant_id, c, "mk-1"))],
    );
    let twice = data_key(tenant_id, c, "mk-1");
    assert_taken(
        j.append(&[first, keys_only(vec![KeyChange::Create(twice.clone())])])
            .await,
        &twice,
    );
    assert!(j.read_stream(first_stream, 0).await.unwrap().is_empty());
    assert!(j.subject_keys(&[c]).await.unwrap().is_empty());

    // A new version is a new key.
    let second = key(tenant_id, a, KeyPurpose::Data, 2, "mk-2");
    j.append(&[keys_only(vec![KeyChange::Create(second.clone())])])
        .await
        .unwrap();
    assert_eq!(
        j.subject_keys(&[a]).await.unwrap(),
        vec![created[1].clone(), second]
    );
}

async fn shredding_a_subject_destroys_its_data_keys_for_good<J: Store>(j: &J) {
    let tenant_id = TenantId::new_v7();
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    let index = index_key(tenant_id, "mk-1");
    let a1 = data_key(tenant_id, a, "mk-1");
    let a2 = key(tenant_id, a, KeyPurpose::Data, 2, "mk-1");
    let b1 = data_key(tenant_id, b, "mk-1");
    j.append(&[keys_only(
        [&index, &a1, &a2, &b1]
            .into_iter()
            .cloned()
            .map(KeyChange::Create)
            .collect(),
    )])
    .await
    .unwrap();

    let at = in_seconds(-60);
    let (batch, stream) = with_event(tenant_id, vec![shred_subject(tenant_id, a, at)]);
    j.append(&[batch]).await.unwrap();
    assert_eq!(j.read_stream(stream, 0).await.unwrap().len(), 1);
    assert_eq!(
        j.subject_keys(&[a]).await.unwrap(),
        vec![shredded(&a1, at), shredded(&a2, at)]
    );
    assert_eq!(j.subject_keys(&[b]).await.unwrap(), vec![b1.clone()]);
    assert_eq!(
        j.subject_keys(&[tenant_id.uuid()]).await.unwrap(),
        vec![index.clone()]
    );

    // Idempotent: a second shredding keeps the first time and leaves no tombstone.
    j.append(&[keys_only(vec![shred_subject(tenant_id, a, now())])])
        .await
        .unwrap();
    assert_eq!(
        j.subject_keys(&[a]).await.unwrap(),
        vec![shredded(&a1, at), shredded(&a2, at)]
    );

    // A shredded key is never created again.
    let recreated = data_key(tenant_id, a, "mk-1");
    let (batch, refused) = with_event(tenant_id, vec![KeyChange::Create(recreated.clone())]);
    assert_taken(j.append(&[batch]).await, &recreated);
    assert!(j.read_stream(refused, 0).await.unwrap().is_empty());

    // A subject without a key gets a tombstone that refuses its first key.
    let c = Uuid::now_v7();
    j.append(&[keys_only(vec![shred_subject(tenant_id, c, at)])])
        .await
        .unwrap();
    assert_eq!(
        j.subject_keys(&[c]).await.unwrap(),
        vec![tombstone(tenant_id, c, KeyPurpose::Data, at)]
    );
    let first = data_key(tenant_id, c, "mk-1");
    assert_taken(
        j.append(&[keys_only(vec![KeyChange::Create(first.clone())])])
            .await,
        &first,
    );

    // Within one append, in order: a shredding before a creation refuses it (and leaves
    // nothing behind); a creation before a shredding is shredded.
    let d = Uuid::now_v7();
    let late = data_key(tenant_id, d, "mk-1");
    assert_taken(
        j.append(&[
            keys_only(vec![shred_subject(tenant_id, d, at)]),
            keys_only(vec![KeyChange::Create(late.clone())]),
        ])
        .await,
        &late,
    );
    assert!(j.subject_keys(&[d]).await.unwrap().is_empty());
    let early = data_key(tenant_id, d, "mk-1");
    j.append(&[
        keys_only(vec![KeyChange::Create(early.clone())]),
        keys_only(vec![shred_subject(tenant_id, d, at)]),
    ])
    .await
    .unwrap();
    assert_eq!(
        j.subject_keys(&[d]).await.unwrap(),
        vec![shredded(&early, at)]
    );

    // Another tenant's key of the same subject is untouched.
    let other_tenant = TenantId::new_v7();
    let elsewhere = data_key(other_tenant, b, "mk-1");
    j.append(&[keys_only(vec![KeyChange::Create(elsewhere.clone())])])
        .await
        .unwrap();
    j.append(&[keys_only(vec![shred_subject(tenant_id, b, at)])])
        .await
        .unwrap();
    assert_eq!(
        j.subject_keys(&[b]).await.unwrap(),
        sorted(vec![shredded(&b1, at), elsewhere])
    );
}

async fn shredding_a_tenant_destroys_only_its_keys<J: Store>(j: &J) {
    let (doomed, kept) = (TenantId::new_v7(), TenantId::new_v7());
    let person = Uuid::now_v7();
    let doomed_keys = [
        index_key(doomed, "mk-1"),
        data_key(doomed, person, "mk-1"),
        data_key(doomed, Uuid::now_v7(), "mk-2"),
    ];
    let kept_keys = vec![index_key(kept, "mk-1"), data_key(kept, person, "mk-1")];
    j.append(&[keys_only(
        doomed_keys
            .iter()
            .chain(&kept_keys)
            .cloned()
            .map(KeyChange::Create)
            .collect(),
    )])
    .await
    .unwrap();
    let earlier = in_seconds(-120);
    j.append(&[keys_only(vec![shred_subject(doomed, person, earlier)])])
        .await
        .unwrap();

    let at = in_seconds(-60);
    let (batch, stream) = with_event(
        doomed,
        vec![KeyChange::ShredTenant {
            tenant_id: doomed,
            at,
        }],
    );
    j.append(&[batch]).await.unwrap();

    assert_eq!(j.read_stream(stream, 0).await.unwrap().len(), 1);
    let expected = vec![
        shredded(&doomed_keys[0], at),
        shredded(&doomed_keys[1], earlier),
        shredded(&doomed_keys[2], at),
    ];
    assert_eq!(
        sorted(j.tenant_keys(doomed).await.unwrap()),
        sorted(expected)
    );
    assert_eq!(
        sorted(j.tenant_keys(kept).await.unwrap()),
        sorted(kept_keys)
    );
    let index_again = index_key(doomed, "mk-1");
    assert_taken(
        j.append(&[keys_only(vec![KeyChange::Create(index_again.clone())])])
            .await,
        &index_again,
    );

    // A tenant without keys gets an index-key tombstone.
    let empty = TenantId::new_v7();
    j.append(&[keys_only(vec![KeyChange::ShredTenant {
        tenant_id: empty,
        at,
    }])])
    .await
    .unwrap();
    assert_eq!(
        j.tenant_keys(empty).await.unwrap(),
        vec![tombstone(empty, empty.uuid(), KeyPurpose::Index, at)]
    );
    let first_index = index_key(empty, "mk-1");
    assert_taken(
        j.append(&[keys_only(vec![KeyChange::Create(first_index.clone())])])
            .await,
        &first_index,
    );
}

async fn retired_master_keys_wrap_no_new_key<J: Store>(j: &J) {
    let (old, current) = ("mk-old", "mk-current");
    let registered = in_seconds(-300);
    j.register_master_key(old, registered).await.unwrap();
    j.register_master_key(old, in_seconds(-200)).await.unwrap();
    j.register_master_key(current, in_seconds(-100))
        .await
        .unwrap();
    let records = j.master_keys().await.unwrap();
    assert_eq!(records.len(), 2, "{records:?}");
    let record = records.iter().find(|r| r.id == old).unwrap();
    assert_eq!(
        (record.registered_at, record.retired_at),
        (registered, None)
    );

    let retired = in_seconds(-50);
    j.retire_master_key(old, retired).await.unwrap();
    j.retire_master_key(old, now()).await.unwrap();
    let records = j.master_keys().await.unwrap();
    let record = records.iter().find(|r| r.id == old).unwrap();
    assert_eq!(
        (record.registered_at, record.retired_at),
        (registered, Some(retired))
    );
    let record = records.iter().find(|r| r.id == current).unwrap();
    assert_eq!(record.retired_at, None);

    // A key wrapped by the retired master key is refused with the whole append.
    let tenant_id = TenantId::new_v7();
    let (batch, stream) = with_event(
        tenant_id,
        vec![
            KeyChange::Create(index_key(tenant_id, current)),
            KeyChange::Create(data_key(tenant_id, Uuid::now_v7(), old)),
        ],
    );
    let result = j.append(&[batch]).await;
    match result {
        Err(JournalError::Unavailable(message)) => {
            assert!(
                message.contains(old) && message.contains("retired"),
                "{message}"
            );
        }
        other => panic!("expected the retired master key to be refused, got {other:?}"),
    }
    assert!(j.read_stream(stream, 0).await.unwrap().is_empty());
    assert!(j.tenant_keys(tenant_id).await.unwrap().is_empty());

    // Shredding needs no master key; a key wrapped by an unregistered one is accepted.
    j.append(&[keys_only(vec![
        shred_subject(tenant_id, Uuid::now_v7(), now()),
        KeyChange::Create(index_key(tenant_id, "mk-unregistered")),
    ])])
    .await
    .unwrap();
    assert_eq!(j.tenant_keys(tenant_id).await.unwrap().len(), 2);
}

async fn rotation_rewraps_under_compare_and_set<J: Store>(j: &J) {
    let (old, new) = ("mk-old", "mk-new");
    let tenant_id = TenantId::new_v7();
    let people: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
    let mut wrapped_by_old = vec![index_key(tenant_id, old)];
    wrapped_by_old.extend(people.iter().map(|p| data_key(tenant_id, *p, old)));
    let elsewhere = data_key(TenantId::new_v7(), Uuid::now_v7(), "mk-other");
    j.append(&[keys_only(
        wrapped_by_old
            .iter()
            .chain([&elsewhere])
            .cloned()
            .map(KeyChange::Create)
            .collect(),
    )])
    .await
    .unwrap();
    let wrapped_by_old = sorted(wrapped_by_old);

    assert_eq!(j.keys_wrapped_by(old, 10).await.unwrap(), wrapped_by_old);
    assert_eq!(
        j.keys_wrapped_by(old, 2).await.unwrap(),
        wrapped_by_old[..2]
    );
    assert!(j.keys_wrapped_by(old, 0).await.unwrap().is_empty());
    assert!(j.keys_wrapped_by(new, 10).await.unwrap().is_empty());

    let moved = &wrapped_by_old[0];
    let rewrapped = vec![7_u8; 60];
    assert!(j.rewrap_key(moved, old, &rewrapped, new).await.unwrap());
    let expected = StoredKey {
        wrapped: Some(rewrapped.clone()),
        master_key_id: Some(new.into()),
        ..moved.clone()
    };
    assert_eq!(j.keys_wrapped_by(new, 10).await.unwrap(), vec![expected]);
    assert_eq!(
        j.keys_wrapped_by(old, 10).await.unwrap(),
        wrapped_by_old[1..]
    );
    // Moved already: no longer wrapped by `old`.
    assert!(!j.rewrap_key(moved, old, &[9; 60], new).await.unwrap());
    // Not wrapped by the master key named.
    let still_old = &wrapped_by_old[1];
    assert!(
        !j.rewrap_key(still_old, "mk-other", &[9; 60], new)
            .await
            .unwrap()
    );
    // Shredded in the meantime: an erasure wins over a rotation.
    let erased = wrapped_by_old
        .iter()
        .find(|k| k.purpose == KeyPurpose::Data)
        .unwrap();
    j.append(&[keys_only(vec![shred_subject(
        tenant_id,
        erased.subject_id,
        now(),
    )])])
    .await
    .unwrap();
    assert!(!j.rewrap_key(erased, old, &[9; 60], new).await.unwrap());
    let left = j.keys_wrapped_by(old, 10).await.unwrap();
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(left.iter().all(|k| k.subject_id != erased.subject_id));
    let stored = j.subject_keys(&[erased.subject_id]).await.unwrap();
    assert_eq!(
        (stored[0].wrapped.as_ref(), stored[0].master_key_id.as_ref()),
        (None, None)
    );
    assert_eq!(
        j.keys_wrapped_by("mk-other", 10).await.unwrap(),
        vec![elsewhere]
    );
}

async fn group_commit_writer_isolates_a_taken_key<J: Store>(j: &J) {
    let tenant_id = TenantId::new_v7();
    let taken = data_key(tenant_id, Uuid::now_v7(), "mk-1");
    j.append(&[keys_only(vec![KeyChange::Create(taken.clone())])])
        .await
        .unwrap();
    let writer = GroupCommitWriter::spawn(Arc::new(j.clone()), GroupCommitConfig::default());

    let appends: Vec<_> = (0..20)
        .map(|i| {
            let mut keys = vec![KeyChange::Create(data_key(
                tenant_id,
                Uuid::now_v7(),
                "mk-1",
            ))];
            if i == 7 {
                keys.push(KeyChange::Create(taken.clone()));
            }
            with_event(tenant_id, keys)
        })
        .collect();
    let results = join_all(appends.iter().map(|(b, _)| writer.append(b.clone()))).await;

    for (i, (result, (batch, stream))) in results.into_iter().zip(&appends).enumerate() {
        let KeyChange::Create(created) = &batch.keys[0] else {
            unreachable!()
        };
        let stored_events = j.read_stream(*stream, 0).await.unwrap();
        let stored_keys = j.subject_keys(&[created.subject_id]).await.unwrap();
        if i == 7 {
            assert_taken(result, &taken);
            assert!(stored_events.is_empty());
            assert!(stored_keys.is_empty());
        } else {
            assert!(result.is_ok(), "append {i}: {result:?}");
            assert_eq!(stored_events.len(), 1);
            assert_eq!(stored_keys, vec![created.clone()]);
        }
    }
    assert_eq!(j.tenant_keys(tenant_id).await.unwrap().len(), 20);
}

async fn abandoning_a_lost_master_key_destroys_only_what_it_wrapped<J: Store>(j: &J) {
    let (lost, kept) = ("mk-lost", "mk-kept");
    j.register_master_key(lost, in_seconds(-100)).await.unwrap();
    j.register_master_key(kept, in_seconds(-100)).await.unwrap();
    let tenant_id = TenantId::new_v7();
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    let survivor = data_key(tenant_id, b, kept);
    j.append(&[keys_only(vec![
        KeyChange::Create(index_key(tenant_id, lost)),
        KeyChange::Create(data_key(tenant_id, a, lost)),
        KeyChange::Create(survivor.clone()),
    ])])
    .await
    .unwrap();

    let at = now();
    assert_eq!(j.abandon_master_key(lost, at).await.unwrap(), 1);
    let keys = j.tenant_keys(tenant_id).await.unwrap();
    assert_eq!(keys.len(), 2, "the index key is gone: {keys:?}");
    let a_key = keys.iter().find(|k| k.subject_id == a).unwrap();
    assert!(a_key.wrapped.is_none() && a_key.shredded_at == Some(at));
    assert!(keys.contains(&survivor));
    let records = j.master_keys().await.unwrap();
    assert!(
        records
            .iter()
            .any(|r| r.id == lost && r.retired_at.is_some())
    );
    assert!(
        records
            .iter()
            .any(|r| r.id == kept && r.retired_at.is_none())
    );
    // The tenant makes a new index key; the person's key stays destroyed.
    j.append(&[keys_only(vec![KeyChange::Create(index_key(
        tenant_id, kept,
    ))])])
    .await
    .unwrap();
    let again = j
        .append(&[keys_only(vec![KeyChange::Create(data_key(
            tenant_id, a, kept,
        ))])])
        .await;
    assert!(
        matches!(again, Err(JournalError::UniqueViolation { .. })),
        "{again:?}"
    );
    assert_eq!(
        j.abandon_master_key(lost, now()).await.unwrap(),
        0,
        "idempotent"
    );
}
