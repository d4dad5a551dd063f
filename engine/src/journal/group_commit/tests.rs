//! Group commit against a fake store that counts transactions and injects failures.

use std::sync::{
    Mutex,
    atomic::{AtomicUsize, Ordering},
};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::future::join_all;
use uuid::Uuid;

use super::*;
use crate::{
    domain::{StreamId, StreamKind, TenantId},
    journal::{EventMetadata, NewEvent, RecordedEvent, UniqueClaim},
};

type Fault = Box<dyn Fn(&[AppendBatch]) -> Option<JournalError> + Send + Sync>;

/// Commits everything unless `fault` says otherwise; records each transaction's batches.
struct FakeLog {
    fault: Fault,
    transactions: Mutex<Vec<Vec<AppendBatch>>>,
    calls: AtomicUsize,
}

impl FakeLog {
    fn new(
        fault: impl Fn(&[AppendBatch]) -> Option<JournalError> + Send + Sync + 'static,
    ) -> Arc<Self> {
        Arc::new(Self {
            fault: Box::new(fault),
            transactions: Mutex::default(),
            calls: AtomicUsize::new(0),
        })
    }

    fn healthy() -> Arc<Self> {
        Self::new(|_| None)
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    fn committed(&self) -> Vec<Vec<AppendBatch>> {
        self.transactions.lock().unwrap().clone()
    }
}

#[async_trait]
impl EventLog for FakeLog {
    async fn append(&self, batches: &[AppendBatch]) -> Result<Vec<AppendReceipt>> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        tokio::task::yield_now().await;
        if let Some(error) = (self.fault)(batches) {
            return Err(error);
        }
        let mut transactions = self.transactions.lock().unwrap();
        let mut position = transactions
            .iter()
            .flatten()
            .map(|b| b.events.len() as i64)
            .sum::<i64>();
        let receipts = batches
            .iter()
            .map(|b| {
                let first = position + 1;
                position += b.events.len() as i64;
                AppendReceipt {
                    first_position: first,
                    last_position: position,
                    transaction_id: call as u64,
                }
            })
            .collect();
        transactions.push(batches.to_vec());
        Ok(receipts)
    }

    async fn read_stream(&self, _: StreamId, _: i64) -> Result<Vec<RecordedEvent>> {
        Ok(Vec::new())
    }

    async fn read_tenant(&self, _: TenantId, _: i64) -> Result<Vec<RecordedEvent>> {
        Ok(Vec::new())
    }

    async fn read_all(&self, _: i64, _: i64) -> Result<Vec<RecordedEvent>> {
        Ok(Vec::new())
    }

    async fn unique_claim(&self, _: &str, _: &str) -> Result<Option<UniqueClaim>> {
        Ok(None)
    }
}

/// A batch of `events` events of a new stream.
fn batch(events: usize) -> AppendBatch {
    let tenant_id = TenantId::new_v7();
    let stream = StreamId::new(StreamKind::Tenant, tenant_id.uuid());
    let events = (1..=events as i64)
        .map(|sequence| NewEvent {
            tenant_id,
            stream,
            sequence,
            event_type: "TenantCreated".into(),
            schema_version: 1,
            payload: serde_json::json!({}),
            metadata: EventMetadata::default(),
            recorded_at: DateTime::<Utc>::UNIX_EPOCH,
        })
        .collect();
    AppendBatch {
        events,
        ..Default::default()
    }
}

fn stream_of(batch: &AppendBatch) -> StreamId {
    batch.events[0].stream
}

#[tokio::test(flavor = "current_thread")]
async fn concurrent_appends_share_transactions() {
    let log = FakeLog::healthy();
    let writer = GroupCommitWriter::spawn(log.clone(), GroupCommitConfig::default());
    let results = join_all((0..100).map(|_| writer.append(batch(1)))).await;

    let receipts: Vec<_> = results.into_iter().map(|r| r.unwrap()).collect();
    assert!(
        log.calls() < 10,
        "100 appends took {} transactions",
        log.calls()
    );
    let committed: usize = log.committed().iter().map(Vec::len).sum();
    assert_eq!(committed, 100);
    let mut positions: Vec<_> = receipts.iter().map(|r| r.first_position).collect();
    positions.sort_unstable();
    positions.dedup();
    assert_eq!(positions.len(), 100, "every batch has its own position");
}

#[tokio::test(flavor = "current_thread")]
async fn groups_respect_the_limits() {
    let log = FakeLog::healthy();
    let config = GroupCommitConfig {
        max_batches: 10,
        max_events: 7,
        queue_capacity: 4,
    };
    let writer = GroupCommitWriter::spawn(log.clone(), config);
    let mut batches: Vec<_> = (0..40).map(|i| batch(1 + i % 3)).collect();
    batches.push(batch(20));
    let results = join_all(batches.into_iter().map(|b| writer.append(b))).await;

    assert!(results.iter().all(Result::is_ok));
    for group in log.committed() {
        let events: usize = group.iter().map(|b| b.events.len()).sum();
        assert!(group.len() <= 10);
        assert!(
            events <= 7 || group.len() == 1,
            "{events} events in a group of {}",
            group.len()
        );
    }
    assert_eq!(log.committed().iter().map(Vec::len).sum::<usize>(), 41);
}

