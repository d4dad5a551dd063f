SELECT aggregate_kind, aggregate_id, schema_version, last_position, state, taken_at
FROM snapshots
WHERE aggregate_kind = $1 AND aggregate_id = $2
