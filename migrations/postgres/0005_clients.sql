-- Projection `clients`: a tenant's clients, deleted ones kept as tombstones (status
-- `deleted`). The business profile is not stored: the list leaves it unset.
CREATE TABLE clients (
    tenant_id             UUID        NOT NULL,
    id                    UUID        PRIMARY KEY,
    name                  TEXT        NOT NULL,
    external_id           TEXT        NOT NULL,
    status                TEXT        NOT NULL,
    -- The tenant provisioned for the client; no event sets it yet.
    provisioned_tenant_id UUID        NULL,
    version               BIGINT      NOT NULL CHECK (version > 0),
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL
);

CREATE INDEX clients_tenant_idx ON clients (tenant_id, id);
-- The external-id filter: an exact match, in id order.
CREATE INDEX clients_external_id_idx ON clients (tenant_id, external_id, id);
