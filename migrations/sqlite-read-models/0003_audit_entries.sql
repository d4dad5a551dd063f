-- Projection `audit` (issue 14): the audit trail's orderings, a tenant's events and one actor's
-- in a tenant, newest first. They were indexes on the journal's `events` (dropped by
-- migrations/sqlite 0012), which every append paid for inside its flushed commit; here the read
-- models' writer keeps them after the commit. The table is the tenant's ordering itself
-- (WITHOUT ROWID: one B-tree, where a table and an index would be two). The events themselves
-- stay in the journal; the audit query reads them there (projections/src/query/sql/audit_*.sql).
CREATE TABLE audit_entries (
    tenant_id       TEXT    NOT NULL CHECK (length(tenant_id) = 36),
    recorded_at     INTEGER NOT NULL,
    global_position INTEGER NOT NULL CHECK (global_position > 0),
    -- The subject who caused the event (metadata.actor.subject).
    actor_subject   TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, recorded_at, global_position)
) STRICT, WITHOUT ROWID;

CREATE INDEX audit_entries_actor_idx
    ON audit_entries (tenant_id, actor_subject, recorded_at, global_position);
