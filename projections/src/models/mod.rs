//! The read models of SPEC §4, each a [`Projection`]:
//!
//! | projection          | tables                              | serves                          |
//! |---------------------|-------------------------------------|---------------------------------|
//! | `tenant_directory`  | `tenant_directory`                  | operators' tenant list/search   |
//! | `organizations`     | `organizations` (materialized path) | children, descendants, ancestors|
//! | `teams`             | `teams`, `team_members`             | teams, team members             |
//! | `users`             | `users`, `user_organizations`       | user directory search           |
//! | `role_assignments`  | `role_assignments`                  | assignments per user, per scope |
//! | `clients`           | `clients`                           | a tenant's clients              |
//! | `records`           | `records`                           | departments, locations, contacts|
//! | `analytics`         | `analytics_changes`, `analytics_entities` | ExportChanges (history)   |
//! | `search`            | `customer_search`                   | SearchCustomers                 |
//! | `audit`             | `audit_entries`                     | the audit trail's orderings     |
//!
//! The journal is the audit trail (SPEC §5.3): `audit` keeps only its orderings per tenant and
//! per actor, and [`crate::ReadModels::audit_trail`] adds the events it has not applied yet.
//!
//! Every row records the version (= stream sequence) and time of the last event of its own
//! stream, matching the domain state the entity actor holds.

mod analytics;
mod audit;
mod clients;
mod organizations;
mod records;
mod role_assignments;
pub(crate) mod search;
mod teams;
mod tenant_directory;
mod users;

use std::{collections::BTreeMap, sync::Arc};

use serde::{Serialize, de::DeserializeOwned};
use uuid::Uuid;

pub use analytics::AnalyticsProjection;
pub use audit::AuditProjection;
pub use clients::ClientsProjection;
pub use organizations::OrganizationsProjection;
pub use records::RecordsProjection;
pub use role_assignments::RoleAssignmentsProjection;
pub(crate) use role_assignments::scope_key;
pub use search::SearchProjection;
pub use teams::TeamsProjection;
pub use tenant_directory::TenantDirectoryProjection;
pub use users::UsersProjection;

use crate::{
    Error, Projection, Result,
    sql::{Arg, Statement, insert_rows, update_rows},
    store::Tx,
};

/// Names of the standard projections.
pub mod names {
    /// The tenant directory.
    pub const TENANT_DIRECTORY: &str = "tenant_directory";
    /// The organization tree.
    pub const ORGANIZATIONS: &str = "organizations";
    /// Teams and team members.
    pub const TEAMS: &str = "teams";
    /// The user directory.
    pub const USERS: &str = "users";
    /// Role assignments.
    pub const ROLE_ASSIGNMENTS: &str = "role_assignments";
    /// A tenant's clients.
    pub const CLIENTS: &str = "clients";
    /// A tenant's directory records (departments, locations, contacts).
    pub const RECORDS: &str = "records";
    /// The analytics history (one row per change, for export).
    pub const ANALYTICS: &str = "analytics";
    /// Customers and clients for SearchCustomers.
    pub const SEARCH: &str = "search";
    /// The audit trail's orderings.
    pub const AUDIT: &str = "audit";
}

/// Every standard read-model projection, ready for [`crate::ProjectionService::start`].
pub fn standard_projections() -> Vec<Arc<dyn Projection>> {
    vec![
        Arc::new(TenantDirectoryProjection),
        Arc::new(OrganizationsProjection),
        Arc::new(TeamsProjection),
        Arc::new(UsersProjection),
        Arc::new(RoleAssignmentsProjection),
        Arc::new(ClientsProjection),
        Arc::new(RecordsProjection),
        Arc::new(AnalyticsProjection),
        Arc::new(SearchProjection),
        Arc::new(AuditProjection),
        Arc::new(crate::saga::SagasProjection),
    ]
}

/// The stored text of a domain enum (its serde name, e.g. `active`, `gold`).
pub(crate) fn enum_text<T: Serialize>(value: &T) -> Result<String> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => Ok(s),
        Ok(other) => Err(Error::Corrupt(format!("enum stored as non-text {other}"))),
        Err(e) => Err(Error::Corrupt(format!("cannot encode enum: {e}"))),
    }
}

/// A domain enum from its stored text.
pub(crate) fn parse_enum<T: DeserializeOwned>(text: &str, column: &str) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .map_err(|_| Error::Corrupt(format!("{column} has unknown value {text:?}")))
}

/// Lower-cased text for case-insensitive search and ordering (Unicode-aware, computed here
/// so that both backends agree: SQLite's `lower()` folds ASCII only).
pub(crate) fn fold(text: &str) -> String {
    text.to_lowercase()
}

