//! Bad TeamService input.

use super::*;

pub(super) fn cases(c: &Clients, f: &Fixtures) -> Vec<Case> {
    let unknown = uuid::Uuid::now_v7().to_string();
    let (t, o, tm, u) = (
        f.tenant.clone(),
        f.org.clone(),
        f.team.clone(),
        f.user.clone(),
    );
    vec![
        Case {
            label: "create team: malformed tenant and organization",
            call: call!(
                c.teams,
                create_team,
                pb::CreateTeamRequest {
                    tenant_id: "t".into(),
                    organization_id: "o".into(),
                    name: "N".into(),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["tenant_id", "organization_id"]),
        },
        Case {
            label: "create team: no organization",
            call: call!(
                c.teams,
                create_team,
                pb::CreateTeamRequest {
                    tenant_id: t.clone(),
                    name: "N".into(),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["organization_id"]),
        },
        Case {
            label: "create team: empty name",
            call: call!(
                c.teams,
                create_team,
                pb::CreateTeamRequest {
                    tenant_id: t.clone(),
                    organization_id: o.clone(),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["name"]),
        },
        Case {
            label: "create team: unknown organization",
            call: call!(
                c.teams,
                create_team,
                pb::CreateTeamRequest {
                    tenant_id: t.clone(),
                    organization_id: unknown.clone(),
                    name: "N".into(),
                    ..Default::default()
                }
            ),
            expect: Expect::NotFound,
        },
        Case {
            label: "get team: malformed id",
            call: call!(
                c.teams,
                get_team,
                pb::GetTeamRequest {
                    tenant_id: t.clone(),
                    team_id: "x".into(),
                    consistency_token: String::new(),
                }
            ),
            expect: Expect::Invalid(&["team_id"]),
        },
        Case {
            label: "get team: unknown id",
            call: call!(
                c.teams,
                get_team,
                pb::GetTeamRequest {
                    tenant_id: t.clone(),
                    team_id: unknown.clone(),
                    consistency_token: String::new(),
                }
            ),
            expect: Expect::NotFound,
        },
        Case {
            label: "list teams: malformed organization, negative page size, bad token",
            call: call!(
                c.teams,
                list_teams,
                pb::ListTeamsRequest {
                    tenant_id: t.clone(),
                    organization_id: "o".into(),
                    page_size: -1,
                    consistency_token: "nope".into(),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["organization_id", "consistency_token", "page_size"]),
        },
        Case {
            label: "list teams: tampered page token",
            call: call!(
                c.teams,
                list_teams,
                pb::ListTeamsRequest {
                    tenant_id: t.clone(),
                    page_token: "00ff".into(),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["page_token"]),
        },
        Case {
            label: "list teams: unknown organization",
            call: call!(
                c.teams,
                list_teams,
                pb::ListTeamsRequest {
                    tenant_id: t.clone(),
                    organization_id: unknown.clone(),
                    ..Default::default()
                }
            ),
            expect: Expect::NotFound,
        },
        Case {
            label: "update team: bad mask",
            call: call!(
                c.teams,
                update_team,
                pb::UpdateTeamRequest {
                    tenant_id: t.clone(),
                    team_id: tm.clone(),
                    update_mask: mask(&["organization_id"]),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["update_mask"]),
        },
        Case {
            label: "update team: no mask",
            call: call!(
                c.teams,
                update_team,
                pb::UpdateTeamRequest {
                    tenant_id: t.clone(),
                    team_id: tm.clone(),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["update_mask"]),
        },
        Case {
            label: "update team: empty name",
            call: call!(
                c.teams,
                update_team,
                pb::UpdateTeamRequest {
                    tenant_id: t.clone(),
                    team_id: tm.clone(),
                    team: Some(pb::TeamUpdate::default()),
                    update_mask: mask(&["name"]),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["team.name"]),
        },
        Case {
            label: "delete team: unknown id",
            call: call!(
                c.teams,
                delete_team,
                pb::DeleteTeamRequest {
                    tenant_id: t.clone(),
                    team_id: unknown.clone(),
                    ..Default::default()
                }
            ),
            expect: Expect::NotFound,
        },
        Case {
            label: "add member: malformed user, unknown team role",
            call: call!(
                c.teams,
                add_team_member,
                pb::AddTeamMemberRequest {
                    tenant_id: t.clone(),
                    team_id: tm.clone(),
                    user_id: "u".into(),
                    role: 9,
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["user_id", "role"]),
        },
        Case {
            label: "add member: unknown user",
            call: call!(
                c.teams,
                add_team_member,
                pb::AddTeamMemberRequest {
                    tenant_id: t.clone(),
                    team_id: tm.clone(),
                    user_id: unknown.clone(),
                    ..Default::default()
                }
            ),
            expect: Expect::NotFound,
        },
        Case {
            label: "add member: unknown team",
            call: call!(
                c.teams,
                add_team_member,
                pb::AddTeamMemberRequest {
                    tenant_id: t.clone(),
                    team_id: unknown.clone(),
                    user_id: u.clone(),
                    ..Default::default()
                }
            ),
            expect: Expect::NotFound,
        },
        Case {
            label: "remove member: malformed team, no user",
            call: call!(
                c.teams,
                remove_team_member,
                pb::RemoveTeamMemberRequest {
                    tenant_id: t.clone(),
                    team_id: "x".into(),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["team_id", "user_id"]),
        },
    ]
}
