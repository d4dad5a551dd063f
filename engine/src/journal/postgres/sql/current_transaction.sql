-- The id of the running transaction (assigned now if it has none yet).
SELECT pg_current_xact_id()::text::bigint AS transaction_id
