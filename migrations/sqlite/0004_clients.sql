-- Projection `clients`: the same as migrations/postgres/0005_clients.sql in SQLite terms
-- (UUIDs as hyphenated TEXT, timestamps as INTEGER microseconds since the Unix epoch).

CREATE TABLE clients (
    tenant_id             TEXT    NOT NULL CHECK (length(tenant_id) = 36),
    id                    TEXT    PRIMARY KEY CHECK (length(id) = 36),
    name                  TEXT    NOT NULL,
    external_id           TEXT    NOT NULL,
    status                TEXT    NOT NULL,
    -- The tenant provisioned for the client; no event sets it yet.
    provisioned_tenant_id TEXT    NULL CHECK (length(provisioned_tenant_id) = 36),
    version               INTEGER NOT NULL CHECK (version > 0),
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
) STRICT;

CREATE INDEX clients_tenant_idx ON clients (tenant_id, id);
-- The external-id filter: an exact match, in id order.
CREATE INDEX clients_external_id_idx ON clients (tenant_id, external_id, id);
