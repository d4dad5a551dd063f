SELECT tenant_id, path, depth FROM organizations WHERE id = ?1
