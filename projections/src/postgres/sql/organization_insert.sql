INSERT INTO organizations (tenant_id, id, parent_id, name, depth, path, status, version,
                           created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
