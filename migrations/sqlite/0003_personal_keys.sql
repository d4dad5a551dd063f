-- The key table of personal data and the master-key register: the same as
-- migrations/postgres/0004_personal_keys.sql in SQLite terms (UUIDs as hyphenated TEXT,
-- timestamps as INTEGER microseconds since the Unix epoch, bytes as BLOB).
--
-- Rows are never deleted. Shredding a key sets `wrapped` and `master_key_id` to NULL and
-- stamps `shredded_at`: the row stays as a tombstone, and its primary key refuses any later
-- attempt to create the same key again (a silently re-created key would make the person's
-- "erased" ciphertexts readable by whoever holds the new one).
--
-- Erasure only reaches the copies of this table that are rewritten: backups of the database
-- file (copies, snapshots, WAL files) holding a key row from before its shredding still hold
-- the key, so they must age out (be deleted after a bounded retention) for an erasure to
-- become complete.

CREATE TABLE personal_keys (
    tenant_id     TEXT    NOT NULL CHECK (length(tenant_id) = 36),
    -- The person (data key) or, for the index key, the tenant itself.
    subject_id    TEXT    NOT NULL CHECK (length(subject_id) = 36),
    purpose       TEXT    NOT NULL CHECK (purpose IN ('data', 'index')),
    version       INTEGER NOT NULL CHECK (version >= 1 AND version <= 2147483647),
    -- The key wrapped by a master key (nonce ‖ ciphertext ‖ tag); NULL once shredded.
    wrapped       BLOB    NULL,
    -- Id of the master key that wrapped it; NULL once shredded.
    master_key_id TEXT    NULL CHECK (master_key_id <> ''),
    created_at    INTEGER NOT NULL,
    shredded_at   INTEGER NULL,
    PRIMARY KEY (tenant_id, subject_id, purpose, version),
    -- Key material exactly until the key is shredded, and always with its wrapping key's id.
    CHECK ((wrapped IS NULL) = (shredded_at IS NOT NULL)),
    CHECK ((master_key_id IS NULL) = (wrapped IS NULL))
) STRICT;

-- Rotation scans: the keys still wrapped by one master key, in primary-key order.
CREATE INDEX personal_keys_master_key_idx
    ON personal_keys (master_key_id, tenant_id, subject_id, purpose, version)
    WHERE master_key_id IS NOT NULL;
-- A subject's keys whatever its tenant.
CREATE INDEX personal_keys_subject_idx ON personal_keys (subject_id);

-- Every master key a node has used, by id (a fingerprint: never the key). A retired key (its
-- rotation finished) may wrap no new key, and a node started with it is refused.
CREATE TABLE master_keys (
    id            TEXT    PRIMARY KEY CHECK (id <> ''),
    registered_at INTEGER NOT NULL,
    retired_at    INTEGER NULL
) STRICT;
