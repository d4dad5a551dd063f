-- The organizations of the given users (the list: see `Statement::among`).
SELECT user_id, organization_id
FROM user_organizations
WHERE user_id IN ({ids})
ORDER BY user_id, organization_id
