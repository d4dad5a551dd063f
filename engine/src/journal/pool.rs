//! Options every connection pool of the stores starts from: when a pooled connection is checked
//! before it is handed out.
//!
//! sqlx checks a connection with a round trip (a `Sync` and its `ReadyForQuery` on PostgreSQL, a
//! message to a SQLite connection's worker thread) when it comes back to the pool, and by default
//! again before handing it out (`test_before_acquire`): one more round trip on the path of every
//! append group, read-model batch and query. The stores skip the second check for a connection
//! idle for at most [`LIVENESS_WINDOW`]: it passed the first that recently (HikariCP's
//! `aliveBypassWindowMs` does the same). A connection that breaks within the window fails its
//! next statement, as one lost mid-statement does, and its check on release then closes it.
//!
//! The check on release costs a round trip per use too, and sqlx has no option to skip it: a
//! path that uses its pool many times a second (the appends on PostgreSQL, each SQLite file's
//! writer) takes its connections from [`KeptConnections`], which keeps them between uses
//! instead of releasing them.

use std::{
    ops::{Deref, DerefMut},
    sync::{Arc, Mutex, MutexGuard, PoisonError, Weak},
    time::{Duration, Instant},
};

use sqlx::{Connection, Database, Pool, pool::PoolConnection, pool::PoolOptions};

/// A connection used this recently is handed out without a round trip to check it.
pub const LIVENESS_WINDOW: Duration = Duration::from_secs(1);

/// Pool options that check a connection only when it has been idle for longer than
/// [`LIVENESS_WINDOW`]; set sizes and timeouts on top.
pub fn pool_options<DB: Database>() -> PoolOptions<DB> {
    checked_when_idle_for(LIVENESS_WINDOW)
}

/// Pool options that check a connection before handing it out only when it has been idle for
/// longer than `window`. sqlx checks every connection as it comes back to the pool anyway, so
/// one that broke during its last use is never handed out.
pub fn checked_when_idle_for<DB: Database>(window: Duration) -> PoolOptions<DB> {
    PoolOptions::new()
        .test_before_acquire(false)
        .before_acquire(move |connection: &mut DB::Connection, meta| {
            Box::pin(async move {
                if meta.idle_for > window {
                    connection.ping().await?;
                }
                Ok(true)
            })
        })
}

/// Connections of one pool kept between uses, so that a use costs no check on release.
///
/// sqlx checks a connection with a round trip each time it goes back to its pool (that also
/// settles a statement abandoned midway). A connection that was used to the end is known good
/// without it: [`Kept::keep`] puts it here instead, and the next [`take`](Self::take) hands
/// it out again (the most recently used first), checking it only when it has been idle for
/// longer than [`LIVENESS_WINDOW`], as the pool would (or another window:
/// [`checked_when_idle_for`](Self::checked_when_idle_for)). A connection not kept (dropped
/// after an error, or with its future) goes back to the pool and its check as before. One
/// kept idle past the pool's idle timeout, or taken longer ago than its maximum lifetime, is
/// closed as the pool's own reaper would close it: by the next `take`, or by a task that looks
/// every half of the shorter of the two, so that an idle node does not hold connections the
/// pool would have closed. Every user of the pool must take its connections here: the kept
/// ones count as in use for the pool.
#[derive(Debug)]
pub struct KeptConnections<DB: Database> {
    pool: Pool<DB>,
    /// A connection idle for longer is checked before it is handed out again.
    window: Duration,
    /// Oldest kept first.
    idle: Mutex<Vec<Idle<DB>>>,
}

/// A connection kept idle.
#[derive(Debug)]
struct Idle<DB: Database> {
    connection: PoolConnection<DB>,
    /// When it was kept.
    since: Instant,
    /// When it was first taken from the pool.
    taken: Instant,
}

impl<DB: Database> KeptConnections<DB> {
    /// Keeps the connections of `pool` (none yet).
    pub fn new(pool: Pool<DB>) -> Arc<Self> {
        Self::checked_when_idle_for(pool, LIVENESS_WINDOW)
    }

