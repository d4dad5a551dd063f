-- The first of the given (stream_id, sequence) pairs, in input order, that is already stored.
SELECT e.stream_id, e.sequence
FROM UNNEST($1::uuid[], $2::bigint[]) WITH ORDINALITY AS c(stream_id, sequence, ord)
JOIN events AS e ON e.stream_id = c.stream_id AND e.sequence = c.sequence
ORDER BY c.ord
LIMIT 1
