-- Replaces one key's wrapping if it is still wrapped by master key ?7 and not shredded
-- (compare-and-set: a shredding or rewrapping before it wins). ?1-?4 the key's id, ?5 the new
-- wrapping, ?6 its master key.
UPDATE personal_keys
SET wrapped = ?5, master_key_id = ?6
WHERE tenant_id = ?1 AND subject_id = ?2 AND purpose = ?3 AND version = ?4
  AND master_key_id = ?7 AND shredded_at IS NULL
