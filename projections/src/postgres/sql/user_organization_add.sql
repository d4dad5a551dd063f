INSERT INTO user_organizations (tenant_id, user_id, organization_id)
VALUES ($1, $2, $3)
ON CONFLICT (user_id, organization_id) DO NOTHING
