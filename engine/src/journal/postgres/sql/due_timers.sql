SELECT tenant_id, kind, due_at
FROM timers
WHERE due_at <= $1
ORDER BY due_at, tenant_id, kind
LIMIT $2
