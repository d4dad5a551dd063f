//! Fixtures for the journal conformance suite: events, claims and timers to append.
//!
//! Include with `#[path = "support/journal.rs"] mod support;`.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicUsize, Ordering},
};

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use engine::{
    domain::{StreamId, StreamKind, TenantId},
    journal::{
        AppendBatch, AppendReceipt, AuditActor, EventLog, EventMetadata, JournalError, NewEvent,
        RecordedEvent, TimerChange, UniqueClaim,
    },
};
use serde_json::json;
use uuid::Uuid;

/// Now, at the microsecond precision the stores keep.
pub fn now() -> DateTime<Utc> {
    DateTime::from_timestamp_micros(Utc::now().timestamp_micros()).unwrap()
}

/// `now()` shifted by `seconds`.
pub fn in_seconds(seconds: i64) -> DateTime<Utc> {
    now() + Duration::seconds(seconds)
}

/// A new tenant and its tenant stream.
pub fn tenant() -> (TenantId, StreamId) {
    let tenant_id = TenantId::new_v7();
    (
        tenant_id,
        StreamId::new(StreamKind::Tenant, tenant_id.uuid()),
    )
}

/// A new organization stream.
pub fn organization_stream() -> StreamId {
    StreamId::new(StreamKind::Organization, Uuid::now_v7())
}

/// Metadata with every field set.
pub fn full_metadata(request_id: &str) -> EventMetadata {
    EventMetadata {
        actor: AuditActor {
            subject: "user-42".into(),
            on_behalf_of: Some("user-7".into()),
            credential_kind: "jwt".into(),
            credential_id: Some("jti-123".into()),
        },
        request_id: Some(request_id.into()),
        request_hash: Some("ab12".repeat(16)),
        request_target: Some(StreamId::new(StreamKind::Tenant, Uuid::now_v7())),
        correlation_id: Some(request_id.into()),
        causation_id: Some("cmd-1".into()),
        trace_id: Some("4bf92f3577b34da6a3ce929d0e0e4736".into()),
        traceparent: Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into()),
    }
}

/// An event with a payload that exercises JSON round trips.
pub fn event(tenant_id: TenantId, stream: StreamId, sequence: i64) -> NewEvent {
    NewEvent {
        tenant_id,
        stream,
        sequence,
        event_type: format!("Event{sequence}"),
        schema_version: 1 + (sequence % 3) as i32,
        payload: json!({
            "sequence": sequence,
            "name": "Zoë & Co. — ✓",
            "nested": { "list": [1, 2.5, null, true, "x"], "empty": {} },
            "big": 9_007_199_254_740_993_i64,
        }),
        metadata: full_metadata(&format!("req-{sequence}")),
        recorded_at: in_seconds(-sequence),
    }
}

/// A batch of the events `sequences` of one stream.
pub fn events(
    tenant_id: TenantId,
    stream: StreamId,
    sequences: std::ops::RangeInclusive<i64>,
) -> AppendBatch {
    AppendBatch {
        events: sequences.map(|s| event(tenant_id, stream, s)).collect(),
        ..Default::default()
    }
}

/// A claim of `key` in namespace `tenant-slug`.
pub fn claim(key: &str, owner: Uuid, request_id: Option<&str>) -> UniqueClaim {
    UniqueClaim {
        namespace: "tenant-slug".into(),
        key: key.into(),
        owner,
        request_id: request_id.map(Into::into),
    }
}

/// Sets a timer.
pub fn set_timer(tenant_id: TenantId, kind: &str, due_at: DateTime<Utc>) -> TimerChange {
    TimerChange::Set {
        tenant_id,
        kind: kind.into(),
        due_at,
    }
}

/// Clears a timer.
pub fn clear_timer(tenant_id: TenantId, kind: &str) -> TimerChange {
    TimerChange::Clear {
        tenant_id,
        kind: kind.into(),
    }
}

/// A batch with only timer changes.
pub fn timers(changes: Vec<TimerChange>) -> AppendBatch {
    AppendBatch {
        timers: changes,
        ..Default::default()
    }
}

/// A store that records what each `append` (one transaction) held and how many ran at once.
pub struct Observed<J> {
    store: J,
    sizes: Mutex<Vec<usize>>,
    active: AtomicUsize,
    most: AtomicUsize,
}

impl<J> Observed<J> {
    pub fn new(store: J) -> Arc<Self> {
        Arc::new(Self {
            store,
            sizes: Mutex::default(),
            active: AtomicUsize::new(0),
            most: AtomicUsize::new(0),
        })
    }

    /// The number of batches of each transaction, in the order they started.
    pub fn sizes(&self) -> Vec<usize> {
        self.sizes.lock().unwrap().clone()
    }

    /// The most transactions that ran at once.
    pub fn most_at_once(&self) -> usize {
        self.most.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl<J: EventLog> EventLog for Observed<J> {
    async fn append(&self, batches: &[AppendBatch]) -> Result<Vec<AppendReceipt>, JournalError> {
        self.sizes.lock().unwrap().push(batches.len());
        let now = self.active.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        let result = self.store.append(batches).await;
        self.active.fetch_sub(1, Ordering::SeqCst);
        result
    }

    fn concurrent_appends(&self) -> usize {
        self.store.concurrent_appends()
    }

    async fn read_stream(
        &self,
        stream: StreamId,
        after_sequence: i64,
    ) -> Result<Vec<RecordedEvent>, JournalError> {
        self.store.read_stream(stream, after_sequence).await
    }

    async fn read_tenant(
        &self,
        tenant_id: TenantId,
        after_position: i64,
    ) -> Result<Vec<RecordedEvent>, JournalError> {
        self.store.read_tenant(tenant_id, after_position).await
    }

    async fn read_all(
        &self,
        after_position: i64,
        limit: i64,
    ) -> Result<Vec<RecordedEvent>, JournalError> {
        self.store.read_all(after_position, limit).await
    }

    async fn unique_claim(
        &self,
        namespace: &str,
        key: &str,
    ) -> Result<Option<UniqueClaim>, JournalError> {
        self.store.unique_claim(namespace, key).await
    }
}
