DELETE FROM team_members WHERE team_id = ?1 AND user_id = ?2
