DELETE FROM unique_keys
WHERE namespace = $1 AND key = $2 AND owner_id = $3
