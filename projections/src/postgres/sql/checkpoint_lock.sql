-- Held until commit: a rebuild or a second runner of the same projection waits here.
SELECT transaction_id, position FROM projection_checkpoints WHERE name = $1 FOR UPDATE