    /// Keeps the connections of `pool`, checking one before handing it out again only when it
    /// has been idle for longer than `window`. Called within a Tokio runtime, it starts the
    /// task that closes the connections kept past the pool's limits (it ends with the last
    /// handle); outside one, only `take` closes them.
    pub fn checked_when_idle_for(pool: Pool<DB>, window: Duration) -> Arc<Self> {
        let kept = Arc::new(Self {
            pool,
            window,
            idle: Mutex::new(Vec::new()),
        });
        if let Some(period) = kept.limits().sweep_period()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(sweep_while_used(Arc::downgrade(&kept), period));
        }
        kept
    }

    /// The pool the connections come from.
    pub fn pool(&self) -> &Pool<DB> {
        &self.pool
    }

    /// A kept connection, or one from the pool when none is kept.
    pub async fn take(self: &Arc<Self>) -> Result<Kept<DB>, sqlx::Error> {
        loop {
            let (latest, expired) = self.pop();
            self.close(expired);
            let Some(Idle {
                mut connection,
                since,
                taken,
            }) = latest
            else {
                let connection = self.pool.acquire().await?;
                return Ok(Kept::new(
                    connection,
                    Instant::now(),
                    false,
                    Arc::clone(self),
                ));
            };
            // A broken one goes back to the pool, whose check on release closes it.
            if since.elapsed() <= self.window || connection.ping().await.is_ok() {
                return Ok(Kept::new(connection, taken, true, Arc::clone(self)));
            }
        }
    }

    /// How many connections are kept idle.
    pub fn idle(&self) -> usize {
        self.lock().len()
    }

    /// Closes the kept connections idle past the pool's idle timeout or taken longer ago than
    /// its maximum lifetime.
    fn close_expired(&self) {
        let expired = Self::expired(&mut self.lock(), self.limits());
        self.close(expired);
    }

    /// The latest kept connection that is still within the pool's limits, and those that are
    /// not.
    fn pop(&self) -> (Option<Idle<DB>>, Vec<Idle<DB>>) {
        let mut idle = self.lock();
        let expired = Self::expired(&mut idle, self.limits());
        (idle.pop(), expired)
    }

    fn expired(idle: &mut Vec<Idle<DB>>, limits: Limits) -> Vec<Idle<DB>> {
        let now = Instant::now();
        idle.extract_if(.., |kept| limits.exceeded_by(kept, now))
            .collect()
    }

    /// Closes `expired` (they count as in use for the pool until then), except those the
    /// pool's minimum number of connections still needs: those go back to it.
    fn close(&self, expired: Vec<Idle<DB>>) {
        let minimum = self.pool.options().get_min_connections();
        for Idle { mut connection, .. } in expired {
            if self.pool.size() > minimum {
                connection.close_on_drop();
            }
        }
    }

    fn limits(&self) -> Limits {
        let options = self.pool.options();
        Limits {
            idle: options.get_idle_timeout(),
            lifetime: options.get_max_lifetime(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Idle<DB>>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The pool's limits on how long a connection may stay idle, and live.
#[derive(Clone, Copy)]
struct Limits {
    idle: Option<Duration>,
    lifetime: Option<Duration>,
}

impl Limits {
    /// The shortest pause between two sweeps, whatever the limits.
    const SHORTEST_SWEEP: Duration = Duration::from_millis(10);

    fn outlived(self, taken: Instant, now: Instant) -> bool {
        self.lifetime
            .is_some_and(|lifetime| now.duration_since(taken) > lifetime)
    }

    fn exceeded_by<DB: Database>(self, kept: &Idle<DB>, now: Instant) -> bool {
        self.outlived(kept.taken, now)
            || self
                .idle
                .is_some_and(|idle| now.duration_since(kept.since) > idle)
    }

    /// How often to look for connections past the limits: half the shorter one, so that none
    /// outlives its limit by more than half of it; `None` when there is no limit.
    fn sweep_period(self) -> Option<Duration> {
        let shorter = match (self.idle, self.lifetime) {
            (Some(idle), Some(lifetime)) => idle.min(lifetime),
            (limit, None) | (None, limit) => limit?,
        };
        Some((shorter / 2).max(Self::SHORTEST_SWEEP))
    }
}

/// Closes the connections kept past the pool's limits every `period`, until the last handle
/// on `kept` is gone.
async fn sweep_while_used<DB: Database>(kept: Weak<KeptConnections<DB>>, period: Duration) {
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        let Some(kept) = kept.upgrade() else {
            return;
        };
        kept.close_expired();
    }
}

/// A connection taken from [`KeptConnections`]: kept by [`keep`](Self::keep), closed by
/// [`discard`](Self::discard), else released to the pool (and checked there) when dropped.
#[derive(Debug)]
pub struct Kept<DB: Database> {
    connection: PoolConnection<DB>,
    taken: Instant,
    /// Handed out again after being kept (not fresh from the pool).
    reused: bool,
    home: Arc<KeptConnections<DB>>,
}

impl<DB: Database> Kept<DB> {
    fn new(
        connection: PoolConnection<DB>,
        taken: Instant,
        reused: bool,
        home: Arc<KeptConnections<DB>>,
    ) -> Self {
        Self {
            connection,
            taken,
            reused,
            home,
        }
    }

    /// Whether this is a connection kept by an earlier use, so that what that use set on it
    /// (a session setting) still holds; `false` for one from the pool, which may be a new one.
    pub fn reused(&self) -> bool {
        self.reused
    }

    /// Keeps the connection for the next use (unless it has outlived the pool's maximum
    /// lifetime: then the pool closes it). Only for a connection whose statements all ran to
    /// their end: one left midway must go back to the pool, which settles it.
    pub fn keep(self) {
        let Self {
            connection,
            taken,
            home,
            ..
        } = self;
        if home.limits().outlived(taken, Instant::now()) {
            return;
        }
        home.lock().push(Idle {
            connection,
            since: Instant::now(),
            taken,
        });
    }

    /// Closes the connection instead of releasing it: for one left in a state the next user
    /// must not inherit (a transaction neither committed nor rolled back).
    pub fn discard(self) {
        let Self { mut connection, .. } = self;
        connection.close_on_drop();
    }
}

impl<DB: Database> Deref for Kept<DB> {
    type Target = DB::Connection;

    fn deref(&self) -> &DB::Connection {
        &self.connection
    }
}

impl<DB: Database> DerefMut for Kept<DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        &mut self.connection
    }
}

