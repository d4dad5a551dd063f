//! The journal conformance suite: the contract of `engine::journal` that every store keeps.
//!
//! Each behaviour is one async function generic over the store; `conformance!` runs every one
//! of them against PostgreSQL (a fresh database in the server of `ENTITY_TEST_DATABASE_URL`,
//! see `scripts/test`) and against SQLite (a fresh file).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

#[path = "support/journal.rs"]
mod support;

use std::{collections::HashSet, sync::Arc};

use engine::{
    domain::TenantId,
    journal::{
        AppendBatch, DueTimer, EventLog, GroupCommitConfig, GroupCommitWriter, Journal,
        JournalError, NewEvent, RecordedEvent, Snapshot, UniqueRelease, postgres::PostgresJournal,
        sqlite::SqliteJournal,
    },
};
use futures::future::join_all;
use support::*;
use uuid::Uuid;

/// Raw SQL on a store, to damage rows on purpose.
trait RawSql {
    async fn execute_raw(&self, sql: &str);
}

impl RawSql for PostgresJournal {
    async fn execute_raw(&self, sql: &str) {
        sqlx::raw_sql(sql).execute(self.pool()).await.unwrap();
    }
}

impl RawSql for SqliteJournal {
    async fn execute_raw(&self, sql: &str) {
        sqlx::raw_sql(sql).execute(self.pool()).await.unwrap();
    }
}

/// Everything a conformance test needs from a store.
trait Store: Journal + RawSql + Clone {}
impl<T: Journal + RawSql + Clone> Store for T {}

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
    append_then_read_round_trips,
    sequences_are_contiguous,
    duplicate_sequence_conflicts_and_writes_nothing,
    taken_key_is_a_unique_violation,
    a_key_is_released_only_by_its_holder,
    read_tenant_filters_by_tenant_and_position,
    read_all_pages_in_position_order,
    receipts_name_positions_and_one_transaction,
    snapshots_keep_the_newest,
    timers_set_move_clear_and_fire_in_order,
    corrupt_rows_are_reported,
    group_commit_writer_commits_concurrent_appends,
    group_commit_writer_isolates_a_conflict,
);

/// Asserts that a stored event is the appended one.
fn assert_recorded(recorded: &RecordedEvent, appended: &NewEvent) {
    assert_eq!(recorded.tenant_id, appended.tenant_id);
    assert_eq!(recorded.stream, appended.stream);
    assert_eq!(recorded.sequence, appended.sequence);
    assert_eq!(recorded.event_type, appended.event_type);
    assert_eq!(recorded.schema_version, appended.schema_version);
    assert_eq!(recorded.payload, appended.payload);
    assert_eq!(recorded.metadata, appended.metadata);
    assert_eq!(recorded.recorded_at, appended.recorded_at);
}

async fn append_then_read_round_trips<J: Store>(j: &J) {
    let (tenant_id, stream) = tenant();
    let batch = events(tenant_id, stream, 1..=3);

    let receipts = j.append(std::slice::from_ref(&batch)).await.unwrap();
    let read = j.read_stream(stream, 0).await.unwrap();

    assert_eq!(read.len(), 3);
    for (recorded, appended) in read.iter().zip(&batch.events) {
        assert_recorded(recorded, appended);
        assert_eq!(recorded.transaction_id, receipts[0].transaction_id);
    }
    assert!(read.windows(2).all(|w| w[0].position < w[1].position));
    let after_two = j.read_stream(stream, 2).await.unwrap();
    assert_eq!(
        after_two.iter().map(|e| e.sequence).collect::<Vec<_>>(),
        vec![3]
    );
    assert!(j.read_stream(tenant().1, 0).await.unwrap().is_empty());
    assert!(j.append(&[]).await.unwrap().is_empty());
}

