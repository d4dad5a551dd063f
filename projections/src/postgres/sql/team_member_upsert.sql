INSERT INTO team_members (tenant_id, team_id, user_id, role)
VALUES ($1, $2, $3, $4)
ON CONFLICT (team_id, user_id) DO UPDATE SET role = EXCLUDED.role
