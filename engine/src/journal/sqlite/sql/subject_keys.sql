-- The key rows of the given subjects, any tenant, shredded ones included. ?1 a JSON array of
-- subject ids.
SELECT tenant_id, subject_id, purpose, version, wrapped, master_key_id, created_at, shredded_at
FROM personal_keys
WHERE subject_id IN (SELECT value FROM json_each(?1))
ORDER BY tenant_id, subject_id, purpose, version
