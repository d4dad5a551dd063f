-- Creates keys; one that exists (even shredded) fails on the primary key. ?1 a JSON array of
-- [tenant_id, subject_id, purpose, version, wrapped as hex, master_key_id, created_at,
-- shredded_at].
INSERT INTO personal_keys (tenant_id, subject_id, purpose, version, wrapped, master_key_id,
                           created_at, shredded_at)
SELECT k.value ->> 0, k.value ->> 1, k.value ->> 2, k.value ->> 3, unhex(k.value ->> 4),
       k.value ->> 5, k.value ->> 6, k.value ->> 7
FROM json_each(?1) AS k
ORDER BY k.key
