-- Projection `analytics` (issue 20): the history of tenants, clients, organizations, teams,
-- users, departments, locations and contacts for a warehouse, one row per change (per event
-- of the entity's own stream), each with the entity's whole state after it.

-- One row per change. `position` numbers the rows 1, 2, 3… in the order the projection
-- applies the events (commit order), the same after a rebuild: an export resumes after the
-- last position it received. Erasure rewrites `state` without the person's values.
CREATE TABLE analytics_changes (
    position    BIGINT      PRIMARY KEY CHECK (position > 0),
    tenant_id   UUID        NOT NULL,
    entity_kind TEXT        NOT NULL CHECK (entity_kind IN ('tenant', 'client', 'organization',
                                'team', 'user', 'department', 'location', 'contact')),
    entity_id   UUID        NOT NULL,
    operation   TEXT        NOT NULL CHECK (operation IN ('create', 'update', 'delete', 'erase')),
    -- The entity's version after the change (= its stream's sequence).
    version     BIGINT      NOT NULL CHECK (version > 0),
    -- The journal's event type, e.g. `UserInvited`.
    event_type  TEXT        NOT NULL,
    -- The entity's state after the change: the domain's JSON without the hashes of issued
    -- secrets and without bookkeeping of other streams (claims).
    state       TEXT        NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL
);

-- Exactly one row per version of an entity; a person's rows, to scrub them.
CREATE UNIQUE INDEX analytics_changes_entity_idx ON analytics_changes (entity_id, version);
-- A tenant's rows in export order (export filtered by tenant; a tenant's erasure).
CREATE INDEX analytics_changes_tenant_idx ON analytics_changes (tenant_id, position);
-- Where an export "since a time" starts.
CREATE INDEX analytics_changes_time_idx ON analytics_changes (recorded_at, position);

-- The latest state of each entity of the history, which the next change folds into (the
-- domain's JSON, the hashes of issued secrets blanked). Deleted entities stay, as in the
-- domain's state.
CREATE TABLE analytics_entities (
    id          UUID        PRIMARY KEY,
    tenant_id   UUID        NOT NULL,
    entity_kind TEXT        NOT NULL CHECK (entity_kind IN ('tenant', 'client', 'organization',
                                'team', 'user', 'department', 'location', 'contact')),
    version     BIGINT      NOT NULL CHECK (version > 0),
    state       TEXT        NOT NULL
);

-- A tenant's organizations (a move re-levels a subtree) and people (its erasure).
CREATE INDEX analytics_entities_tenant_idx ON analytics_entities (tenant_id, entity_kind, id);
