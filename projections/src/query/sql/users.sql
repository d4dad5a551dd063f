-- The user directory, ordered by (email_lower, id) after ($6, $7). Emails never change.
SELECT u.tenant_id, u.id, u.email, u.email_lower, u.display_name, u.status, u.client_id,
       u.version, u.created_at, u.updated_at
FROM users AS u
WHERE u.tenant_id = $1
  AND ($2::text IS NULL
       OR u.display_name_lower LIKE $2 ESCAPE '\' OR u.email_lower LIKE $2 ESCAPE '\')
  AND ($3::text IS NULL OR u.status = $3)
  AND ($4::uuid IS NULL OR EXISTS (
        SELECT 1 FROM user_organizations AS uo
        WHERE uo.tenant_id = u.tenant_id AND uo.user_id = u.id AND uo.organization_id = $4))
  AND ($5::text IS NULL OR EXISTS (
        SELECT 1 FROM role_assignments AS ra
        WHERE ra.tenant_id = u.tenant_id AND ra.user_id = u.id AND ra.role = $5))
  AND ($6::text IS NULL OR (u.email_lower, u.id) > ($6, $7::uuid))
ORDER BY u.email_lower, u.id
LIMIT $8
