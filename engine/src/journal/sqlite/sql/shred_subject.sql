-- Destroys the key material of every data key of a subject (idempotent: the first shredding
-- time stays). ?1 tenant, ?2 subject, ?3 when.
UPDATE personal_keys
SET wrapped = NULL, master_key_id = NULL, shredded_at = COALESCE(shredded_at, ?3)
WHERE tenant_id = ?1 AND subject_id = ?2 AND purpose = 'data'
