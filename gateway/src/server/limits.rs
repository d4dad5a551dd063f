//! Admission of calls, as one tower layer placed just inside the authentication layer (so the
//! caller and its tenant are known) and before any work is queued. In order:
//!
//! 1. **Receive the whole request body first**, within [`Admission::request_body_timeout`]
//!    (DEADLINE_EXCEEDED, reason `REQUEST_BODY_TIMEOUT`, after it) and at most one gRPC frame
//!    of [`MAX_REQUEST_MESSAGE_BYTES`] ([`MAX_REQUEST_BODY_BYTES`]; more is RESOURCE_EXHAUSTED,
//!    reason `REQUEST_TOO_LARGE`, refused as soon as the frame's length prefix says so). A
//!    body still arriving holds no call slot, only its bytes of the receive buffers: each
//!    call is charged [`RECEIVE_OVERHEAD_BYTES`] plus the buffer it needs, against its
//!    tenant's share ([`Admission::max_receive_bytes_per_tenant`]) and the node's
//!    ([`Admission::max_receive_bytes`]), and keeps that charge until it is answered. Over
//!    either → RESOURCE_EXHAUSTED (`TENANT_CONCURRENCY` / `OVERLOADED`) at once.
//! 2. **Take a call slot** of the tenant ([`Admission::max_in_flight_per_tenant`], reason
//!    `TENANT_CONCURRENCY`) and of the node ([`Admission::max_in_flight`], reason
//!    `OVERLOADED`); when none is free the call is answered RESOURCE_EXHAUSTED at once, never
//!    queued.
//! 3. **Rate-limit the tenant** by the tenant's plan (SPEC §3: bronze 50/s, silver 500/s,
//!    gold 5,000/s; burst = one second's worth), with `governor`'s keyed GCRA limiters
//!    ([`TenantRates`]). The plan is read with `Engine::get_tenant` and cached for
//!    [`PLAN_CACHE_TTL`]. Over the rate → RESOURCE_EXHAUSTED (reason `RATE_LIMITED`), RetryInfo
//!    the wait until the tenant's next call conforms.
//! 4. Call the service with the received body.
//!
//! "Tenant" is the credential's tenant; platform-level callers without one (platform admins,
//! the dev identity) share one bucket of their own for the shares of steps 1 and 2 and are
//! not rate-limited. Every RESOURCE_EXHAUSTED of steps 1-3 carries RetryInfo.

use std::{
    collections::HashMap,
    hash::Hash,
    num::NonZeroU32,
    sync::{Arc, Mutex},
    task::{Context, Poll},
    time::{Duration, Instant},
};

use engine::{
    domain::{Plan, TenantId},
    runtime::Engine,
};
use governor::{
    RateLimiter,
    clock::{Clock, DefaultClock},
    middleware::NoOpMiddleware,
    state::keyed::DashMapStateStore,
};
use http_body_util::{BodyExt, Full};
use tonic::{
    Code, Status,
    body::Body,
    codegen::{Bytes, http},
    server::NamedService,
};
use tonic_types::{ErrorDetails, StatusExt};
use tower::{Layer, Service};

use super::{Admission, MAX_REQUEST_MESSAGE_BYTES};
use crate::{
    auth::Caller,
    status::{self, ERROR_DOMAIN},
};

/// How long a tenant's plan is cached.
pub const PLAN_CACHE_TTL: Duration = Duration::from_secs(5);
/// How often at most the rate limiters forget the tenants whose allowance is whole again, and
/// the plan cache its expired entries (see [`Limits`]' plan lookup).
pub const RATE_SWEEP_INTERVAL: Duration = Duration::from_secs(10);
/// Default node-wide limit of calls in flight.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 2048;
/// By default a tenant may hold this fraction (1/N) of the node's calls and receive buffers.
pub const DEFAULT_TENANT_SHARE: usize = 8;
/// Default node-wide bound of request bytes held (being received or in flight).
pub const DEFAULT_MAX_RECEIVE_BYTES: usize = 64 * 1024 * 1024;
/// Default time a client has to send a whole request body.
pub const DEFAULT_REQUEST_BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// Length of the prefix of a gRPC message frame (compressed flag and a 4-byte length).
const GRPC_FRAME_PREFIX: usize = 5;
/// Largest request body received: one gRPC frame holding the largest message accepted.
pub const MAX_REQUEST_BODY_BYTES: usize = MAX_REQUEST_MESSAGE_BYTES + GRPC_FRAME_PREFIX;
/// What a call is charged against the receive buffers besides its body: an estimate of its
/// HTTP/2 stream state, headers and futures. It also bounds how many bodies a tenant may
/// have arriving at once.
pub const RECEIVE_OVERHEAD_BYTES: usize = 4 * 1024;
/// RetryInfo of the refusals for concurrency.
const RETRY_CONCURRENCY: Duration = Duration::from_millis(100);

/// Requests per second allowed by a plan.
pub fn plan_rate(plan: Plan) -> f64 {
    match plan {
        Plan::Bronze => 50.0,
        Plan::Silver => 500.0,
        Plan::Gold => 5_000.0,
    }
}

/// The `governor` quota of a plan: [`plan_rate`] cells per second, a burst of one second's
/// worth.
pub fn plan_quota(plan: Plan) -> governor::Quota {
    // The rates are whole numbers of calls per second (at least 50).
    let per_second = NonZeroU32::new(plan_rate(plan) as u32).unwrap_or(NonZeroU32::MIN);
    governor::Quota::per_second(per_second)
}

