-- A tenant's records of kind $2, ordered by id after $8: owned by anyone ($3 'any'), by the
-- tenant itself ('tenant': no client) or by client $4 ('client'); active ones only or inactive
-- ones only when $5 (then $6 is the value wanted); contacts of type $7 only, if given.
-- `active` is read as an integer: SQLite stores it as one.
SELECT tenant_id, id, client_id, CASE WHEN active THEN 1 ELSE 0 END AS active, fields,
       version, created_at, updated_at
FROM records
WHERE tenant_id = $1
  AND kind = $2::text
  AND ($3::text = 'any'
       OR ($3::text = 'tenant' AND client_id IS NULL)
       OR ($3::text = 'client' AND client_id = $4::uuid))
  AND (NOT $5::boolean OR active = $6::boolean)
  AND ($7::text IS NULL OR contact_type = $7::text)
  AND ($8::uuid IS NULL OR id > $8::uuid)
ORDER BY id
LIMIT $9
