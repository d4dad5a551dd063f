INSERT INTO teams (tenant_id, id, organization_id, name, status, version, created_at, updated_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)
