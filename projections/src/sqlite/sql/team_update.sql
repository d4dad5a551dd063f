UPDATE teams
SET name = COALESCE(?2, name),
    status = COALESCE(?3, status),
    version = ?4,
    updated_at = ?5
WHERE id = ?1
