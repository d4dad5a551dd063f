-- The organizations of the users whose ids fill {ids} (one placeholder each).
SELECT user_id, organization_id
FROM user_organizations
WHERE user_id IN ({ids})
ORDER BY user_id, organization_id
