-- NULL parameters leave their column as it is.
UPDATE tenant_directory
SET name = COALESCE(?2, name),
    name_lower = COALESCE(?3, name_lower),
    plan = COALESCE(?4, plan),
    status = COALESCE(?5, status),
    version = ?6,
    updated_at = ?7
WHERE tenant_id = ?1
