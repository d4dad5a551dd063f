-- Creates the keys of one append, unless a master key that wraps them is retired (then none:
-- the caller finds which). The named master keys are locked until the transaction ends, so a
-- concurrent retirement waits for it (and a key retired first is seen retired). A key that
-- exists (even shredded) fails with 23505 on personal_keys_pkey.
WITH masters AS MATERIALIZED (
    SELECT id, retired_at
    FROM master_keys
    WHERE id = ANY($6::text[])
    ORDER BY id
    FOR SHARE
)
INSERT INTO personal_keys (tenant_id, subject_id, purpose, version, wrapped, master_key_id,
                           created_at, shredded_at)
SELECT k.tenant_id, k.subject_id, k.purpose, k.version, k.wrapped, k.master_key_id,
       k.created_at, k.shredded_at
FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::int[], $5::bytea[], $6::text[],
            $7::timestamptz[], $8::timestamptz[])
     AS k(tenant_id, subject_id, purpose, version, wrapped, master_key_id, created_at,
          shredded_at)
WHERE NOT EXISTS (SELECT 1 FROM masters WHERE retired_at IS NOT NULL)
