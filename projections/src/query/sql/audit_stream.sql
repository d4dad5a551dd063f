-- One entity's events, newest first, in [$3, $4), after ($5, $6).
SELECT global_position, transaction_id::text::bigint AS transaction_id, tenant_id, stream_type,
       stream_id, sequence, event_type, schema_version, payload, metadata, recorded_at
FROM events
WHERE tenant_id = $1
  AND stream_id = $2
  AND ($3::timestamptz IS NULL OR recorded_at >= $3)
  AND ($4::timestamptz IS NULL OR recorded_at < $4)
  AND ($5::timestamptz IS NULL OR (recorded_at, global_position) < ($5, $6::bigint))
ORDER BY recorded_at DESC, global_position DESC
LIMIT $7
