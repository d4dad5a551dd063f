-- The leases named by the appends' fences that are still held, locked against takeover until
-- this transaction ends. $1 shards, $2 owners, $3 epochs.
SELECT l.shard, l.owner, l.epoch
FROM shard_leases l
JOIN UNNEST($1::int[], $2::text[], $3::bigint[]) AS f(shard, owner, epoch)
  ON l.shard = f.shard AND l.owner = f.owner AND l.epoch = f.epoch
WHERE l.expires_at > clock_timestamp()
FOR SHARE OF l
