INSERT INTO timers (tenant_id, kind, due_at)
VALUES (?1, ?2, ?3)
ON CONFLICT (tenant_id, kind) DO UPDATE SET due_at = excluded.due_at
