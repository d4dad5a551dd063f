-- Claims unique keys. ?1 a JSON array of [namespace, key, owner_id, request_id]; ?2 now.
INSERT INTO unique_keys (namespace, key, owner_id, request_id, created_at)
SELECT c.value ->> 0, c.value ->> 1, c.value ->> 2, c.value ->> 3, ?2
FROM json_each(?1) AS c
ORDER BY c.key
