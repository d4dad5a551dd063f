-- Where one (stream_id, sequence) was written.
SELECT transaction_id, global_position
FROM events
WHERE stream_id = ?1 AND sequence = ?2
