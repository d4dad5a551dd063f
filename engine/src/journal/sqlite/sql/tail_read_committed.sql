-- The tail in commit order (see journal/tail.rs). SQLite has one writer and transaction ids
-- taken inside the write transaction, so every visible transaction has committed and none can
-- still commit below it: no horizon is needed. Uses events_transaction_position_idx.
SELECT global_position, transaction_id, tenant_id, stream_type, stream_id, sequence, event_type,
       schema_version, payload, metadata, recorded_at
FROM events
WHERE (transaction_id, global_position) > (?1, ?2)
ORDER BY transaction_id, global_position
LIMIT ?3
