INSERT INTO tenant_directory (tenant_id, name, name_lower, slug, status, plan, kind, created_at,
                              updated_at, version)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9)