#[cfg(test)]
mod tests {
    use sqlx::{Sqlite, SqliteConnection};

    use super::*;

    #[test]
    fn connections_are_not_checked_on_every_acquire() {
        assert!(!pool_options::<Sqlite>().get_test_before_acquire());
    }

    /// A pool of in-memory SQLite connections: each is a database of its own, so a temporary
    /// table tells the connections apart.
    async fn kept(max: u32) -> Arc<KeptConnections<Sqlite>> {
        kept_with(pool_options::<Sqlite>().max_connections(max)).await
    }

    async fn kept_with(options: PoolOptions<Sqlite>) -> Arc<KeptConnections<Sqlite>> {
        let pool = options.connect("sqlite::memory:").await.unwrap();
        KeptConnections::new(pool)
    }

    async fn mark(connection: &mut SqliteConnection) {
        sqlx::query("CREATE TEMP TABLE marked (x)")
            .execute(connection)
            .await
            .unwrap();
    }

    /// A connection taken and marked, to be told apart from the others later.
    async fn take_marked(connections: &Arc<KeptConnections<Sqlite>>) -> Kept<Sqlite> {
        let mut connection = connections.take().await.unwrap();
        mark(&mut connection).await;
        connection
    }

    async fn is_marked(connection: &mut SqliteConnection) -> bool {
        sqlx::query("SELECT 1 FROM temp.sqlite_master WHERE name = 'marked'")
            .fetch_optional(connection)
            .await
            .unwrap()
            .is_some()
    }

    #[tokio::test]
    async fn a_kept_connection_is_handed_out_again_without_going_back_to_the_pool() {
        let connections = kept(2).await;
        let first = take_marked(&connections).await;
        first.keep();
        assert_eq!(connections.idle(), 1);
        assert_eq!(connections.pool().num_idle(), 0, "kept, not released");
        let mut again = connections.take().await.unwrap();
        assert!(is_marked(&mut again).await, "the same connection");
        assert!(again.reused());
        assert_eq!(connections.idle(), 0);
    }

    #[tokio::test]
    async fn a_connection_not_kept_goes_back_to_the_pool() {
        let connections = kept(1).await;
        let first = take_marked(&connections).await;
        drop(first);
        assert_eq!(connections.idle(), 0);
        // The only connection of the pool, released (and checked) by sqlx.
        let mut again = connections.take().await.unwrap();
        assert!(is_marked(&mut again).await);
        assert!(
            !again.reused(),
            "from the pool, as far as the kept ones know"
        );
        assert_eq!(connections.idle(), 0);
    }

    #[tokio::test]
    async fn a_discarded_connection_is_closed_not_handed_out_again() {
        let connections = kept(1).await;
        let first = take_marked(&connections).await;
        first.discard();
        assert_eq!(connections.idle(), 0);
        // The pool's only connection was closed: the next is a new one.
        let mut again = connections.take().await.unwrap();
        assert!(!is_marked(&mut again).await);
    }

    #[tokio::test]
    async fn connections_in_use_together_are_all_kept_and_the_last_kept_comes_first() {
        let connections = kept(2).await;
        let mut a = connections.take().await.unwrap();
        let b = connections.take().await.unwrap();
        mark(&mut a).await;
        b.keep();
        a.keep();
        assert_eq!(connections.idle(), 2);
        let mut latest = connections.take().await.unwrap();
        assert!(is_marked(&mut latest).await);
        let mut other = connections.take().await.unwrap();
        assert!(!is_marked(&mut other).await);
    }