/// One plan's keyed limiter: one GCRA state (a theoretical arrival time, 8 bytes) per tenant,
/// in a `DashMap`.
type PlanLimiter<C> =
    RateLimiter<TenantId, DashMapStateStore<TenantId>, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// Request rates of tenants by plan: one keyed `governor` limiter per plan.
///
/// A tenant whose plan changes moves to the other plan's limiter and starts there with a whole
/// burst; what it had used on the old one is dropped (forgotten by the next
/// [`forget_idle`](Self::forget_idle) once it would have refilled).
pub struct TenantRates<C: Clock = DefaultClock> {
    bronze: PlanLimiter<C>,
    silver: PlanLimiter<C>,
    gold: PlanLimiter<C>,
}

impl TenantRates {
    /// Limiters on `governor`'s default clock.
    pub fn new() -> Self {
        Self::with_clock(DefaultClock::default())
    }
}

impl Default for TenantRates {
    fn default() -> Self {
        Self::new()
    }
}

impl<C: Clock + Clone> TenantRates<C> {
    /// Limiters reading the time from `clock`.
    pub fn with_clock(clock: C) -> Self {
        Self::with_clock_and_quotas(clock, plan_quota)
    }

    /// Limiters reading the time from `clock`, with `quota(plan)` instead of [`plan_quota`]
    /// (tests and benches).
    pub fn with_clock_and_quotas(clock: C, quota: impl Fn(Plan) -> governor::Quota) -> Self {
        let limiter = |plan| RateLimiter::dashmap_with_clock(quota(plan), clock.clone());
        Self {
            bronze: limiter(Plan::Bronze),
            silver: limiter(Plan::Silver),
            gold: limiter(Plan::Gold),
        }
    }

    fn limiter(&self, plan: Plan) -> &PlanLimiter<C> {
        match plan {
            Plan::Bronze => &self.bronze,
            Plan::Silver => &self.silver,
            Plan::Gold => &self.gold,
        }
    }

    /// Lets one call of `tenant` on `plan` through, or says how long until the next one may
    /// pass.
    pub fn take(&self, tenant: TenantId, plan: Plan) -> Result<(), Duration> {
        let limiter = self.limiter(plan);
        limiter
            .check_key(&tenant)
            .map_err(|not_until| not_until.wait_time_from(limiter.clock().now()))
    }

    /// Forgets the tenants whose state is that of a tenant never seen (a whole burst
    /// available), and gives back the maps' spare capacity. O(tenants held).
    pub fn forget_idle(&self) {
        for limiter in [&self.bronze, &self.silver, &self.gold] {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }

    /// How many tenant states the limiters hold.
    pub fn tenants(&self) -> usize {
        [&self.bronze, &self.silver, &self.gold]
            .iter()
            .map(|limiter| limiter.len())
            .sum()
    }
}

/// Whose share a call counts against: its credential's tenant, or `None` for platform-level
/// callers (who share one).
type Account = Option<TenantId>;

/// Units (calls, bytes) held per key, each key bounded by the same limit; keys holding
/// nothing are forgotten.
struct Quota<K> {
    limit: usize,
    held: Mutex<HashMap<K, usize>>,
}

impl<K: Eq + Hash + Clone> Quota<K> {
    fn new(limit: usize) -> Arc<Self> {
        Arc::new(Self {
            limit,
            held: Mutex::new(HashMap::new()),
        })
    }

    fn try_add(&self, key: &K, units: usize) -> bool {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        let current = held.get(key).copied().unwrap_or(0);
        match current.checked_add(units) {
            Some(total) if total <= self.limit => {
                held.insert(key.clone(), total);
                true
            }
            _ => false,
        }
    }

    fn release(&self, key: &K, units: usize) {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(current) = held.get_mut(key) {
            *current = current.saturating_sub(units);
            if *current == 0 {
                held.remove(key);
            }
        }
    }
}

/// The units one call holds of a [`Quota`]; given back when dropped.
struct Held<K: Eq + Hash + Clone> {
    quota: Arc<Quota<K>>,
    key: K,
    units: usize,
}

impl<K: Eq + Hash + Clone> Held<K> {
    fn new(quota: &Arc<Quota<K>>, key: K) -> Self {
        Self {
            quota: quota.clone(),
            key,
            units: 0,
        }
    }

    fn try_grow(&mut self, units: usize) -> bool {
        let granted = self.quota.try_add(&self.key, units);
        if granted {
            self.units += units;
        }
        granted
    }

    fn shrink(&mut self, units: usize) {
        let units = units.min(self.units);
        self.quota.release(&self.key, units);
        self.units -= units;
    }
}

impl<K: Eq + Hash + Clone> Drop for Held<K> {
    fn drop(&mut self) {
        if self.units > 0 {
            self.quota.release(&self.key, self.units);
        }
    }
}

/// Which share refused a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Short {
    /// The caller's tenant holds its whole share.
    Tenant,
    /// The node is at its limit.
    Node,
}

/// A call's hold on a resource counted both per tenant and per node.
struct Share {
    tenant: Held<Account>,
    node: Held<()>,
}

