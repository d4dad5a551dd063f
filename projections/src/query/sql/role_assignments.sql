-- Ordered by (user_id, role, scope_kind, scope_id) after ($6, $7, $8, $9).
SELECT tenant_id, user_id, role, scope_kind, scope_id, assigned_at
FROM role_assignments
WHERE tenant_id = $1
  AND ($2::uuid IS NULL OR user_id = $2)
  AND ($3::text IS NULL OR role = $3)
  AND ($4::text IS NULL OR (scope_kind = $4 AND scope_id = $5::uuid))
  AND ($6::uuid IS NULL OR (user_id, role, scope_kind, scope_id) > ($6, $7::text, $8::text, $9::uuid))
ORDER BY user_id, role, scope_kind, scope_id
LIMIT $10
