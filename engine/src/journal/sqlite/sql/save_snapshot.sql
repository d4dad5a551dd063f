-- Inserts or replaces a snapshot, unless the stored one is newer.
INSERT INTO snapshots (aggregate_kind, aggregate_id, schema_version, last_position, state, taken_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6)
ON CONFLICT (aggregate_kind, aggregate_id) DO UPDATE
SET schema_version = excluded.schema_version,
    last_position = excluded.last_position,
    state = excluded.state,
    taken_at = excluded.taken_at
WHERE snapshots.last_position <= excluded.last_position
