//! The PostgreSQL tail queries read the journal in index order: neither sorts the events
//! table. (Both once ordered by their output column `transaction_id`, the bigint they return,
//! which no index orders: every tail read sorted every event after the checkpoint, and every
//! head lookup every event — a seq scan per read, O(journal).) The plans are checked with
//! sorting and sequential scans discouraged, so a small table cannot hide a needed sort.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use sqlx::{Connection, PgConnection};

const READ_COMMITTED: &str =
    include_str!("../engine/src/journal/postgres/sql/tail_read_committed.sql");
const HEAD: &str = include_str!("../engine/src/journal/postgres/sql/tail_head.sql");

/// The plan of `query` with its parameters bound, as text.
async fn plan(c: &mut PgConnection, query: &str, bind: bool) -> String {
    let explain = format!("EXPLAIN {query}");
    let mut q = sqlx::query_scalar::<_, String>(&explain);
    if bind {
        q = q.bind("1000").bind(0_i64).bind(500_i64);
    }
    q.fetch_all(&mut *c).await.unwrap().join("\n")
}

#[tokio::test]
async fn the_tail_reads_follow_the_index_without_sorting_the_journal() {
    let db = engine::testing::TestDatabase::create().await;
    let journal = db.journal().await;
    drop(journal);
    let mut c = PgConnection::connect(db.url()).await.unwrap();
    sqlx::raw_sql("SET enable_sort = off; SET enable_seqscan = off")
        .execute(&mut c)
        .await
        .unwrap();
    for (name, query, bind) in [
        ("read_committed", READ_COMMITTED, true),
        ("head", HEAD, false),
    ] {
        let plan = plan(&mut c, query, bind).await;
        assert!(
            plan.contains("events_transaction_position_idx") && !plan.contains("Sort"),
            "{name} must read events_transaction_position_idx in order, not sort:\n{plan}"
        );
    }
}
