UPDATE users
SET display_name = COALESCE(?2, display_name),
    display_name_lower = COALESCE(?3, display_name_lower),
    status = COALESCE(?4, status),
    version = ?5,
    updated_at = ?6
WHERE id = ?1
