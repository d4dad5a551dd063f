-- The tenant directory, ordered by slug (immutable), after $4.
SELECT tenant_id, name, slug, status, plan, kind, created_at, updated_at, version
FROM tenant_directory
WHERE ($1::text IS NULL OR status = $1)
  AND ($2::text IS NULL OR plan = $2)
  AND ($3::text IS NULL OR name_lower LIKE $3 ESCAPE '\' OR slug LIKE $3 ESCAPE '\')
  AND ($4::text IS NULL OR slug > $4)
ORDER BY slug
LIMIT $5