impl Share {
    fn try_grow(&mut self, units: usize) -> Result<(), Short> {
        if !self.tenant.try_grow(units) {
            return Err(Short::Tenant);
        }
        if !self.node.try_grow(units) {
            self.tenant.shrink(units);
            return Err(Short::Node);
        }
        Ok(())
    }
}

/// A quota per tenant and one for the node, of the same resource.
struct Shared {
    per_tenant: Arc<Quota<Account>>,
    node: Arc<Quota<()>>,
}

impl Shared {
    fn new(per_tenant: usize, node: usize) -> Self {
        Self {
            per_tenant: Quota::new(per_tenant),
            node: Quota::new(node),
        }
    }

    fn share(&self, account: Account) -> Share {
        Share {
            tenant: Held::new(&self.per_tenant, account),
            node: Held::new(&self.node, ()),
        }
    }
}

/// The shared state of the limits.
pub struct Limits {
    engine: Engine,
    body_timeout: Duration,
    calls: Shared,
    bytes: Shared,
    plans: Mutex<HashMap<TenantId, (Plan, Instant)>>,
    rates: TenantRates,
    /// When the idle tenants are next forgotten (at a plan lookup).
    next_sweep: Mutex<Instant>,
}

impl Limits {
    /// Limits over `engine` with the bounds of `admission`.
    pub fn new(engine: Engine, admission: &Admission) -> Arc<Self> {
        Arc::new(Self {
            engine,
            body_timeout: admission.request_body_timeout,
            calls: Shared::new(admission.max_in_flight_per_tenant, admission.max_in_flight),
            bytes: Shared::new(
                admission.max_receive_bytes_per_tenant,
                admission.max_receive_bytes,
            ),
            plans: Mutex::new(HashMap::new()),
            rates: TenantRates::new(),
            next_sweep: Mutex::new(Instant::now() + RATE_SWEEP_INTERVAL),
        })
    }

    /// Counts `refusal` by its reason and answers it.
    fn refuse(&self, refusal: Refusal) -> http::Response<Body> {
        self.engine.metrics().rejected(refusal.label());
        refusal.status().into_http()
    }

    async fn plan(&self, tenant: TenantId) -> Plan {
        if let Some((plan, at)) = self
            .plans
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&tenant)
            && at.elapsed() < PLAN_CACHE_TTL
        {
            return *plan;
        }
        // A tenant enters the rate limiters only after a miss here (its first call), so growth
        // is bounded by sweeping here: no background task, and nothing on the hits' path.
        self.sweep_if_due();
        // An unknown tenant gets the smallest rate; its calls end NOT_FOUND anyway.
        let plan = self
            .engine
            .get_tenant(tenant)
            .await
            .map_or(Plan::Bronze, |t| t.plan);
        self.plans
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(tenant, (plan, Instant::now()));
        plan
    }

    /// At most once per [`RATE_SWEEP_INTERVAL`]: forgets the tenants idle long enough for their
    /// allowance to be whole again (they would start afresh with the same burst) and the
    /// expired plans.
    fn sweep_if_due(&self) {
        let now = Instant::now();
        {
            let mut next = self.next_sweep.lock().unwrap_or_else(|p| p.into_inner());
            if now < *next {
                return;
            }
            *next = now + RATE_SWEEP_INTERVAL;
        }
        self.rates.forget_idle();
        self.plans
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|_, (_, at)| now.duration_since(*at) < PLAN_CACHE_TTL);
    }

    /// Receives `body` whole (see the module documentation), charging its buffer to
    /// `account`'s and the node's receive shares.
    async fn receive(&self, account: Account, mut body: Body) -> Result<Received, Refusal> {
        let mut share = self.bytes.share(account);
        share
            .try_grow(RECEIVE_OVERHEAD_BYTES)
            .map_err(|short| Refusal::Share(short, "requests being received"))?;
        let mut buffer: Vec<u8> = Vec::new();
        // The capacity paid for (the allocator may round the buffer's up).
        let mut charged = 0;
        let mut trailers = None;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| Refusal::BodyFailed(e.to_string()))?;
            let chunk = match frame.into_data() {
                Ok(chunk) => chunk,
                Err(frame) => {
                    if let Ok(t) = frame.into_trailers() {
                        trailers = Some(t);
                    }
                    continue;
                }
            };
            let needed = buffer.len() + chunk.len();
            if needed > MAX_REQUEST_BODY_BYTES {
                return Err(Refusal::TooLarge(needed));
            }
            if needed > charged {
                // Grow geometrically, but never beyond what the frame says it holds.
                let ceiling = declared_length(&buffer).map_or(MAX_REQUEST_BODY_BYTES, |d| {
                    d.min(MAX_REQUEST_BODY_BYTES).max(needed)
                });
                let target = needed.max(charged * 2).min(ceiling);
                share
                    .try_grow(target - charged)
                    .map_err(|short| Refusal::Share(short, "requests being received"))?;
                buffer.reserve_exact(target - buffer.len());
                charged = target;
            }
            buffer.extend_from_slice(&chunk);
            if let Some(declared) = declared_length(&buffer)
                && declared > MAX_REQUEST_BODY_BYTES
            {
                return Err(Refusal::TooLarge(declared));
            }
        }
        let data = Bytes::from(buffer);
        let body = match trailers {
            None => Body::new(Full::new(data)),
            Some(trailers) => {
                Body::new(Full::new(data).with_trailers(async move { Some(Ok(trailers)) }))
            }
        };
        Ok(Received {
            body,
            _share: share,
        })
    }

    /// A call slot of `account` and of the node.
    fn admit(&self, account: Account) -> Result<Share, Refusal> {
        let mut share = self.calls.share(account);
        share
            .try_grow(1)
            .map_err(|short| Refusal::Share(short, "calls in flight"))?;
        Ok(share)
    }
}

