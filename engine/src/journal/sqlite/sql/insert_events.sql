-- Inserts the events of an append in list order (their positions rise in that order).
-- ?1 a JSON array of [tenant_id, stream_type, stream_id, sequence, event_type, schema_version,
-- payload text, metadata text, recorded_at]; ?2 the transaction id.
INSERT INTO events (tenant_id, stream_type, stream_id, sequence, event_type, schema_version,
                    payload, metadata, recorded_at, transaction_id)
SELECT e.value ->> 0, e.value ->> 1, e.value ->> 2, e.value ->> 3, e.value ->> 4,
       e.value ->> 5, e.value ->> 6, e.value ->> 7, e.value ->> 8, ?2
FROM json_each(?1) AS e
ORDER BY e.key
RETURNING stream_id, sequence, global_position
