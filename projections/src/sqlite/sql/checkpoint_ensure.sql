INSERT INTO projection_checkpoints (name, updated_at) VALUES (?1, ?2)
ON CONFLICT (name) DO NOTHING
