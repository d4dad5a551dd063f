-- The event journal (DESIGN §4): events, snapshots, unique keys and timers.

-- Every event of every entity, in insertion order. `transaction_id` is the writing
-- transaction's xid8: readers that must not skip late commits follow
-- (transaction_id, global_position) below the oldest running transaction.
CREATE TABLE events (
    global_position BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id       UUID        NOT NULL,
    stream_type     TEXT        NOT NULL CHECK (stream_type <> ''),
    stream_id       UUID        NOT NULL,
    sequence        BIGINT      NOT NULL CHECK (sequence > 0),
    event_type      TEXT        NOT NULL CHECK (event_type <> ''),
    schema_version  INT         NOT NULL CHECK (schema_version >= 1),
    payload         JSONB       NOT NULL,
    metadata        JSONB       NOT NULL CHECK (jsonb_typeof(metadata) = 'object'),
    recorded_at     TIMESTAMPTZ NOT NULL,
    transaction_id  XID8        NOT NULL DEFAULT pg_current_xact_id(),
    -- The last-line guard against two writers of one stream.
    CONSTRAINT events_stream_sequence_key UNIQUE (stream_id, sequence)
);

CREATE INDEX events_tenant_position_idx ON events (tenant_id, global_position);
CREATE INDEX events_transaction_position_idx ON events (transaction_id, global_position);

-- Latest saved state per aggregate; never replaced by an older one.
CREATE TABLE snapshots (
    aggregate_kind TEXT        NOT NULL CHECK (aggregate_kind <> ''),
    aggregate_id   UUID        NOT NULL,
    schema_version INT         NOT NULL CHECK (schema_version >= 0),
    last_position  BIGINT      NOT NULL CHECK (last_position >= 0),
    state          BYTEA       NOT NULL,
    taken_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (aggregate_kind, aggregate_id)
);

-- Platform-wide unique keys (e.g. tenant slugs), taken in the same transaction as the events.
CREATE TABLE unique_keys (
    namespace  TEXT        NOT NULL CHECK (namespace <> ''),
    key        TEXT        NOT NULL CHECK (key <> ''),
    owner_id   UUID        NOT NULL,
    request_id TEXT        NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (namespace, key)
);

-- Durable per-tenant timers (e.g. the end of a grace period); at most one per kind.
CREATE TABLE timers (
    tenant_id UUID        NOT NULL,
    kind      TEXT        NOT NULL CHECK (kind <> ''),
    due_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, kind)
);

CREATE INDEX timers_due_at_idx ON timers (due_at);
