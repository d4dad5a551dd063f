-- The newest committed event in (transaction_id, global_position) order.
SELECT transaction_id::text::bigint AS transaction_id, global_position
FROM events
ORDER BY transaction_id DESC, global_position DESC
LIMIT 1