/// The SQL of a table whose rows a batch creates and changes (see [`Folded`]).
pub(crate) struct TableWrites {
    /// The read model, for errors.
    pub model: &'static str,
    pub table: &'static str,
    /// `table (columns…)` of a new row, in the order of [`Change::record_values`].
    pub insert: &'static str,
    /// The columns of [`Change::change_values`] (the row's id first).
    pub change_columns: &'static [&'static str],
    /// The `SET` list of a change: the new values are `v.<column>`, NULL leaving a column
    /// as it is (`COALESCE(v.name, <table>.name)`).
    pub set: &'static str,
    /// How a change finds its row, e.g. `users.id = v.id`.
    pub matches: &'static str,
}

/// Sets `field` to `value` when there is one (a change applied to a new row).
pub(crate) fn set_some<T>(field: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *field = value;
    }
}

/// `later` replaces `earlier` when there is one (two changes of a field, as one).
pub(crate) fn keep_later<T>(earlier: &mut Option<T>, later: Option<T>) {
    if later.is_some() {
        *earlier = later;
    }
}

/// A change to an existing row, as a batch folds them.
pub(crate) trait Change: Sized {
    /// A new row, which a change may follow in the same batch.
    type Record;
    /// The table.
    const TABLE: TableWrites;
    /// `record` with this change applied.
    fn apply_to(self, record: &mut Self::Record);
    /// This change followed by `later`, as one.
    fn then(&mut self, later: Self);
    /// The values of a new row.
    fn record_values(id: Uuid, record: Self::Record) -> Vec<Arg>;
    /// The values of a change (the id first).
    fn change_values(id: Uuid, change: Self) -> Vec<Arg>;
}

/// The rows a batch creates and the changes it makes to rows that existed before, folded per
/// id: a row created and changed in the same batch is one insert, several changes of one row
/// are one update.
pub(crate) struct Folded<C: Change> {
    pub inserts: BTreeMap<Uuid, C::Record>,
    pub changes: BTreeMap<Uuid, C>,
}

impl<C: Change> Default for Folded<C> {
    fn default() -> Self {
        Self {
            inserts: BTreeMap::new(),
            changes: BTreeMap::new(),
        }
    }
}

impl<C: Change> Folded<C> {
    pub(crate) fn insert(&mut self, id: Uuid, record: C::Record) {
        self.inserts.insert(id, record);
    }

    pub(crate) fn change(&mut self, id: Uuid, change: C) {
        if let Some(record) = self.inserts.get_mut(&id) {
            change.apply_to(record);
        } else if let Some(pending) = self.changes.get_mut(&id) {
            pending.then(change);
        } else {
            self.changes.insert(id, change);
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.inserts.is_empty() && self.changes.is_empty()
    }

    /// Writes the inserts, then the changes (checking that each changed row exists), each as
    /// bulk statements.
    pub(crate) async fn write(self, tx: &mut Tx<'_>) -> Result<()> {
        let t = C::TABLE;
        let inserts = self
            .inserts
            .into_iter()
            .map(|(id, r)| C::record_values(id, r))
            .collect();
        tx.run_all(&insert_rows(t.insert, "", inserts)).await?;
        let expected = self.changes.len();
        let changes = self
            .changes
            .into_iter()
            .map(|(id, c)| C::change_values(id, c))
            .collect();
        let updates = update_rows(t.table, t.change_columns, t.set, t.matches, changes);
        update_existing(tx, t.model, &updates, expected, || {
            format!("changes to {}", t.table)
        })
        .await
    }
}

/// Splits folded row writes into the rows to put (`Some`) and the keys to delete (`None`).
pub(crate) fn puts_and_deletes<K, V>(rows: BTreeMap<K, Option<V>>) -> (Vec<(K, V)>, Vec<K>) {
    let mut puts = Vec::new();
    let mut deletes = Vec::new();
    for (key, value) in rows {
        match value {
            Some(value) => puts.push((key, value)),
            None => deletes.push(key),
        }
    }
    (puts, deletes)
}

/// Runs bulk updates of `expected` existing rows and checks that each found its row (a row
/// missing from the read model means an event for an entity it never saw created).
pub(crate) async fn update_existing(
    tx: &mut Tx<'_>,
    model: &'static str,
    statements: &[Statement],
    expected: usize,
    what: impl FnOnce() -> String,
) -> Result<()> {
    let affected: u64 = tx.run_all(statements).await?.into_iter().sum();
    if affected == expected as u64 {
        Ok(())
    } else {
        Err(Error::Inconsistent {
            model,
            message: format!(
                "{}: {affected} of {expected} rows found; the others were never created",
                what()
            ),
        })
    }
}

/// A read-model update that touched no row: the entity was never created in the read model.
pub(crate) fn expect_one(
    affected: u64,
    model: &'static str,
    what: impl FnOnce() -> String,
) -> Result<()> {
    if affected == 1 {
        Ok(())
    } else {
        Err(Error::Inconsistent {
            model,
            message: format!("{} (rows affected: {affected})", what()),
        })
    }
}
