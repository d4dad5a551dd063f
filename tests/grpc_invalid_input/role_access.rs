//! Bad RoleService and AccessService input.

use super::*;

fn define(tenant: &str, name: &str, permissions: &[&str]) -> pb::DefineRoleRequest {
    pb::DefineRoleRequest {
        tenant_id: tenant.into(),
        name: name.into(),
        permissions: permissions.iter().map(|p| p.to_string()).collect(),
        ..Default::default()
    }
}

fn check(
    tenant: &str,
    user: &str,
    permission: &str,
    scope: Option<pb::Scope>,
) -> pb::CheckPermissionRequest {
    pb::CheckPermissionRequest {
        tenant_id: tenant.into(),
        user_id: user.into(),
        permission: permission.into(),
        scope,
        consistency_token: String::new(),
    }
}

fn scope(kind: i32, id: &str) -> Option<pb::Scope> {
    Some(pb::Scope {
        kind,
        id: id.into(),
    })
}

pub(super) fn cases(c: &Clients, f: &Fixtures) -> Vec<Case> {
    let unknown = uuid::Uuid::now_v7().to_string();
    let (t, o, u, r) = (
        f.tenant.clone(),
        f.org.clone(),
        f.user.clone(),
        f.role.clone(),
    );
    let org = pb::ScopeKind::Organization as i32;
    let team = pb::ScopeKind::Team as i32;
    vec![
        // roles
        Case {
            label: "define role: malformed permissions",
            call: call!(
                c.roles,
                define_role,
                define(
                    &t,
                    "auditor",
                    &["audit:read", "Audit:Read", "audit", "*:read", ""]
                )
            ),
            expect: Expect::Invalid(&[
                "permissions[1]",
                "permissions[2]",
                "permissions[3]",
                "permissions[4]",
            ]),
        },
        Case {
            label: "define role: no permissions",
            call: call!(c.roles, define_role, define(&t, "auditor", &[])),
            expect: Expect::Invalid(&["permissions"]),
        },
        Case {
            label: "define role: duplicate permission",
            call: call!(c.roles, define_role, define(&t, "auditor", &["a:b", "a:b"])),
            expect: Expect::Invalid(&["permissions[1]"]),
        },
        Case {
            label: "define role: malformed name",
            call: call!(
                c.roles,
                define_role,
                define(&t, "Auditor Role", &["audit:read"])
            ),
            expect: Expect::Invalid(&["name"]),
        },
        Case {
            label: "define role: malformed tenant",
            call: call!(
                c.roles,
                define_role,
                define("t", "auditor", &["audit:read"])
            ),
            expect: Expect::Invalid(&["tenant_id"]),
        },
        Case {
            label: "get role: malformed id",
            call: call!(
                c.roles,
                get_role,
                pb::GetRoleRequest {
                    tenant_id: t.clone(),
                    role_id: "viewer".into(),
                    consistency_token: String::new(),
                }
            ),
            expect: Expect::Invalid(&["role_id"]),
        },
        Case {
            label: "get role: unknown id",
            call: call!(
                c.roles,
                get_role,
                pb::GetRoleRequest {
                    tenant_id: t.clone(),
                    role_id: unknown.clone(),
                    consistency_token: String::new(),
                }
            ),
            expect: Expect::NotFound,
        },
        Case {
            label: "list roles: bad consistency token",
            call: call!(
                c.roles,
                list_roles,
                pb::ListRolesRequest {
                    tenant_id: t.clone(),
                    consistency_token: "ct".into(),
                }
            ),
            expect: Expect::Invalid(&["consistency_token"]),
        },
        Case {
            label: "list roles: unknown tenant",
            call: call!(
                c.roles,
                list_roles,
                pb::ListRolesRequest {
                    tenant_id: unknown.clone(),
                    consistency_token: String::new(),
                }
            ),
            expect: Expect::NotFound,
        },
        Case {
            label: "update role: bad mask",
            call: call!(
                c.roles,
                update_role,
                pb::UpdateRoleRequest {
                    tenant_id: t.clone(),
                    role_id: r.clone(),
                    update_mask: mask(&["name"]),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["update_mask"]),
        },
        Case {
            label: "update role: malformed permission",
            call: call!(
                c.roles,
                update_role,
                pb::UpdateRoleRequest {
                    tenant_id: t.clone(),
                    role_id: r.clone(),
                    role: Some(pb::RoleUpdate {
                        description: String::new(),
                        permissions: vec!["invoice approve".into()],
                    }),
                    update_mask: mask(&["permissions"]),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["role.permissions[0]"]),
        },
        Case {
            label: "update role: empty permission set",
            call: call!(
                c.roles,
                update_role,
                pb::UpdateRoleRequest {
                    tenant_id: t.clone(),
                    role_id: r.clone(),
                    role: Some(pb::RoleUpdate::default()),
                    update_mask: mask(&["permissions"]),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["role.permissions"]),
        },
        Case {
            label: "delete role: unknown id",
            call: call!(
                c.roles,
                delete_role,
                pb::DeleteRoleRequest {
                    tenant_id: t.clone(),
                    role_id: unknown.clone(),
                    ..Default::default()
                }
            ),
            expect: Expect::NotFound,
        },
        // access
        Case {
            label: "check: wildcard permission",
            call: call!(c.access, check_permission, check(&t, &u, "team:*", None)),
            expect: Expect::Invalid(&["permission"]),
        },
        Case {
            label: "check: malformed permission, malformed user",
            call: call!(
                c.access,
                check_permission,
                check(&t, "u", "manage teams", None)
            ),
            expect: Expect::Invalid(&["user_id", "permission"]),
        },
        Case {
            label: "check: no permission",
            call: call!(c.access, check_permission, check(&t, &u, "", None)),
            expect: Expect::Invalid(&["permission"]),
        },
        Case {
            label: "check: malformed organization scope",
            call: call!(
                c.access,
                check_permission,
                check(&t, &u, "team:read", scope(org, "sales"))
            ),
            expect: Expect::Invalid(&["scope.id"]),
        },
        Case {
            label: "check: team scope without id",
            call: call!(
                c.access,
                check_permission,
                check(&t, &u, "team:read", scope(team, ""))
            ),
            expect: Expect::Invalid(&["scope.id"]),
        },
        Case {
            label: "check: unspecified scope kind",
            call: call!(
                c.access,
                check_permission,
                check(&t, &u, "team:read", scope(0, &o))
            ),
            expect: Expect::Invalid(&["scope.kind"]),
        },
        Case {
            label: "check: unknown user",
            call: call!(
                c.access,
                check_permission,
                check(&t, &unknown, "team:read", None)
            ),
            expect: Expect::NotFound,
        },
        Case {
            label: "check: unknown team",
            call: call!(
                c.access,
                check_permission,
                check(&t, &u, "team:read", scope(team, &unknown))
            ),
            expect: Expect::NotFound,
        },
        Case {
            label: "effective permissions: unknown scope kind, bad token",
            call: call!(
                c.access,
                list_effective_permissions,
                pb::ListEffectivePermissionsRequest {
                    tenant_id: t.clone(),
                    user_id: u.clone(),
                    scope: scope(12, ""),
                    consistency_token: "x".into(),
                }
            ),
            expect: Expect::Invalid(&["scope.kind", "consistency_token"]),
        },
        Case {
            label: "effective permissions: unknown user",
            call: call!(
                c.access,
                list_effective_permissions,
                pb::ListEffectivePermissionsRequest {
                    tenant_id: t.clone(),
                    user_id: unknown.clone(),
                    ..Default::default()
                }
            ),
            expect: Expect::NotFound,
        },
    ]
}
