-- Projection `records`: the same as migrations/postgres/0007_records.sql in SQLite terms
-- (UUIDs as hyphenated TEXT, booleans as INTEGER 0/1, timestamps as INTEGER microseconds since
-- the Unix epoch).
CREATE TABLE records (
    tenant_id    TEXT    NOT NULL CHECK (length(tenant_id) = 36),
    id           TEXT    PRIMARY KEY CHECK (length(id) = 36),
    kind         TEXT    NOT NULL CHECK (kind IN ('department', 'location', 'contact')),
    -- The owning client; NULL: the tenant itself.
    client_id    TEXT    NULL CHECK (length(client_id) = 36),
    active       INTEGER NOT NULL CHECK (active IN (0, 1)),
    -- A contact's type; '' for the other kinds.
    contact_type TEXT    NOT NULL,
    -- For display and sorting: the department's, location's or contact's name.
    name         TEXT    NOT NULL,
    -- The record's fields (engine::domain::RecordFields as JSON, serde's form).
    fields       TEXT    NOT NULL,
    version      INTEGER NOT NULL CHECK (version > 0),
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
) STRICT;

-- The list query: one kind of one tenant, in id order.
CREATE INDEX records_list_idx ON records (tenant_id, kind, id);
