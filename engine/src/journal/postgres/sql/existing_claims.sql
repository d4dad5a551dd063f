-- The holder of the first of the given (namespace, key) pairs, in input order, that is taken.
SELECT u.namespace, u.key, u.owner_id, u.request_id
FROM UNNEST($1::text[], $2::text[]) WITH ORDINALITY AS c(namespace, key, ord)
JOIN unique_keys AS u ON u.namespace = c.namespace AND u.key = c.key
ORDER BY c.ord
LIMIT 1
