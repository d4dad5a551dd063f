//! Organizations as `entityctl` shows them.

use entity_proto::v1 as pb;
use serde_json::{Value, json};

use super::{Resource, View, WriteAnswer, deleted_mark, enum_name, rfc3339, version_lines};

impl Resource for pb::Organization {
    const KIND: &'static str = "organization";

    fn id(&self) -> &str {
        &self.id
    }

    fn lines(&self) -> Vec<(&'static str, String)> {
        organization_lines(self)
    }

    fn to_json(&self) -> Value {
        organization_json(self)
    }

    fn row(&self) -> String {
        let parent = if self.parent_id.is_empty() {
            "-"
        } else {
            self.parent_id.as_str()
        };
        format!(
            "{}  depth {}  parent {}  {}{}",
            self.id,
            self.depth,
            parent,
            self.name,
            deleted_mark(self.status == pb::OrganizationStatus::Deleted as i32)
        )
    }
}

/// The answer to `org path`: the ancestors of an organization and itself, root first, each
/// line indented one step deeper than its parent's.
pub struct OrgPath(pub Vec<pb::Organization>);

impl View for OrgPath {
    fn text(&self) -> Vec<String> {
        self.0
            .iter()
            .enumerate()
            .map(|(i, o)| format!("{:indent$}{}  {}", "", o.id, o.name, indent = 2 * i))
            .collect()
    }

    fn json(&self) -> Value {
        json!({
            "organizations": self.0.iter().map(organization_json).collect::<Vec<_>>(),
        })
    }

    /// Root first, the organization itself last.
    fn ids(&self) -> Vec<String> {
        self.0.iter().map(|o| o.id.clone()).collect()
    }
}

impl WriteAnswer for pb::OrganizationResponse {
    type Resource = pb::Organization;

    fn resource(&self) -> Option<&pb::Organization> {
        self.organization.as_ref()
    }

    fn result(&self) -> Option<&pb::WriteResult> {
        self.result.as_ref()
    }
}

fn organization_lines(o: &pb::Organization) -> Vec<(&'static str, String)> {
    let mut out = vec![
        ("id", o.id.clone()),
        ("tenant_id", o.tenant_id.clone()),
        ("name", o.name.clone()),
        ("description", o.description.clone()),
        (
            "parent_id",
            if o.parent_id.is_empty() {
                "(root)".to_owned()
            } else {
                o.parent_id.clone()
            },
        ),
        ("depth", o.depth.to_string()),
        ("status", organization_status(o.status)),
    ];
    out.extend(version_lines(
        o.version,
        o.create_time.as_ref(),
        o.update_time.as_ref(),
    ));
    out
}

fn organization_json(o: &pb::Organization) -> Value {
    json!({
        "tenant_id": o.tenant_id,
        "id": o.id,
        "name": o.name,
        "description": o.description,
        "parent_id": (!o.parent_id.is_empty()).then_some(&o.parent_id),
        "depth": o.depth,
        "status": organization_status(o.status),
        "version": o.version,
        "create_time": o.create_time.as_ref().map(rfc3339),
        "update_time": o.update_time.as_ref().map(rfc3339),
    })
}

fn organization_status(v: i32) -> String {
    enum_name(
        v,
        "ORGANIZATION_STATUS_",
        pb::OrganizationStatus::try_from(v)
            .ok()
            .map(|e| e.as_str_name()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::entityctl::{
        args::Output,
        render::{Listed, Rendered, printed},
    };

    #[test]
    fn lists_print_rows_and_ids() {
        let org = |id: &str, parent: &str| pb::Organization {
            id: id.into(),
            parent_id: parent.into(),
            depth: 1,
            name: "N".into(),
            ..Default::default()
        };
        let page = || Listed::new(vec![org("o1", ""), org("o2", "o1")], String::new());
        assert_eq!(Rendered::new(page()).format(Output::Id), "o1\no2");
        let text = Rendered::new(page()).format(Output::Text);
        assert_eq!(
            text,
            "o1  depth 1  parent -  N\no2  depth 1  parent o1  N\n(2 organizations)"
        );
        let deleted = pb::Organization {
            status: pb::OrganizationStatus::Deleted as i32,
            ..org("o3", "")
        };
        assert_eq!(deleted.row(), "o3  depth 1  parent -  N  (deleted)");
    }

    #[test]
    fn paths_indent_root_first() {
        let org = |id: &str, name: &str| pb::Organization {
            id: id.into(),
            name: name.into(),
            ..Default::default()
        };
        let path = || {
            OrgPath(vec![
                org("o1", "Eng"),
                org("o2", "Platform"),
                org("o3", "Core"),
            ])
        };
        assert_eq!(
            printed(&path(), Output::Text),
            "o1  Eng\n  o2  Platform\n    o3  Core"
        );
        assert_eq!(Rendered::new(path()).format(Output::Id), "o1\no2\no3");
        assert_eq!(path().json()["organizations"][2]["id"], "o3");
    }
}
