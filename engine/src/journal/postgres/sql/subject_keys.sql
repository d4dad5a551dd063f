-- The key rows of the given subjects, any tenant, shredded ones included. $1 subject ids.
SELECT tenant_id, subject_id, purpose, version, wrapped, master_key_id, created_at, shredded_at
FROM personal_keys
WHERE subject_id = ANY($1::uuid[])
ORDER BY tenant_id, subject_id, purpose, version
