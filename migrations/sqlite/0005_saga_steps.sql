-- The saga outbox: the same as migrations/postgres/0006_saga_steps.sql in SQLite terms
-- (UUIDs as hyphenated TEXT, timestamps as INTEGER microseconds since the Unix epoch).
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
