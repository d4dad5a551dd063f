//! Teams as `entityctl` shows them.

use entity_proto::v1 as pb;
use serde_json::{Value, json};

use super::{
    Resource, View, WriteAnswer, deleted_mark, enum_name, list_text, page_line, rfc3339,
    version_lines,
};

impl Resource for pb::Team {
    const KIND: &'static str = "team";

    fn id(&self) -> &str {
        &self.id
    }

    fn lines(&self) -> Vec<(&'static str, String)> {
        let members: Vec<String> = self
            .members
            .iter()
            .map(|m| format!("{} ({})", m.user_id, team_role(m.role)))
            .collect();
        let mut out = vec![
            ("id", self.id.clone()),
            ("tenant_id", self.tenant_id.clone()),
            ("organization_id", self.organization_id.clone()),
            ("name", self.name.clone()),
            ("description", self.description.clone()),
            ("members", list_text(&members)),
            ("status", team_status(self.status)),
        ];
        out.extend(version_lines(
            self.version,
            self.create_time.as_ref(),
            self.update_time.as_ref(),
        ));
        out
    }

    fn to_json(&self) -> Value {
        json!({
            "tenant_id": self.tenant_id,
            "id": self.id,
            "organization_id": self.organization_id,
            "name": self.name,
            "description": self.description,
            "members": self.members.iter().map(|m| json!({
                "user_id": m.user_id,
                "role": team_role(m.role),
            })).collect::<Vec<_>>(),
            "status": team_status(self.status),
            "version": self.version,
            "create_time": self.create_time.as_ref().map(rfc3339),
            "update_time": self.update_time.as_ref().map(rfc3339),
        })
    }

    /// Listings leave `members` unset (`team members` lists them), so rows do not count them.
    fn row(&self) -> String {
        format!(
            "{}  org {}  {}{}",
            self.id,
            self.organization_id,
            self.name,
            deleted_mark(self.status == pb::TeamStatus::Deleted as i32)
        )
    }
}

/// The answer to `team members`: one `TEAM  USER  ROLE` row per membership.
pub struct Memberships {
    /// The memberships, by (team, user).
    pub memberships: Vec<pb::TeamMembership>,
    /// Token of the next page ("" on the last page).
    pub next_page_token: String,
    /// Whether they are one user's (ids are then team ids; else user ids).
    pub of_user: bool,
}

impl View for Memberships {
    fn text(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .memberships
            .iter()
            .map(|m| {
                format!(
                    "team {}  user {}  {}",
                    m.team_id,
                    m.user_id,
                    team_role(m.role)
                )
            })
            .collect();
        out.push(page_line(
            self.memberships.len(),
            "membership",
            &self.next_page_token,
        ));
        out
    }

    fn json(&self) -> Value {
        json!({
            "memberships": self.memberships.iter().map(|m| json!({
                "team_id": m.team_id,
                "user_id": m.user_id,
                "role": team_role(m.role),
            })).collect::<Vec<_>>(),
            "next_page_token": self.next_page_token,
        })
    }

    /// The user's teams, or the team's members.
    fn ids(&self) -> Vec<String> {
        self.memberships
            .iter()
            .map(|m| {
                if self.of_user {
                    m.team_id.clone()
                } else {
                    m.user_id.clone()
                }
            })
            .collect()
    }
}

impl WriteAnswer for pb::TeamResponse {
    type Resource = pb::Team;

    fn resource(&self) -> Option<&pb::Team> {
        self.team.as_ref()
    }

    fn result(&self) -> Option<&pb::WriteResult> {
        self.result.as_ref()
    }
}

fn team_role(v: i32) -> String {
    enum_name(
        v,
        "TEAM_ROLE_",
        pb::TeamRole::try_from(v).ok().map(|e| e.as_str_name()),
    )
}

fn team_status(v: i32) -> String {
    enum_name(
        v,
        "TEAM_STATUS_",
        pb::TeamStatus::try_from(v).ok().map(|e| e.as_str_name()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::entityctl::{args::Output, render::printed};

    #[test]
    fn members_show_their_team_role() {
        let team = pb::Team {
            id: "t1".into(),
            members: vec![pb::TeamMember {
                user_id: "u1".into(),
                role: pb::TeamRole::Lead as i32,
            }],
            status: pb::TeamStatus::Active as i32,
            ..Default::default()
        };
        assert!(team.lines().contains(&("members", "u1 (lead)".to_owned())));
        assert_eq!(team.to_json()["members"][0]["role"], "lead");
        assert_eq!(team.to_json()["status"], "active");
        let deleted = pb::Team {
            organization_id: "o1".into(),
            name: "Core".into(),
            status: pb::TeamStatus::Deleted as i32,
            ..team
        };
        assert_eq!(deleted.row(), "t1  org o1  Core  (deleted)");
    }

    #[test]
    fn memberships_list_rows_and_the_other_side_ids() {
        let m = |team: &str, user: &str, role: pb::TeamRole| pb::TeamMembership {
            team_id: team.into(),
            user_id: user.into(),
            role: role as i32,
        };
        let of_team = Memberships {
            memberships: vec![
                m("t1", "u1", pb::TeamRole::Lead),
                m("t1", "u2", pb::TeamRole::Member),
            ],
            next_page_token: "n".into(),
            of_user: false,
        };
        assert_eq!(
            printed(&of_team, Output::Text),
            "team t1  user u1  lead\nteam t1  user u2  member\n\
             (2 memberships; next page: --page-token n)"
        );
        assert_eq!(of_team.ids(), ["u1", "u2"]);
        assert_eq!(of_team.json()["memberships"][0]["role"], "lead");
        assert_eq!(of_team.json()["next_page_token"], "n");
        let of_user = Memberships {
            memberships: vec![m("t1", "u1", pb::TeamRole::Member)],
            next_page_token: String::new(),
            of_user: true,
        };
        assert_eq!(of_user.ids(), ["t1"]);
    }
}
