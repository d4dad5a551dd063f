//! The access vocabulary (scopes, role assignments, permissions) ⇄ proto, and the
//! AccessService requests and answers.

use engine::domain::{
    Assignment, Decision, EffectivePermission, PermissionPattern, Scope, TenantId, UserId,
};
use entity_proto::v1 as pb;
use tonic::Status;

use super::Violations;

/// A decoded CheckPermission request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckQuery {
    /// Tenant.
    pub tenant_id: TenantId,
    /// Whose permissions.
    pub user_id: UserId,
    /// The concrete permission asked about.
    pub permission: PermissionPattern,
    /// Where (the tenant when the request left it unset).
    pub scope: Scope,
}

/// A decoded ListEffectivePermissions request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EffectiveQuery {
    /// Tenant.
    pub tenant_id: TenantId,
    /// Whose permissions.
    pub user_id: UserId,
    /// Only those applying here (`None`: every assignment).
    pub scope: Option<Scope>,
}

impl Violations {
    /// Decodes an optional `Scope` message at `field`: `Some(None)` when unset, `None` when
    /// invalid (violations recorded on `field.kind` / `field.id`).
    pub fn scope(&mut self, field: &str, scope: Option<pb::Scope>) -> Option<Option<Scope>> {
        let Some(scope) = scope else {
            return Some(None);
        };
        let kind_field = format!("{field}.kind");
        let id_field = format!("{field}.id");
        match pb::ScopeKind::try_from(scope.kind) {
            Ok(pb::ScopeKind::Tenant) if scope.id.is_empty() => Some(Some(Scope::Tenant)),
            Ok(pb::ScopeKind::Tenant) => {
                self.add(id_field, "must be empty for the tenant scope");
                None
            }
            Ok(pb::ScopeKind::Organization) => self
                .id(&id_field, &scope.id)
                .map(|id| Some(Scope::Organization(id))),
            Ok(pb::ScopeKind::Team) => self
                .id(&id_field, &scope.id)
                .map(|id| Some(Scope::Team(id))),
            Ok(pb::ScopeKind::Unspecified) => {
                self.add(kind_field, "required: tenant, organization or team");
                None
            }
            Err(_) => {
                self.add(kind_field, "unknown scope kind");
                None
            }
        }
    }

    /// Decodes a required `RoleAssignment` at `field` (an unset scope is the tenant).
    pub fn assignment(
        &mut self,
        field: &str,
        assignment: Option<pb::RoleAssignment>,
    ) -> Option<Assignment> {
        let Some(assignment) = assignment else {
            self.add(field, "required");
            return None;
        };
        self.required(&format!("{field}.role"), &assignment.role);
        let scope = self.scope(&format!("{field}.scope"), assignment.scope)?;
        (!assignment.role.is_empty()).then(|| Assignment {
            role: assignment.role,
            scope: scope.unwrap_or(Scope::Tenant),
        })
    }

    /// Parses a permission pattern (`*`, `resource:*`, `resource:action`) at `field`.
    pub fn permission_pattern(&mut self, field: &str, value: &str) -> Option<PermissionPattern> {
        match value.parse::<PermissionPattern>() {
            Ok(p) => Some(p),
            Err(e) => {
                self.add(field, e.to_string());
                None
            }
        }
    }

    /// Parses a list of permission patterns; violations name `field[i]`.
    pub fn permission_patterns(
        &mut self,
        field: &str,
        values: &[String],
    ) -> Vec<PermissionPattern> {
        values
            .iter()
            .enumerate()
            .filter_map(|(i, p)| self.permission_pattern(&format!("{field}[{i}]"), p))
            .collect()
    }
}

/// CheckPermission: the permission must be concrete (no wildcard); an unset scope is the
/// tenant.
pub fn check(req: &pb::CheckPermissionRequest) -> Result<CheckQuery, Status> {
    let mut v = Violations::default();
    let tenant_id = v.id("tenant_id", &req.tenant_id);
    let user_id = v.id("user_id", &req.user_id);
    let permission = if req.permission.is_empty() {
        v.add("permission", "required");
        None
    } else {
        v.permission_pattern("permission", &req.permission)
    };
    if let Some(p) = &permission
        && !p.is_exact()
    {
        v.add(
            "permission",
            "must be one permission `resource:action`, not a pattern",
        );
    }
    let scope = v.scope("scope", req.scope.clone());
    v.consistency_token(&req.consistency_token);
    v.finish()?;
    let (Some(tenant_id), Some(user_id), Some(permission), Some(scope)) =
        (tenant_id, user_id, permission, scope)
    else {
        return Err(Status::internal("validation incomplete"));
    };
    Ok(CheckQuery {
        tenant_id,
        user_id,
        permission,
        scope: scope.unwrap_or(Scope::Tenant),
    })
}

/// ListEffectivePermissions: an unset scope lists every assignment.
pub fn effective(req: &pb::ListEffectivePermissionsRequest) -> Result<EffectiveQuery, Status> {
    let mut v = Violations::default();
    let tenant_id = v.id("tenant_id", &req.tenant_id);
    let user_id = v.id("user_id", &req.user_id);
    let scope = v.scope("scope", req.scope.clone());
    v.consistency_token(&req.consistency_token);
    v.finish()?;
    let (Some(tenant_id), Some(user_id), Some(scope)) = (tenant_id, user_id, scope) else {
        return Err(Status::internal("validation incomplete"));
    };
    Ok(EffectiveQuery {
        tenant_id,
        user_id,
        scope,
    })
}

