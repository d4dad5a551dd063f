-- The embedded event journal: the same tables as migrations/postgres, in SQLite terms.
-- UUIDs are stored as hyphenated TEXT, JSON as TEXT, timestamps as INTEGER microseconds since
-- the Unix epoch (UTC), so that they compare and sort correctly.

CREATE TABLE events (
    global_position INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id       TEXT    NOT NULL CHECK (length(tenant_id) = 36),
    stream_type     TEXT    NOT NULL CHECK (stream_type <> ''),
    stream_id       TEXT    NOT NULL CHECK (length(stream_id) = 36),
    sequence        INTEGER NOT NULL CHECK (sequence > 0),
    event_type      TEXT    NOT NULL CHECK (event_type <> ''),
    schema_version  INTEGER NOT NULL CHECK (schema_version >= 1),
    payload         TEXT    NOT NULL CHECK (json_valid(payload)),
    metadata        TEXT    NOT NULL CHECK (json_valid(metadata) AND json_type(metadata) = 'object'),
    recorded_at     INTEGER NOT NULL,
    -- Value of journal_transactions.last_transaction_id taken by the writing append.
    transaction_id  INTEGER NOT NULL CHECK (transaction_id > 0),
    CONSTRAINT events_stream_sequence_key UNIQUE (stream_id, sequence)
) STRICT;

CREATE INDEX events_tenant_position_idx ON events (tenant_id, global_position);
CREATE INDEX events_transaction_position_idx ON events (transaction_id, global_position);

-- SQLite has no transaction ids: every append increments this single row in its own
-- transaction, which gives ids shared by all batches of one append and rising across appends.
CREATE TABLE journal_transactions (
    singleton           INTEGER PRIMARY KEY CHECK (singleton = 1),
    last_transaction_id INTEGER NOT NULL CHECK (last_transaction_id >= 0)
) STRICT;

INSERT INTO journal_transactions (singleton, last_transaction_id) VALUES (1, 0);

CREATE TABLE snapshots (
    aggregate_kind TEXT    NOT NULL CHECK (aggregate_kind <> ''),
    aggregate_id   TEXT    NOT NULL CHECK (length(aggregate_id) = 36),
    schema_version INTEGER NOT NULL CHECK (schema_version >= 0),
    last_position  INTEGER NOT NULL CHECK (last_position >= 0),
    state          BLOB    NOT NULL,
    taken_at       INTEGER NOT NULL,
    PRIMARY KEY (aggregate_kind, aggregate_id)
) STRICT;

CREATE TABLE unique_keys (
    namespace  TEXT    NOT NULL CHECK (namespace <> ''),
    key        TEXT    NOT NULL CHECK (key <> ''),
    owner_id   TEXT    NOT NULL CHECK (length(owner_id) = 36),
    request_id TEXT    NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (namespace, key)
) STRICT;

CREATE TABLE timers (
    tenant_id TEXT    NOT NULL CHECK (length(tenant_id) = 36),
    kind      TEXT    NOT NULL CHECK (kind <> ''),
    due_at    INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, kind)
) STRICT;

CREATE INDEX timers_due_at_idx ON timers (due_at);
