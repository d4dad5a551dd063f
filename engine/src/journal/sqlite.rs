//! SQLite journal (the embedded single-node store). (Journal helper implements.)
