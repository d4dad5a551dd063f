SELECT tenant_id, team_id, user_id, role
FROM team_members
WHERE tenant_id = ?1
  AND (?2 IS NULL OR team_id = ?2)
  AND (?3 IS NULL OR user_id = ?3)
  AND (?4 IS NULL OR (team_id, user_id) > (?4, ?5))
ORDER BY team_id, user_id
LIMIT ?6
