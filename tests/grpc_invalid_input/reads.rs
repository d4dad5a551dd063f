//! Bad input to the read-model RPCs (lists, the organization path, the audit trail) and the
//! admin RPCs.

use super::*;

pub(super) fn cases(c: &Clients, f: &Fixtures) -> Vec<Case> {
    let unknown = uuid::Uuid::now_v7().to_string();
    let (t, o, team) = (f.tenant.clone(), f.org.clone(), f.team.clone());
    vec![
        Case {
            label: "list tenants: unknown status and plan, garbage page token",
            call: call!(
                c.tenants,
                list_tenants,
                pb::ListTenantsRequest {
                    status: 99,
                    plan: 42,
                    page_token: "garbage".into(),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["status", "plan", "page_token"]),
        },
        Case {
            label: "list orgs: two selections at once",
            call: call!(
                c.orgs,
                list_organizations,
                pb::ListOrganizationsRequest {
                    tenant_id: t.clone(),
                    parent_id: o.clone(),
                    roots_only: true,
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["parent_id"]),
        },
        Case {
            label: "list orgs: descendants of an unknown organization",
            call: call!(
                c.orgs,
                list_organizations,
                pb::ListOrganizationsRequest {
                    tenant_id: t.clone(),
                    descendants_of: unknown.clone(),
                    ..Default::default()
                }
            ),
            expect: Expect::NotFound,
        },
        Case {
            label: "organization path: malformed id",
            call: call!(
                c.orgs,
                get_organization_path,
                pb::GetOrganizationPathRequest {
                    tenant_id: t.clone(),
                    organization_id: "o".into(),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["organization_id"]),
        },
        Case {
            label: "organization path: unknown organization",
            call: call!(
                c.orgs,
                get_organization_path,
                pb::GetOrganizationPathRequest {
                    tenant_id: t.clone(),
                    organization_id: unknown.clone(),
                    ..Default::default()
                }
            ),
            expect: Expect::NotFound,
        },
        Case {
            label: "team members: both a team and a user",
            call: call!(
                c.teams,
                list_team_members,
                pb::ListTeamMembersRequest {
                    tenant_id: t.clone(),
                    team_id: team.clone(),
                    user_id: unknown.clone(),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["team_id"]),
        },
        Case {
            label: "team members: a page token of another query",
            call: call!(
                c.teams,
                list_team_members,
                pb::ListTeamMembersRequest {
                    tenant_id: t.clone(),
                    team_id: team.clone(),
                    page_token: "pt1.7b2271223a2278222c226b223a5b5d7d".into(),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["page_token"]),
        },
        Case {
            label: "role assignments: a scope without a kind",
            call: call!(
                c.users,
                list_role_assignments,
                pb::ListRoleAssignmentsRequest {
                    tenant_id: t.clone(),
                    scope: Some(pb::Scope {
                        kind: 0,
                        id: o.clone(),
                    }),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["scope.kind"]),
        },
        Case {
            label: "audit: both an entity and an actor",
            call: call!(
                c.audit,
                list_audit_events,
                pb::ListAuditEventsRequest {
                    tenant_id: t.clone(),
                    entity: Some(pb::EntityRef {
                        kind: pb::EntityKind::Organization as i32,
                        id: o.clone(),
                    }),
                    actor: "someone".into(),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["actor"]),
        },
        Case {
            label: "audit: unknown entity kind, malformed id, bad time",
            call: call!(
                c.audit,
                list_audit_events,
                pb::ListAuditEventsRequest {
                    tenant_id: t.clone(),
                    entity: Some(pb::EntityRef {
                        kind: 77,
                        id: "x".into(),
                    }),
                    start_time: Some(prost_types::Timestamp {
                        seconds: 0,
                        nanos: -5,
                    }),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["entity.kind", "entity.id", "start_time"]),
        },
        Case {
            label: "audit: end before start",
            call: call!(
                c.audit,
                list_audit_events,
                pb::ListAuditEventsRequest {
                    tenant_id: t.clone(),
                    start_time: Some(prost_types::Timestamp {
                        seconds: 2_000_000_000,
                        nanos: 0,
                    }),
                    end_time: Some(prost_types::Timestamp {
                        seconds: 1_000_000_000,
                        nanos: 0,
                    }),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&[]),
        },
        Case {
            label: "rebuild: no projection name",
            call: call!(
                c.admin,
                rebuild_projection,
                pb::RebuildProjectionRequest::default()
            ),
            expect: Expect::Invalid(&["name"]),
        },
        Case {
            label: "rebuild: unknown projection",
            call: call!(
                c.admin,
                rebuild_projection,
                pb::RebuildProjectionRequest {
                    name: "no-such-projection".into()
                }
            ),
            expect: Expect::NotFound,
        },
    ]
}
