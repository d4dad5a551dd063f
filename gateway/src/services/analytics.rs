//! `entity.v1.AnalyticsService`: `ExportChanges` streams the analytics history (issue 20) in
//! position order, read from the `analytics` read model.
//!
//! A stream outlives its handler: the node's admission slot is given back once the stream's
//! head is answered, and nothing in front of the service bounds the body. So an export bounds
//! itself, and one caller's exports cannot hurt the others:
//!
//! - **Few at once.** At most [`MAX_EXPORTS`] streams per node and [`MAX_EXPORTS_PER_TENANT`]
//!   per tenant (callers without one, platform admins, share one count), each held from the
//!   call until its stream ends; beyond them RESOURCE_EXHAUSTED at once (`OVERLOADED` /
//!   `TENANT_CONCURRENCY`, with RetryInfo), as the admission layer answers.
//! - **Bounded reads, no connection held.** A page reads at most [`PAGE_ROWS`] rows from at
//!   most `ANALYTICS_SCAN_WINDOW` positions, on a pooled connection given back before its rows
//!   are sent; a message carries at most [`MAX_MESSAGE_BYTES`] of states (or one change); at
//!   most two messages wait for the client. At most `max_changes` rows per call.
//! - **Ends by its deadline**, the call's `grpc-timeout` cut to the node's maximum call
//!   duration, also when the client stops reading: the producer gives up waiting for room at
//!   the deadline and ends, giving its slot back (a probe's never-read streams must not pin
//!   slots: docs/ARCHITECTURE.md, "Admission control"). A stream cut short has no page marked
//!   `complete`; the client resumes after the last `resume_after` it received.
//! - **Stops when the client goes away**: its next send fails.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use engine::domain::TenantId;
use entity_proto::v1::{self as pb, analytics_service_server::AnalyticsService};
use projections::{AnalyticsChange, AnalyticsFilter, ReadModels};
use tokio::{sync::mpsc, time::Instant};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Code, Request, Response, Status, metadata::MetadataMap};

use super::{Shared, strip};
use crate::{
    auth::Target,
    convert::analytics::{self, Since},
    server::DEFAULT_MAX_CALL_DURATION,
    status,
};

/// Export streams a node serves at once.
pub const MAX_EXPORTS: usize = 16;
/// Export streams one tenant (or the platform callers together) may have at once.
pub const MAX_EXPORTS_PER_TENANT: usize = 4;
/// Most rows read per page.
pub const PAGE_ROWS: usize = 500;
/// Most bytes of states in one message (a single larger change goes alone).
pub const MAX_MESSAGE_BYTES: usize = 1024 * 1024;
/// A page that found nothing is still sent (an empty page moving `resume_after`) after this
/// many in a row, so a stream cut short keeps the ground it covered.
const PROGRESS_EVERY: usize = 10;
/// What a change adds to a message besides its state (ids, names, times).
const CHANGE_OVERHEAD_BYTES: usize = 200;

/// The AnalyticsService implementation.
#[derive(Clone)]
pub struct AnalyticsApi {
    shared: Shared,
    max_call: Duration,
    exports: Arc<Exports>,
}

impl AnalyticsApi {
    pub(super) fn new(shared: Shared) -> Self {
        Self {
            shared,
            max_call: DEFAULT_MAX_CALL_DURATION,
            exports: Arc::new(Exports::default()),
        }
    }

    /// Streams end by `max_call` after their call at the latest (the node's maximum call
    /// duration; the default is the server's default).
    #[must_use]
    pub fn with_max_call(mut self, max_call: Duration) -> Self {
        self.max_call = max_call;
        self
    }
}

type Page = Result<pb::ExportChangesResponse, Status>;

#[tonic::async_trait]
impl AnalyticsService for AnalyticsApi {
    type ExportChangesStream = ReceiverStream<Page>;

    async fn export_changes(
        &self,
        request: Request<pb::ExportChangesRequest>,
    ) -> Result<Response<Self::ExportChangesStream>, Status> {
        let export = analytics::export_changes(request.get_ref())?;
        let timeout =
            call_timeout(request.metadata()).map_or(self.max_call, |t| t.min(self.max_call));
        let deadline = Instant::now() + timeout;
        // Without a tenant the rule's tenant scope cannot be met: platform admins only.
        let target = export.tenant.map_or_else(Target::default, Target::tenant);
        let caller = self.shared.authorize(strip(request), target).await?;
        let slot = self.exports.take(caller.rate_account())?;
        let reads = self.shared.reads.clone();
        let start = async {
            let end = reads.analytics_end(export.consistency).await?;
            let after = match export.since {
                Since::Position(position) => position,
                Since::Time(time) => reads.analytics_position_at(time).await?,
            };
            Ok::<_, projections::Error>((end, after))
        };
        let (end, after) = tokio::time::timeout_at(deadline, start)
            .await
            .map_err(|_| deadline_exceeded(timeout))?
            .map_err(status::from_read_error)?;
        tracing::debug!(
            tenant = ?export.tenant, after, end, max = export.max_changes,
            "analytics export starts"
        );
        let (tx, rx) = mpsc::channel(2);
        let producer = Producer {
            reads,
            filter: AnalyticsFilter {
                tenant: export.tenant,
                kinds: export.kinds,
            },
            after,
            end,
            remaining: export.max_changes,
            deadline,
            timeout,
            _slot: slot,
        };
        tokio::spawn(producer.run(tx));
        Ok(Response::new(ReceiverStream::new(rx)))
    }
}

