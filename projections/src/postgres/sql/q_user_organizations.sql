SELECT user_id, organization_id
FROM user_organizations
WHERE user_id = ANY($1::uuid[])
ORDER BY user_id, organization_id
