//! PostgreSQL journal (the production store). (Journal helper implements.)
