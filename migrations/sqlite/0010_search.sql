-- Projection `search`: the same as migrations/postgres/0011_search.sql in SQLite terms
-- (UUIDs as hyphenated TEXT, timestamps as INTEGER microseconds since the Unix epoch).

CREATE TABLE customer_search (
    id                    TEXT    PRIMARY KEY CHECK (length(id) = 36),
    entry                 TEXT    NOT NULL CHECK (entry IN ('customer', 'client')),
    tenant_id             TEXT    NOT NULL CHECK (length(tenant_id) = 36),
    name                  TEXT    NOT NULL,
    sort_name             TEXT    NOT NULL,
    search_text           TEXT    NOT NULL,
    slug                  TEXT    NOT NULL,
    external_id           TEXT    NOT NULL,
    legal_name            TEXT    NOT NULL,
    customer_kind         TEXT    NULL,
    status                TEXT    NOT NULL,
    plan                  TEXT    NULL,
    industry_sector       TEXT    NOT NULL,
    industry_group        TEXT    NOT NULL,
    size_range            TEXT    NOT NULL,
    legal_form            TEXT    NOT NULL,
    provisioned_tenant_id TEXT    NULL CHECK (length(provisioned_tenant_id) = 36),
    version               INTEGER NOT NULL CHECK (version > 0),
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
) STRICT;

CREATE INDEX customer_search_entry_idx ON customer_search (entry, sort_name, id);
CREATE INDEX customer_search_tenant_idx ON customer_search (tenant_id, entry, sort_name, id);
