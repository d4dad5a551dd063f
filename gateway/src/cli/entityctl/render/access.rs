//! Permission checks, effective permissions and role assignments as `entityctl` shows them.

use entity_proto::v1 as pb;
use serde_json::{Value, json};

use super::{View, count_line, label, page_line, rfc3339};

labels! { pb::ScopeKind: "SCOPE_KIND_" }

/// The answer to `access check`: `allowed via ROLE at SCOPE` or `denied (REASON)`.
pub struct Check(pub pb::CheckPermissionResponse);

impl View for Check {
    fn text(&self) -> Vec<String> {
        vec![match (&self.0.granted_by, self.0.allowed) {
            (Some(by), true) => format!("allowed via {}", assignment_text(by)),
            (None, true) => "allowed".to_owned(),
            (_, false) => format!("denied ({})", self.0.denial_reason),
        }]
    }

    fn json(&self) -> Value {
        json!({
            "allowed": self.0.allowed,
            "granted_by": self.0.granted_by.as_ref().map(assignment_json),
            "denial_reason": (!self.0.denial_reason.is_empty()).then_some(&self.0.denial_reason),
        })
    }

    /// `allowed` or `denied` (a check has no resource id).
    fn ids(&self) -> Vec<String> {
        vec![if self.0.allowed { "allowed" } else { "denied" }.to_owned()]
    }
}

/// The answer to `access list`: one line per granted pattern and its source.
pub struct Effective(pub pb::ListEffectivePermissionsResponse);

impl View for Effective {
    fn text(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .0
            .permissions
            .iter()
            .map(|p| {
                let except = if p.except.is_empty() {
                    String::new()
                } else {
                    format!(" except {}", p.except.join(", "))
                };
                let via = p
                    .granted_by
                    .as_ref()
                    .map(assignment_text)
                    .unwrap_or_default();
                format!("{}{except}  via {via}", p.permission)
            })
            .collect();
        out.push(count_line(self.0.permissions.len(), "permission"));
        out
    }

    fn json(&self) -> Value {
        json!({
            "permissions": self.0.permissions.iter().map(|p| json!({
                "permission": p.permission,
                "except": p.except,
                "granted_by": p.granted_by.as_ref().map(assignment_json),
            })).collect::<Vec<_>>(),
        })
    }

    /// The granted patterns.
    fn ids(&self) -> Vec<String> {
        self.0
            .permissions
            .iter()
            .map(|p| p.permission.clone())
            .collect()
    }
}

/// The answer to `user roles` and `role assignments`: one assignment per line,
/// `[USER  ]ROLE at SCOPE  assigned TIME`.
pub struct Assignments {
    /// The assignments, by (user, role, scope).
    pub assignments: Vec<pb::UserRoleAssignment>,
    /// Token of the next page ("" on the last page).
    pub next_page_token: String,
    /// Whether they are one user's: rows then omit the user, and ids are role names (else
    /// user ids, each once per run of that user's assignments).
    pub of_user: bool,
}

impl View for Assignments {
    fn text(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .assignments
            .iter()
            .map(|a| {
                let what = a
                    .assignment
                    .as_ref()
                    .map_or_else(|| "(no assignment)".to_owned(), assignment_text);
                let user = if self.of_user {
                    String::new()
                } else {
                    format!("{}  ", a.user_id)
                };
                let since = a
                    .assign_time
                    .as_ref()
                    .map(|t| format!("  assigned {}", rfc3339(t)))
                    .unwrap_or_default();
                format!("{user}{what}{since}")
            })
            .collect();
        out.push(page_line(
            self.assignments.len(),
            "role assignment",
            &self.next_page_token,
        ));
        out
    }

    fn json(&self) -> Value {
        json!({
            "assignments": self.assignments.iter().map(|a| json!({
                "user_id": a.user_id,
                "assignment": a.assignment.as_ref().map(assignment_json),
                "assign_time": a.assign_time.as_ref().map(rfc3339),
            })).collect::<Vec<_>>(),
            "next_page_token": self.next_page_token,
        })
    }

    fn ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .assignments
            .iter()
            .map(|a| {
                if self.of_user {
                    a.assignment
                        .as_ref()
                        .map(|r| r.role.clone())
                        .unwrap_or_default()
                } else {
                    a.user_id.clone()
                }
            })
            .collect();
        if !self.of_user {
            ids.dedup();
        }
        ids
    }
}

/// `ROLE at SCOPE`, the scope as `tenant`, `org:ID` or `team:ID`.
pub(super) fn assignment_text(a: &pb::RoleAssignment) -> String {
    format!("{} at {}", a.role, scope_text(a.scope.as_ref()))
}

