-- Creates a key; one that exists (even shredded) fails on the primary key.
INSERT INTO personal_keys (tenant_id, subject_id, purpose, version, wrapped, master_key_id,
                           created_at, shredded_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
