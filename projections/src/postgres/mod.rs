//! The PostgreSQL backend: the SQL of checkpoints, read-model writes and queries, one `.sql`
//! file per statement (in `sql/`), run as sqlx runtime queries.

mod queries;
mod writes;

pub(crate) use queries::*;
pub(crate) use writes::*;
