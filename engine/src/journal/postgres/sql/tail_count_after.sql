-- Committed events after ($1 transaction, $2 position), counting at most $3.
SELECT count(*) AS behind
FROM (
    SELECT 1
    FROM events
    WHERE (transaction_id, global_position) > ($1::text::xid8, $2::bigint)
    LIMIT $3
) AS later
