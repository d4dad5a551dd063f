-- A whole append in one statement: its fences, events, unique keys, key creations and timers.
-- Run outside an explicit transaction (one round trip, no BEGIN or COMMIT) whenever the append
-- has events and its key changes are creations only; otherwise inside the append's transaction,
-- without keys (the key changes follow in order).
--
-- Either everything is written or nothing is. Nothing is written when a fence is no longer
-- held, a stream's first new sequence does not follow its stored head, or a master key that
-- wraps a new key is retired; the statement then returns one row per reason (`refusal` set)
-- instead of the events. A unique violation (events, unique_keys, personal_keys) fails the
-- statement with 23505.
--
-- $1–$9 events, $10–$13 claims, $14–$21 keys, $22–$24 timers to set,
-- $25–$26 timers to clear, $27–$29 fences (shards, owners, epochs, each fence once).
WITH held AS MATERIALIZED (
    SELECT l.shard, l.owner, l.epoch
    FROM shard_leases l
    JOIN UNNEST($27::int[], $28::text[], $29::bigint[]) AS f(shard, owner, epoch)
      ON l.shard = f.shard AND l.owner = f.owner AND l.epoch = f.epoch
    WHERE l.expires_at > clock_timestamp()
    -- In shard order, like the lease renewal: locks taken in one order cannot wait in a cycle.
    ORDER BY l.shard
    FOR SHARE OF l
),
masters AS MATERIALIZED (
    SELECT id, retired_at
    FROM master_keys
    WHERE id = ANY($19::text[])
    ORDER BY id
    FOR SHARE
),
input AS (
    SELECT *
    FROM UNNEST($1::uuid[], $2::text[], $3::uuid[], $4::bigint[], $5::text[], $6::int[],
                $7::jsonb[], $8::jsonb[], $9::timestamptz[])
         WITH ORDINALITY AS e(tenant_id, stream_type, stream_id, sequence, event_type,
                              schema_version, payload, metadata, recorded_at, ord)
),
heads AS (
    SELECT new.stream_id, new.first_sequence,
           COALESCE((SELECT max(e.sequence) FROM events AS e WHERE e.stream_id = new.stream_id),
                    0) AS head
    FROM (SELECT stream_id, min(sequence) AS first_sequence FROM input GROUP BY stream_id) AS new
),
refused AS MATERIALIZED (
    SELECT 'fence' AS refusal, f.shard, NULL::text AS master_key_id, NULL::uuid AS stream_id,
           NULL::bigint AS head
    FROM UNNEST($27::int[], $28::text[], $29::bigint[]) AS f(shard, owner, epoch)
    WHERE NOT EXISTS (SELECT 1 FROM held h
                      WHERE h.shard = f.shard AND h.owner = f.owner AND h.epoch = f.epoch)
    UNION ALL
    SELECT 'retired_master_key', NULL, id, NULL, NULL FROM masters WHERE retired_at IS NOT NULL
    UNION ALL
    SELECT 'misplaced', NULL, NULL, stream_id, head FROM heads WHERE first_sequence <> head + 1
),
claims AS (
    INSERT INTO unique_keys (namespace, key, owner_id, request_id)
    SELECT c.namespace, c.key, c.owner_id, c.request_id
    FROM UNNEST($10::text[], $11::text[], $12::uuid[], $13::text[])
         AS c(namespace, key, owner_id, request_id)
    WHERE NOT EXISTS (SELECT 1 FROM refused)
),
keys AS (
    INSERT INTO personal_keys (tenant_id, subject_id, purpose, version, wrapped, master_key_id,
                               created_at, shredded_at)
    SELECT k.tenant_id, k.subject_id, k.purpose, k.version, k.wrapped, k.master_key_id,
           k.created_at, k.shredded_at
    FROM UNNEST($14::uuid[], $15::uuid[], $16::text[], $17::int[], $18::bytea[], $19::text[],
                $20::timestamptz[], $21::timestamptz[])
         AS k(tenant_id, subject_id, purpose, version, wrapped, master_key_id, created_at,
              shredded_at)
    WHERE NOT EXISTS (SELECT 1 FROM refused)
),
set_timers AS (
    INSERT INTO timers (tenant_id, kind, due_at)
    SELECT t.tenant_id, t.kind, t.due_at
    FROM UNNEST($22::uuid[], $23::text[], $24::timestamptz[]) AS t(tenant_id, kind, due_at)
    WHERE NOT EXISTS (SELECT 1 FROM refused)
    ON CONFLICT (tenant_id, kind) DO UPDATE SET due_at = EXCLUDED.due_at
),
clear_timers AS (
    DELETE FROM timers AS t
    USING UNNEST($25::uuid[], $26::text[]) AS c(tenant_id, kind)
    WHERE t.tenant_id = c.tenant_id AND t.kind = c.kind AND NOT EXISTS (SELECT 1 FROM refused)
),
inserted AS (
    INSERT INTO events (tenant_id, stream_type, stream_id, sequence, event_type, schema_version,
                        payload, metadata, recorded_at)
    SELECT tenant_id, stream_type, stream_id, sequence, event_type, schema_version, payload,
           metadata, recorded_at
    FROM input
    WHERE NOT EXISTS (SELECT 1 FROM refused)
    ORDER BY ord
    RETURNING global_position, stream_id, sequence, transaction_id::text::bigint AS transaction_id
)
SELECT global_position, stream_id, sequence, transaction_id, NULL::text AS refusal,
       NULL::int AS shard, NULL::text AS master_key_id, NULL::bigint AS head
FROM inserted
UNION ALL
SELECT NULL, stream_id, NULL, NULL, refusal, shard, master_key_id, head
FROM refused