/// A request body received whole, and its charge to the receive shares.
struct Received {
    body: Body,
    _share: Share,
}

/// The total length of the gRPC frame at the start of `buffer`, once its prefix is there.
fn declared_length(buffer: &[u8]) -> Option<usize> {
    let length: [u8; 4] = buffer.get(1..GRPC_FRAME_PREFIX)?.try_into().ok()?;
    usize::try_from(u32::from_be_bytes(length))
        .ok()
        .map(|l| l.saturating_add(GRPC_FRAME_PREFIX))
}

/// Why the limits refused a call; each names its metric label and its answer.
#[derive(Debug)]
enum Refusal {
    /// The tenant's request rate is exceeded; it may call again after the wait.
    RateLimited(Duration),
    /// A share of `what` (`calls in flight`, `requests being received`) is exhausted.
    Share(Short, &'static str),
    /// The request's message is larger than the limit: these many bytes (or more).
    TooLarge(usize),
    /// The request was not received within the body timeout.
    BodyTimeout(Duration),
    /// The request's body failed before its end (the client reset the stream).
    BodyFailed(String),
}

impl Refusal {
    /// The `reason` label of `entity_requests_rejected_total` (one of `REJECTION_REASONS`).
    fn label(&self) -> &'static str {
        match self {
            Self::RateLimited(_) => "rate_limited",
            Self::Share(Short::Tenant, _) => "tenant_concurrency",
            Self::Share(Short::Node, _) => "overloaded",
            Self::TooLarge(_) => "request_too_large",
            Self::BodyTimeout(_) => "request_body_timeout",
            Self::BodyFailed(_) => "other",
        }
    }

    /// The answer: RESOURCE_EXHAUSTED with RetryInfo for a rate or a share (`TENANT_CONCURRENCY`
    /// for the tenant's share, `OVERLOADED` for the node's), RESOURCE_EXHAUSTED
    /// `REQUEST_TOO_LARGE`, DEADLINE_EXCEEDED `REQUEST_BODY_TIMEOUT`, or CANCELLED.
    fn status(&self) -> Status {
        match self {
            Self::RateLimited(wait) => exhausted(
                "RATE_LIMITED",
                "the tenant's request rate is exceeded; retry later",
                *wait,
            ),
            Self::Share(Short::Tenant, what) => exhausted(
                "TENANT_CONCURRENCY",
                &format!("the tenant has too many {what} on this node; retry later"),
                RETRY_CONCURRENCY,
            ),
            Self::Share(Short::Node, what) => exhausted(
                "OVERLOADED",
                &format!("the node is overloaded: too many {what}; retry later"),
                RETRY_CONCURRENCY,
            ),
            Self::TooLarge(bytes) => status::refusal(
                Code::ResourceExhausted,
                "REQUEST_TOO_LARGE",
                format!(
                    "request too large: {bytes} bytes, the limit is {MAX_REQUEST_MESSAGE_BYTES} \
                     bytes per message"
                ),
            ),
            Self::BodyTimeout(timeout) => status::refusal(
                Code::DeadlineExceeded,
                "REQUEST_BODY_TIMEOUT",
                format!("the request was not received within {timeout:?}"),
            ),
            Self::BodyFailed(error) => {
                Status::cancelled(format!("the request body was not received: {error}"))
            }
        }
    }
}

fn exhausted(reason: &str, message: &str, retry_after: Duration) -> Status {
    let mut details = ErrorDetails::with_error_info(reason, ERROR_DOMAIN, HashMap::new());
    details.set_retry_info(Some(retry_after.max(Duration::from_millis(10))));
    Status::with_error_details(Code::ResourceExhausted, message, details)
}

/// The tower layer of [`Limits`].
#[derive(Clone)]
pub struct LimitsLayer {
    limits: Arc<Limits>,
}

impl LimitsLayer {
    /// A layer enforcing `limits`.
    pub fn new(limits: Arc<Limits>) -> Self {
        Self { limits }
    }
}

impl<S> Layer<S> for LimitsLayer {
    type Service = Limited<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Limited {
            inner,
            limits: self.limits.clone(),
        }
    }
}

/// A service behind [`LimitsLayer`].
#[derive(Clone)]
pub struct Limited<S> {
    inner: S,
    limits: Arc<Limits>,
}

impl<S: NamedService> NamedService for Limited<S> {
    const NAME: &'static str = S::NAME;
}

use crate::BoxFuture;

