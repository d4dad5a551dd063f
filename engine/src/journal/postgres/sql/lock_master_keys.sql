-- The named master keys that are registered, locked until this transaction ends so that a
-- concurrent retirement waits for it (and a key retired first is seen retired). $1 ids.
SELECT id, retired_at
FROM master_keys
WHERE id = ANY($1::text[])
ORDER BY id
FOR SHARE
