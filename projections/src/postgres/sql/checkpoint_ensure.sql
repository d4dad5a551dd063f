INSERT INTO projection_checkpoints (name) VALUES ($1) ON CONFLICT (name) DO NOTHING
