-- The domain holds assignments as a set: assigning a held one changes nothing.
INSERT INTO role_assignments (tenant_id, user_id, role, scope_kind, scope_id, assigned_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6)
ON CONFLICT (tenant_id, user_id, role, scope_kind, scope_id) DO NOTHING
