-- Records a master key as in use; no-op if already recorded. ?1 id, ?2 when.
INSERT INTO master_keys (id, registered_at)
VALUES (?1, ?2)
ON CONFLICT (id) DO NOTHING
