SELECT tenant_id, id, organization_id, name, status, version, created_at, updated_at
FROM teams
WHERE tenant_id = $1
  AND ($2::uuid IS NULL OR organization_id = $2)
  AND ($3::boolean OR status = 'active')
  AND ($4::uuid IS NULL OR id > $4)
ORDER BY id
LIMIT $5
