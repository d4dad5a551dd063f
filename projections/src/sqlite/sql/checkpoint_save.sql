UPDATE projection_checkpoints
SET transaction_id = ?2, position = ?3, updated_at = ?4
WHERE name = ?1
