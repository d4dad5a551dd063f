-- Re-roots the subtree at path $2 (the organization and its descendants) under path $3 and
-- shifts its depths by $4. Descendants are the paths in ['$2/', '$20'): '0' follows '/' in
-- byte order, and ids hold no '/'.
UPDATE organizations
SET path = $3::text || substr(path, length($2::text) + 1),
    depth = depth + $4::int
WHERE tenant_id = $1
  AND (path = $2::text OR (path >= $2::text || '/' AND path < $2::text || '0'))
