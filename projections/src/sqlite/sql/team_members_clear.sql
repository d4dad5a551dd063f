DELETE FROM team_members WHERE team_id = ?1
