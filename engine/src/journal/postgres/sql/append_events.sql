-- Every event of one append (all its batches) in one statement: one array per column.
-- Writes nothing (returns no rows) if the first new sequence of any stream does not follow the
-- stream's stored head; the caller then finds which stream with stream_heads.sql.
-- Identity values follow the input order; callers still map rows back by (stream_id, sequence).
WITH input AS (
    SELECT *
    FROM UNNEST($1::uuid[], $2::text[], $3::uuid[], $4::bigint[], $5::text[], $6::int[],
                $7::jsonb[], $8::jsonb[], $9::timestamptz[])
         WITH ORDINALITY AS e(tenant_id, stream_type, stream_id, sequence, event_type,
                              schema_version, payload, metadata, recorded_at, ord)
),
misplaced AS (
    SELECT 1
    FROM (SELECT stream_id, min(sequence) AS first_sequence FROM input GROUP BY stream_id) AS new
    WHERE new.first_sequence <> 1 + COALESCE(
        (SELECT max(e.sequence) FROM events AS e WHERE e.stream_id = new.stream_id), 0)
)
INSERT INTO events (tenant_id, stream_type, stream_id, sequence, event_type, schema_version,
                    payload, metadata, recorded_at)
SELECT tenant_id, stream_type, stream_id, sequence, event_type, schema_version, payload,
       metadata, recorded_at
FROM input
WHERE NOT EXISTS (SELECT 1 FROM misplaced)
ORDER BY ord
RETURNING global_position, stream_id, sequence, transaction_id::text::bigint AS transaction_id
