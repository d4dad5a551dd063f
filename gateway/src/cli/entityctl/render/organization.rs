//! Organizations as `entityctl` shows them.

use entity_proto::v1 as pb;
use serde_json::{Value, json};

use super::{Resource, View, deleted_mark, label, nonempty_or, resource_json};

write_answer!(pb::OrganizationResponse {
    organization: pb::Organization
});
labels! { pb::OrganizationStatus: "ORGANIZATION_STATUS_" }

impl Resource for pb::Organization {
    const KIND: &'static str = "organization";

    id_and_stamps!();

    fn fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("tenant_id", self.tenant_id.clone()),
            ("name", self.name.clone()),
            ("description", self.description.clone()),
            (
                "parent_id",
                nonempty_or(&self.parent_id, "(root)").to_owned(),
            ),
            ("depth", self.depth.to_string()),
            ("status", label::<pb::OrganizationStatus>(self.status)),
        ]
    }

    fn json_fields(&self) -> Value {
        json!({
            "tenant_id": self.tenant_id,
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "parent_id": (!self.parent_id.is_empty()).then_some(&self.parent_id),
            "depth": self.depth,
            "status": label::<pb::OrganizationStatus>(self.status),
        })
    }

    fn row(&self) -> String {
        format!(
            "{}  depth {}  parent {}  {}{}",
            self.id,
            self.depth,
            nonempty_or(&self.parent_id, "-"),
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
            "organizations": self.0.iter().map(resource_json).collect::<Vec<_>>(),
        })
    }

    /// Root first, the organization itself last.
    fn ids(&self) -> Vec<String> {
        self.0.iter().map(|o| o.id.clone()).collect()
    }
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
