INSERT INTO users (tenant_id, id, email, email_lower, display_name, display_name_lower, status,
                   version, created_at, updated_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)