/// One export's reading and sending, in a task of its own.
struct Producer {
    reads: ReadModels,
    filter: AnalyticsFilter,
    /// Where the next page starts.
    after: i64,
    /// The newest position when the call started: where the export is complete.
    end: i64,
    /// Changes the call may still return.
    remaining: usize,
    deadline: Instant,
    timeout: Duration,
    /// Held until the stream ends.
    _slot: ExportSlot,
}

impl Producer {
    async fn run(mut self, tx: mpsc::Sender<Page>) {
        let mut found_nothing = 0;
        loop {
            let limit = self.remaining.min(PAGE_ROWS);
            let read = self
                .reads
                .analytics_page(&self.filter, self.after, self.end, limit);
            let page = match tokio::time::timeout_at(self.deadline, read).await {
                Ok(Ok(page)) => page,
                Ok(Err(error)) => return end_with(&tx, status::from_read_error(error)),
                Err(_) => return end_with(&tx, deadline_exceeded(self.timeout)),
            };
            self.after = page.resume_after;
            self.remaining = self.remaining.saturating_sub(page.changes.len());
            let complete = self.after >= self.end;
            let last = complete || self.remaining == 0;
            if page.changes.is_empty() && !last && !tx.is_closed() {
                found_nothing += 1;
                if found_nothing < PROGRESS_EVERY {
                    continue;
                }
            }
            found_nothing = 0;
            for message in messages(page.changes, self.after, complete) {
                // A client that stops reading keeps the stream no longer than its deadline.
                match tokio::time::timeout_at(self.deadline, tx.send(Ok(message))).await {
                    Ok(Ok(())) => {}
                    Ok(Err(_)) => {
                        tracing::debug!(after = self.after, "analytics export: client gone");
                        return;
                    }
                    Err(_) => {
                        tracing::debug!(after = self.after, "analytics export: deadline");
                        return;
                    }
                }
            }
            if last {
                return;
            }
        }
    }
}

/// Ends a stream with `status` if the client has room for it (else it just ends: without a
/// page marked `complete`, which tells the client to resume).
fn end_with(tx: &mpsc::Sender<Page>, status: Status) {
    let _ = tx.try_send(Err(status));
}

/// The messages of one page: chunks of at most [`PAGE_ROWS`] changes and
/// [`MAX_MESSAGE_BYTES`] of states, each resuming after its last change; the last one after
/// `resume_after`, marked `complete` when the export is. Always at least one message.
fn messages(
    changes: Vec<AnalyticsChange>,
    resume_after: i64,
    complete: bool,
) -> Vec<pb::ExportChangesResponse> {
    let mut out = Vec::new();
    let mut current = Vec::new();
    let mut bytes = 0;
    for change in changes {
        let size = change.state.len() + CHANGE_OVERHEAD_BYTES;
        if !current.is_empty() && (bytes + size > MAX_MESSAGE_BYTES || current.len() == PAGE_ROWS) {
            out.push(message(std::mem::take(&mut current), None, false));
            bytes = 0;
        }
        bytes += size;
        current.push(analytics::change_to_proto(change));
    }
    out.push(message(current, Some(resume_after), complete));
    out
}

fn message(
    changes: Vec<pb::AnalyticsChange>,
    resume_after: Option<i64>,
    complete: bool,
) -> pb::ExportChangesResponse {
    let last = changes.last().map_or(0, |c| c.position);
    pb::ExportChangesResponse {
        changes,
        resume_after: resume_after.unwrap_or(last),
        complete,
    }
}

/// DEADLINE_EXCEEDED, as the server's deadline layer answers.
fn deadline_exceeded(timeout: Duration) -> Status {
    status::refusal(
        Code::DeadlineExceeded,
        "DEADLINE_EXCEEDED",
        format!("the export did not finish within {timeout:?}; resume after the last page"),
    )
}

/// The client's `grpc-timeout` (the edge's parser; `None` when absent or malformed).
fn call_timeout(metadata: &MetadataMap) -> Option<Duration> {
    crate::server::edge::parse_grpc_timeout(metadata.get("grpc-timeout")?.to_str().ok()?)
}

