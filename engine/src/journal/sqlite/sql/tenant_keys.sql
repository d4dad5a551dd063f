-- Every key row of a tenant, shredded ones included. ?1 tenant.
SELECT tenant_id, subject_id, purpose, version, wrapped, master_key_id, created_at, shredded_at
FROM personal_keys
WHERE tenant_id = ?1
ORDER BY subject_id, purpose, version
