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
    telemetry::Metrics,
};

type Fault = Box<dyn Fn(&[AppendBatch]) -> Option<JournalError> + Send + Sync>;

/// Commits everything unless `fault` says otherwise; records each transaction's batches.
struct FakeLog {
    fault: Fault,
    transactions: Mutex<Vec<Vec<AppendBatch>>>,
    calls: AtomicUsize,
    /// The number of batches of every call, committed or not.
    sizes: Mutex<Vec<usize>>,
    /// How long each transaction takes (zero: one yield).
    delay: std::time::Duration,
    /// What [`EventLog::concurrent_appends`] reports.
    concurrency: usize,
    /// Transactions running now, and the most that ever ran at once.
    active: AtomicUsize,
    most: AtomicUsize,
}

impl FakeLog {
    fn new(
        fault: impl Fn(&[AppendBatch]) -> Option<JournalError> + Send + Sync + 'static,
    ) -> Arc<Self> {
        Arc::new(Self {
            fault: Box::new(fault),
            transactions: Mutex::default(),
            calls: AtomicUsize::new(0),
            sizes: Mutex::default(),
            delay: std::time::Duration::ZERO,
            concurrency: usize::MAX,
            active: AtomicUsize::new(0),
            most: AtomicUsize::new(0),
        })
    }

    /// This log with transactions that take `delay`, reporting `concurrency` as its limit.
    fn slow(self: Arc<Self>, delay: std::time::Duration, concurrency: usize) -> Arc<Self> {
        let mut log = Arc::into_inner(self).expect("not shared yet");
        log.delay = delay;
        log.concurrency = concurrency;
        Arc::new(log)
    }

    fn most_at_once(&self) -> usize {
        self.most.load(Ordering::SeqCst)
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

    fn sizes(&self) -> Vec<usize> {
        self.sizes.lock().unwrap().clone()
    }
}

#[async_trait]
impl EventLog for FakeLog {
    async fn append(&self, batches: &[AppendBatch]) -> Result<Vec<AppendReceipt>> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        self.sizes.lock().unwrap().push(batches.len());
        let now = self.active.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        if self.delay.is_zero() {
            tokio::task::yield_now().await;
        } else {
            tokio::time::sleep(self.delay).await;
        }
        self.active.fetch_sub(1, Ordering::SeqCst);
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

