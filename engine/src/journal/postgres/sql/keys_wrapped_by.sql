-- Up to $2 unshredded keys wrapped by master key $1, in primary-key order (uses
-- personal_keys_master_key_idx).
SELECT tenant_id, subject_id, purpose, version, wrapped, master_key_id, created_at, shredded_at
FROM personal_keys
WHERE master_key_id = $1 AND wrapped IS NOT NULL
ORDER BY tenant_id, subject_id, purpose, version
LIMIT $2
