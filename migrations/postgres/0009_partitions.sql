-- Issue 16: data partitions and partition groups are directory records too (one more kind
-- each in `records`, same columns: the name column holds the partition's or group's name).
ALTER TABLE records DROP CONSTRAINT records_kind_check;
ALTER TABLE records ADD CONSTRAINT records_kind_check
    CHECK (kind IN ('department', 'location', 'contact', 'partition', 'partition_group'));
