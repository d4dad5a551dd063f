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

use std::time::Duration;

use sqlx::{Connection, Database, pool::PoolOptions};

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

#[cfg(test)]
mod tests {
    use sqlx::Sqlite;

    use super::*;

    #[test]
    fn connections_are_not_checked_on_every_acquire() {
        assert!(!pool_options::<Sqlite>().get_test_before_acquire());
    }
}
