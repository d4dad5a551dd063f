-- The read models of the embedded store, in a file of their own beside the journal's
-- (`journal.db` → `journal-read-models.db`): the tables that migrations/sqlite 0002 and 0004 to
-- 0011 created in the journal's file, as they stand after those migrations. Two files, so that
-- the read models' writes never queue behind the journal's on one SQLite write lock (or the
-- journal's behind theirs); see docs/ARCHITECTURE.md, "The embedded store's two files".
-- Read-model tables change here from now on, never in migrations/sqlite.

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
CREATE INDEX clients_external_id_idx ON clients (tenant_id, external_id, id);
CREATE INDEX clients_tenant_idx ON clients (tenant_id, id);

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
CREATE INDEX customer_search_sector_idx ON customer_search (entry, industry_sector, sort_name, id);
CREATE INDEX customer_search_tenant_idx ON customer_search (tenant_id, entry, sort_name, id);

CREATE TABLE organizations (
    tenant_id  TEXT    NOT NULL CHECK (length(tenant_id) = 36),
    id         TEXT    PRIMARY KEY CHECK (length(id) = 36),
    parent_id  TEXT    NULL,
    name       TEXT    NOT NULL,
    depth      INTEGER NOT NULL CHECK (depth > 0),
    path       TEXT    NOT NULL,
    status     TEXT    NOT NULL,
    version    INTEGER NOT NULL CHECK (version > 0),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX organizations_parent_idx ON organizations (tenant_id, parent_id, id);
CREATE INDEX organizations_path_idx ON organizations (tenant_id, path);

CREATE TABLE projection_checkpoints (
    name           TEXT    PRIMARY KEY CHECK (name <> ''),
    transaction_id INTEGER NOT NULL DEFAULT 0 CHECK (transaction_id >= 0),
    position       INTEGER NOT NULL DEFAULT 0 CHECK (position >= 0),
    updated_at     INTEGER NOT NULL
) STRICT;

CREATE TABLE records (
    tenant_id    TEXT    NOT NULL CHECK (length(tenant_id) = 36),
    id           TEXT    PRIMARY KEY CHECK (length(id) = 36),
    kind         TEXT    NOT NULL
        CHECK (kind IN ('department', 'location', 'contact', 'partition', 'partition_group')),
    client_id    TEXT    NULL CHECK (length(client_id) = 36),
    active       INTEGER NOT NULL CHECK (active IN (0, 1)),
    contact_type TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    fields       TEXT    NOT NULL,
    version      INTEGER NOT NULL CHECK (version > 0),
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX records_list_idx ON records (tenant_id, kind, id);

CREATE TABLE role_assignments (
    tenant_id   TEXT    NOT NULL,
    user_id     TEXT    NOT NULL,
    role        TEXT    NOT NULL,
    scope_kind  TEXT    NOT NULL,
    scope_id    TEXT    NOT NULL,
    assigned_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, user_id, role, scope_kind, scope_id)
) STRICT;
CREATE INDEX role_assignments_role_idx ON role_assignments (tenant_id, role, user_id);
CREATE INDEX role_assignments_scope_idx ON role_assignments (tenant_id, scope_kind, scope_id);

CREATE TABLE saga_steps (
    request_id        TEXT    PRIMARY KEY,
    target_tenant     TEXT    NOT NULL CHECK (length(target_tenant) = 36),
    source_tenant     TEXT    NOT NULL CHECK (length(source_tenant) = 36),
    cause_stream_type TEXT    NOT NULL,
    cause_stream_id   TEXT    NOT NULL CHECK (length(cause_stream_id) = 36),
    cause_sequence    INTEGER NOT NULL CHECK (cause_sequence > 0),
    step_index        INTEGER NOT NULL CHECK (step_index >= 0),
    command           TEXT    NULL,
    attempts          INTEGER NOT NULL DEFAULT 0,
    last_error        TEXT    NULL,
    next_attempt_at   INTEGER NOT NULL,
    created_at        INTEGER NOT NULL,
    done_at           INTEGER NULL,
    outcome           TEXT    NULL
) STRICT;
CREATE INDEX saga_steps_pending_idx ON saga_steps (next_attempt_at, request_id)
    WHERE done_at IS NULL;

CREATE TABLE team_members (
    tenant_id TEXT NOT NULL,
    team_id   TEXT NOT NULL,
    user_id   TEXT NOT NULL,
    role      TEXT NOT NULL,
    PRIMARY KEY (team_id, user_id)
) STRICT;
CREATE INDEX team_members_user_idx ON team_members (tenant_id, user_id, team_id);

CREATE TABLE teams (
    tenant_id       TEXT    NOT NULL CHECK (length(tenant_id) = 36),
    id              TEXT    PRIMARY KEY CHECK (length(id) = 36),
    organization_id TEXT    NOT NULL,
    name            TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    version         INTEGER NOT NULL CHECK (version > 0),
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX teams_organization_idx ON teams (tenant_id, organization_id, id);
CREATE INDEX teams_tenant_idx ON teams (tenant_id, id);

CREATE TABLE tenant_directory (
    tenant_id  TEXT    PRIMARY KEY CHECK (length(tenant_id) = 36),
    name       TEXT    NOT NULL,
    name_lower TEXT    NOT NULL,
    slug       TEXT    NOT NULL,
    status     TEXT    NOT NULL,
    plan       TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version    INTEGER NOT NULL CHECK (version > 0)
) STRICT;
CREATE INDEX tenant_directory_name_idx ON tenant_directory (name_lower);
CREATE UNIQUE INDEX tenant_directory_slug_idx ON tenant_directory (slug);

CREATE TABLE user_organizations (
    tenant_id       TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    PRIMARY KEY (user_id, organization_id)
) STRICT;
CREATE INDEX user_organizations_organization_idx
    ON user_organizations (tenant_id, organization_id, user_id);

CREATE TABLE users (
    tenant_id          TEXT    NOT NULL CHECK (length(tenant_id) = 36),
    id                 TEXT    PRIMARY KEY CHECK (length(id) = 36),
    email              TEXT    NOT NULL,
    email_lower        TEXT    NOT NULL,
    display_name       TEXT    NOT NULL,
    display_name_lower TEXT    NOT NULL,
    status             TEXT    NOT NULL,
    version            INTEGER NOT NULL CHECK (version > 0),
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    client_id          TEXT    NULL CHECK (client_id IS NULL OR length(client_id) = 36)
) STRICT;
CREATE INDEX users_email_idx ON users (tenant_id, email_lower, id);
CREATE INDEX users_status_idx ON users (tenant_id, status, email_lower, id);
