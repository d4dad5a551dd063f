-- A tenant's organizations, ordered by id after $6. $2 selects: 'all', 'roots', 'children'
-- (of $3) or 'descendants' (below path $4).
SELECT tenant_id, id, parent_id, name, depth, path, status, version, created_at, updated_at
FROM organizations
WHERE tenant_id = $1
  AND CASE $2::text
        WHEN 'roots' THEN parent_id IS NULL
        WHEN 'children' THEN parent_id = $3::uuid
        WHEN 'descendants' THEN path >= $4::text || '/' AND path < $4::text || '0'
        ELSE true
      END
  AND ($5::boolean OR status = 'active')
  AND ($6::uuid IS NULL OR id > $6)
ORDER BY id
LIMIT $7
