-- Projection `records`: a tenant's directory records (departments, locations, contacts),
-- owned by the tenant (client_id NULL) or by one of its clients. A deleted record's row is
-- deleted (no tombstone), and with it a deleted contact's personal values; `TenantErased`
-- deletes every contact row of the tenant.
CREATE TABLE records (
    tenant_id    UUID        NOT NULL,
    id           UUID        PRIMARY KEY,
    kind         TEXT        NOT NULL CHECK (kind IN ('department', 'location', 'contact')),
    -- The owning client; NULL: the tenant itself.
    client_id    UUID        NULL,
    active       BOOLEAN     NOT NULL,
    -- A contact's type; '' for the other kinds.
    contact_type TEXT        NOT NULL,
    -- For display and sorting: the department's, location's or contact's name.
    name         TEXT        NOT NULL,
    -- The record's fields (engine::domain::RecordFields as JSON, serde's form).
    fields       TEXT        NOT NULL,
    version      BIGINT      NOT NULL CHECK (version > 0),
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);

-- The list query: one kind of one tenant, in id order (owner, active and contact type are
-- filtered along the way).
CREATE INDEX records_list_idx ON records (tenant_id, kind, id);
