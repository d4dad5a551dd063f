//! Teams as `entityctl` shows them.

use entity_proto::v1 as pb;
use serde_json::{Value, json};

use super::{Resource, View, deleted_mark, label, list_text, page_line};

write_answer!(pb::TeamResponse { team: pb::Team });
labels! { pb::TeamRole: "TEAM_ROLE_", pb::TeamStatus: "TEAM_STATUS_" }

impl Resource for pb::Team {
    const KIND: &'static str = "team";

    id_and_stamps!();

    fn fields(&self) -> Vec<(&'static str, String)> {
        let members: Vec<String> = self
            .members
            .iter()
            .map(|m| format!("{} ({})", m.user_id, label::<pb::TeamRole>(m.role)))
            .collect();
        vec![
            ("tenant_id", self.tenant_id.clone()),
            ("organization_id", self.organization_id.clone()),
            ("name", self.name.clone()),
            ("description", self.description.clone()),
            ("members", list_text(&members)),
            ("status", label::<pb::TeamStatus>(self.status)),
        ]
    }

    fn json_fields(&self) -> Value {
        json!({
            "tenant_id": self.tenant_id,
            "id": self.id,
            "organization_id": self.organization_id,
            "name": self.name,
            "description": self.description,
            "members": self.members.iter().map(|m| json!({
                "user_id": m.user_id,
                "role": label::<pb::TeamRole>(m.role),
            })).collect::<Vec<_>>(),
            "status": label::<pb::TeamStatus>(self.status),
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
                    label::<pb::TeamRole>(m.role)
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
                "role": label::<pb::TeamRole>(m.role),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::entityctl::{
        args::Output,
        render::{One, printed},
    };

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
        assert!(team.fields().contains(&("members", "u1 (lead)".to_owned())));
        let json = One(team.clone()).json();
        assert_eq!(json["members"][0]["role"], "lead");
        assert_eq!(json["status"], "active");
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
