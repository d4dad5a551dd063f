-- Events caused by subject $2 in a tenant, newest first, in [$3, $4), after ($5, $6), at most
-- $7: as audit_tenant.sql (the checkpoint is $8, $9), through audit_entries_actor_idx.
WITH unprojected AS MATERIALIZED (
    SELECT tenant_id, (metadata -> 'actor' ->> 'subject') AS actor_subject, recorded_at,
           global_position
    FROM events
    WHERE (transaction_id, global_position) > ($8::text::xid8, $9::bigint)
), hits AS (
    SELECT * FROM (
        SELECT recorded_at, global_position FROM audit_entries
        WHERE tenant_id = $1
          AND actor_subject = $2
          AND ($3::timestamptz IS NULL OR recorded_at >= $3)
          AND ($4::timestamptz IS NULL OR recorded_at < $4)
          AND ($5::timestamptz IS NULL OR (recorded_at, global_position) < ($5, $6::bigint))
        ORDER BY recorded_at DESC, global_position DESC
        LIMIT $7
    ) AS applied
    UNION
    SELECT * FROM (
        SELECT recorded_at, global_position FROM unprojected
        WHERE tenant_id = $1
          AND actor_subject = $2
          AND ($3::timestamptz IS NULL OR recorded_at >= $3)
          AND ($4::timestamptz IS NULL OR recorded_at < $4)
          AND ($5::timestamptz IS NULL OR (recorded_at, global_position) < ($5, $6::bigint))
        ORDER BY recorded_at DESC, global_position DESC
        LIMIT $7
    ) AS pending
)
SELECT e.global_position, e.transaction_id::text::bigint AS transaction_id, e.tenant_id,
       e.stream_type, e.stream_id, e.sequence, e.event_type, e.schema_version, e.payload,
       e.metadata, e.recorded_at
FROM hits JOIN events AS e ON e.global_position = hits.global_position
ORDER BY e.recorded_at DESC, e.global_position DESC
LIMIT $7
