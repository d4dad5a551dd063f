-- A tenant's audit trail, or one actor's in it: the `audit` read model's entries (SQLite: its
-- primary key or audit_entries_actor_idx; PostgreSQL: audit_entries_tenant_idx or
-- audit_entries_actor_idx) and the journal's events past its checkpoint ($8 transaction, $9
-- position, read just before), which it has not applied yet: a handful at normal lag, found
-- through events_transaction_position_idx. An event applied since the checkpoint was read is in
-- both, once after the UNION. Then the events themselves, by position.
WITH unprojected AS MATERIALIZED (
    SELECT tenant_id, (metadata -> 'actor' ->> 'subject') AS actor_subject, recorded_at,
           global_position
    FROM events
    WHERE (transaction_id, global_position) > ($8::text::xid8, $9::bigint)
), hits AS (
    SELECT * FROM (
        SELECT recorded_at, global_position FROM audit_entries
{matching}
    ) AS applied
    UNION
    SELECT * FROM (
        SELECT recorded_at, global_position FROM unprojected
{matching}
    ) AS pending
)
SELECT e.global_position, e.transaction_id::text::bigint AS transaction_id, e.tenant_id,
       e.stream_type, e.stream_id, e.sequence, e.event_type, e.schema_version, e.payload,
       e.metadata, e.recorded_at
FROM hits JOIN events AS e ON e.global_position = hits.global_position
ORDER BY e.recorded_at DESC, e.global_position DESC
LIMIT $7
