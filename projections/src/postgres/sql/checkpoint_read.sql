SELECT transaction_id, position FROM projection_checkpoints WHERE name = $1
