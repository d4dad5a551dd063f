-- Read models built by the projections crate, their checkpoints, and the audit-trail indexes:
-- the same as migrations/postgres/0002_read_models.sql in SQLite terms (UUIDs as hyphenated
-- TEXT, timestamps as INTEGER microseconds since the Unix epoch, BINARY collation).

CREATE TABLE projection_checkpoints (
    name           TEXT    PRIMARY KEY CHECK (name <> ''),
    transaction_id INTEGER NOT NULL DEFAULT 0 CHECK (transaction_id >= 0),
    position       INTEGER NOT NULL DEFAULT 0 CHECK (position >= 0),
    updated_at     INTEGER NOT NULL
) STRICT;

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

CREATE UNIQUE INDEX tenant_directory_slug_idx ON tenant_directory (slug);
CREATE INDEX tenant_directory_name_idx ON tenant_directory (name_lower);

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

CREATE INDEX teams_tenant_idx ON teams (tenant_id, id);
CREATE INDEX teams_organization_idx ON teams (tenant_id, organization_id, id);

CREATE TABLE team_members (
    tenant_id TEXT NOT NULL,
    team_id   TEXT NOT NULL,
    user_id   TEXT NOT NULL,
    role      TEXT NOT NULL,
    PRIMARY KEY (team_id, user_id)
) STRICT;

CREATE INDEX team_members_user_idx ON team_members (tenant_id, user_id, team_id);

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
    updated_at         INTEGER NOT NULL
) STRICT;

CREATE INDEX users_email_idx ON users (tenant_id, email_lower, id);
CREATE INDEX users_status_idx ON users (tenant_id, status, email_lower, id);

CREATE TABLE user_organizations (
    tenant_id       TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    PRIMARY KEY (user_id, organization_id)
) STRICT;

CREATE INDEX user_organizations_organization_idx
    ON user_organizations (tenant_id, organization_id, user_id);

CREATE TABLE role_assignments (
    tenant_id   TEXT    NOT NULL,
    user_id     TEXT    NOT NULL,
    role        TEXT    NOT NULL,
    scope_kind  TEXT    NOT NULL,
    scope_id    TEXT    NOT NULL,
    assigned_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, user_id, role, scope_kind, scope_id)
) STRICT;

CREATE INDEX role_assignments_scope_idx ON role_assignments (tenant_id, scope_kind, scope_id);
CREATE INDEX role_assignments_role_idx ON role_assignments (tenant_id, role, user_id);

-- Audit trail over the journal, newest first.
CREATE INDEX events_tenant_recorded_idx
    ON events (tenant_id, recorded_at DESC, global_position DESC);
CREATE INDEX events_tenant_actor_idx
    ON events (tenant_id, json_extract(metadata, '$.actor.subject'), recorded_at DESC,
               global_position DESC);
