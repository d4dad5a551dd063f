-- Read models built by the projections crate from the journal tail, their checkpoints, and the
-- indexes the audit-trail queries (straight over `events`) need. Text sort keys use the "C"
-- collation: byte order, the same as SQLite's, and LIKE 'prefix%' can use their indexes.

-- One row per projection: the (transaction id, position) of the last event it consumed,
-- advanced in the same transaction as the projection's writes (exactly once).
CREATE TABLE projection_checkpoints (
    name           TEXT        PRIMARY KEY CHECK (name <> ''),
    transaction_id BIGINT      NOT NULL DEFAULT 0 CHECK (transaction_id >= 0),
    position       BIGINT      NOT NULL DEFAULT 0 CHECK (position >= 0),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Projection `tenant_directory`: every tenant, for operators (filter by status/plan, search
-- by name or slug). Slugs never change, so (slug) is the stable page order.
CREATE TABLE tenant_directory (
    tenant_id  UUID        PRIMARY KEY,
    name       TEXT        NOT NULL,
    name_lower TEXT        COLLATE "C" NOT NULL,
    slug       TEXT        COLLATE "C" NOT NULL,
    status     TEXT        NOT NULL,
    plan       TEXT        NOT NULL,
    kind       TEXT        NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    version    BIGINT      NOT NULL CHECK (version > 0)
);

CREATE UNIQUE INDEX tenant_directory_slug_idx ON tenant_directory (slug);
CREATE INDEX tenant_directory_name_idx ON tenant_directory (name_lower);

-- Projection `organizations`: the forest with a materialized path (ids root→self joined by
-- '/'), so descendants are a prefix range and ancestors are read off the path.
CREATE TABLE organizations (
    tenant_id  UUID        NOT NULL,
    id         UUID        PRIMARY KEY,
    parent_id  UUID        NULL,
    name       TEXT        NOT NULL,
    depth      INT         NOT NULL CHECK (depth > 0),
    path       TEXT        COLLATE "C" NOT NULL,
    status     TEXT        NOT NULL,
    version    BIGINT      NOT NULL CHECK (version > 0),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX organizations_parent_idx ON organizations (tenant_id, parent_id, id);
CREATE INDEX organizations_path_idx ON organizations (tenant_id, path);

-- Projection `teams`: teams and the members of live teams.
CREATE TABLE teams (
    tenant_id       UUID        NOT NULL,
    id              UUID        PRIMARY KEY,
    organization_id UUID        NOT NULL,
    name            TEXT        NOT NULL,
    status          TEXT        NOT NULL,
    version         BIGINT      NOT NULL CHECK (version > 0),
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);

CREATE INDEX teams_tenant_idx ON teams (tenant_id, id);
CREATE INDEX teams_organization_idx ON teams (tenant_id, organization_id, id);

CREATE TABLE team_members (
    tenant_id UUID NOT NULL,
    team_id   UUID NOT NULL,
    user_id   UUID NOT NULL,
    role      TEXT NOT NULL,
    PRIMARY KEY (team_id, user_id)
);

CREATE INDEX team_members_user_idx ON team_members (tenant_id, user_id, team_id);

-- Projection `users`: the user directory and organization memberships. Emails never change,
-- so (email_lower, id) is the stable page order.
CREATE TABLE users (
    tenant_id          UUID        NOT NULL,
    id                 UUID        PRIMARY KEY,
    email              TEXT        NOT NULL,
    email_lower        TEXT        COLLATE "C" NOT NULL,
    display_name       TEXT        NOT NULL,
    display_name_lower TEXT        NOT NULL,
    status             TEXT        NOT NULL,
    version            BIGINT      NOT NULL CHECK (version > 0),
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL
);

CREATE INDEX users_email_idx ON users (tenant_id, email_lower, id);
CREATE INDEX users_status_idx ON users (tenant_id, status, email_lower, id);

CREATE TABLE user_organizations (
    tenant_id       UUID NOT NULL,
    user_id         UUID NOT NULL,
    organization_id UUID NOT NULL,
    PRIMARY KEY (user_id, organization_id)
);

CREATE INDEX user_organizations_organization_idx
    ON user_organizations (tenant_id, organization_id, user_id);

-- Projection `role_assignments`: who holds which role where. A tenant-scope assignment has
-- scope_kind 'tenant' and scope_id = the tenant's id.
CREATE TABLE role_assignments (
    tenant_id   UUID        NOT NULL,
    user_id     UUID        NOT NULL,
    role        TEXT        COLLATE "C" NOT NULL,
    scope_kind  TEXT        COLLATE "C" NOT NULL,
    scope_id    UUID        NOT NULL,
    assigned_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, user_id, role, scope_kind, scope_id)
);

CREATE INDEX role_assignments_scope_idx ON role_assignments (tenant_id, scope_kind, scope_id);
CREATE INDEX role_assignments_role_idx ON role_assignments (tenant_id, role, user_id);

-- Substring search (LIKE '%…%') on names and emails: trigram indexes when pg_trgm can be had.
-- Optional: without it the same queries scan the tenant's rows.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm')
       AND EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
        BEGIN
            CREATE EXTENSION IF NOT EXISTS pg_trgm;
        EXCEPTION WHEN OTHERS THEN
            RAISE NOTICE 'pg_trgm not installed (%): substring search scans', SQLERRM;
        END;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        BEGIN
            EXECUTE 'CREATE INDEX users_display_name_trgm_idx ON users '
                    'USING gin (display_name_lower gin_trgm_ops)';
            EXECUTE 'CREATE INDEX users_email_trgm_idx ON users '
                    'USING gin (email_lower gin_trgm_ops)';
            EXECUTE 'CREATE INDEX tenant_directory_name_trgm_idx ON tenant_directory '
                    'USING gin (name_lower gin_trgm_ops)';
        EXCEPTION WHEN OTHERS THEN
            RAISE NOTICE 'trigram indexes not created (%): substring search scans', SQLERRM;
        END;
    END IF;
END
$$;

-- Audit trail (SPEC §5.3): the journal itself, newest first, per tenant by time and per actor.
-- Per entity uses events_stream_sequence_key.
CREATE INDEX events_tenant_recorded_idx
    ON events (tenant_id, recorded_at DESC, global_position DESC);
CREATE INDEX events_tenant_actor_idx
    ON events (tenant_id, (metadata -> 'actor' ->> 'subject'), recorded_at DESC,
               global_position DESC);
