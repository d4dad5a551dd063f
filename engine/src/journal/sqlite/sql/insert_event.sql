INSERT INTO events (tenant_id, stream_type, stream_id, sequence, event_type, schema_version,
                    payload, metadata, recorded_at, transaction_id)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
RETURNING global_position