async fn sequences_are_contiguous<J: Store>(j: &J) {
    let (tenant_id, stream) = tenant();
    j.append(&[events(tenant_id, stream, 1..=2)]).await.unwrap();
    j.append(&[
        events(tenant_id, stream, 3..=3),
        events(tenant_id, stream, 4..=5),
    ])
    .await
    .unwrap();

    for (bad, at) in [
        (vec![events(tenant_id, stream, 7..=7)], 7),
        (
            vec![
                events(tenant_id, stream, 6..=6),
                events(tenant_id, stream, 8..=8),
            ],
            8,
        ),
        (
            vec![
                events(tenant_id, stream, 6..=6),
                events(tenant_id, stream, 6..=6),
            ],
            6,
        ),
    ] {
        let error = j.append(&bad).await.unwrap_err();
        assert!(
            matches!(error, JournalError::StreamConflict { stream: s, sequence } if s == stream && sequence == at),
            "{error:?}"
        );
    }
    let (other_tenant, new_stream) = tenant();
    let error = j
        .append(&[events(other_tenant, new_stream, 2..=3)])
        .await
        .unwrap_err();
    assert!(
        matches!(error, JournalError::StreamConflict { sequence: 2, .. }),
        "{error:?}"
    );

    let sequences: Vec<i64> = j
        .read_stream(stream, 0)
        .await
        .unwrap()
        .iter()
        .map(|e| e.sequence)
        .collect();
    assert_eq!(sequences, vec![1, 2, 3, 4, 5]);
    assert!(j.read_stream(new_stream, 0).await.unwrap().is_empty());
}

async fn duplicate_sequence_conflicts_and_writes_nothing<J: Store>(j: &J) {
    let (tenant_id, stream) = tenant();
    j.append(&[events(tenant_id, stream, 1..=2)]).await.unwrap();
    let (other_tenant, other_stream) = tenant();
    let innocent = AppendBatch {
        claims: vec![claim("innocent", other_tenant.uuid(), None)],
        timers: vec![set_timer(other_tenant, "grace-period", in_seconds(-1))],
        ..events(other_tenant, other_stream, 1..=2)
    };

    let error = j
        .append(&[innocent, events(tenant_id, stream, 2..=3)])
        .await
        .unwrap_err();

    assert!(
        matches!(error, JournalError::StreamConflict { stream: s, sequence: 2 } if s == stream),
        "{error:?}"
    );
    assert!(j.read_stream(other_stream, 0).await.unwrap().is_empty());
    assert_eq!(j.read_stream(stream, 0).await.unwrap().len(), 2);
    assert_eq!(
        j.unique_claim("tenant-slug", "innocent").await.unwrap(),
        None
    );
    assert!(j.due_timers(in_seconds(10), 10).await.unwrap().is_empty());
    assert_eq!(j.read_all(0, 100).await.unwrap().len(), 2);
}

