-- Where each given (stream_id, sequence) was written, in input order (NULLs when absent).
SELECT c.ord, e.transaction_id::text::bigint AS transaction_id, e.global_position
FROM UNNEST($1::uuid[], $2::bigint[]) WITH ORDINALITY AS c(stream_id, sequence, ord)
LEFT JOIN events AS e ON e.stream_id = c.stream_id AND e.sequence = c.sequence
ORDER BY c.ord
