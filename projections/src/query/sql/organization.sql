SELECT tenant_id, id, parent_id, name, depth, path, status, version, created_at, updated_at
FROM organizations
WHERE tenant_id = $1 AND id = $2
