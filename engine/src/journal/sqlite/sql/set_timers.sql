-- Inserts or moves timers (each (tenant_id, kind) at most once). ?1 a JSON array of
-- [tenant_id, kind, due_at]. `WHERE true` tells SQLite's parser that ON CONFLICT is the
-- upsert's, not a join's.
INSERT INTO timers (tenant_id, kind, due_at)
SELECT t.value ->> 0, t.value ->> 1, t.value ->> 2
FROM json_each(?1) AS t
WHERE true
ON CONFLICT (tenant_id, kind) DO UPDATE SET due_at = excluded.due_at
