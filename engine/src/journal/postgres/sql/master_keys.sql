SELECT id, registered_at, retired_at
FROM master_keys
ORDER BY registered_at, id