/// Export streams held, per node and per tenant.
#[derive(Debug, Default)]
struct Exports {
    held: Mutex<Held>,
}

#[derive(Debug, Default)]
struct Held {
    total: usize,
    per_tenant: HashMap<Option<TenantId>, usize>,
}

impl Exports {
    /// A stream slot of `account` (the caller's tenant; `None`: platform callers).
    fn take(self: &Arc<Self>, account: Option<TenantId>) -> Result<ExportSlot, Status> {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        let mine = held.per_tenant.get(&account).copied().unwrap_or(0);
        if mine >= MAX_EXPORTS_PER_TENANT {
            return Err(status::retryable(
                Code::ResourceExhausted,
                "TENANT_CONCURRENCY",
                "the tenant has too many exports running on this node; retry later",
            ));
        }
        if held.total >= MAX_EXPORTS {
            return Err(status::retryable(
                Code::ResourceExhausted,
                "OVERLOADED",
                "the node is overloaded: too many exports running; retry later",
            ));
        }
        held.total += 1;
        held.per_tenant.insert(account, mine + 1);
        Ok(ExportSlot {
            exports: self.clone(),
            account,
        })
    }
}

/// One running export's share; given back when dropped.
#[derive(Debug)]
struct ExportSlot {
    exports: Arc<Exports>,
    account: Option<TenantId>,
}

impl Drop for ExportSlot {
    fn drop(&mut self) {
        let mut held = self.exports.held.lock().unwrap_or_else(|p| p.into_inner());
        held.total = held.total.saturating_sub(1);
        if let Some(mine) = held.per_tenant.get_mut(&self.account) {
            *mine = mine.saturating_sub(1);
            if *mine == 0 {
                held.per_tenant.remove(&self.account);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use chrono::Utc;
    use projections::{AnalyticsKind, ChangeOperation};

    use super::*;

    fn change(position: i64, state_bytes: usize) -> AnalyticsChange {
        AnalyticsChange {
            position,
            tenant_id: TenantId::new_v7(),
            kind: AnalyticsKind::User,
            entity_id: uuid::Uuid::now_v7(),
            operation: ChangeOperation::Update,
            version: 2,
            event_type: "UserProfileUpdated".into(),
            state: "x".repeat(state_bytes),
            recorded_at: Utc::now(),
        }
    }

    #[test]
    fn pages_are_split_by_rows_and_bytes_and_always_sent() {
        let empty = messages(Vec::new(), 40, true);
        assert_eq!(empty.len(), 1);
        assert_eq!((empty[0].resume_after, empty[0].complete), (40, true));
        let rows: Vec<_> = (1..=PAGE_ROWS as i64 + 1).map(|p| change(p, 10)).collect();
        let split = messages(rows, 900, false);
        assert_eq!(split.len(), 2);
        assert_eq!(split[0].changes.len(), PAGE_ROWS);
        assert_eq!(split[0].resume_after, PAGE_ROWS as i64);
        assert!(!split[0].complete);
        assert_eq!((split[1].resume_after, split[1].complete), (900, false));
        let big = messages(vec![change(1, MAX_MESSAGE_BYTES), change(2, 10)], 2, true);
        assert_eq!(big.len(), 2, "a large change goes alone");
        assert!(big[1].complete && !big[0].complete);
    }

    #[test]
    fn exports_are_bounded_per_tenant_and_per_node() {
        let exports = Arc::new(Exports::default());
        let tenant = Some(TenantId::new_v7());
        let held: Vec<_> = (0..MAX_EXPORTS_PER_TENANT)
            .map(|_| exports.take(tenant).unwrap())
            .collect();
        let refused = exports.take(tenant).unwrap_err();
        assert_eq!(refused.code(), Code::ResourceExhausted);
        drop(held);
        let mut others = Vec::new();
        for _ in 0..MAX_EXPORTS / MAX_EXPORTS_PER_TENANT {
            let account = Some(TenantId::new_v7());
            for _ in 0..MAX_EXPORTS_PER_TENANT {
                others.push(exports.take(account).unwrap());
            }
        }
        assert_eq!(
            exports.take(None).unwrap_err().code(),
            Code::ResourceExhausted
        );
        others.pop();
        let _platform = exports.take(None).unwrap();
        drop(others);
        assert_eq!(exports.held.lock().unwrap().total, 1);
    }

    #[test]
    fn grpc_timeouts_parse() {
        let mut m = MetadataMap::new();
        assert_eq!(call_timeout(&m), None);
        m.insert("grpc-timeout", "1500m".parse().unwrap());
        assert_eq!(call_timeout(&m), Some(Duration::from_millis(1500)));
        m.insert("grpc-timeout", "123456789S".parse().unwrap());
        assert_eq!(call_timeout(&m), None);
    }
}
