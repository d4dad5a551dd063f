-- NULL name/status leave their column as it is; the parent changes only when $5 is true.
UPDATE organizations
SET name = COALESCE($2, name),
    status = COALESCE($3, status),
    parent_id = CASE WHEN $5 THEN $4 ELSE parent_id END,
    version = $6,
    updated_at = $7
WHERE id = $1
