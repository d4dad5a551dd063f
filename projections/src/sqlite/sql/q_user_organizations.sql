-- ?1 is a JSON array of user ids.
SELECT user_id, organization_id
FROM user_organizations
WHERE user_id IN (SELECT value FROM json_each(?1))
ORDER BY user_id, organization_id
