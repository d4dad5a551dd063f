//! The SQL of membership and leases (tables in `migrations/postgres/0003_cluster.sql`). Times
//! are the database's (`clock_timestamp()`), so nodes' clocks need not agree.

use std::time::Duration;

use sqlx::PgPool;

use crate::{ClusterError, Result};

/// The PostgreSQL channel notified whenever a shard changes owner (taken or given up); routers
/// LISTEN on it to refresh their owner maps at once.
pub const LEASES_CHANNEL: &str = "entity_shard_leases";

/// Tells the routers that ownership changed.
async fn notify_owners_changed(pool: &PgPool) -> Result<()> {
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(LEASES_CHANNEL)
        .execute(pool)
        .await?;
    Ok(())
}

/// A lease row as read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Lease {
    pub shard: u32,
    pub owner: String,
    pub epoch: i64,
    /// Unexpired when read.
    pub valid: bool,
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn shard_of_row(shard: i32) -> Result<u32> {
    u32::try_from(shard).map_err(|_| ClusterError::Corrupt(format!("negative shard {shard}")))
}

/// Registers the node (or refreshes it) and records a heartbeat; clears `leaving`.
pub(crate) async fn heartbeat(pool: &PgPool, node: &str, address: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO cluster_nodes (node_id, grpc_address) VALUES ($1, $2) \
         ON CONFLICT (node_id) DO UPDATE \
         SET grpc_address = EXCLUDED.grpc_address, heartbeat_at = clock_timestamp()",
    )
    .bind(node)
    .bind(address)
    .execute(pool)
    .await?;
    Ok(())
}

/// Marks the node as leaving: it gets no shards any more.
pub(crate) async fn mark_leaving(pool: &PgPool, node: &str) -> Result<()> {
    sqlx::query("UPDATE cluster_nodes SET leaving = true WHERE node_id = $1")
        .bind(node)
        .execute(pool)
        .await?;
    Ok(())
}

/// Forgets the node.
pub(crate) async fn deregister(pool: &PgPool, node: &str) -> Result<()> {
    sqlx::query("DELETE FROM cluster_nodes WHERE node_id = $1")
        .bind(node)
        .execute(pool)
        .await?;
    Ok(())
}

/// Nodes that heartbeat within `ttl` and are not leaving, by id.
pub(crate) async fn live_nodes(pool: &PgPool, ttl: Duration) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT node_id FROM cluster_nodes \
         WHERE NOT leaving AND heartbeat_at > clock_timestamp() - make_interval(secs => $1) \
         ORDER BY node_id",
    )
    .bind(secs(ttl))
    .fetch_all(pool)
    .await?)
}

/// Every lease row.
pub(crate) async fn leases(pool: &PgPool) -> Result<Vec<Lease>> {
    let rows: Vec<(i32, String, i64, bool)> = sqlx::query_as(
        "SELECT shard, owner, epoch, expires_at > clock_timestamp() FROM shard_leases",
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|(shard, owner, epoch, valid)| {
            Ok(Lease {
                shard: shard_of_row(shard)?,
                owner,
                epoch,
                valid,
            })
        })
        .collect()
}

/// Extends the leases `(shard, epoch)` the node holds by `ttl`; returns those still held.
///
/// The rows are locked in shard order first, as every append locks its fences (`FOR SHARE …
/// ORDER BY shard`): in any other order a renewal and two appends could wait for each other
/// until PostgreSQL's deadlock check (after `deadlock_timeout`, 1 s) reorders the queue, a
/// one-second stall of every command of those shards, measured at 1,000 commands/s.
pub(crate) async fn renew(
    pool: &PgPool,
    node: &str,
    held: &[(u32, i64)],
    ttl: Duration,
) -> Result<Vec<(u32, i64)>> {
    let shards: Vec<i32> = held.iter().map(|(s, _)| *s as i32).collect();
    let epochs: Vec<i64> = held.iter().map(|(_, e)| *e).collect();
    let rows: Vec<(i32, i64)> = sqlx::query_as(
        "WITH held AS MATERIALIZED ( \
             SELECT l.shard FROM shard_leases l \
             JOIN UNNEST($2::int[], $3::bigint[]) AS h(shard, epoch) \
               ON l.shard = h.shard AND l.epoch = h.epoch \
             WHERE l.owner = $1 AND l.expires_at > clock_timestamp() \
             ORDER BY l.shard \
             FOR NO KEY UPDATE OF l \
         ) \
         UPDATE shard_leases l SET expires_at = clock_timestamp() + make_interval(secs => $4) \
         FROM held WHERE l.shard = held.shard \
         RETURNING l.shard, l.epoch",
    )
    .bind(node)
    .bind(shards)
    .bind(epochs)
    .bind(secs(ttl))
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|(s, e)| Ok((shard_of_row(s)?, e)))
        .collect()
}

