-- The highest stored sequence of a stream (0 when it has no events).
SELECT COALESCE(max(sequence), 0) AS head FROM events WHERE stream_id = ?1
