-- The key table of personal data (SPEC §6): one wrapped data key per person, one blind-index
-- key per tenant, and the register of the master keys that wrap them. Keys are created and
-- shredded in the transaction of the events that need them (journal `AppendBatch::keys`).
--
-- Rows are never deleted. Shredding a key sets `wrapped` and `master_key_id` to NULL and
-- stamps `shredded_at`: the row stays as a tombstone, and its primary key refuses any later
-- attempt to create the same key again (a silently re-created key would make the person's
-- "erased" ciphertexts readable by whoever holds the new one).
--
-- Erasure only reaches the copies of this table that are rewritten: backups (base backups,
-- WAL archives, dumps) holding a key row from before its shredding still hold the key, so they
-- must age out (be deleted after a bounded retention) for an erasure to become complete.

CREATE TABLE personal_keys (
    tenant_id     UUID        NOT NULL,
    -- The person (data key) or, for the index key, the tenant itself.
    subject_id    UUID        NOT NULL,
    purpose       TEXT        NOT NULL CHECK (purpose IN ('data', 'index')),
    version       INT         NOT NULL CHECK (version >= 1),
    -- The key wrapped by a master key (nonce ‖ ciphertext ‖ tag); NULL once shredded.
    wrapped       BYTEA       NULL,
    -- Id of the master key that wrapped it; NULL once shredded.
    master_key_id TEXT        NULL CHECK (master_key_id <> ''),
    created_at    TIMESTAMPTZ NOT NULL,
    shredded_at   TIMESTAMPTZ NULL,
    CONSTRAINT personal_keys_pkey PRIMARY KEY (tenant_id, subject_id, purpose, version),
    -- Key material exactly until the key is shredded, and always with its wrapping key's id.
    CONSTRAINT personal_keys_shredded_check CHECK ((wrapped IS NULL) = (shredded_at IS NOT NULL)),
    CONSTRAINT personal_keys_master_check CHECK ((master_key_id IS NULL) = (wrapped IS NULL))
);

-- Rotation scans: the keys still wrapped by one master key, in primary-key order.
CREATE INDEX personal_keys_master_key_idx
    ON personal_keys (master_key_id, tenant_id, subject_id, purpose, version)
    WHERE master_key_id IS NOT NULL;
-- A subject's keys whatever its tenant.
CREATE INDEX personal_keys_subject_idx ON personal_keys (subject_id);

-- Every master key a node has used, by id (a fingerprint: never the key). A retired key (its
-- rotation finished) may wrap no new key, and a node started with it is refused.
CREATE TABLE master_keys (
    id            TEXT        PRIMARY KEY CHECK (id <> ''),
    registered_at TIMESTAMPTZ NOT NULL,
    retired_at    TIMESTAMPTZ NULL
);
