-- A tenant's clients, ordered by id after $4: of status $2, or every status but deleted.
SELECT tenant_id, id, name, external_id, status, provisioned_tenant_id, version, created_at,
       updated_at
FROM clients
WHERE tenant_id = $1
  AND (status = $2::text OR ($2::text IS NULL AND status <> 'deleted'))
  AND ($3::text IS NULL OR external_id = $3)
  AND ($4::uuid IS NULL OR id > $4)
ORDER BY id
LIMIT $5
