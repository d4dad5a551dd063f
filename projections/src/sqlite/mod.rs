//! The SQLite backend: the SQL of the read-model queries (writes and checkpoints are
//! shared: `crate::sql`, `crate::models`), one `.sql`
//! file per statement (in `sql/`), run as sqlx runtime queries.

mod queries;

pub(crate) use queries::*;