/// `{"role": …, "scope": {"kind": …, "id": …}}`.
pub(super) fn assignment_json(a: &pb::RoleAssignment) -> Value {
    json!({
        "role": a.role,
        "scope": scope_json(a.scope.as_ref()),
    })
}

/// `tenant`, `org:ID` or `team:ID` (the syntax of `--role ROLE@org:ID`). Unset is the tenant.
fn scope_text(scope: Option<&pb::Scope>) -> String {
    let Some(scope) = scope else {
        return "tenant".to_owned();
    };
    match pb::ScopeKind::try_from(scope.kind) {
        Ok(pb::ScopeKind::Tenant) => "tenant".to_owned(),
        Ok(pb::ScopeKind::Organization) => format!("org:{}", scope.id),
        Ok(pb::ScopeKind::Team) => format!("team:{}", scope.id),
        _ => format!("{}:{}", label::<pb::ScopeKind>(scope.kind), scope.id),
    }
}

fn scope_json(scope: Option<&pb::Scope>) -> Value {
    match scope {
        Some(s) => json!({
            "kind": label::<pb::ScopeKind>(s.kind),
            "id": (!s.id.is_empty()).then_some(&s.id),
        }),
        None => json!({ "kind": "tenant", "id": null }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::entityctl::{args::Output, render::printed};

    fn assignment(role: &str, kind: pb::ScopeKind, id: &str) -> pb::RoleAssignment {
        pb::RoleAssignment {
            role: role.into(),
            scope: Some(pb::Scope {
                kind: kind as i32,
                id: id.into(),
            }),
        }
    }

    #[test]
    fn checks_read_as_a_sentence() {
        let allowed = Check(pb::CheckPermissionResponse {
            allowed: true,
            granted_by: Some(assignment("tenant-owner", pb::ScopeKind::Tenant, "")),
            denial_reason: String::new(),
        });
        assert_eq!(
            printed(&allowed, Output::Text),
            "allowed via tenant-owner at tenant"
        );
        assert_eq!(allowed.json()["granted_by"]["scope"]["kind"], "tenant");
        let denied = Check(pb::CheckPermissionResponse {
            allowed: false,
            granted_by: None,
            denial_reason: "NO_MATCHING_ASSIGNMENT".into(),
        });
        assert_eq!(
            printed(&denied, Output::Text),
            "denied (NO_MATCHING_ASSIGNMENT)"
        );
        assert_eq!(denied.ids(), ["denied"]);
    }

    #[test]
    fn effective_permissions_name_their_source() {
        let e = Effective(pb::ListEffectivePermissionsResponse {
            permissions: vec![pb::EffectivePermission {
                permission: "*".into(),
                except: vec!["billing:*".into()],
                granted_by: Some(assignment("tenant-admin", pb::ScopeKind::Team, "t1")),
            }],
        });
        assert_eq!(
            printed(&e, Output::Text),
            "* except billing:*  via tenant-admin at team:t1\n(1 permission)"
        );
    }

    #[test]
    fn assignments_show_user_scope_and_time() {
        let held = |user: &str, role: &str, kind, id: &str| pb::UserRoleAssignment {
            user_id: user.into(),
            assignment: Some(assignment(role, kind, id)),
            assign_time: Some(prost_types::Timestamp {
                seconds: 1_700_000_000,
                nanos: 0,
            }),
        };
        let list = |of_user| Assignments {
            assignments: vec![
                held("u1", "viewer", pb::ScopeKind::Tenant, ""),
                held("u1", "org-admin", pb::ScopeKind::Organization, "o1"),
                held("u2", "viewer", pb::ScopeKind::Tenant, ""),
            ],
            next_page_token: String::new(),
            of_user,
        };
        assert_eq!(
            printed(&list(false), Output::Text),
            "u1  viewer at tenant  assigned 2023-11-14T22:13:20Z\n\
             u1  org-admin at org:o1  assigned 2023-11-14T22:13:20Z\n\
             u2  viewer at tenant  assigned 2023-11-14T22:13:20Z\n\
             (3 role assignments)"
        );
        assert!(
            printed(&list(true), Output::Text)
                .starts_with("viewer at tenant  assigned 2023-11-14T22:13:20Z\n")
        );
        assert_eq!(list(false).ids(), ["u1", "u2"]);
        assert_eq!(list(true).ids(), ["viewer", "org-admin", "viewer"]);
        let json = list(false).json();
        assert_eq!(json["assignments"][1]["assignment"]["scope"]["id"], "o1");
        assert_eq!(
            json["assignments"][1]["assign_time"],
            "2023-11-14T22:13:20Z"
        );
        assert_eq!(json["next_page_token"], "");
    }
}
