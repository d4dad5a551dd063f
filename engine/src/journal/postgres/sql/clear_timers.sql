-- Removes timers; absent ones are ignored.
DELETE FROM timers AS t
USING UNNEST($1::uuid[], $2::text[]) AS c(tenant_id, kind)
WHERE t.tenant_id = c.tenant_id AND t.kind = c.kind
