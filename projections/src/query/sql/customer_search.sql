-- SearchCustomers: customers and clients by (sort_name, id) after ($13, $14). Set filters
-- come as ',a,b,' ($3-$8, NULL = any); $11 and $12 are LIKE patterns over search_text.
SELECT s.id, s.entry, s.tenant_id, s.name, s.slug, s.external_id, s.legal_name,
       s.customer_kind, s.status, s.plan, s.industry_sector, s.industry_group, s.size_range,
       s.legal_form, s.provisioned_tenant_id, s.version, s.created_at, s.updated_at
FROM customer_search AS s
WHERE ($1::text IS NULL OR s.entry = $1)
  AND ($2::uuid IS NULL OR s.tenant_id = $2)
  AND ($3::text IS NULL OR strpos($3, ',' || s.customer_kind || ',') > 0)
  AND ($4::text IS NULL OR strpos($4, ',' || s.status || ',') > 0)
  AND ($5::text IS NULL OR strpos($5, ',' || s.plan || ',') > 0)
  AND ($6::text IS NULL OR strpos($6, ',' || s.industry_sector || ',') > 0)
  AND ($7::text IS NULL OR strpos($7, ',' || s.industry_group || ',') > 0)
  AND ($8::text IS NULL OR strpos($8, ',' || s.size_range || ',') > 0)
  AND (NOT $9::boolean OR $10::boolean = EXISTS (
        SELECT 1 FROM customer_search AS c
        WHERE c.tenant_id = s.id AND c.entry = 'client' AND c.provisioned_tenant_id IS NOT NULL))
  AND ($11::text IS NULL OR s.search_text LIKE $11 ESCAPE '\')
  AND ($12::text IS NULL OR s.search_text LIKE $12 ESCAPE '\')
  AND ($13::text IS NULL OR (s.sort_name, s.id) > ($13, $14::uuid))
ORDER BY s.sort_name, s.id
LIMIT $15
