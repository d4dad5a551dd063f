-- Inserts or moves timers (each (tenant_id, kind) at most once per call).
INSERT INTO timers (tenant_id, kind, due_at)
SELECT t.tenant_id, t.kind, t.due_at
FROM UNNEST($1::uuid[], $2::text[], $3::timestamptz[]) AS t(tenant_id, kind, due_at)
ON CONFLICT (tenant_id, kind) DO UPDATE SET due_at = EXCLUDED.due_at
