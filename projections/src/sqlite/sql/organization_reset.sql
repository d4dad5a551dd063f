DELETE FROM organizations
