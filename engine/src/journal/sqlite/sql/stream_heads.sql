-- The highest stored sequence of each listed stream (0 when it has no events), by the list's
-- index. ?1 a JSON array of stream ids.
SELECT s.key AS i,
       (SELECT COALESCE(max(sequence), 0) FROM events WHERE stream_id = s.value) AS head
FROM json_each(?1) AS s
