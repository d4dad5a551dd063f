-- The organizations whose path is a proper prefix of path $2, root first.
SELECT tenant_id, id, parent_id, name, depth, path, status, version, created_at, updated_at
FROM organizations
WHERE tenant_id = $1
  AND $2::text >= path || '/' AND $2::text < path || '0'
ORDER BY depth
