SELECT tenant_id, team_id, user_id, role
FROM team_members
WHERE tenant_id = $1
  AND ($2::uuid IS NULL OR team_id = $2)
  AND ($3::uuid IS NULL OR user_id = $3)
  AND ($4::uuid IS NULL OR (team_id, user_id) > ($4, $5::uuid))
ORDER BY team_id, user_id
LIMIT $6
