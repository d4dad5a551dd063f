-- Leaves a shredded data key (version 1) for a subject that has none, so that none can be
-- created for it later. ?1 tenant, ?2 subject, ?3 when.
INSERT INTO personal_keys (tenant_id, subject_id, purpose, version, wrapped, master_key_id,
                           created_at, shredded_at)
SELECT ?1, ?2, 'data', 1, NULL, NULL, ?3, ?3
WHERE NOT EXISTS (
    SELECT 1 FROM personal_keys
    WHERE tenant_id = ?1 AND subject_id = ?2 AND purpose = 'data'
)
ON CONFLICT DO NOTHING
