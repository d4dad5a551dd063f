-- The highest stored sequence of each of the given streams that has events.
SELECT stream_id, max(sequence) AS head
FROM events
WHERE stream_id = ANY($1::uuid[])
GROUP BY stream_id
