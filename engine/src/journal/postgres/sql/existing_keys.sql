-- The first of the given key ids, in input order, that is stored.
SELECT k.tenant_id, k.subject_id, k.purpose, k.version
FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::int[])
     WITH ORDINALITY AS c(tenant_id, subject_id, purpose, version, ord)
JOIN personal_keys AS k
  ON k.tenant_id = c.tenant_id AND k.subject_id = c.subject_id AND k.purpose = c.purpose
 AND k.version = c.version
ORDER BY c.ord
LIMIT 1
