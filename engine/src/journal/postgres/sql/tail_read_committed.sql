-- The gap-safe tail (see journal/tail.rs): events after ($1 transaction, $2 position) in
-- (transaction_id, global_position) order, only from transactions below the oldest one still
-- running, so that nothing can still commit below what is returned. Uses
-- events_transaction_position_idx: ORDER BY names the table's columns, because a bare
-- `transaction_id` would be the output column (the bigint), which no index orders, and every
-- read would sort the whole table.
SELECT global_position, transaction_id::text::bigint AS transaction_id, tenant_id, stream_type,
       stream_id, sequence, event_type, schema_version, payload, metadata, recorded_at
FROM events
WHERE (transaction_id, global_position) > ($1::text::xid8, $2::bigint)
  AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
ORDER BY events.transaction_id, events.global_position
LIMIT $3
