SELECT global_position, transaction_id, tenant_id, stream_type, stream_id, sequence, event_type,
       schema_version, payload, metadata, recorded_at
FROM events
WHERE tenant_id = ?1 AND global_position > ?2
ORDER BY global_position
