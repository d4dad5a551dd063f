-- A tenant's events, newest first, in [$2, $3), after ($4, $5). Uses events_tenant_recorded_idx.
SELECT global_position, transaction_id::text::bigint AS transaction_id, tenant_id, stream_type,
       stream_id, sequence, event_type, schema_version, payload, metadata, recorded_at
FROM events
WHERE tenant_id = $1
  AND ($2::timestamptz IS NULL OR recorded_at >= $2)
  AND ($3::timestamptz IS NULL OR recorded_at < $3)
  AND ($4::timestamptz IS NULL OR (recorded_at, global_position) < ($4, $5::bigint))
ORDER BY recorded_at DESC, global_position DESC
LIMIT $6