    fn concurrent_appends(&self) -> usize {
        self.concurrency
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
async fn every_transaction_and_its_size_are_measured() {
    let log = FakeLog::healthy();
    let metrics = Metrics::new();
    let writer = GroupCommitWriter::spawn_measured(
        log.clone(),
        GroupCommitConfig::default(),
        metrics.clone(),
    );
    join_all((0..100).map(|_| writer.append(batch(1)))).await;
    let text = metrics.encode();
    let count = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .map(str::to_owned)
    };
    let transactions = log.calls().to_string();
    assert_eq!(
        count("entity_journal_append_duration_seconds_count").as_deref(),
        Some(transactions.as_str()),
        "{text}"
    );
    assert_eq!(
        count("entity_journal_group_commands_count").as_deref(),
        Some(transactions.as_str())
    );
    // every command counted once, in the transaction that held it
    assert_eq!(
        count("entity_journal_group_commands_sum").as_deref(),
        Some("100.0")
    );
    assert_eq!(writer.queued(), 0);
}

#[tokio::test(flavor = "current_thread")]
async fn groups_respect_the_limits() {
    let log = FakeLog::healthy();
    let config = GroupCommitConfig {
        max_batches: 10,
        max_events: 7,
        queue_capacity: 4,
        ..GroupCommitConfig::default()
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

/// `batch(1)` with the event type the poisoned stores below refuse.
fn poison() -> AppendBatch {
    let mut batch = batch(1);
    batch.events[0].event_type = "Poison".into();
    batch
}

fn is_poison(batch: &AppendBatch) -> bool {
    batch.events.iter().any(|e| e.event_type == "Poison")
}

/// A store that refuses every transaction holding a poisoned batch with `error()`.
fn poisoned_store(error: impl Fn() -> JournalError + Send + Sync + 'static) -> Arc<FakeLog> {
    FakeLog::new(move |group| group.iter().any(is_poison).then(&error))
}

/// `n` batches, poisoned at `poisoned`.
fn batches_poisoned_at(n: usize, poisoned: &[usize]) -> Vec<AppendBatch> {
    (0..n)
        .map(|i| {
            if poisoned.contains(&i) {
                poison()
            } else {
                batch(1)
            }
        })
        .collect()
}

/// Appends `batches` through a new writer, all queued before the writer first runs (this is a
/// current-thread runtime), so that they form one group.
async fn append_as_one_group(
    log: &Arc<FakeLog>,
    batches: &[AppendBatch],
) -> Vec<Result<AppendReceipt>> {
    let writer = GroupCommitWriter::spawn(log.clone(), GroupCommitConfig::default());
    let results = join_all(batches.iter().cloned().map(|b| writer.append(b))).await;
    assert_eq!(
        log.sizes()[0],
        batches.len(),
        "not one group: {:?}",
        log.sizes()
    );
    results
}

/// Asserts that each poisoned batch got `refused` and wrote nothing, and that every other batch
/// got a receipt and was committed once.
fn assert_only_poison_failed(
    log: &FakeLog,
    batches: &[AppendBatch],
    results: &[Result<AppendReceipt>],
    refused: impl Fn(&JournalError) -> bool,
) {
    for (i, (batch, result)) in batches.iter().zip(results).enumerate() {
        match result {
            Err(error) => assert!(is_poison(batch) && refused(error), "batch {i}: {error:?}"),
            Ok(_) => assert!(!is_poison(batch), "poisoned batch {i} committed"),
        }
    }
    let mut committed: Vec<StreamId> = log.committed().iter().flatten().map(stream_of).collect();
    let mut innocent: Vec<StreamId> = batches
        .iter()
        .filter(|b| !is_poison(b))
        .map(stream_of)
        .collect();
    committed.sort_unstable();
    innocent.sort_unstable();
    assert_eq!(committed, innocent);
}

fn is_database(error: &JournalError) -> bool {
    matches!(error, JournalError::Database(m) if m == "refused")
}

#[tokio::test(flavor = "current_thread")]
async fn a_poisoned_batch_fails_only_its_own_caller_wherever_it_is() {
    for at in [0, 1, 31, 32, 62, 63] {
        let log = poisoned_store(|| JournalError::Database("refused".into()));
        let batches = batches_poisoned_at(64, &[at]);
        let results = append_as_one_group(&log, &batches).await;

        assert_only_poison_failed(&log, &batches, &results, is_database);
        // 64, then both halves of each of 32, 16, 8, 4, 2 and 1 batches: 1 + 2·log2(64).
        assert_eq!(log.calls(), 13, "poison at {at}: {:?}", log.sizes());
    }
}

#[tokio::test(flavor = "current_thread")]
async fn corrupt_data_is_narrowed_down_like_any_refusal() {
    let log = poisoned_store(|| JournalError::Corrupt("bad row".into()));
    let batches = batches_poisoned_at(10, &[6]);
    let results = append_as_one_group(&log, &batches).await;

    assert_only_poison_failed(&log, &batches, &results, |e| {
        matches!(e, JournalError::Corrupt(_))
    });
    // 10; 5 + 5; the second five as 2 (with the poison) + 3; the two as 1 + 1.
    assert_eq!(log.sizes(), vec![10, 5, 5, 2, 1, 1, 3]);
}

#[tokio::test(flavor = "current_thread")]
async fn two_poisoned_batches_fail_only_their_callers() {
    let log = poisoned_store(|| JournalError::Database("refused".into()));
    let batches = batches_poisoned_at(64, &[10, 40]);
    let results = append_as_one_group(&log, &batches).await;

    assert_only_poison_failed(&log, &batches, &results, is_database);
    // 64, both halves, then 2·5 for each half: 1 + 2 + 10 + 10.
    assert_eq!(log.calls(), 23, "{:?}", log.sizes());
}

#[tokio::test(flavor = "current_thread")]
async fn poisoned_neighbours_fail_only_their_callers() {
    let log = poisoned_store(|| JournalError::Database("refused".into()));
    let batches = batches_poisoned_at(8, &[4, 5]);
    let results = append_as_one_group(&log, &batches).await;

    assert_only_poison_failed(&log, &batches, &results, is_database);
    assert_eq!(log.sizes(), vec![8, 4, 4, 2, 1, 1, 2]);
}

#[tokio::test(flavor = "current_thread")]
async fn a_group_of_poisoned_batches_fails_each_caller_after_2n_minus_1_transactions() {
    let log = poisoned_store(|| JournalError::Database("refused".into()));
    let batches = batches_poisoned_at(16, &(0..16).collect::<Vec<_>>());
    let results = append_as_one_group(&log, &batches).await;

    assert!(
        results
            .iter()
            .all(|r| matches!(r, Err(e) if is_database(e)))
    );
    assert!(log.committed().is_empty());
    assert_eq!(log.calls(), 31);
}

#[tokio::test(flavor = "current_thread")]
async fn a_conflict_and_a_poison_in_one_group_fail_only_their_callers() {
    let batches = batches_poisoned_at(16, &[3]);
    let conflicting = stream_of(&batches[12]);
    let log = FakeLog::new(move |group| {
        if group.iter().any(|b| stream_of(b) == conflicting) {
            Some(JournalError::StreamConflict {
                stream: conflicting,
                sequence: 1,
            })
        } else {
            group
                .iter()
                .any(is_poison)
                .then(|| JournalError::Database("refused".into()))
        }
    });
    let results = append_as_one_group(&log, &batches).await;

    assert!(matches!(
        results[12],
        Err(JournalError::StreamConflict { sequence: 1, .. })
    ));
    assert!(matches!(&results[3], Err(e) if is_database(e)));
    let failed = results.iter().filter(|r| r.is_err()).count();
    assert_eq!(failed, 2);
    // 16 (the conflict); 15 without it (the poison); 7 + 8, the seven as 3 + 4, the four as
    // 2 + 2, the first two as 1 + 1.
    assert_eq!(log.sizes(), vec![16, 15, 7, 3, 4, 2, 1, 1, 2, 8]);
    assert_eq!(log.committed().iter().map(Vec::len).sum::<usize>(), 14);
}

#[tokio::test(flavor = "current_thread")]
async fn a_conflict_that_names_no_batch_is_narrowed_down() {
    let stranger = stream_of(&batch(1));
    let log = FakeLog::new(move |group| {
        group
            .iter()
            .any(is_poison)
            .then_some(JournalError::StreamConflict {
                stream: stranger,
                sequence: 1,
            })
    });
    let batches = batches_poisoned_at(8, &[5]);
    let results = append_as_one_group(&log, &batches).await;

    assert_only_poison_failed(
        &log,
        &batches,
        &results,
        |e| matches!(e, JournalError::StreamConflict { stream, .. } if *stream == stranger),
    );
    assert_eq!(log.calls(), 7);
}

#[tokio::test(flavor = "current_thread")]
async fn an_unavailable_store_fails_every_caller_without_a_retry() {
    let log = poisoned_store(|| JournalError::Unavailable("down".into()));
    let batches = batches_poisoned_at(64, &[17]);
    let results = append_as_one_group(&log, &batches).await;

    assert!(
        results
            .iter()
            .all(|r| matches!(r, Err(JournalError::Unavailable(m)) if m == "down"))
    );
    assert_eq!(log.calls(), 1, "the group may have committed: no retry");
    assert!(log.committed().is_empty());
}

#[tokio::test(flavor = "current_thread")]
async fn an_unknown_outcome_while_narrowing_down_is_not_retried() {
    // The whole group is refused; the half holding the poison then loses its connection.
    let log = FakeLog::new(|group| match (group.iter().any(is_poison), group.len()) {
        (false, _) => None,
        (true, 64) => Some(JournalError::Database("refused".into())),
        (true, _) => Some(JournalError::Unavailable("down".into())),
    });
    let batches = batches_poisoned_at(64, &[40]);
    let results = append_as_one_group(&log, &batches).await;

    assert!(results[..32].iter().all(Result::is_ok));
    assert!(
        results[32..]
            .iter()
            .all(|r| matches!(r, Err(JournalError::Unavailable(m)) if m == "down"))
    );
    assert_eq!(log.sizes(), vec![64, 32, 32]);
}

#[tokio::test(flavor = "current_thread")]
async fn a_panicking_store_fails_the_group_and_the_writer_goes_on() {
    let log = FakeLog::new(|group| {
        if group.iter().any(|b| b.events.len() == 5) {
            panic!("store bug");
        }
        None
    });
    let batches = [batch(1), batch(5), batch(1)];
    let results = append_as_one_group(&log, &batches).await;

    // It may have panicked after COMMIT: the group is not tried again.
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Err(JournalError::Database(_))))
    );
    assert_eq!(log.calls(), 1);
    let writer = GroupCommitWriter::spawn(log.clone(), GroupCommitConfig::default());
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

/// Where the fake committed each stream's batch: `(first, last)` position, from the order of
/// its transactions (it numbers positions in that order).
fn committed_positions(log: &FakeLog) -> std::collections::HashMap<StreamId, (i64, i64)> {
    let mut position = 0;
    let mut found = std::collections::HashMap::new();
    for batch in log.committed().iter().flatten() {
        let first = position + 1;
        position += batch.events.len() as i64;
        found.insert(stream_of(batch), (first, position));
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_several_groups_in_flight_each_caller_gets_its_own_answer() {
    const CALLERS: usize = 300;
    let batches: Vec<AppendBatch> = (0..CALLERS)
        .map(|i| {
            if i % 37 == 5 {
                poison()
            } else {
                batch(1 + i % 3)
            }
        })
        .collect();
    let conflicting = stream_of(&batches[100]);
    let log = FakeLog::new(move |group| {
        if group.iter().any(|b| stream_of(b) == conflicting) {
            Some(JournalError::StreamConflict {
                stream: conflicting,
                sequence: 1,
            })
        } else {
            group
                .iter()
                .any(is_poison)
                .then(|| JournalError::Database("refused".into()))
        }
    })
    .slow(std::time::Duration::from_millis(2), usize::MAX);
    let config = GroupCommitConfig {
        max_batches: 16,
        max_in_flight_groups: 4,
        ..GroupCommitConfig::default()
    };
    let writer = GroupCommitWriter::spawn(log.clone(), config);
    // Callers on both worker threads, arriving while groups are in flight.
    let calls = batches.iter().cloned().enumerate().map(|(i, b)| {
        let writer = writer.clone();
        tokio::spawn(async move {
            if i % 2 == 1 {
                tokio::time::sleep(std::time::Duration::from_micros(50 * i as u64)).await;
            }
            writer.append(b).await
        })
    });
    let results: Vec<_> = join_all(calls)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();

    assert!(
        log.most_at_once() > 1,
        "never more than one transaction in flight"
    );
    assert!(log.most_at_once() <= 4, "more than 4 in flight");
    let positions = committed_positions(&log);
    for (i, (batch, result)) in batches.iter().zip(&results).enumerate() {
        let stream = stream_of(batch);
        match result {
            Ok(receipt) => {
                assert!(!is_poison(batch) && i != 100, "batch {i} committed");
                assert_eq!(
                    positions.get(&stream),
                    Some(&(receipt.first_position, receipt.last_position)),
                    "batch {i} got another batch's receipt"
                );
            }
            Err(JournalError::StreamConflict { stream: s, .. }) => {
                assert_eq!((i, *s), (100, conflicting));
            }
            Err(error) => assert!(is_poison(batch) && is_database(error), "{i}: {error:?}"),
        }
    }
    let committed = log.committed().iter().flatten().count();
    let refused = batches.iter().filter(|b| is_poison(b)).count() + 1;
    assert_eq!(committed, CALLERS - refused);
    assert_eq!(positions.len(), committed, "a batch committed twice");
}

#[tokio::test(flavor = "current_thread")]
async fn a_lone_request_commits_at_once_with_several_slots() {
    let log = FakeLog::healthy();
    let writer = GroupCommitWriter::spawn(log.clone(), GroupCommitConfig::default());
    for _ in 0..3 {
        writer.append(batch(1)).await.unwrap();
    }
    assert_eq!(log.sizes(), vec![1, 1, 1]);
}

#[tokio::test(flavor = "current_thread")]
async fn the_serial_writer_keeps_one_transaction_in_flight() {
    let log = FakeLog::healthy().slow(std::time::Duration::from_millis(1), usize::MAX);
    let config = GroupCommitConfig {
        max_batches: 4,
        ..GroupCommitConfig::serial()
    };
    let writer = GroupCommitWriter::spawn(log.clone(), config);
    let results = join_all((0..40).map(|_| writer.append(batch(1)))).await;

    assert!(results.iter().all(Result::is_ok));
    assert_eq!(log.most_at_once(), 1);
    assert_eq!(log.sizes(), vec![4; 10]);
}

#[tokio::test(flavor = "current_thread")]
async fn the_store_caps_the_groups_in_flight() {
    let log = FakeLog::healthy().slow(std::time::Duration::from_millis(1), 2);
    let config = GroupCommitConfig {
        max_batches: 2,
        max_in_flight_groups: 8,
        ..GroupCommitConfig::default()
    };
    let writer = GroupCommitWriter::spawn(log.clone(), config);
    let results = join_all((0..40).map(|_| writer.append(batch(1)))).await;

    assert!(results.iter().all(Result::is_ok));
    assert_eq!(log.most_at_once(), 2);
}

#[tokio::test(flavor = "current_thread")]
async fn a_yield_lets_callers_woken_in_the_same_tick_join_the_group() {
    // Nine callers are woken with the writer, nine more once the writer has yielded once: only
    // a writer that yields again after the first nine joined catches them too. A yield that
    // brings no one ends the gathering.
    for (gather_yields, expected) in [
        (0, vec![1, 9, 9]),
        (1, vec![10, 9]),
        (2, vec![19]),
        (3, vec![19]),
    ] {
        let log = FakeLog::healthy();
        let config = GroupCommitConfig {
            gather_yields,
            ..GroupCommitConfig::default()
        };
        let writer = GroupCommitWriter::spawn(log.clone(), config);
        let (early, late) = (
            Arc::new(tokio::sync::Notify::new()),
            Arc::new(tokio::sync::Notify::new()),
        );
        let followers: Vec<_> = (0..18)
            .map(|i| {
                let writer = writer.clone();
                let go = Arc::clone(if i < 9 { &early } else { &late });
                tokio::spawn(async move {
                    go.notified().await;
                    writer.append(batch(1)).await
                })
            })
            .collect();
        // The followers wait for their signal, the writer for a request.
        tokio::task::yield_now().await;
        let mut first = Box::pin(writer.append(batch(1)));
        assert!(futures::poll!(first.as_mut()).is_pending(), "not queued");
        // Woken in the same tick as the writer, behind it in the run queue.
        early.notify_waiters();
        // Woken after the writer's first yield, once the early ones have queued.
        tokio::task::yield_now().await;
        late.notify_waiters();
        first.await.unwrap();
        for follower in followers {
            follower.await.unwrap().unwrap();
        }
        assert_eq!(log.sizes(), expected, "{gather_yields} yields");
    }
}
