DELETE FROM user_organizations WHERE user_id = ?1 AND organization_id = ?2