/// Takes the shards that are unleased or whose lease expired, with epoch + 1; returns the
/// shards taken and their epochs.
pub(crate) async fn acquire(
    pool: &PgPool,
    node: &str,
    shards: &[u32],
    ttl: Duration,
) -> Result<Vec<(u32, i64)>> {
    let shards: Vec<i32> = shards.iter().map(|s| *s as i32).collect();
    let rows: Vec<(i32, i64)> = sqlx::query_as(
        "INSERT INTO shard_leases (shard, owner, epoch, expires_at) \
         SELECT s, $1, 1, clock_timestamp() + make_interval(secs => $3) FROM UNNEST($2::int[]) s \
         ON CONFLICT (shard) DO UPDATE \
         SET owner = EXCLUDED.owner, epoch = shard_leases.epoch + 1, \
             expires_at = EXCLUDED.expires_at \
         WHERE shard_leases.expires_at <= clock_timestamp() \
         RETURNING shard, epoch",
    )
    .bind(node)
    .bind(shards)
    .bind(secs(ttl))
    .fetch_all(pool)
    .await?;
    if !rows.is_empty() {
        notify_owners_changed(pool).await?;
    }
    rows.into_iter()
        .map(|(s, e)| Ok((shard_of_row(s)?, e)))
        .collect()
}

/// Gives up a held lease at once (its epoch stays, so the next owner's is higher). Waits for
/// appends in flight under it (they hold the row FOR SHARE).
pub(crate) async fn release(pool: &PgPool, node: &str, shard: u32, epoch: i64) -> Result<()> {
    sqlx::query(
        "UPDATE shard_leases SET expires_at = '-infinity' \
         WHERE shard = $1 AND owner = $2 AND epoch = $3",
    )
    .bind(shard as i32)
    .bind(node)
    .bind(epoch)
    .execute(pool)
    .await?;
    notify_owners_changed(pool).await
}

/// The cluster's shard count: `wanted` if this is the first node, else the stored one, which
/// must equal `wanted` (a shard count never changes for the life of a cluster).
pub(crate) async fn settle_shard_count(pool: &PgPool, wanted: u32) -> Result<u32> {
    sqlx::query(
        "INSERT INTO cluster_settings (key, value) VALUES ('shard_count', $1) \
         ON CONFLICT (key) DO NOTHING",
    )
    .bind(wanted.to_string())
    .execute(pool)
    .await?;
    let stored: String =
        sqlx::query_scalar("SELECT value FROM cluster_settings WHERE key = 'shard_count'")
            .fetch_one(pool)
            .await?;
    let stored: u32 = stored
        .parse()
        .map_err(|_| ClusterError::Corrupt(format!("stored shard count {stored:?}")))?;
    if stored != wanted {
        return Err(ClusterError::Config(format!(
            "this cluster has {stored} shards; the node was configured with {wanted} (the shard \
             count is fixed when the cluster is created)"
        )));
    }
    Ok(stored)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use engine::testing::TestDatabase;

    use super::*;

    const ROW_LOCK: &str = "SELECT 1 FROM shard_leases WHERE shard = $1 FOR SHARE NOWAIT";

    /// A renewal that waits for one of its rows holds the rows before it and none after it:
    /// it locks in shard order, as an append's fence check does, so the two cannot wait for
    /// each other (which cost a one-second stall until PostgreSQL's deadlock check).
    #[tokio::test]
    async fn a_renewal_locks_its_leases_in_shard_order() {
        let db = TestDatabase::create().await;
        let pool = db.journal().await.pool().clone();
        let ttl = Duration::from_secs(60);
        let mut held = acquire(&pool, "n1", &[3, 5, 7], ttl).await.unwrap();
        held.sort_by_key(|(shard, _)| std::cmp::Reverse(*shard));

        // An append in flight on shard 5 holds its lease row FOR SHARE.
        let mut append = pool.begin().await.unwrap();
        sqlx::query(ROW_LOCK)
            .bind(5)
            .execute(&mut *append)
            .await
            .unwrap();
        let renewal = tokio::spawn({
            let (pool, held) = (pool.clone(), held.clone());
            async move { renew(&pool, "n1", &held, ttl).await }
        });
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let waiting: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_stat_activity \
                 WHERE datname = current_database() AND wait_event_type = 'Lock'",
            )
            .fetch_one(&pool)
            .await
            .unwrap();
            if waiting > 0 {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the renewal never waited"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }

        let mut probe = pool.begin().await.unwrap();
        let after = sqlx::query(ROW_LOCK).bind(7).execute(&mut *probe).await;
        assert!(
            after.is_ok(),
            "the renewal locked shard 7 before 5: {after:?}"
        );
        let before = sqlx::query(ROW_LOCK).bind(3).execute(&mut *probe).await;
        assert!(before.is_err(), "the renewal had not locked shard 3 first");
        probe.rollback().await.unwrap();

        append.commit().await.unwrap();
        let mut renewed = renewal.await.unwrap().unwrap();
        renewed.sort_unstable();
        held.sort_unstable();
        assert_eq!(renewed, held);
    }
}
