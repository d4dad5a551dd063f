-- Marks a master key retired (recording it if unknown, so that it wraps no new key either);
-- the first retirement time stays. $1 id, $2 when.
INSERT INTO master_keys (id, registered_at, retired_at)
VALUES ($1, $2, $2)
ON CONFLICT (id) DO UPDATE SET retired_at = COALESCE(master_keys.retired_at, EXCLUDED.retired_at)