    /// Kept connections of a pool of `max` whose idle timeout or lifetime is `limit`.
    async fn kept_limited(
        max: u32,
        limit: fn(PoolOptions<Sqlite>, Duration) -> PoolOptions<Sqlite>,
    ) -> Arc<KeptConnections<Sqlite>> {
        let options = pool_options::<Sqlite>().max_connections(max);
        kept_with(limit(options, Duration::from_millis(20))).await
    }

    fn idle_timeout(options: PoolOptions<Sqlite>, limit: Duration) -> PoolOptions<Sqlite> {
        options.idle_timeout(limit)
    }

    fn lifetime(options: PoolOptions<Sqlite>, limit: Duration) -> PoolOptions<Sqlite> {
        options.idle_timeout(None).max_lifetime(limit)
    }

    /// Waits up to two seconds for the pool to hold no connection at all.
    async fn all_closed(connections: &KeptConnections<Sqlite>) -> bool {
        for _ in 0..200 {
            if connections.idle() == 0 && connections.pool().size() == 0 {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        false
    }

    /// Takes two connections at once and keeps both.
    async fn keep_two(connections: &Arc<KeptConnections<Sqlite>>) {
        let a = connections.take().await.unwrap();
        let b = connections.take().await.unwrap();
        a.keep();
        b.keep();
    }

    #[tokio::test]
    async fn connections_kept_past_the_idle_timeout_are_not_handed_out_again() {
        let connections = kept_limited(3, idle_timeout).await;
        keep_two(&connections).await;
        tokio::time::sleep(Duration::from_millis(40)).await;
        // By the take itself if the sweep has not come by yet.
        let _fresh = connections.take().await.unwrap();
        assert_eq!(connections.idle(), 0, "neither handed out nor kept");
    }

    #[tokio::test]
    async fn connections_kept_past_the_idle_timeout_are_closed_without_a_take() {
        let connections = kept_limited(2, idle_timeout).await;
        keep_two(&connections).await;
        assert_eq!(connections.pool().size(), 2);
        assert!(
            all_closed(&connections).await,
            "closed, not left kept or idle in the pool: {} kept, {} in the pool",
            connections.idle(),
            connections.pool().size()
        );
    }

    #[tokio::test]
    async fn connections_kept_past_the_pools_lifetime_are_closed_without_a_take() {
        let connections = kept_limited(1, lifetime).await;
        connections.take().await.unwrap().keep();
        assert_eq!(connections.idle(), 1);
        assert!(all_closed(&connections).await);
    }

    #[tokio::test]
    async fn the_pools_minimum_connections_go_back_to_it_instead_of_closing() {
        let connections = kept_with(
            pool_options::<Sqlite>()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(Duration::from_millis(20)),
        )
        .await;
        let first = take_marked(&connections).await;
        first.keep();
        for _ in 0..200 {
            if connections.idle() == 0 && connections.pool().num_idle() == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(connections.idle(), 0, "not kept past the idle timeout");
        assert_eq!(connections.pool().num_idle(), 1, "released, not closed");
        let mut again = connections.take().await.unwrap();
        assert!(is_marked(&mut again).await, "the same connection");
    }

    #[tokio::test]
    async fn a_connection_past_the_pools_lifetime_is_not_kept() {
        let connections = kept_limited(1, lifetime).await;
        let old = connections.take().await.unwrap();
        tokio::time::sleep(Duration::from_millis(40)).await;
        old.keep();
        assert_eq!(connections.idle(), 0);
    }

    #[tokio::test]
    async fn the_sweep_ends_with_the_last_handle() {
        let connections = kept_limited(1, idle_timeout).await;
        let sweeping = tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks();
        drop(connections);
        for _ in 0..200 {
            if tokio::runtime::Handle::current()
                .metrics()
                .num_alive_tasks()
                < sweeping
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the sweep outlived its connections");
    }

    #[test]
    fn a_sweep_runs_every_half_of_the_shorter_limit_and_not_without_one() {
        let limits = |idle, lifetime| Limits { idle, lifetime }.sweep_period();
        let secs = Duration::from_secs;
        assert_eq!(limits(Some(secs(600)), Some(secs(1800))), Some(secs(300)));
        assert_eq!(limits(None, Some(secs(60))), Some(secs(30)));
        assert_eq!(limits(Some(secs(60)), None), Some(secs(30)));
        assert_eq!(limits(None, None), None);
        assert_eq!(
            limits(Some(Duration::ZERO), None),
            Some(Limits::SHORTEST_SWEEP)
        );
    }
}
