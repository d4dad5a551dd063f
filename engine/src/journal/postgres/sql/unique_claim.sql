SELECT namespace, key, owner_id, request_id
FROM unique_keys
WHERE namespace = $1 AND key = $2
