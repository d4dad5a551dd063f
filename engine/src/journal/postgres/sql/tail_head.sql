-- The newest committed event in (transaction_id, global_position) order (the table's columns:
-- the output column `transaction_id` is a bigint, which no index orders).
SELECT transaction_id::text::bigint AS transaction_id, global_position
FROM events
ORDER BY events.transaction_id DESC, events.global_position DESC
LIMIT 1
