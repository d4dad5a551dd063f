-- Leaves a shredded index key (subject: the tenant, version 1) for a tenant that has none, so
-- that none can be created for it later. $1 tenant, $2 when.
INSERT INTO personal_keys (tenant_id, subject_id, purpose, version, wrapped, master_key_id,
                           created_at, shredded_at)
SELECT $1::uuid, $1::uuid, 'index', 1, NULL::bytea, NULL::text, $2::timestamptz, $2::timestamptz
WHERE NOT EXISTS (
    SELECT 1 FROM personal_keys WHERE tenant_id = $1 AND purpose = 'index'
)
ON CONFLICT DO NOTHING
