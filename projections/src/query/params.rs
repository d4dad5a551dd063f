//! Resolved query parameters handed to a backend (filters as stored values, the cursor key,
//! the row limit).

use chrono::{DateTime, Utc};
use engine::journal::CommitToken;
use uuid::Uuid;

/// `list_tenants`.
#[derive(Clone, Debug)]
pub(crate) struct TenantParams {
    pub status: Option<String>,
    pub plan: Option<String>,
    /// A LIKE pattern (escaped with `\`) on the lower-cased name or the slug.
    pub pattern: Option<String>,
    pub after_slug: Option<String>,
    pub limit: i64,
}

/// Which organizations, as stored.
#[derive(Clone, Debug)]
pub(crate) enum OrganizationScope {
    All,
    Roots,
    Children(Uuid),
    /// Below this path.
    Descendants(String),
}

impl OrganizationScope {
    /// `(mode, parent id, path)` parameters of the list statement.
    pub(crate) fn parts(&self) -> (&'static str, Option<Uuid>, Option<&str>) {
        match self {
            OrganizationScope::All => ("all", None, None),
            OrganizationScope::Roots => ("roots", None, None),
            OrganizationScope::Children(id) => ("children", Some(*id), None),
            OrganizationScope::Descendants(path) => ("descendants", None, Some(path)),
        }
    }
}

/// `list_organizations`.
#[derive(Clone, Debug)]
pub(crate) struct OrganizationParams {
    pub tenant_id: Uuid,
    pub scope: OrganizationScope,
    pub include_deleted: bool,
    pub after_id: Option<Uuid>,
    pub limit: i64,
}

/// `list_teams`.
#[derive(Clone, Debug)]
pub(crate) struct TeamParams {
    pub tenant_id: Uuid,
    pub organization_id: Option<Uuid>,
    pub include_deleted: bool,
    pub after_id: Option<Uuid>,
    pub limit: i64,
}

/// `list_clients`.
#[derive(Clone, Debug)]
pub(crate) struct ClientParams {
    pub tenant_id: Uuid,
    /// `None`: every status but deleted.
    pub status: Option<String>,
    pub external_id: Option<String>,
    pub after_id: Option<Uuid>,
    pub limit: i64,
}

/// `list_records`.
#[derive(Clone, Debug)]
pub(crate) struct RecordParams {
    pub tenant_id: Uuid,
    /// The stored kind (`department`, `location`, `contact`).
    pub kind: &'static str,
    /// `any`, `tenant` or `client` (then `client_id`).
    pub owner: &'static str,
    pub client_id: Option<Uuid>,
    pub active: Option<bool>,
    pub contact_type: Option<String>,
    pub after_id: Option<Uuid>,
    pub limit: i64,
}

/// `list_team_members`.
#[derive(Clone, Debug)]
pub(crate) struct TeamMemberParams {
    pub tenant_id: Uuid,
    pub team_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub after: Option<(Uuid, Uuid)>,
    pub limit: i64,
}

/// `list_users`.
#[derive(Clone, Debug)]
pub(crate) struct UserParams {
    pub tenant_id: Uuid,
    /// A LIKE pattern (escaped with `\`) on the lower-cased display name or email.
    pub pattern: Option<String>,
    pub status: Option<String>,
    pub organization_id: Option<Uuid>,
    pub role: Option<String>,
    pub after: Option<(String, Uuid)>,
    pub limit: i64,
}

/// `list_role_assignments`.
#[derive(Clone, Debug)]
pub(crate) struct AssignmentParams {
    pub tenant_id: Uuid,
    pub user_id: Option<Uuid>,
    pub role: Option<String>,
    pub scope: Option<(&'static str, Uuid)>,
    pub after: Option<(Uuid, String, String, Uuid)>,
    pub limit: i64,
}

/// Whose audit events.
#[derive(Clone, Debug)]
pub(crate) enum AuditScope {
    Tenant,
    Stream(Uuid),
    Actor(String),
}

/// `audit_trail`.
#[derive(Clone, Debug)]
pub(crate) struct AuditParams {
    pub tenant_id: Uuid,
    pub scope: AuditScope,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// `(recorded_at, position)` of the last event returned.
    pub after: Option<(DateTime<Utc>, i64)>,
    pub limit: i64,
    /// Where the `audit` read model stood (read before the query): the events past it are
    /// read from the journal itself. Unused for [`AuditScope::Stream`].
    pub applied_up_to: CommitToken,
}

/// A LIKE pattern matching `text` (lower-cased) as a prefix or anywhere, with `\`, `%` and
/// `_` escaped.
pub(crate) fn like_pattern(text: &str, prefix_only: bool) -> String {
    let mut escaped = String::with_capacity(text.len() + 2);
    if !prefix_only {
        escaped.push('%');
    }
    for c in crate::models::fold(text).chars() {
        if matches!(c, '\\' | '%' | '_') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped.push('%');
    escaped
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn escapes_wildcards() {
        assert_eq!(like_pattern("Ab", true), "ab%");
        assert_eq!(like_pattern("a%b_c\\", false), "%a\\%b\\_c\\\\%");
    }
}
