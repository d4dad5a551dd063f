-- Shared by the audit trail's queries, spliced where they say `{matching}`: the rows of tenant $1
-- that {which} picks, in [$3, $4), after ($5, $6), newest first, at most $7.
WHERE tenant_id = $1
  AND {which}
  AND ($3::timestamptz IS NULL OR recorded_at >= $3)
  AND ($4::timestamptz IS NULL OR recorded_at < $4)
  AND ($5::timestamptz IS NULL OR (recorded_at, global_position) < ($5, $6::bigint))
ORDER BY recorded_at DESC, global_position DESC
LIMIT $7
