-- Takes the unique keys of one append; a taken key fails with 23505 on unique_keys_pkey.
INSERT INTO unique_keys (namespace, key, owner_id, request_id)
SELECT c.namespace, c.key, c.owner_id, c.request_id
FROM UNNEST($1::text[], $2::text[], $3::uuid[], $4::text[]) AS c(namespace, key, owner_id, request_id)
