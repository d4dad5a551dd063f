-- Destroys every key a lost master key wrapped (they can never be unwrapped again): their
-- people read as erased from now on. ?1 id, ?2 when.
UPDATE personal_keys
SET wrapped = NULL, master_key_id = NULL, shredded_at = COALESCE(shredded_at, ?2)
WHERE master_key_id = ?1