impl<S> Service<http::Request<Body>> for Limited<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let limits = self.limits.clone();
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let account = request
            .extensions()
            .get::<Caller>()
            .and_then(Caller::rate_account);
        let deadline = tokio::time::Instant::now() + limits.body_timeout;
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            // 1. the whole body, before anything else is held
            let received =
                match tokio::time::timeout_at(deadline, limits.receive(account, body)).await {
                    Ok(Ok(received)) => received,
                    Ok(Err(refusal)) => {
                        tracing::debug!(?refusal, "request refused while received");
                        return Ok(limits.refuse(refusal));
                    }
                    Err(_) => {
                        tracing::debug!("request body not received in time");
                        return Ok(limits.refuse(Refusal::BodyTimeout(limits.body_timeout)));
                    }
                };
            // 2. a call slot of the tenant and of the node, or a refusal at once
            let _slot = match limits.admit(account) {
                Ok(slot) => slot,
                Err(refusal) => {
                    tracing::debug!(tenant = ?account, "load shed: too many calls in flight");
                    return Ok(limits.refuse(refusal));
                }
            };
            // 3. the tenant's rate
            if let Some(tenant) = account {
                let plan = limits.plan(tenant).await;
                if let Err(wait) = limits.rates.take(tenant, plan) {
                    tracing::debug!(%tenant, "rate limited");
                    return Ok(limits.refuse(Refusal::RateLimited(wait)));
                }
            }
            let Received { body, _share } = received;
            inner.call(http::Request::from_parts(parts, body)).await
        })
    }
}

#[cfg(test)]
mod tests {
    use std::{convert::Infallible, future::Future, pin::Pin};

    use engine::journal::sqlite::SqliteJournal;
    use http_body::Frame;
    use http_body_util::StreamBody;
    use tokio_stream::StreamExt;

    use super::*;

    #[test]
    fn every_refusal_is_counted_under_its_answers_reason() {
        let refusals = [
            Refusal::RateLimited(Duration::from_millis(40)),
            Refusal::Share(Short::Tenant, "calls in flight"),
            Refusal::Share(Short::Node, "calls in flight"),
            Refusal::TooLarge(5 << 20),
            Refusal::BodyTimeout(Duration::from_secs(10)),
            Refusal::BodyFailed("stream reset".to_owned()),
        ];
        let labels: std::collections::BTreeSet<&str> =
            refusals.iter().map(Refusal::label).collect();
        let known: std::collections::BTreeSet<&str> =
            engine::telemetry::REJECTION_REASONS.into_iter().collect();
        assert_eq!(labels, known);
        for refusal in &refusals {
            let status = refusal.status();
            match status.get_error_details().error_info() {
                Some(info) => assert_eq!(info.reason.to_lowercase(), refusal.label()),
                None => assert_eq!((status.code(), refusal.label()), (Code::Cancelled, "other")),
            }
        }
    }

    #[test]
    fn plan_rates_follow_the_spec() {
        assert!((plan_rate(Plan::Bronze) - 50.0).abs() < f64::EPSILON);
        assert!((plan_rate(Plan::Silver) - 500.0).abs() < f64::EPSILON);
        assert!((plan_rate(Plan::Gold) - 5_000.0).abs() < f64::EPSILON);
    }

    /// The interval between two calls of `plan` (one token).
    fn interval(plan: Plan) -> Duration {
        Duration::from_secs_f64(1.0 / plan_rate(plan))
    }

    #[test]
    fn plan_quotas_are_the_plan_rates_with_a_burst_of_one_second() {
        for plan in [Plan::Bronze, Plan::Silver, Plan::Gold] {
            let quota = plan_quota(plan);
            assert_eq!(f64::from(quota.burst_size().get()), plan_rate(plan));
            assert_eq!(quota.replenish_interval(), interval(plan));
        }
    }