#[tokio::test(flavor = "current_thread")]
async fn a_conflict_fails_only_its_own_caller() {
    let batches: Vec<_> = (0..10).map(|_| batch(2)).collect();
    let poisoned = stream_of(&batches[4]);
    let log = FakeLog::new(move |group| {
        group
            .iter()
            .any(|b| stream_of(b) == poisoned)
            .then_some(JournalError::StreamConflict {
                stream: poisoned,
                sequence: 1,
            })
    });
    let writer = GroupCommitWriter::spawn(log.clone(), GroupCommitConfig::default());
    let results = join_all(batches.iter().cloned().map(|b| writer.append(b))).await;

    for (i, result) in results.iter().enumerate() {
        if i == 4 {
            assert!(
                matches!(result, Err(JournalError::StreamConflict { stream, sequence: 1 }) if *stream == poisoned),
                "{result:?}"
            );
        } else {
            assert!(result.is_ok(), "batch {i}: {result:?}");
        }
    }
    let committed: Vec<StreamId> = log.committed().iter().flatten().map(stream_of).collect();
    assert_eq!(committed.len(), 9);
    assert!(!committed.contains(&poisoned));
}

#[tokio::test(flavor = "current_thread")]
async fn a_taken_key_fails_only_its_own_caller() {
    let mut batches: Vec<_> = (0..5).map(|_| batch(1)).collect();
    batches[2].claims.push(UniqueClaim {
        namespace: "tenant-slug".into(),
        key: "acme".into(),
        owner: Uuid::now_v7(),
        request_id: None,
    });
    let log = FakeLog::new(|group| {
        group
            .iter()
            .any(|b| !b.claims.is_empty())
            .then(|| JournalError::UniqueViolation {
                namespace: "tenant-slug".into(),
                key: "acme".into(),
                existing: None,
            })
    });
    let writer = GroupCommitWriter::spawn(log.clone(), GroupCommitConfig::default());
    let results = join_all(batches.into_iter().map(|b| writer.append(b))).await;

    let failed: Vec<_> = results
        .iter()
        .enumerate()
        .filter(|(_, r)| r.is_err())
        .map(|(i, _)| i)
        .collect();
    assert_eq!(failed, vec![2]);
    assert!(matches!(
        results[2],
        Err(JournalError::UniqueViolation { .. })
    ));
}

#[tokio::test(flavor = "current_thread")]
async fn a_conflict_costs_one_extra_transaction_not_one_per_batch() {
    let mut batches: Vec<_> = (0..50).map(|_| batch(1)).collect();
    let poisoned = stream_of(&batches[17]);
    batches[17].events[0].sequence = 9;
    let log = FakeLog::new(move |group| {
        group
            .iter()
            .any(|b| stream_of(b) == poisoned)
            .then_some(JournalError::StreamConflict {
                stream: poisoned,
                sequence: 9,
            })
    });
    let writer = GroupCommitWriter::spawn(log.clone(), GroupCommitConfig::default());
    // Queue everything before the writer runs, so it is all one group.
    let results = join_all(batches.into_iter().map(|b| writer.append(b))).await;

    assert_eq!(results.iter().filter(|r| r.is_err()).count(), 1);
    assert!(results[17].is_err());
    assert!(
        log.calls() <= 3,
        "{} transactions for one conflict",
        log.calls()
    );
    assert_eq!(log.committed().iter().map(Vec::len).sum::<usize>(), 49);
}

#[tokio::test(flavor = "current_thread")]
async fn of_two_claims_on_one_key_in_a_group_the_first_wins() {
    let claim = |owner| UniqueClaim {
        namespace: "tenant-slug".into(),
        key: "acme".into(),
        owner,
        request_id: None,
    };
    let mut batches: Vec<_> = (0..4).map(|_| batch(1)).collect();
    batches[1].claims.push(claim(Uuid::now_v7()));
    batches[3].claims.push(claim(Uuid::now_v7()));
    let log = FakeLog::new(|group| {
        (group.iter().filter(|b| !b.claims.is_empty()).count() > 1).then(|| {
            JournalError::UniqueViolation {
                namespace: "tenant-slug".into(),
                key: "acme".into(),
                existing: None,
            }
        })
    });
    let writer = GroupCommitWriter::spawn(log.clone(), GroupCommitConfig::default());
    let results = join_all(batches.into_iter().map(|b| writer.append(b))).await;

    let failed: Vec<_> = (0..4).filter(|i| results[*i].is_err()).collect();
    assert_eq!(failed, vec![3]);
}

#[tokio::test(flavor = "current_thread")]
async fn other_errors_reach_every_caller_of_the_group() {
    let log = FakeLog::new(|_| Some(JournalError::Unavailable("down".into())));
    let writer = GroupCommitWriter::spawn(log.clone(), GroupCommitConfig::default());
    let results = join_all((0..5).map(|_| writer.append(batch(1)))).await;

    assert!(
        results
            .iter()
            .all(|r| matches!(r, Err(JournalError::Unavailable(m)) if m == "down"))
    );
    assert!(
        log.calls() < 5,
        "no per-batch retry for a non-conflict error"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_panicking_store_fails_the_group_and_the_writer_goes_on() {
    let log = FakeLog::new(|group| {
        if group.iter().any(|b| b.events.len() == 5) {
            panic!("store bug");
        }
        None
    });
    let writer = GroupCommitWriter::spawn(log.clone(), GroupCommitConfig::default());

    assert!(matches!(
        writer.append(batch(5)).await,
        Err(JournalError::Database(_))
    ));
    assert!(writer.append(batch(1)).await.is_ok());
}

#[test]
fn callers_get_unavailable_when_the_writer_is_gone() {
    let writer_runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let writer = {
        let _entered = writer_runtime.enter();
        GroupCommitWriter::spawn(FakeLog::healthy(), GroupCommitConfig::default())
    };
    drop(writer_runtime);

    let caller_runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let result = caller_runtime.block_on(writer.append(batch(1)));
    assert!(
        matches!(result, Err(JournalError::Unavailable(_))),
        "{result:?}"
    );
}
