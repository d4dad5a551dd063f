DELETE FROM role_assignments
WHERE tenant_id = ?1 AND user_id = ?2 AND role = ?3 AND scope_kind = ?4 AND scope_id = ?5
