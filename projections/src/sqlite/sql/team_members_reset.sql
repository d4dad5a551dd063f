DELETE FROM team_members
