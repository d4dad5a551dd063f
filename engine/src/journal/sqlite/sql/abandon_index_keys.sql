-- Deletes the index keys a lost master key wrapped: they protect no personal data (they key
-- fingerprints), and their tenants, still alive, make new ones. ?1 id.
DELETE FROM personal_keys WHERE master_key_id = ?1 AND purpose = 'index'
