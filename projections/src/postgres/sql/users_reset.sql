TRUNCATE users, user_organizations