async fn taken_key_is_a_unique_violation<J: Store>(j: &J) {
    let (tenant_id, stream) = tenant();
    let first = claim("acme", tenant_id.uuid(), Some("req-1"));
    j.append(&[AppendBatch {
        claims: vec![first.clone()],
        ..events(tenant_id, stream, 1..=1)
    }])
    .await
    .unwrap();
    assert_eq!(
        j.unique_claim("tenant-slug", "acme").await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(j.unique_claim("tenant-slug", "other").await.unwrap(), None);
    assert_eq!(j.unique_claim("org-name", "acme").await.unwrap(), None);

    let (rival, rival_stream) = tenant();
    let taken = AppendBatch {
        claims: vec![
            claim("free", rival.uuid(), None),
            claim("acme", rival.uuid(), Some("req-2")),
        ],
        ..events(rival, rival_stream, 1..=1)
    };
    let error = j.append(&[taken]).await.unwrap_err();

    match error {
        JournalError::UniqueViolation {
            namespace,
            key,
            existing,
        } => {
            assert_eq!((namespace.as_str(), key.as_str()), ("tenant-slug", "acme"));
            assert_eq!(existing.as_deref(), Some(&first));
        }
        other => panic!("expected a unique violation, got {other:?}"),
    }
    assert!(j.read_stream(rival_stream, 0).await.unwrap().is_empty());
    assert_eq!(j.unique_claim("tenant-slug", "free").await.unwrap(), None);

    // The same key twice in one append: one of them loses, nothing is written.
    let twice = [
        AppendBatch {
            claims: vec![claim("twice", rival.uuid(), None)],
            ..Default::default()
        },
        AppendBatch {
            claims: vec![claim("twice", tenant_id.uuid(), None)],
            ..Default::default()
        },
    ];
    let error = j.append(&twice).await.unwrap_err();
    assert!(
        matches!(error, JournalError::UniqueViolation { ref key, .. } if key == "twice"),
        "{error:?}"
    );
    assert_eq!(j.unique_claim("tenant-slug", "twice").await.unwrap(), None);
}

/// A release gives a key up with its append, before the append's claims, and only if the
/// releasing entity holds it; a release of a key nobody holds is no error.
async fn a_key_is_released_only_by_its_holder<J: Store>(j: &J) {
    let release = |key: &str, owner: Uuid| UniqueRelease {
        namespace: "tenant-slug".into(),
        key: key.into(),
        owner,
    };
    let (holder, holder_stream) = tenant();
    let (rival, rival_stream) = tenant();
    j.append(&[AppendBatch {
        claims: vec![claim("domain.example", holder.uuid(), None)],
        ..events(holder, holder_stream, 1..=1)
    }])
    .await
    .unwrap();
    // Another entity's release leaves the key where it is.
    j.append(&[AppendBatch {
        releases: vec![
            release("domain.example", rival.uuid()),
            release("nobody", rival.uuid()),
        ],
        ..events(rival, rival_stream, 1..=1)
    }])
    .await
    .unwrap();
    let held = j
        .unique_claim("tenant-slug", "domain.example")
        .await
        .unwrap();
    assert_eq!(held.map(|c| c.owner), Some(holder.uuid()));
    // A refused append releases nothing.
    let refused = j
        .append(&[AppendBatch {
            releases: vec![release("domain.example", holder.uuid())],
            ..events(holder, holder_stream, 1..=1)
        }])
        .await;
    assert!(
        matches!(refused, Err(JournalError::StreamConflict { .. })),
        "{refused:?}"
    );
    assert!(
        j.unique_claim("tenant-slug", "domain.example")
            .await
            .unwrap()
            .is_some()
    );
    // The holder's release frees it, and in one append another may take it back.
    j.append(&[AppendBatch {
        releases: vec![release("domain.example", holder.uuid())],
        ..events(holder, holder_stream, 2..=2)
    }])
    .await
    .unwrap();
    assert_eq!(
        j.unique_claim("tenant-slug", "domain.example")
            .await
            .unwrap(),
        None
    );
    j.append(&[AppendBatch {
        claims: vec![claim("domain.example", rival.uuid(), None)],
        ..events(rival, rival_stream, 2..=2)
    }])
    .await
    .unwrap();
    let held = j
        .unique_claim("tenant-slug", "domain.example")
        .await
        .unwrap();
    assert_eq!(held.map(|c| c.owner), Some(rival.uuid()));
    // Released and claimed again in the same append (a host changed back and forth).
    j.append(&[AppendBatch {
        releases: vec![release("domain.example", rival.uuid())],
        claims: vec![claim("domain.example", rival.uuid(), None)],
        ..events(rival, rival_stream, 3..=3)
    }])
    .await
    .unwrap();
}

async fn read_tenant_filters_by_tenant_and_position<J: Store>(j: &J) {
    let (a, a_stream) = tenant();
    let (b, b_stream) = tenant();
    let a_org = organization_stream();
    j.append(&[events(a, a_stream, 1..=2), events(b, b_stream, 1..=1)])
        .await
        .unwrap();
    j.append(&[events(a, a_org, 1..=2)]).await.unwrap();
    j.append(&[events(b, b_stream, 2..=3), events(a, a_stream, 3..=3)])
        .await
        .unwrap();

    let all_a = j.read_tenant(a, 0).await.unwrap();
    assert_eq!(all_a.len(), 5);
    assert!(all_a.iter().all(|e| e.tenant_id == a));
    assert!(all_a.windows(2).all(|w| w[0].position < w[1].position));
    let kinds: HashSet<_> = all_a.iter().map(|e| e.stream).collect();
    assert_eq!(kinds, HashSet::from([a_stream, a_org]));

    let after = j.read_tenant(a, all_a[1].position).await.unwrap();
    assert_eq!(after, all_a[2..].to_vec());
    assert!(
        j.read_tenant(a, all_a[4].position)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(j.read_tenant(b, 0).await.unwrap().len(), 3);
    assert!(
        j.read_tenant(TenantId::new_v7(), 0)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn read_all_pages_in_position_order<J: Store>(j: &J) {
    let tenants: Vec<_> = (0..5).map(|_| tenant()).collect();
    for round in 0..5 {
        let batches: Vec<_> = tenants
            .iter()
            .map(|&(t, s)| events(t, s, round + 1..=round + 1))
            .collect();
        j.append(&batches).await.unwrap();
    }

    let everything = j.read_all(0, 1_000).await.unwrap();
    assert_eq!(everything.len(), 25);
    let mut paged = Vec::new();
    let mut after = 0;
    loop {
        let page = j.read_all(after, 10).await.unwrap();
        assert!(page.len() <= 10);
        let Some(last) = page.last() else { break };
        after = last.position;
        paged.extend(page);
    }
    assert_eq!(paged, everything);
    assert!(everything.windows(2).all(|w| w[0].position < w[1].position));
    assert!(j.read_all(0, 0).await.unwrap().is_empty());
}

async fn receipts_name_positions_and_one_transaction<J: Store>(j: &J) {
    let (a, a_stream) = tenant();
    let (b, b_stream) = tenant();
    let first = j
        .append(&[
            events(a, a_stream, 1..=3),
            timers(vec![set_timer(a, "grace-period", in_seconds(60))]),
            events(b, b_stream, 1..=2),
        ])
        .await
        .unwrap();
    let second = j.append(&[events(a, a_stream, 4..=4)]).await.unwrap();
    let only_timers = j
        .append(&[timers(vec![clear_timer(a, "grace-period")])])
        .await
        .unwrap();

    assert_eq!(first.len(), 3);
    assert!(
        first
            .iter()
            .all(|r| r.transaction_id == first[0].transaction_id)
    );
    assert!(second[0].transaction_id > first[0].transaction_id);
    assert!(only_timers[0].transaction_id > second[0].transaction_id);
    assert_eq!((first[1].first_position, first[1].last_position), (0, 0));
    assert_eq!(
        (only_timers[0].first_position, only_timers[0].last_position),
        (0, 0)
    );

    let a_events = j.read_stream(a_stream, 0).await.unwrap();
    let b_events = j.read_stream(b_stream, 0).await.unwrap();
    assert_eq!(
        (first[0].first_position, first[0].last_position),
        (a_events[0].position, a_events[2].position)
    );
    assert_eq!(
        (first[2].first_position, first[2].last_position),
        (b_events[0].position, b_events[1].position)
    );
    assert_eq!(
        (second[0].first_position, second[0].last_position),
        (a_events[3].position, a_events[3].position)
    );
    assert!(first[2].first_position > first[0].last_position);
    assert!(second[0].first_position > first[2].last_position);
    assert!(
        a_events[..3]
            .iter()
            .chain(&b_events)
            .all(|e| e.transaction_id == first[0].transaction_id)
    );
    assert_eq!(a_events[3].transaction_id, second[0].transaction_id);
    assert_eq!(second[0].token().position, a_events[3].position);
}

async fn snapshots_keep_the_newest<J: Store>(j: &J) {
    let id = Uuid::now_v7();
    let snapshot = |last_position: i64, state: &[u8]| Snapshot {
        aggregate_id: id,
        aggregate_kind: "tenant-scope".into(),
        schema_version: 2,
        last_position,
        state: state.to_vec(),
        taken_at: now(),
    };
    assert_eq!(j.load_snapshot("tenant-scope", id).await.unwrap(), None);

    let ten = snapshot(10, b"\x00ten\xff");
    j.save_snapshot(&ten).await.unwrap();
    assert_eq!(
        j.load_snapshot("tenant-scope", id).await.unwrap(),
        Some(ten.clone())
    );

    j.save_snapshot(&snapshot(5, b"older")).await.unwrap();
    assert_eq!(
        j.load_snapshot("tenant-scope", id).await.unwrap(),
        Some(ten)
    );

    let twenty = Snapshot {
        schema_version: 3,
        ..snapshot(20, b"newer")
    };
    j.save_snapshot(&twenty).await.unwrap();
    assert_eq!(
        j.load_snapshot("tenant-scope", id).await.unwrap(),
        Some(twenty)
    );
    assert_eq!(j.load_snapshot("other-kind", id).await.unwrap(), None);
}

async fn timers_set_move_clear_and_fire_in_order<J: Store>(j: &J) {
    let (a, _) = tenant();
    let (b, _) = tenant();
    let now = now();
    let due = |tenant_id: TenantId, kind: &str, seconds: i64| DueTimer {
        tenant_id,
        kind: kind.into(),
        due_at: now + chrono::Duration::seconds(seconds),
    };
    j.append(&[timers(vec![
        set_timer(a, "grace-period", now + chrono::Duration::seconds(-5)),
        set_timer(a, "invitation", now + chrono::Duration::seconds(-10)),
        set_timer(b, "grace-period", now + chrono::Duration::seconds(30)),
    ])])
    .await
    .unwrap();
    assert_eq!(
        j.due_timers(now, 10).await.unwrap(),
        vec![due(a, "invitation", -10), due(a, "grace-period", -5)]
    );
    assert_eq!(
        j.due_timers(now, 1).await.unwrap(),
        vec![due(a, "invitation", -10)]
    );

    // Move one into the future, another into the past; clear one (and one that is absent).
    j.append(&[
        timers(vec![set_timer(
            a,
            "invitation",
            now + chrono::Duration::seconds(60),
        )]),
        timers(vec![
            set_timer(b, "grace-period", now + chrono::Duration::seconds(-20)),
            clear_timer(a, "grace-period"),
            clear_timer(b, "never-set"),
        ]),
    ])
    .await
    .unwrap();
    assert_eq!(
        j.due_timers(now, 10).await.unwrap(),
        vec![due(b, "grace-period", -20)]
    );

    // Within one append the last change wins.
    j.append(&[
        timers(vec![clear_timer(b, "grace-period")]),
        timers(vec![set_timer(
            b,
            "grace-period",
            now + chrono::Duration::seconds(-1),
        )]),
        timers(vec![
            set_timer(a, "late", now + chrono::Duration::seconds(-2)),
            clear_timer(a, "late"),
        ]),
    ])
    .await
    .unwrap();
    assert_eq!(
        j.due_timers(now, 10).await.unwrap(),
        vec![due(b, "grace-period", -1)]
    );
    let later = now + chrono::Duration::seconds(120);
    assert_eq!(j.due_timers(later, 10).await.unwrap().len(), 2);
    assert!(j.due_timers(now, 0).await.unwrap().is_empty());
}

async fn corrupt_rows_are_reported<J: Store>(j: &J) {
    let (tenant_id, stream) = tenant();
    j.append(&[events(tenant_id, stream, 1..=3)]).await.unwrap();

    j.execute_raw("UPDATE events SET stream_type = 'bogus' WHERE sequence = 2")
        .await;
    let error = j.read_all(0, 10).await.unwrap_err();
    assert!(matches!(error, JournalError::Corrupt(_)), "{error:?}");
    let error = j.read_stream(stream, 0).await.unwrap_err();
    assert!(matches!(error, JournalError::Corrupt(_)), "{error:?}");
    assert_eq!(j.read_stream(stream, 2).await.unwrap().len(), 1);

    j.execute_raw(r#"UPDATE events SET metadata = '{"actor": 5}' WHERE sequence = 3"#)
        .await;
    let error = j.read_tenant(tenant_id, 2).await.unwrap_err();
    assert!(matches!(error, JournalError::Corrupt(_)), "{error:?}");
}

async fn group_commit_writer_commits_concurrent_appends<J: Store>(j: &J) {
    let writer = GroupCommitWriter::spawn(Arc::new(j.clone()), GroupCommitConfig::default());
    let appends = (0..200).map(|i| {
        let writer = writer.clone();
        tokio::spawn(async move {
            let (tenant_id, stream) = tenant();
            let mut batch = events(tenant_id, stream, 1..=2);
            if i % 10 == 0 {
                batch
                    .claims
                    .push(claim(&format!("tenant-{i}"), tenant_id.uuid(), None));
            }
            (stream, writer.append(batch).await)
        })
    });
    let results = join_all(appends).await;

    let mut transactions = HashSet::new();
    for result in results {
        let (stream, receipt) = result.unwrap();
        let receipt = receipt.unwrap();
        let stored = j.read_stream(stream, 0).await.unwrap();
        assert_eq!(stored.len(), 2);
        assert_eq!(
            (receipt.first_position, receipt.last_position),
            (stored[0].position, stored[1].position)
        );
        assert!(
            stored
                .iter()
                .all(|e| e.transaction_id == receipt.transaction_id)
        );
        transactions.insert(receipt.transaction_id);
    }
    assert_eq!(j.read_all(0, 1_000).await.unwrap().len(), 400);
    assert!(
        j.unique_claim("tenant-slug", "tenant-190")
            .await
            .unwrap()
            .is_some()
    );
    println!(
        "200 appends committed in {} transactions",
        transactions.len()
    );
}

async fn group_commit_writer_isolates_a_conflict<J: Store>(j: &J) {
    let (taken_tenant, taken_stream) = tenant();
    j.append(&[events(taken_tenant, taken_stream, 1..=1)])
        .await
        .unwrap();
    let writer = GroupCommitWriter::spawn(Arc::new(j.clone()), GroupCommitConfig::default());

    let batches: Vec<_> = (0..20)
        .map(|i| {
            if i == 7 {
                events(taken_tenant, taken_stream, 1..=1)
            } else {
                let (t, s) = tenant();
                events(t, s, 1..=1)
            }
        })
        .collect();
    let results = join_all(batches.into_iter().map(|b| writer.append(b))).await;

    for (i, result) in results.iter().enumerate() {
        if i == 7 {
            assert!(
                matches!(
                    result,
                    Err(JournalError::StreamConflict { sequence: 1, .. })
                ),
                "{result:?}"
            );
        } else {
            assert!(result.is_ok(), "append {i}: {result:?}");
        }
    }
    assert_eq!(j.read_all(0, 100).await.unwrap().len(), 20);
}

/// PostgreSQL only: the stored `xid8` is the receipt's transaction id.
#[tokio::test]
async fn postgres_transaction_id_column_matches_receipt() {
    let db = engine::testing::TestDatabase::create().await;
    let j = db.journal().await;
    let (a, a_stream) = tenant();
    let (b, b_stream) = tenant();
    let receipts = j
        .append(&[events(a, a_stream, 1..=2), events(b, b_stream, 1..=1)])
        .await
        .unwrap();

    let stored: Vec<(i64, String)> = sqlx::query_as(
        "SELECT global_position, transaction_id::text FROM events ORDER BY global_position",
    )
    .fetch_all(j.pool())
    .await
    .unwrap();
    assert_eq!(stored.len(), 3);
    for (_, xid) in &stored {
        assert_eq!(xid.parse::<u64>().unwrap(), receipts[0].transaction_id);
    }
    assert_eq!(stored[0].0, receipts[0].first_position);
    assert_eq!(stored[2].0, receipts[1].last_position);
}

/// PostgreSQL only: a writer that loses a race on the unique index (the other row was not yet
/// committed when this append checked the stream head) still gets a `StreamConflict`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_racing_writers_get_a_stream_conflict() {
    let db = engine::testing::TestDatabase::create().await;
    let j = db.journal().await;
    let (tenant_id, stream) = tenant();
    let mut rival = j.pool().begin().await.unwrap();
    sqlx::query(
        "INSERT INTO events (tenant_id, stream_type, stream_id, sequence, event_type, \
         schema_version, payload, metadata, recorded_at) \
         VALUES ($1, 'tenant', $2, 1, 'Rival', 1, '{}', \
         '{\"actor\": {\"subject\": \"rival\", \"credential_kind\": \"dev\"}}', now())",
    )
    .bind(tenant_id.uuid())
    .bind(stream.id)
    .execute(&mut *rival)
    .await
    .unwrap();

    let append = tokio::spawn({
        let j = j.clone();
        async move { j.append(&[events(tenant_id, stream, 1..=1)]).await }
    });
    // Commit the rival only once the append waits for its row.
    for attempt in 0.. {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .fetch_one(j.pool())
        .await
        .unwrap();
        if waiting > 0 {
            break;
        }
        assert!(
            attempt < 3_000,
            "the append never waited for the rival's row"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    rival.commit().await.unwrap();

    let error = append.await.unwrap().unwrap_err();
    assert!(
        matches!(error, JournalError::StreamConflict { stream: s, sequence: 1 } if s == stream),
        "{error:?}"
    );
    assert_eq!(
        j.read_stream(stream, 0).await.unwrap()[0].event_type,
        "Rival"
    );
}

/// PostgreSQL only: sessions end idle transactions, and an unreachable server is `Unavailable`.
#[tokio::test]
async fn postgres_connection_settings_and_failures() {
    let db = engine::testing::TestDatabase::create().await;
    let j = db.journal().await;
    let timeout: String = sqlx::query_scalar("SHOW idle_in_transaction_session_timeout")
        .fetch_one(j.pool())
        .await
        .unwrap();
    assert_eq!(timeout, "30s");

    let error = PostgresJournal::connect("postgres://postgres@127.0.0.1:1/postgres", 1)
        .await
        .unwrap_err();
    assert!(matches!(error, JournalError::Unavailable(_)), "{error:?}");
}
