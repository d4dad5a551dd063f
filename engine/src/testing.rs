//! Test helpers (feature `test-util`): throwaway PostgreSQL databases. (Journal helper implements.)
