-- Projection `audit` (issue 14): the audit trail's orderings, a tenant's events and one actor's
-- in a tenant, newest first. They were indexes on `events` (dropped below), which every append
-- paid for inside its commit; the read models' writer now keeps them after the commit. The
-- events themselves stay in the journal; the audit query reads them there
-- (projections/src/query/sql/audit_*.sql).
CREATE TABLE audit_entries (
    tenant_id       UUID        NOT NULL,
    recorded_at     TIMESTAMPTZ NOT NULL,
    global_position BIGINT      NOT NULL CHECK (global_position > 0),
    -- The subject who caused the event (metadata.actor.subject).
    actor_subject   TEXT        NOT NULL
);

CREATE INDEX audit_entries_tenant_idx
    ON audit_entries (tenant_id, recorded_at DESC, global_position DESC);
CREATE INDEX audit_entries_actor_idx
    ON audit_entries (tenant_id, actor_subject, recorded_at DESC, global_position DESC);

-- A store with history starts the projection where the read models stand: the events up to
-- the tenant directory's checkpoint are copied, and the checkpoint with them. One statement,
-- so the copy and the checkpoint come from one snapshot while older nodes may still be
-- moving the checkpoints. Without a checkpoint (a new store) nothing is copied.
WITH standing AS (
    SELECT transaction_id, position FROM projection_checkpoints WHERE name = 'tenant_directory'
), copied AS (
    INSERT INTO audit_entries (tenant_id, recorded_at, global_position, actor_subject)
    SELECT e.tenant_id, e.recorded_at, e.global_position,
           COALESCE(e.metadata -> 'actor' ->> 'subject', '')
    FROM events AS e, standing AS s
    WHERE (e.transaction_id, e.global_position) <= (s.transaction_id::text::xid8, s.position)
)
INSERT INTO projection_checkpoints (name, transaction_id, position)
SELECT 'audit', transaction_id, position FROM standing;

DROP INDEX events_tenant_recorded_idx;
DROP INDEX events_tenant_actor_idx;
