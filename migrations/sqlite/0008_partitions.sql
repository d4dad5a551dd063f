-- Issue 16: data partitions and partition groups are directory records too. SQLite cannot
-- change a CHECK constraint, so the table is rebuilt with the wider kind list (the same as
-- migrations/postgres/0009_partitions.sql).
CREATE TABLE records_new (
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
INSERT INTO records_new SELECT * FROM records;
DROP TABLE records;
ALTER TABLE records_new RENAME TO records;
CREATE INDEX records_list_idx ON records (tenant_id, kind, id);
