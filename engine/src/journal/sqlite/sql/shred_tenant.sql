-- Destroys the key material of every key of a tenant, data and index keys (idempotent: the
-- first shredding time stays). ?1 tenant, ?2 when.
UPDATE personal_keys
SET wrapped = NULL, master_key_id = NULL, shredded_at = COALESCE(shredded_at, ?2)
WHERE tenant_id = ?1
