-- Removes timers. ?1 a JSON array of [tenant_id, kind].
DELETE FROM timers
WHERE (tenant_id, kind) IN (SELECT t.value ->> 0, t.value ->> 1 FROM json_each(?1) AS t)
