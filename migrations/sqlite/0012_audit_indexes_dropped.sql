-- The audit trail's orderings moved to the read model `audit_entries` (issue 14,
-- migrations/sqlite-read-models 0003): an append no longer writes two more B-trees, keyed by
-- tenant, inside its flushed commit.
DROP INDEX IF EXISTS events_tenant_recorded_idx;
DROP INDEX IF EXISTS events_tenant_actor_idx;
