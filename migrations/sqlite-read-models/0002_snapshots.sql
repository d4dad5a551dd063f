-- Entity snapshots move beside the read models (issue 14): like them they are derived from the
-- journal (a lost snapshot costs a longer replay, never an event), so their writes need not
-- take turns with the appends on the journal's file nor wait for its flush. The same table as
-- migrations/sqlite/0001_journal.sql created in the journal's file (dropped there at the next
-- start, its rows copied first: see engine/src/journal/sqlite/read_models.rs).

CREATE TABLE snapshots (
    aggregate_kind TEXT    NOT NULL CHECK (aggregate_kind <> ''),
    aggregate_id   TEXT    NOT NULL CHECK (length(aggregate_id) = 36),
    schema_version INTEGER NOT NULL CHECK (schema_version >= 0),
    last_position  INTEGER NOT NULL CHECK (last_position >= 0),
    state          BLOB    NOT NULL,
    taken_at       INTEGER NOT NULL,
    PRIMARY KEY (aggregate_kind, aggregate_id)
) STRICT;
