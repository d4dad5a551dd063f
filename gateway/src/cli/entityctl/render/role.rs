//! Roles as `entityctl` shows them.

use entity_proto::v1 as pb;
use serde_json::{Value, json};

use super::{Resource, WriteAnswer, enum_name, list_text, pad, rfc3339, version_lines};

impl Resource for pb::Role {
    const KIND: &'static str = "role";

    /// Built-in roles have no id: they are named by their name.
    fn id(&self) -> &str {
        if self.id.is_empty() {
            &self.name
        } else {
            &self.id
        }
    }

    fn lines(&self) -> Vec<(&'static str, String)> {
        let mut out = vec![
            ("id", self.id().to_owned()),
            ("name", self.name.clone()),
            (
                "kind",
                if self.builtin { "built-in" } else { "custom" }.to_owned(),
            ),
            ("description", self.description.clone()),
            ("permissions", list_text(&self.permissions)),
        ];
        if !self.except_permissions.is_empty() {
            out.push(("except", list_text(&self.except_permissions)));
        }
        out.push(("status", role_status(self.status)));
        if !self.builtin {
            out.extend(version_lines(
                self.version,
                self.create_time.as_ref(),
                self.update_time.as_ref(),
            ));
        }
        out
    }

    fn to_json(&self) -> Value {
        json!({
            "tenant_id": self.tenant_id,
            "id": (!self.id.is_empty()).then_some(&self.id),
            "name": self.name,
            "description": self.description,
            "permissions": self.permissions,
            "except_permissions": self.except_permissions,
            "builtin": self.builtin,
            "status": role_status(self.status),
            "version": self.version,
            "create_time": self.create_time.as_ref().map(rfc3339),
            "update_time": self.update_time.as_ref().map(rfc3339),
        })
    }

    fn row(&self) -> String {
        let kind = if self.builtin { "built-in" } else { "custom" };
        let except = if self.except_permissions.is_empty() {
            String::new()
        } else {
            format!(" except {}", self.except_permissions.join(", "))
        };
        let id = if self.builtin { "-" } else { self.id.as_str() };
        format!(
            "{}  {kind:<8}  {id}  {}{except}",
            pad(&self.name, 14),
            self.permissions.join(", ")
        )
    }
}

impl WriteAnswer for pb::RoleResponse {
    type Resource = pb::Role;

    fn resource(&self) -> Option<&pb::Role> {
        self.role.as_ref()
    }

    fn result(&self) -> Option<&pb::WriteResult> {
        self.result.as_ref()
    }
}

fn role_status(v: i32) -> String {
    enum_name(
        v,
        "ROLE_STATUS_",
        pb::RoleStatus::try_from(v).ok().map(|e| e.as_str_name()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_are_named_by_name() {
        let admin = pb::Role {
            name: "tenant-admin".into(),
            permissions: vec!["*".into()],
            except_permissions: vec!["billing:*".into(), "tenant:delete".into()],
            builtin: true,
            status: pb::RoleStatus::Active as i32,
            ..Default::default()
        };
        assert_eq!(admin.id(), "tenant-admin");
        assert_eq!(
            admin.row(),
            "tenant-admin    built-in  -  * except billing:*, tenant:delete"
        );
        assert_eq!(admin.to_json()["id"], Value::Null);
        assert!(!admin.lines().iter().any(|(k, _)| *k == "version"));
    }
}