    #[test]
    fn a_tenant_over_its_rate_waits_at_most_one_interval_and_others_are_unaffected() {
        let clock = governor::clock::FakeRelativeClock::default();
        let rates = TenantRates::with_clock(clock.clone());
        let (greedy, other) = (TenantId::new_v7(), TenantId::new_v7());
        // a burst of one second's worth, then refusals
        for _ in 0..50 {
            rates.take(greedy, Plan::Bronze).unwrap();
        }
        let wait = rates.take(greedy, Plan::Bronze).unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= interval(Plan::Bronze),
            "{wait:?}"
        );
        clock.advance(Duration::from_millis(5));
        let later = rates.take(greedy, Plan::Bronze).unwrap_err();
        assert_eq!(
            later,
            wait - Duration::from_millis(5),
            "the wait shrinks with time"
        );
        // another tenant of the same plan, and one of another plan, keep their whole burst
        for _ in 0..50 {
            rates.take(other, Plan::Bronze).unwrap();
        }
        for _ in 0..5_000 {
            rates.take(TenantId::new_v7(), Plan::Gold).unwrap();
        }
        // after the wait, exactly one more call of the greedy tenant
        clock.advance(later);
        rates.take(greedy, Plan::Bronze).unwrap();
        assert!(rates.take(greedy, Plan::Bronze).is_err());
    }

    #[test]
    fn idle_tenants_are_forgotten_once_their_burst_is_whole_again() {
        let clock = governor::clock::FakeRelativeClock::default();
        let rates = TenantRates::with_clock(clock.clone());
        let (drained, light) = (TenantId::new_v7(), TenantId::new_v7());
        for _ in 0..50 {
            rates.take(drained, Plan::Bronze).unwrap();
        }
        rates.take(light, Plan::Silver).unwrap();
        assert_eq!(rates.tenants(), 2);
        // 30 ms on: the light tenant's one call is refilled (2 ms), the drained tenant has 1.5
        // calls of its 50 back
        clock.advance(Duration::from_millis(30));
        rates.forget_idle();
        assert_eq!(rates.tenants(), 1, "only the drained tenant is held");
        assert!(rates.take(drained, Plan::Bronze).is_ok());
        assert!(
            rates.take(drained, Plan::Bronze).is_err(),
            "its state was kept"
        );
        // a second later its burst is whole: forgotten, and it starts again with all of it
        clock.advance(Duration::from_secs(1) + interval(Plan::Bronze));
        rates.forget_idle();
        assert_eq!(rates.tenants(), 0);
        for _ in 0..50 {
            rates.take(drained, Plan::Bronze).unwrap();
        }
        assert!(rates.take(drained, Plan::Bronze).is_err());
    }

    #[test]
    fn a_tenant_whose_plan_changes_starts_afresh_on_the_new_plan() {
        let clock = governor::clock::FakeRelativeClock::default();
        let rates = TenantRates::with_clock(clock.clone());
        let tenant = TenantId::new_v7();
        for _ in 0..50 {
            rates.take(tenant, Plan::Bronze).unwrap();
        }
        assert!(rates.take(tenant, Plan::Bronze).is_err());
        // upgraded: the gold limiter has never seen it
        for _ in 0..5_000 {
            rates.take(tenant, Plan::Gold).unwrap();
        }
        assert!(rates.take(tenant, Plan::Gold).is_err());
    }

    #[tokio::test]
    async fn calls_over_the_plans_rate_are_refused_with_retry_info_and_idle_tenants_swept() {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine(&dir).await;
        let limits = Limits::new(engine.clone(), &Admission::default());
        let mut service = LimitsLayer::new(limits.clone()).layer(Echo);
        // an unknown tenant gets the bronze rate: 50 calls at once, then refusals
        let (greedy, other) = (TenantId::new_v7(), TenantId::new_v7());
        let mut refusals = Vec::new();
        for _ in 0..60 {
            let answer = service
                .call(request(Some(greedy), Body::empty()))
                .await
                .unwrap();
            if grpc_status(&answer).is_some() {
                refusals.push(answer);
            }
        }
        assert!(!refusals.is_empty(), "60 calls at once exceed 50/s");
        for refused in &refusals {
            assert_eq!(grpc_status(refused), Some("8"), "RESOURCE_EXHAUSTED");
            assert_eq!(reason(refused), "RATE_LIMITED");
            let retry = Status::from_header_map(refused.headers())
                .unwrap()
                .get_details_retry_info()
                .unwrap()
                .retry_delay
                .unwrap();
            // at least the floor of every RetryInfo (10 ms), at most one bronze interval
            assert!(
                retry >= Duration::from_millis(10) && retry <= interval(Plan::Bronze),
                "{retry:?}"
            );
        }
        let metrics = engine.metrics().encode();
        assert!(
            metrics.contains(&format!(
                "entity_requests_rejected_total{{reason=\"rate_limited\"}} {}\n",
                refusals.len()
            )),
            "{metrics}"
        );
        // another tenant is not affected
        let served = service
            .call(request(Some(other), Body::empty()))
            .await
            .unwrap();
        assert_eq!(grpc_status(&served), None);
        assert_eq!(limits.rates.tenants(), 2);
        // once the other tenant's one call is refilled, the next plan lookup (a new tenant's
        // first call) forgets it; the greedy tenant, still short of its burst, is kept
        *limits.next_sweep.lock().unwrap() = Instant::now();
        tokio::time::sleep(3 * interval(Plan::Bronze)).await;
        let newcomer = service
            .call(request(Some(TenantId::new_v7()), Body::empty()))
            .await
            .unwrap();
        assert_eq!(grpc_status(&newcomer), None);
        assert_eq!(
            limits.rates.tenants(),
            2,
            "the greedy tenant and the newcomer"
        );
        assert!(*limits.next_sweep.lock().unwrap() > Instant::now());
        engine.shutdown().await;
    }

    /// Answers once `release` has a permit for it (permits are added by the test).
    #[derive(Clone)]
    struct Slow(Arc<tokio::sync::Semaphore>);

    impl Service<http::Request<Body>> for Slow {
        type Response = http::Response<Body>;
        type Error = Infallible;
        type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

        fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, _request: http::Request<Body>) -> Self::Future {
            let release = self.0.clone();
            Box::pin(async move {
                release.acquire().await.unwrap().forget();
                Ok(http::Response::new(Body::empty()))
            })
        }
    }

    /// Answers with the length of the body it was given (`x-body-len`) at once.
    #[derive(Clone)]
    struct Echo;

    impl Service<http::Request<Body>> for Echo {
        type Response = http::Response<Body>;
        type Error = Infallible;
        type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

        fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, request: http::Request<Body>) -> Self::Future {
            Box::pin(async move {
                let body = request.into_body().collect().await.unwrap().to_bytes();
                let mut response = http::Response::new(Body::empty());
                response
                    .headers_mut()
                    .insert("x-body-len", body.len().into());
                Ok(response)
            })
        }
    }

    fn grpc_status(response: &http::Response<Body>) -> Option<&str> {
        response
            .headers()
            .get("grpc-status")
            .and_then(|v| v.to_str().ok())
    }

    fn reason(response: &http::Response<Body>) -> String {
        Status::from_header_map(response.headers())
            .and_then(|s| s.get_details_error_info())
            .map(|i| i.reason)
            .unwrap_or_default()
    }

    async fn engine(dir: &tempfile::TempDir) -> Engine {
        let journal = SqliteJournal::open(&dir.path().join("j.db")).await.unwrap();
        journal.migrate().await.unwrap();
        Engine::start(Arc::new(journal), Default::default())
            .await
            .unwrap()
    }

    fn caller(tenant: Option<TenantId>) -> Caller {
        Caller {
            subject: "u".into(),
            tenant_id: tenant,
            platform_admin: tenant.is_none(),
            credential_kind: "jwt".into(),
            credential_id: None,
            on_behalf_of: None,
            api_key: None,
            verified_email: None,
            search_grant: None,
        }
    }

    /// A request of `tenant`'s (a platform caller's for `None`) with `body`.
    fn request(tenant: Option<TenantId>, body: Body) -> http::Request<Body> {
        let mut request = http::Request::new(body);
        request.extensions_mut().insert(caller(tenant));
        request
    }

    /// A body of `frames` that then never ends.
    fn unfinished(frames: Vec<Bytes>) -> Body {
        let frames = frames
            .into_iter()
            .map(|b| Ok::<_, Infallible>(Frame::data(b)));
        Body::new(StreamBody::new(
            tokio_stream::iter(frames).chain(tokio_stream::pending()),
        ))
    }

    /// A gRPC frame prefix announcing `length` bytes, and `sent` of them.
    fn partial_message(length: u32, sent: usize) -> Bytes {
        let mut frame = vec![0];
        frame.extend_from_slice(&length.to_be_bytes());
        frame.extend(std::iter::repeat_n(b'x', sent));
        Bytes::from(frame)
    }

    /// The calls in flight on the node.
    fn calls_held(limits: &Limits) -> usize {
        limits
            .calls
            .node
            .held
            .lock()
            .unwrap()
            .values()
            .sum::<usize>()
    }

    /// Waits (bounded) until `limits` counts `calls` in flight.
    async fn until_in_flight(limits: &Limits, calls: usize) {
        tokio::time::timeout(Duration::from_secs(10), async {
            while calls_held(limits) != calls {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("{} calls in flight, not {calls}", calls_held(limits)));
    }

    /// `future`, which must finish within 10 s.
    async fn soon<T>(future: impl Future<Output = T>) -> T {
        tokio::time::timeout(Duration::from_secs(10), future)
            .await
            .expect("finishes")
    }

    #[tokio::test]
    async fn calls_over_the_global_limit_are_shed_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine(&dir).await;
        let release = Arc::new(tokio::sync::Semaphore::new(0));
        let admission = Admission {
            max_in_flight: 1,
            ..Admission::default()
        };
        let limits = Limits::new(engine.clone(), &admission);
        let mut service = LimitsLayer::new(limits.clone()).layer(Slow(release.clone()));
        let first = tokio::spawn(service.call(http::Request::new(Body::empty())));
        until_in_flight(&limits, 1).await;
        // the first call holds the only slot: the second is refused without waiting
        let shed = soon(service.call(http::Request::new(Body::empty())))
            .await
            .unwrap();
        assert_eq!(grpc_status(&shed), Some("8"), "RESOURCE_EXHAUSTED");
        let status = Status::from_header_map(shed.headers()).unwrap();
        assert_eq!(status.code(), Code::ResourceExhausted);
        let info = status.get_details_error_info().unwrap();
        assert_eq!(info.reason, "OVERLOADED");
        assert_eq!(info.domain, ERROR_DOMAIN);
        let retry = status.get_details_retry_info().unwrap();
        assert_eq!(retry.retry_delay, Some(Duration::from_millis(100)));
        assert!(
            engine
                .metrics()
                .encode()
                .contains("entity_requests_rejected_total{reason=\"overloaded\"} 1\n"),
            "the refusal is counted by its reason"
        );
        release.add_permits(1);
        let served = soon(first).await.unwrap().unwrap();
        assert_eq!(grpc_status(&served), None);
        // the slot is free again
        let again = tokio::spawn(service.call(http::Request::new(Body::empty())));
        until_in_flight(&limits, 1).await;
        release.add_permits(1);
        assert_eq!(grpc_status(&soon(again).await.unwrap().unwrap()), None);
        engine.shutdown().await;
    }

    #[tokio::test]
    async fn a_tenant_at_its_limit_leaves_room_for_other_tenants_and_the_platform() {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine(&dir).await;
        let release = Arc::new(tokio::sync::Semaphore::new(0));
        let admission = Admission {
            max_in_flight: 8,
            max_in_flight_per_tenant: 2,
            ..Admission::default()
        };
        let limits = Limits::new(engine.clone(), &admission);
        let mut service = LimitsLayer::new(limits.clone()).layer(Slow(release.clone()));
        let (greedy, other) = (TenantId::new_v7(), TenantId::new_v7());
        let mut running = Vec::new();
        for _ in 0..2 {
            running.push(tokio::spawn(
                service.call(request(Some(greedy), Body::empty())),
            ));
        }
        until_in_flight(&limits, 2).await;
        // the greedy tenant holds its share: its next call is refused at once ...
        let refused = soon(service.call(request(Some(greedy), Body::empty())))
            .await
            .unwrap();
        assert_eq!(grpc_status(&refused), Some("8"), "RESOURCE_EXHAUSTED");
        assert_eq!(reason(&refused), "TENANT_CONCURRENCY");
        let status = Status::from_header_map(refused.headers()).unwrap();
        assert!(status.get_details_retry_info().is_some());
        // ... while another tenant's and a platform caller's calls run
        for account in [Some(other), Some(other), None, None] {
            running.push(tokio::spawn(service.call(request(account, Body::empty()))));
        }
        until_in_flight(&limits, 6).await;
        // 6 of the node's 8 slots are taken: the other tenant's third call hits its share
        let third = soon(service.call(request(Some(other), Body::empty())))
            .await
            .unwrap();
        assert_eq!(reason(&third), "TENANT_CONCURRENCY");
        release.add_permits(6);
        for call in running {
            assert_eq!(grpc_status(&soon(call).await.unwrap().unwrap()), None);
        }
        // every share is given back
        assert!(limits.calls.per_tenant.held.lock().unwrap().is_empty());
        assert!(limits.calls.node.held.lock().unwrap().is_empty());
        engine.shutdown().await;
    }

    #[tokio::test]
    async fn a_body_that_never_ends_holds_no_call_slot_and_times_out() {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine(&dir).await;
        let admission = Admission {
            max_in_flight: 1,
            request_body_timeout: Duration::from_millis(300),
            ..Admission::default()
        };
        let limits = Limits::new(engine.clone(), &admission);
        let mut service = LimitsLayer::new(limits.clone()).layer(Echo);
        let tenant = TenantId::new_v7();
        let stalled: Vec<_> = (0..3)
            .map(|_| {
                tokio::spawn(service.call(request(
                    Some(tenant),
                    unfinished(vec![partial_message(100, 10)]),
                )))
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(50)).await;
        // the only call slot is free: a whole request of the same tenant is served, its body
        // passed on intact
        let served = service
            .call(request(
                Some(tenant),
                Body::new(Full::new(partial_message(3, 3))),
            ))
            .await
            .unwrap();
        assert_eq!(grpc_status(&served), None);
        assert_eq!(served.headers()["x-body-len"], "8");
        assert!(limits.calls.node.held.lock().unwrap().is_empty());
        for call in stalled {
            let answer = call.await.unwrap().unwrap();
            assert_eq!(grpc_status(&answer), Some("4"), "DEADLINE_EXCEEDED");
            assert_eq!(reason(&answer), "REQUEST_BODY_TIMEOUT");
        }
        assert!(limits.bytes.node.held.lock().unwrap().is_empty());
        engine.shutdown().await;
    }

    #[tokio::test]
    async fn an_oversized_body_is_refused_as_soon_as_its_prefix_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine(&dir).await;
        let limits = Limits::new(engine.clone(), &Admission::default());
        let mut service = LimitsLayer::new(limits.clone()).layer(Echo);
        let declared = u32::try_from(MAX_REQUEST_MESSAGE_BYTES + 1).unwrap();
        // never finished: the answer cannot wait for the end
        let refused = service
            .call(request(
                None,
                unfinished(vec![partial_message(declared, 100)]),
            ))
            .await
            .unwrap();
        let status = Status::from_header_map(refused.headers()).unwrap();
        assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
        assert_eq!(reason(&refused), "REQUEST_TOO_LARGE");
        // exactly the largest message is accepted
        let largest = u32::try_from(MAX_REQUEST_MESSAGE_BYTES).unwrap();
        let served = service
            .call(request(
                None,
                Body::new(Full::new(partial_message(
                    largest,
                    MAX_REQUEST_MESSAGE_BYTES,
                ))),
            ))
            .await
            .unwrap();
        assert_eq!(grpc_status(&served), None);
        assert_eq!(
            served.headers()["x-body-len"],
            MAX_REQUEST_BODY_BYTES.to_string().as_str()
        );
        assert!(limits.bytes.node.held.lock().unwrap().is_empty());
        engine.shutdown().await;
    }

    #[tokio::test]
    async fn bodies_being_received_are_bounded_per_tenant() {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine(&dir).await;
        let admission = Admission {
            max_receive_bytes_per_tenant: 4 * RECEIVE_OVERHEAD_BYTES,
            ..Admission::default()
        };
        let limits = Limits::new(engine.clone(), &admission);
        let mut service = LimitsLayer::new(limits.clone()).layer(Echo);
        let (greedy, other) = (TenantId::new_v7(), TenantId::new_v7());
        let mut stalled = Vec::new();
        for _ in 0..3 {
            stalled.push(tokio::spawn(service.call(request(
                Some(greedy),
                unfinished(vec![partial_message(1000, 10)]),
            ))));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        let refused = service
            .call(request(
                Some(greedy),
                unfinished(vec![partial_message(1000, 10)]),
            ))
            .await
            .unwrap();
        assert_eq!(grpc_status(&refused), Some("8"), "RESOURCE_EXHAUSTED");
        assert_eq!(reason(&refused), "TENANT_CONCURRENCY");
        let served = service
            .call(request(
                Some(other),
                Body::new(Full::new(partial_message(3, 3))),
            ))
            .await
            .unwrap();
        assert_eq!(grpc_status(&served), None);
        for call in stalled {
            call.abort();
        }
        engine.shutdown().await;
    }
}
