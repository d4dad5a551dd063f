-- The named master keys that are registered (the write lock is held: none is retired before
-- this transaction ends). ?1 a JSON array of ids.
SELECT id, retired_at
FROM master_keys
WHERE id IN (SELECT value FROM json_each(?1))
ORDER BY id
