-- Gives up unique keys. ?1 a JSON array of [namespace, key, owner_id].
DELETE FROM unique_keys
WHERE (namespace, key, owner_id) IN (
    SELECT r.value ->> 0, r.value ->> 1, r.value ->> 2 FROM json_each(?1) AS r
)
