TRUNCATE teams, team_members
