-- The saga outbox (projections::saga): the steps that one tenant's events imply for another
-- tenant, recorded by the `sagas` projection in the transaction of its checkpoint and executed
-- by the node that serves the target tenant. A row names its cause, not its command (the
-- dispatcher derives the step again from the causing event), so it holds no personal data;
-- only compensations store their command. Done rows stay: they are the sagas' memory of what
-- was sent (a rebuild records nothing twice) and their audit.
CREATE TABLE saga_steps (
    request_id        TEXT        PRIMARY KEY,
    target_tenant     UUID        NOT NULL,
    source_tenant     UUID        NOT NULL,
    cause_stream_type TEXT        NOT NULL,
    cause_stream_id   UUID        NOT NULL,
    cause_sequence    BIGINT      NOT NULL CHECK (cause_sequence > 0),
    step_index        BIGINT      NOT NULL CHECK (step_index >= 0),
    command           TEXT        NULL,
    attempts          BIGINT      NOT NULL DEFAULT 0,
    last_error        TEXT        NULL,
    next_attempt_at   TIMESTAMPTZ NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL,
    done_at           TIMESTAMPTZ NULL,
    outcome           TEXT        NULL
);

CREATE INDEX saga_steps_pending_idx ON saga_steps (next_attempt_at, request_id)
    WHERE done_at IS NULL;
