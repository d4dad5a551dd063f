-- A tenant's events, newest first, in [$2, $3), after ($4, $5), at most $6: the `audit` read
-- model's entries (audit_entries_tenant_idx; SQLite: its primary key) and the journal's events
-- past its checkpoint ($7 transaction, $8 position, read just before), which it has not
-- applied yet: a handful at normal lag (events_transaction_position_idx). An event applied
-- since the checkpoint was read is in both, once after the UNION. Then the events themselves.
WITH unprojected AS MATERIALIZED (
    SELECT tenant_id, recorded_at, global_position
    FROM events
    WHERE (transaction_id, global_position) > ($7::text::xid8, $8::bigint)
), hits AS (
    SELECT * FROM (
        SELECT recorded_at, global_position FROM audit_entries
        WHERE tenant_id = $1
          AND ($2::timestamptz IS NULL OR recorded_at >= $2)
          AND ($3::timestamptz IS NULL OR recorded_at < $3)
          AND ($4::timestamptz IS NULL OR (recorded_at, global_position) < ($4, $5::bigint))
        ORDER BY recorded_at DESC, global_position DESC
        LIMIT $6
    ) AS applied
    UNION
    SELECT * FROM (
        SELECT recorded_at, global_position FROM unprojected
        WHERE tenant_id = $1
          AND ($2::timestamptz IS NULL OR recorded_at >= $2)
          AND ($3::timestamptz IS NULL OR recorded_at < $3)
          AND ($4::timestamptz IS NULL OR (recorded_at, global_position) < ($4, $5::bigint))
        ORDER BY recorded_at DESC, global_position DESC
        LIMIT $6
    ) AS pending
)
SELECT e.global_position, e.transaction_id::text::bigint AS transaction_id, e.tenant_id,
       e.stream_type, e.stream_id, e.sequence, e.event_type, e.schema_version, e.payload,
       e.metadata, e.recorded_at
FROM hits JOIN events AS e ON e.global_position = hits.global_position
ORDER BY e.recorded_at DESC, e.global_position DESC
LIMIT $6
