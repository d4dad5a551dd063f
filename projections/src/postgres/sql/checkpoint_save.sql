UPDATE projection_checkpoints
SET transaction_id = $2, position = $3, updated_at = now()
WHERE name = $1
