-- One entity's events (its stream: events_stream_sequence_key).
SELECT global_position, transaction_id::text::bigint AS transaction_id, tenant_id, stream_type,
       stream_id, sequence, event_type, schema_version, payload, metadata, recorded_at
FROM events
{matching}
