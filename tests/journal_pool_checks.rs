//! When the stores' connection pools check a connection before handing it out
//! (`engine::journal::pool_options`): only after it has been idle for longer than the window.
//! A connection the server ended while it sat idle past the window is replaced without the
//! caller noticing; one ended within the window costs its next statement, once. The same holds
//! for connections kept between uses (`engine::journal::KeptConnections`, the appends'), which
//! skip sqlx's check on release as well.
//!
//! Runs against the PostgreSQL server at `ENTITY_TEST_DATABASE_URL` (see `scripts/test`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use std::{sync::Arc, time::Duration};

use engine::{
    journal::{KeptConnections, LIVENESS_WINDOW, checked_when_idle_for, pool_options},
    testing::TestDatabase,
};
use sqlx::{Connection, PgConnection, PgPool, Postgres, pool::PoolOptions};

/// The server process behind the pool's (one) connection.
async fn backend(pool: &PgPool) -> sqlx::Result<i32> {
    sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(pool)
        .await
}

/// The server process behind a connection.
async fn backend_of(connection: &mut PgConnection) -> sqlx::Result<i32> {
    sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(connection)
        .await
}

/// Ends the server process `pid` from another session and waits until it is gone, after the
/// pool has taken its connection back (sqlx checks it on the way back, in a task of its own).
async fn end_backend(db: &TestDatabase, pool: &PgPool, pid: i32) {
    while pool.num_idle() < 1 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    terminate(db, pid).await;
}

/// Whether the server still runs the session of process `pid`.
async fn session_alive(other: &mut PgConnection, pid: i32) -> bool {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1)")
        .bind(pid)
        .fetch_one(other)
        .await
        .unwrap()
}

/// Ends the server process `pid` from another session and waits until it is gone.
async fn terminate(db: &TestDatabase, pid: i32) {
    let mut other = PgConnection::connect(db.url()).await.unwrap();
    let ended: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(pid)
        .fetch_one(&mut other)
        .await
        .unwrap();
    assert!(ended);
    while session_alive(&mut other, pid).await {
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

/// Kept connections over a pool of at most two, holding one kept connection whose session the
/// server has just ended, and that session's process id.
async fn kept_with_ended_connection(
    db: &TestDatabase,
    window: Duration,
) -> (Arc<KeptConnections<Postgres>>, i32) {
    let pool = pool_options::<Postgres>()
        .max_connections(2)
        .connect(db.url())
        .await
        .unwrap();
    let kept = KeptConnections::checked_when_idle_for(pool, window);
    let mut connection = kept.take().await.unwrap();
    let ended = backend_of(&mut connection).await.unwrap();
    connection.keep();
    terminate(db, ended).await;
    (kept, ended)
}

/// A pool of at most two made from `options`, its kept connections, and the server process of
/// the one connection taken and kept.
async fn one_kept(
    db: &TestDatabase,
    options: PoolOptions<Postgres>,
) -> (PgPool, Arc<KeptConnections<Postgres>>, i32) {
    let pool = options.max_connections(2).connect(db.url()).await.unwrap();
    let kept = KeptConnections::new(pool.clone());
    let mut connection = kept.take().await.unwrap();
    let session = backend_of(&mut connection).await.unwrap();
    connection.keep();
    (pool, kept, session)
}

#[tokio::test]
async fn a_kept_connection_is_the_same_session_at_its_next_use() {
    let db = TestDatabase::create().await;
    let (pool, kept, first) = one_kept(&db, pool_options::<Postgres>()).await;
    assert_eq!(pool.num_idle(), 0, "kept, not given back to the pool");

    let mut again = kept.take().await.unwrap();
    assert_eq!(backend_of(&mut again).await.unwrap(), first);
}

#[tokio::test]
async fn a_kept_connection_idle_past_the_window_is_checked_and_replaced() {
    let db = TestDatabase::create().await;
    let (kept, first) = kept_with_ended_connection(&db, LIVENESS_WINDOW).await;
    tokio::time::sleep(LIVENESS_WINDOW + Duration::from_millis(300)).await;

    let mut connection = kept
        .take()
        .await
        .expect("the check found the ended connection and the pool opened another");
    assert_ne!(backend_of(&mut connection).await.unwrap(), first);
}

#[tokio::test]
async fn a_kept_connection_ended_within_the_window_fails_once_and_is_not_kept() {
    let db = TestDatabase::create().await;
    // A window no test run outlasts, so that a slow box cannot turn the check on.
    let (kept, first) = kept_with_ended_connection(&db, Duration::from_secs(600)).await;

    let mut connection = kept.take().await.unwrap();
    assert!(
        backend_of(&mut connection).await.is_err(),
        "handed out without a check, the ended connection fails its statement"
    );
    // Not kept after a failure: dropped, it goes back to the pool, whose check closes it.
    drop(connection);
    let mut next = kept.take().await.unwrap();
    let second = backend_of(&mut next)
        .await
        .expect("a connection the pool opened, not the ended one");
    assert_ne!(second, first);
}

#[tokio::test]
async fn a_kept_connection_idle_past_the_idle_timeout_ends_its_session_without_another_take() {
    let db = TestDatabase::create().await;
    let options = pool_options::<Postgres>().idle_timeout(Duration::from_millis(200));
    let (pool, kept, session) = one_kept(&db, options).await;

    let mut other = PgConnection::connect(db.url()).await.unwrap();
    let mut alive = true;
    for _ in 0..100 {
        alive = session_alive(&mut other, session).await;
        if !alive {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!alive, "the server still has the idle kept session");
    assert_eq!(kept.idle(), 0);
    assert_eq!(pool.size(), 0, "closed, not left idle in the pool");
}
