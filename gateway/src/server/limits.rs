//! Load shedding and per-tenant rate limits, as one tower layer placed just inside the
//! authentication layer (so the caller is known) and before any work is queued:
//!
//! - a global concurrency limit: when [`Limits::max_in_flight`] calls are running, a new one
//!   is answered RESOURCE_EXHAUSTED (reason `OVERLOADED`) at once, never queued;
//! - a token bucket per tenant, sized by the tenant's plan (SPEC §3: bronze 50/s, silver
//!   500/s, gold 5,000/s; burst = one second's worth). The tenant is the credential's tenant;
//!   platform-level callers (platform admins without a tenant) are not rate-limited per
//!   tenant. The plan is read with `Engine::get_tenant` and cached for [`PLAN_CACHE_TTL`].
//!   Over the rate → RESOURCE_EXHAUSTED (reason `RATE_LIMITED`) with RetryInfo.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    task::{Context, Poll},
    time::{Duration, Instant},
};

use engine::{
    domain::{Plan, TenantId},
    runtime::Engine,
};
use tokio::sync::Semaphore;
use tonic::{Code, Status, body::Body, codegen::http, server::NamedService};
use tonic_types::{ErrorDetails, StatusExt};
use tower::{Layer, Service};

use crate::{auth::Caller, status::ERROR_DOMAIN};

/// How long a tenant's plan is cached.
pub const PLAN_CACHE_TTL: Duration = Duration::from_secs(5);
/// Default global limit of calls in flight.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 2048;

/// Requests per second allowed by a plan.
pub fn plan_rate(plan: Plan) -> f64 {
    match plan {
        Plan::Bronze => 50.0,
        Plan::Silver => 500.0,
        Plan::Gold => 5_000.0,
    }
}

struct Bucket {
    tokens: f64,
    last: Instant,
}

/// The shared state of the limits.
pub struct Limits {
    engine: Engine,
    in_flight: Arc<Semaphore>,
    plans: Mutex<HashMap<TenantId, (Plan, Instant)>>,
    buckets: Mutex<HashMap<TenantId, Bucket>>,
}

impl Limits {
    /// Limits over `engine` with at most `max_in_flight` calls running at once.
    pub fn new(engine: Engine, max_in_flight: usize) -> Arc<Self> {
        Arc::new(Self {
            engine,
            in_flight: Arc::new(Semaphore::new(max_in_flight)),
            plans: Mutex::new(HashMap::new()),
            buckets: Mutex::new(HashMap::new()),
        })
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

    /// Takes one token of `tenant`'s bucket; the wait until the next one when empty.
    fn take(&self, tenant: TenantId, rate: f64) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let bucket = buckets.entry(tenant).or_insert(Bucket {
            tokens: rate,
            last: now,
        });
        let elapsed = now.duration_since(bucket.last).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(rate);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / rate))
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

type BoxFuture<T, E> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, E>> + Send>>;

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
        // Shed at once, before anything else happens.
        let Ok(permit) = limits.in_flight.clone().try_acquire_owned() else {
            tracing::debug!("load shed: too many calls in flight");
            return Box::pin(async move {
                Ok(exhausted(
                    "OVERLOADED",
                    "the node is overloaded; retry later",
                    Duration::from_millis(100),
                )
                .into_http())
            });
        };
        let tenant = request
            .extensions()
            .get::<Caller>()
            .and_then(|c| c.tenant_id);
        Box::pin(async move {
            let _permit = permit;
            if let Some(tenant) = tenant {
                let rate = plan_rate(limits.plan(tenant).await);
                if let Err(wait) = limits.take(tenant, rate) {
                    tracing::debug!(%tenant, "rate limited");
                    return Ok(exhausted(
                        "RATE_LIMITED",
                        "the tenant's request rate is exceeded; retry later",
                        wait,
                    )
                    .into_http());
                }
            }
            inner.call(request).await
        })
    }
}

#[cfg(test)]
mod tests {
    use std::{future::Future, pin::Pin};

    use engine::journal::sqlite::SqliteJournal;

    use super::*;

    #[test]
    fn plan_rates_follow_the_spec() {
        assert!((plan_rate(Plan::Bronze) - 50.0).abs() < f64::EPSILON);
        assert!((plan_rate(Plan::Silver) - 500.0).abs() < f64::EPSILON);
        assert!((plan_rate(Plan::Gold) - 5_000.0).abs() < f64::EPSILON);
    }

    /// Answers once `release` is notified.
    #[derive(Clone)]
    struct Slow(Arc<tokio::sync::Notify>);

    impl Service<http::Request<Body>> for Slow {
        type Response = http::Response<Body>;
        type Error = std::convert::Infallible;
        type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

        fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, _request: http::Request<Body>) -> Self::Future {
            let release = self.0.clone();
            Box::pin(async move {
                release.notified().await;
                Ok(http::Response::new(Body::empty()))
            })
        }
    }

    fn grpc_status(response: &http::Response<Body>) -> Option<&str> {
        response
            .headers()
            .get("grpc-status")
            .and_then(|v| v.to_str().ok())
    }

    #[tokio::test]
    async fn calls_over_the_global_limit_are_shed_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let journal = SqliteJournal::open(&dir.path().join("j.db")).await.unwrap();
        journal.migrate().await.unwrap();
        let engine = Engine::start(Arc::new(journal), Default::default())
            .await
            .unwrap();
        let release = Arc::new(tokio::sync::Notify::new());
        let mut service =
            LimitsLayer::new(Limits::new(engine.clone(), 1)).layer(Slow(release.clone()));
        let first = tokio::spawn(service.call(http::Request::new(Body::empty())));
        tokio::task::yield_now().await;
        // the first call holds the only slot: the second is refused without waiting
        let shed = service
            .call(http::Request::new(Body::empty()))
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
        release.notify_one();
        let served = first.await.unwrap().unwrap();
        assert_eq!(grpc_status(&served), None);
        // the slot is free again
        let again = tokio::spawn(service.call(http::Request::new(Body::empty())));
        tokio::task::yield_now().await;
        release.notify_one();
        assert_eq!(grpc_status(&again.await.unwrap().unwrap()), None);
        engine.shutdown().await;
    }
}
