INSERT INTO unique_keys (namespace, key, owner_id, request_id, created_at)
VALUES (?1, ?2, ?3, ?4, ?5)
