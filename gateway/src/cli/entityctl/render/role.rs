//! Roles as `entityctl` shows them.

use entity_proto::v1 as pb;
use serde_json::{Value, json};

use super::{Resource, Stamps, label, list_text, pad, rfc3339};

write_answer!(pb::RoleResponse { role: pb::Role });
labels! { pb::RoleStatus: "ROLE_STATUS_" }

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

    /// Built-in roles have none in their text (their JSON has version 0 and no times).
    fn stamps(&self) -> Option<Stamps<'_>> {
        (!self.builtin).then_some((
            self.version,
            self.create_time.as_ref(),
            self.update_time.as_ref(),
        ))
    }

    fn fields(&self) -> Vec<(&'static str, String)> {
        let mut out = vec![
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
        out.push(("status", label::<pb::RoleStatus>(self.status)));
        out
    }

    fn json_fields(&self) -> Value {
        json!({
            "tenant_id": self.tenant_id,
            "id": (!self.id.is_empty()).then_some(&self.id),
            "name": self.name,
            "description": self.description,
            "permissions": self.permissions,
            "except_permissions": self.except_permissions,
            "builtin": self.builtin,
            "status": label::<pb::RoleStatus>(self.status),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::entityctl::{
        args::Output,
        render::{One, View, printed},
    };

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
        let json = One(admin.clone()).json();
        assert_eq!((&json["id"], &json["version"]), (&Value::Null, &json!(0)));
        let text = printed(&One(admin), Output::Text);
        assert!(text.starts_with("id: tenant-admin\n"), "{text}");
        assert!(!text.contains("version"), "{text}");
    }
}