/// The proto message of a scope.
pub fn scope_to_proto(scope: Scope) -> pb::Scope {
    let (kind, id) = match scope {
        Scope::Tenant => (pb::ScopeKind::Tenant, String::new()),
        Scope::Organization(id) => (pb::ScopeKind::Organization, id.to_string()),
        Scope::Team(id) => (pb::ScopeKind::Team, id.to_string()),
    };
    pb::Scope {
        kind: kind as i32,
        id,
    }
}

/// The proto message of a role assignment.
pub fn assignment_to_proto(a: &Assignment) -> pb::RoleAssignment {
    pb::RoleAssignment {
        role: a.role.clone(),
        scope: Some(scope_to_proto(a.scope)),
    }
}

/// The answer to CheckPermission.
pub fn decision_to_proto(d: &Decision) -> pb::CheckPermissionResponse {
    pb::CheckPermissionResponse {
        allowed: d.allowed,
        granted_by: d.granted_by.as_ref().map(assignment_to_proto),
        denial_reason: d.denial_reason.unwrap_or_default().to_owned(),
    }
}

/// One line of ListEffectivePermissions.
pub fn effective_to_proto(e: &EffectivePermission) -> pb::EffectivePermission {
    pb::EffectivePermission {
        permission: e.permission.to_string(),
        except: e.except.iter().map(ToString::to_string).collect(),
        granted_by: Some(assignment_to_proto(&e.granted_by)),
    }
}

#[cfg(test)]
mod tests {
    use engine::domain::{OrganizationId, TeamId};

    use super::*;
    use crate::convert::violation_fields as fields;

    fn scope(kind: pb::ScopeKind, id: &str) -> Option<pb::Scope> {
        Some(pb::Scope {
            kind: kind as i32,
            id: id.into(),
        })
    }

    #[test]
    fn scopes_round_trip() {
        let org = OrganizationId::new_v7();
        let team = TeamId::new_v7();
        for s in [Scope::Tenant, Scope::Organization(org), Scope::Team(team)] {
            let mut v = Violations::default();
            assert_eq!(v.scope("scope", Some(scope_to_proto(s))), Some(Some(s)));
            assert!(v.0.is_empty());
        }
        let mut v = Violations::default();
        assert_eq!(v.scope("scope", None), Some(None));
        assert_eq!(
            v.scope("scope", scope(pb::ScopeKind::Unspecified, "")),
            None
        );
        assert_eq!(v.scope("scope", scope(pb::ScopeKind::Tenant, "x")), None);
        assert_eq!(
            v.scope("scope", scope(pb::ScopeKind::Organization, "")),
            None
        );
        assert_eq!(v.scope("scope", scope(pb::ScopeKind::Team, "nope")), None);
        assert_eq!(
            v.scope(
                "scope",
                Some(pb::Scope {
                    kind: 42,
                    id: String::new()
                })
            ),
            None
        );
        let got: Vec<&str> = v.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            got,
            [
                "scope.kind",
                "scope.id",
                "scope.id",
                "scope.id",
                "scope.kind"
            ]
        );
    }

    #[test]
    fn assignments_need_a_role_and_default_to_the_tenant() {
        let mut v = Violations::default();
        let a = v.assignment(
            "assignment",
            Some(pb::RoleAssignment {
                role: "viewer".into(),
                scope: None,
            }),
        );
        assert_eq!(
            a,
            Some(Assignment {
                role: "viewer".into(),
                scope: Scope::Tenant
            })
        );
        assert_eq!(v.assignment("roles[1]", None), None);
        assert_eq!(
            v.assignment(
                "roles[2]",
                Some(pb::RoleAssignment {
                    role: String::new(),
                    scope: scope(pb::ScopeKind::Team, "x"),
                })
            ),
            None
        );
        let got: Vec<&str> = v.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(got, ["roles[1]", "roles[2].role", "roles[2].scope.id"]);
    }

    #[test]
    fn check_wants_a_concrete_permission() {
        let req = |permission: &str| pb::CheckPermissionRequest {
            tenant_id: TenantId::new_v7().to_string(),
            user_id: UserId::new_v7().to_string(),
            permission: permission.into(),
            ..Default::default()
        };
        let q = check(&req("tenant:delete")).unwrap();
        assert_eq!(q.scope, Scope::Tenant);
        assert_eq!(q.permission.as_str(), "tenant:delete");
        for bad in ["", "team:*", "*", "Team:read", "nope"] {
            assert_eq!(
                fields(&check(&req(bad)).unwrap_err()),
                ["permission"],
                "{bad}"
            );
        }
        let mut v = Violations::default();
        let parsed = v.permission_patterns("permissions", &["a:b".into(), "x".into()]);
        assert_eq!(parsed.len(), 1);
        assert_eq!(v.0[0].field, "permissions[1]");
    }
}
