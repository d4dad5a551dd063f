-- The trigram index of customer_search takes new entries into a pending list, merged into the
-- index when the list passes gin_pending_list_limit (4 MB by default: ~7,000 rows here). The
-- insert that passes it does the whole merge, and held its read-model batch for 35-50 ms;
-- at 64 kB each merge is ~100 rows, well under a millisecond (BENCHMARKS.md, "Projection lag
-- with ten read models").
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_class WHERE relname = 'customer_search_text_trgm_idx') THEN
        ALTER INDEX customer_search_text_trgm_idx SET (gin_pending_list_limit = 64);
    END IF;
END
$$;
