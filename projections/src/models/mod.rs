//! The read models of SPEC §4, each a [`Projection`]:
//!
//! | projection          | tables                              | serves                          |
//! |---------------------|-------------------------------------|---------------------------------|
//! | `tenant_directory`  | `tenant_directory`                  | operators' tenant list/search   |
//! | `organizations`     | `organizations` (materialized path) | children, descendants, ancestors|
//! | `teams`             | `teams`, `team_members`             | teams, team members             |
//! | `users`             | `users`, `user_organizations`       | user directory search           |
//! | `role_assignments`  | `role_assignments`                  | assignments per user, per scope |
//!
//! The audit trail is not a projection: the journal is the audit trail (SPEC §5.3), queried
//! directly (see [`crate::ReadModels::audit_trail`]).
//!
//! Every row records the version (= stream sequence) and time of the last event of its own
//! stream, matching the domain state the entity actor holds.

mod organizations;
mod role_assignments;
mod teams;
mod tenant_directory;
mod users;

use std::sync::Arc;

use serde::{Serialize, de::DeserializeOwned};

pub use organizations::OrganizationsProjection;
pub(crate) use organizations::{OrganizationChange, OrganizationLocation, OrganizationRecord};
pub use role_assignments::RoleAssignmentsProjection;
pub(crate) use role_assignments::{AssignmentRecord, scope_key};
pub(crate) use teams::TeamRecord;
pub use teams::TeamsProjection;
pub use tenant_directory::TenantDirectoryProjection;
pub(crate) use tenant_directory::{TenantChange, TenantRecord};
pub use users::UsersProjection;
pub(crate) use users::{UserChange, UserErasure, UserRecord};

use crate::{Error, Projection, Result};

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
}

/// Every standard read-model projection, ready for [`crate::ProjectionService::start`].
pub fn standard_projections() -> Vec<Arc<dyn Projection>> {
    vec![
        Arc::new(TenantDirectoryProjection),
        Arc::new(OrganizationsProjection),
        Arc::new(TeamsProjection),
        Arc::new(UsersProjection),
        Arc::new(RoleAssignmentsProjection),
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
