//! When the stores' connection pools check a connection before handing it out
//! (`engine::journal::pool_options`): only after it has been idle for longer than the window.
//! A connection the server ended while it sat idle past the window is replaced without the
//! caller noticing; one ended within the window costs its next statement, once.
//!
//! Runs against the PostgreSQL server at `ENTITY_TEST_DATABASE_URL` (see `scripts/test`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use std::time::Duration;

use engine::{
    journal::{LIVENESS_WINDOW, checked_when_idle_for, pool_options},
    testing::TestDatabase,
};
use sqlx::{Connection, PgConnection, PgPool, Postgres, pool::PoolOptions};

/// The server process behind the pool's (one) connection.
async fn backend(pool: &PgPool) -> sqlx::Result<i32> {
    sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(pool)
        .await
}

/// Ends the server process `pid` from another session and waits until it is gone, after the
/// pool has taken its connection back (sqlx checks it on the way back, in a task of its own).
async fn end_backend(db: &TestDatabase, pool: &PgPool, pid: i32) {
    while pool.num_idle() < 1 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let mut other = PgConnection::connect(db.url()).await.unwrap();
    let ended: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(pid)
        .fetch_one(&mut other)
        .await
        .unwrap();
    assert!(ended);
    loop {
        let alive: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1)")
                .bind(pid)
                .fetch_one(&mut other)
                .await
                .unwrap();
        if !alive {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    other.close().await.unwrap();
}

/// A pool of one connection made from `options`, whose session the server has just ended, and
/// that session's process id.
async fn pool_with_ended_connection(
    db: &TestDatabase,
    options: PoolOptions<Postgres>,
) -> (PgPool, i32) {
    let pool = options.max_connections(1).connect(db.url()).await.unwrap();
    let ended = backend(&pool).await.unwrap();
    end_backend(db, &pool, ended).await;
    (pool, ended)
}

#[tokio::test]
async fn a_connection_idle_past_the_window_is_checked_and_replaced() {
    let db = TestDatabase::create().await;
    let (pool, first) = pool_with_ended_connection(&db, pool_options()).await;
    tokio::time::sleep(LIVENESS_WINDOW + Duration::from_millis(300)).await;

    let second = backend(&pool)
        .await
        .expect("the check found the ended connection and the pool opened another");
    assert_ne!(second, first);
}

#[tokio::test]
async fn a_connection_used_within_the_window_is_handed_out_unchecked() {
    let db = TestDatabase::create().await;
    // A window no test run outlasts, so that a slow box cannot turn the check on.
    let (pool, first) =
        pool_with_ended_connection(&db, checked_when_idle_for(Duration::from_secs(600))).await;

    assert!(
        backend(&pool).await.is_err(),
        "handed out without a check, the ended connection fails its statement"
    );
    let second = backend(&pool)
        .await
        .expect("the failed connection was closed on its way back, never handed out again");
    assert_ne!(second, first);
}
