-- Projection `search` (issue 20): customers (tenants) and their clients, one row each, for
-- SearchCustomers. Deleted ones are removed (a deleted customer takes its clients along).
-- Classification columns hold codes ('' when not given or unclassified free text).
CREATE TABLE customer_search (
    id                    UUID        PRIMARY KEY,
    -- 'customer' (a tenant) or 'client' (a tenant's client).
    entry                 TEXT        NOT NULL CHECK (entry IN ('customer', 'client')),
    -- The customer itself, or the client's customer.
    tenant_id             UUID        NOT NULL,
    name                  TEXT        NOT NULL,
    -- Folded name: the order of results.
    sort_name             TEXT        NOT NULL,
    -- Folded name, slug, external id and legal name, one per line: what text search matches.
    search_text           TEXT        NOT NULL,
    slug                  TEXT        NOT NULL,
    external_id           TEXT        NOT NULL,
    legal_name            TEXT        NOT NULL,
    -- business | consumer (customers; clients: NULL).
    customer_kind         TEXT        NULL,
    status                TEXT        NOT NULL,
    -- Customers only.
    plan                  TEXT        NULL,
    industry_sector       TEXT        NOT NULL,
    industry_group        TEXT        NOT NULL,
    size_range            TEXT        NOT NULL,
    legal_form            TEXT        NOT NULL,
    -- Clients: the tenant provisioned for it.
    provisioned_tenant_id UUID        NULL,
    version               BIGINT      NOT NULL CHECK (version > 0),
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL
);

-- Platform scopes: customers (or clients) by name.
CREATE INDEX customer_search_entry_idx ON customer_search (entry, sort_name, id);
-- A customer's own clients by name; whether a customer provisions tenants.
CREATE INDEX customer_search_tenant_idx ON customer_search (tenant_id, entry, sort_name, id);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        BEGIN
            EXECUTE 'CREATE INDEX customer_search_text_trgm_idx ON customer_search '
                    'USING gin (search_text gin_trgm_ops)';
        EXCEPTION WHEN OTHERS THEN
            RAISE NOTICE 'trigram index not created (%): customer search scans', SQLERRM;
        END;
    END IF;
END
$$;
