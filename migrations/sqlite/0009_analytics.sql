-- Projection `analytics` (issue 20): the same as migrations/postgres/0010_analytics.sql in
-- SQLite terms (UUIDs as hyphenated TEXT, timestamps as INTEGER microseconds since the Unix
-- epoch).

CREATE TABLE analytics_changes (
    position    INTEGER PRIMARY KEY CHECK (position > 0),
    tenant_id   TEXT    NOT NULL CHECK (length(tenant_id) = 36),
    entity_kind TEXT    NOT NULL CHECK (entity_kind IN ('tenant', 'client', 'organization',
                            'team', 'user', 'department', 'location', 'contact')),
    entity_id   TEXT    NOT NULL CHECK (length(entity_id) = 36),
    operation   TEXT    NOT NULL CHECK (operation IN ('create', 'update', 'delete', 'erase')),
    version     INTEGER NOT NULL CHECK (version > 0),
    event_type  TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    recorded_at INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX analytics_changes_entity_idx ON analytics_changes (entity_id, version);
CREATE INDEX analytics_changes_tenant_idx ON analytics_changes (tenant_id, position);
CREATE INDEX analytics_changes_time_idx ON analytics_changes (recorded_at, position);

CREATE TABLE analytics_entities (
    id          TEXT    PRIMARY KEY CHECK (length(id) = 36),
    tenant_id   TEXT    NOT NULL CHECK (length(tenant_id) = 36),
    entity_kind TEXT    NOT NULL CHECK (entity_kind IN ('tenant', 'client', 'organization',
                            'team', 'user', 'department', 'location', 'contact')),
    version     INTEGER NOT NULL CHECK (version > 0),
    state       TEXT    NOT NULL
) STRICT;

CREATE INDEX analytics_entities_tenant_idx ON analytics_entities (tenant_id, entity_kind, id);
