//! Teams as `entityctl` shows them.

use entity_proto::v1 as pb;
use serde_json::{Value, json};

use super::{Resource, WriteAnswer, enum_name, list_text, rfc3339, version_lines};

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

    fn row(&self) -> String {
        let plural = if self.members.len() == 1 { "" } else { "s" };
        format!(
            "{}  org {}  {} member{plural}  {}",
            self.id,
            self.organization_id,
            self.members.len(),
            self.name
        )
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
    }
}
