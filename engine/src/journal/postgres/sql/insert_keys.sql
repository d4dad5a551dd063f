-- Creates the keys of one append; a key that exists (even shredded) fails with 23505 on
-- personal_keys_pkey.
INSERT INTO personal_keys (tenant_id, subject_id, purpose, version, wrapped, master_key_id,
                           created_at, shredded_at)
SELECT k.tenant_id, k.subject_id, k.purpose, k.version, k.wrapped, k.master_key_id,
       k.created_at, k.shredded_at
FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::int[], $5::bytea[], $6::text[],
            $7::timestamptz[], $8::timestamptz[])
     AS k(tenant_id, subject_id, purpose, version, wrapped, master_key_id, created_at,
          shredded_at)
