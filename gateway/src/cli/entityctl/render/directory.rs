//! Directory records (departments, locations, contacts, partitions, partition groups) as
//! `entityctl` shows them: one [`Resource`] implementation over them all (`records!`), each
//! kind giving only its own fields and the end of its list row ([`Record`]).
//!
//! Text: `id`, `tenant_id`, `owner` (the client's id, or `tenant`), the kind's fields,
//! `active`, then the stamps. JSON: every field of the message, `client_id` and the other ids
//! (`location_id`, `group_id`, `parent_id`) null when empty. Row: `ID  ACTIVE|INACTIVE  OWNER
//! NAME` (contacts: `TYPE  NAME`).

use entity_proto::v1 as pb;
use serde_json::{Map, Value};

use super::{
    Resource, nonempty_or,
    tenant::{address_json, address_text},
};

write_answer!(pb::DepartmentResponse {
    department: pb::Department
});
write_answer!(pb::LocationResponse {
    location: pb::Location
});
write_answer!(pb::ContactResponse {
    contact: pb::Contact
});
write_answer!(pb::PartitionResponse {
    partition: pb::Partition
});
write_answer!(pb::PartitionGroupResponse {
    partition_group: pb::PartitionGroup
});

/// One field of a record, shown in text and JSON.
enum Field<'a> {
    /// Text, as it is.
    Text(&'a str),
    /// A yes/no.
    Flag(bool),
    /// Another entity's id; empty: none (`(none)` in text, null in JSON).
    Ref(&'a str),
    /// An address: one line in text, an object in JSON.
    Address(Option<&'a pb::Address>),
}

impl Field<'_> {
    fn text(&self) -> String {
        match self {
            Field::Text(s) => (*s).to_owned(),
            Field::Flag(b) => b.to_string(),
            Field::Ref(id) => nonempty_or(id, "(none)").to_owned(),
            Field::Address(a) => a.map(address_text).unwrap_or_default(),
        }
    }

    fn json(&self) -> Value {
        match self {
            Field::Text(s) => Value::from(*s),
            Field::Flag(b) => Value::from(*b),
            Field::Ref(id) => (!id.is_empty()).then_some(*id).into(),
            Field::Address(a) => a.map(address_json).into(),
        }
    }
}

/// What sets one kind of directory record apart.
trait Record {
    /// Its own fields, in order (the ones all kinds share aside).
    fn own_fields(&self) -> Vec<(&'static str, Field<'_>)>;
    /// The end of its list row.
    fn title(&self) -> String;
}

impl Record for pb::Department {
    fn own_fields(&self) -> Vec<(&'static str, Field<'_>)> {
        vec![
            ("name", Field::Text(&self.name)),
            ("code", Field::Text(&self.code)),
        ]
    }

    fn title(&self) -> String {
        self.name.clone()
    }
}

impl Record for pb::Location {
    fn own_fields(&self) -> Vec<(&'static str, Field<'_>)> {
        vec![
            ("name", Field::Text(&self.name)),
            ("address", Field::Address(self.address.as_ref())),
            ("headquarters", Field::Flag(self.headquarters)),
            ("code", Field::Text(&self.code)),
            ("website", Field::Text(&self.website)),
            ("phone", Field::Text(&self.phone)),
            ("email", Field::Text(&self.email)),
            ("notes", Field::Text(&self.notes)),
        ]
    }

    /// The name, then `(headquarters)` for the owner's headquarters.
    fn title(&self) -> String {
        if self.headquarters {
            format!("{}  (headquarters)", self.name)
        } else {
            self.name.clone()
        }
    }
}

impl Record for pb::Contact {
    fn own_fields(&self) -> Vec<(&'static str, Field<'_>)> {
        vec![
            ("type", Field::Text(&self.r#type)),
            ("name", Field::Text(&self.name)),
            ("email", Field::Text(&self.email)),
            ("phone", Field::Text(&self.phone)),
            ("location_id", Field::Ref(&self.location_id)),
        ]
    }

    /// The type, then the name.
    fn title(&self) -> String {
        format!("{}  {}", self.r#type, self.name)
    }
}

impl Record for pb::Partition {
    fn own_fields(&self) -> Vec<(&'static str, Field<'_>)> {
        vec![
            ("name", Field::Text(&self.name)),
            ("group_id", Field::Ref(&self.group_id)),
            ("description", Field::Text(&self.description)),
        ]
    }

    fn title(&self) -> String {
        self.name.clone()
    }
}

impl Record for pb::PartitionGroup {
    fn own_fields(&self) -> Vec<(&'static str, Field<'_>)> {
        vec![
            ("name", Field::Text(&self.name)),
            ("parent_id", Field::Ref(&self.parent_id)),
        ]
    }

    fn title(&self) -> String {
        self.name.clone()
    }
}

/// Implements [`Resource`] for directory records: `Message: "kind"`.
macro_rules! records {
    ($($record:ty: $kind:literal),* $(,)?) => {$(
        impl Resource for $record {
            const KIND: &'static str = $kind;

            id_and_stamps!();

            fn fields(&self) -> Vec<(&'static str, String)> {
                let mut out = vec![
                    ("tenant_id", self.tenant_id.clone()),
                    ("owner", owner(&self.client_id).to_owned()),
                ];
                out.extend(self.own_fields().iter().map(|(k, f)| (*k, f.text())));
                out.push(("active", self.active.to_string()));
                out
            }

            fn json_fields(&self) -> Value {
                let mut object = Map::new();
                let common = [
                    ("tenant_id", Field::Text(&self.tenant_id)),
                    ("id", Field::Text(&self.id)),
                    ("client_id", Field::Ref(&self.client_id)),
                ];
                let fields = common.into_iter().chain(self.own_fields());
                for (key, field) in fields.chain([("active", Field::Flag(self.active))]) {
                    object.insert(key.to_owned(), field.json());
                }
                Value::Object(object)
            }

            fn row(&self) -> String {
                format!(
                    "{}  {:<8}  {}  {}",
                    self.id,
                    if self.active { "active" } else { "inactive" },
                    owner(&self.client_id),
                    self.title()
                )
            }
        }
    )*};
}

records! {
    pb::Department: "department",
    pb::Location: "location",
    pb::Contact: "contact",
    pb::Partition: "partition",
    pb::PartitionGroup: "partition_group",
}

/// Who owns a record: its client's id, or `tenant`.
fn owner(client_id: &str) -> &str {
    nonempty_or(client_id, "tenant")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::entityctl::{
        args::Output,
        render::{Listed, One, Rendered, View, Written, printed},
    };

    fn stamped() -> Option<prost_types::Timestamp> {
        Some(prost_types::Timestamp {
            seconds: 1_900_000_000,
            nanos: 0,
        })
    }

    fn department() -> pb::Department {
        pb::Department {
            tenant_id: "t1".into(),
            id: "d1".into(),
            name: "Sales".into(),
            code: "S-1".into(),
            active: true,
            version: 1,
            create_time: stamped(),
            update_time: stamped(),
            ..Default::default()
        }
    }

    fn location() -> pb::Location {
        pb::Location {
            tenant_id: "t1".into(),
            id: "l1".into(),
            client_id: "c1".into(),
            name: "Headquarters".into(),
            address: Some(pb::Address {
                line1: "1 Rue de la Paix".into(),
                city: "Paris".into(),
                postal_code: "75002".into(),
                country: "FR".into(),
                ..Default::default()
            }),
            headquarters: true,
            website: "https://globex.test".into(),
            notes: "first floor\nleft".into(),
            active: true,
            version: 3,
            ..Default::default()
        }
    }

    fn contact() -> pb::Contact {
        pb::Contact {
            tenant_id: "t1".into(),
            id: "k1".into(),
            client_id: "c1".into(),
            r#type: "billing".into(),
            name: "Hank Scorpio".into(),
            email: "hank@globex.test".into(),
            phone: "+1 555 0100".into(),
            location_id: "l1".into(),
            active: false,
            version: 2,
            ..Default::default()
        }
    }

    fn partition() -> pb::Partition {
        pb::Partition {
            tenant_id: "t1".into(),
            id: "p1".into(),
            client_id: "c1".into(),
            name: "prod".into(),
            group_id: "g1".into(),
            description: "live data\nof Globex".into(),
            active: true,
            version: 4,
            ..Default::default()
        }
    }

    fn group() -> pb::PartitionGroup {
        pb::PartitionGroup {
            tenant_id: "t1".into(),
            id: "g1".into(),
            name: "Environments".into(),
            active: true,
            version: 1,
            ..Default::default()
        }
    }

    #[test]
    fn partitions_show_their_group_and_description() {
        assert_eq!(
            printed(&One(partition()), Output::Text),
            "id: p1\ntenant_id: t1\nowner: c1\nname: prod\ngroup_id: g1\n\
             description: live data\\nof Globex\nactive: true\nversion: 4\ncreated: \nupdated: "
        );
        assert_eq!(
            One(partition()).json(),
            serde_json::json!({
                "tenant_id": "t1",
                "id": "p1",
                "client_id": "c1",
                "name": "prod",
                "group_id": "g1",
                "description": "live data\nof Globex",
                "active": true,
                "version": 4,
                "create_time": null,
                "update_time": null,
            })
        );
        let loose = pb::Partition {
            group_id: String::new(),
            ..partition()
        };
        assert!(printed(&One(loose.clone()), Output::Text).contains("\ngroup_id: (none)\n"));
        assert_eq!(One(loose).json()["group_id"], Value::Null);
        assert_eq!(partition().row(), "p1  active    c1  prod");
    }

    #[test]
    fn partition_groups_show_their_parent() {
        assert_eq!(
            printed(&One(group()), Output::Text),
            "id: g1\ntenant_id: t1\nowner: tenant\nname: Environments\nparent_id: (none)\n\
             active: true\nversion: 1\ncreated: \nupdated: "
        );
        let json = One(group()).json();
        assert_eq!(
            (&json["parent_id"], &json["client_id"], &json["name"]),
            (&Value::Null, &Value::Null, &Value::from("Environments"))
        );
        let nested = pb::PartitionGroup {
            parent_id: "g0".into(),
            active: false,
            ..group()
        };
        assert_eq!(One(nested.clone()).json()["parent_id"], "g0");
        assert_eq!(nested.row(), "g1  inactive  tenant  Environments");
        let page = Listed::new(vec![group()], String::new());
        assert_eq!(
            printed(&page, Output::Text),
            "g1  active    tenant  Environments\n(1 partition_group)"
        );
        assert_eq!(page.json()["partition_groups"][0]["id"], "g1");
        let created = Written::new(
            "created",
            pb::PartitionGroupResponse {
                partition_group: Some(group()),
                result: None,
            },
        );
        assert!(
            printed(&created, Output::Text).starts_with("created partition_group g1\nid: g1\n")
        );
        assert_eq!(created.json()["partition_group"]["name"], "Environments");
        let deleted = Written::new(
            "deleted",
            pb::PartitionResponse {
                partition: Some(partition()),
                result: None,
            },
        );
        assert_eq!(deleted.json()["partition"]["group_id"], "g1");
    }

    #[test]
    fn departments_show_their_owner_and_fields() {
        assert_eq!(
            printed(&One(department()), Output::Text),
            "id: d1\ntenant_id: t1\nowner: tenant\nname: Sales\ncode: S-1\nactive: true\n\
             version: 1\ncreated: 2030-03-17T17:46:40Z\nupdated: 2030-03-17T17:46:40Z"
        );
        let json = One(department()).json();
        assert_eq!(
            json,
            serde_json::json!({
                "tenant_id": "t1",
                "id": "d1",
                "client_id": null,
                "name": "Sales",
                "code": "S-1",
                "active": true,
                "version": 1,
                "create_time": "2030-03-17T17:46:40Z",
                "update_time": "2030-03-17T17:46:40Z",
            })
        );
    }

    #[test]
    fn locations_show_their_address_on_one_line() {
        let text = printed(&One(location()), Output::Text);
        assert_eq!(
            text,
            "id: l1\ntenant_id: t1\nowner: c1\nname: Headquarters\n\
             address: 1 Rue de la Paix, Paris, 75002, FR\nheadquarters: true\ncode: \n\
             website: https://globex.test\nphone: \nemail: \nnotes: first floor\\nleft\n\
             active: true\nversion: 3\ncreated: \nupdated: "
        );
        let json = One(location()).json();
        assert_eq!(json["client_id"], "c1");
        assert_eq!(json["address"]["line1"], "1 Rue de la Paix");
        assert_eq!(json["address"]["line2"], "");
        assert_eq!(json["address"]["country"], "FR");
        assert_eq!(json["headquarters"], true);
        assert_eq!(json["notes"], "first floor\nleft");
        for key in [
            "code", "website", "phone", "email", "name", "active", "version",
        ] {
            assert!(json.get(key).is_some(), "{key}: {json}");
        }
        let bare = pb::Location {
            address: None,
            ..location()
        };
        assert_eq!(One(bare).json()["address"], Value::Null);
    }

    #[test]
    fn contacts_show_their_type_and_location() {
        let text = printed(&One(contact()), Output::Text);
        assert_eq!(
            text,
            "id: k1\ntenant_id: t1\nowner: c1\ntype: billing\nname: Hank Scorpio\n\
             email: hank@globex.test\nphone: +1 555 0100\nlocation_id: l1\nactive: false\n\
             version: 2\ncreated: \nupdated: "
        );
        let nowhere = pb::Contact {
            location_id: String::new(),
            ..contact()
        };
        assert!(printed(&One(nowhere.clone()), Output::Text).contains("\nlocation_id: (none)\n"));
        let json = One(nowhere).json();
        assert_eq!(json["location_id"], Value::Null);
        assert_eq!(json["type"], "billing");
        assert_eq!(json["email"], "hank@globex.test");
        assert_eq!(json["active"], false);
    }

    #[test]
    fn rows_name_the_owner_and_the_state() {
        assert_eq!(department().row(), "d1  active    tenant  Sales");
        assert_eq!(
            location().row(),
            "l1  active    c1  Headquarters  (headquarters)"
        );
        let branch = pb::Location {
            headquarters: false,
            name: "Lyon".into(),
            ..location()
        };
        assert_eq!(branch.row(), "l1  active    c1  Lyon");
        assert_eq!(contact().row(), "k1  inactive  c1  billing  Hank Scorpio");
        let page = Listed::new(vec![contact(), contact()], "p2".into());
        assert_eq!(
            printed(&page, Output::Text),
            "k1  inactive  c1  billing  Hank Scorpio\nk1  inactive  c1  billing  Hank Scorpio\n\
             (2 contacts; next page: --page-token p2)"
        );
        let json = Listed::new(vec![location()], String::new()).json();
        assert_eq!(json["locations"][0]["id"], "l1");
        assert_eq!(json["next_page_token"], "");
        let json = Listed::new(vec![department()], String::new()).json();
        assert_eq!(json["departments"][0]["name"], "Sales");
    }

    #[test]
    fn write_answers_carry_the_record() {
        let answer = pb::ContactResponse {
            contact: Some(contact()),
            result: Some(pb::WriteResult {
                version: 2,
                consistency_token: "ct1.1.2".into(),
                replayed: false,
            }),
        };
        let written = Written::new("updated", answer);
        let text = printed(&written, Output::Text);
        assert!(
            text.starts_with("updated contact k1 (version 2, consistency token ct1.1.2)\nid: k1\n"),
            "{text}"
        );
        assert_eq!(written.json()["contact"]["phone"], "+1 555 0100");
        assert_eq!(written.json()["result"]["version"], 2);
        assert_eq!(Rendered::new(written).format(Output::Id), "k1");
        let created = Written::new(
            "created",
            pb::DepartmentResponse {
                department: Some(department()),
                result: None,
            },
        );
        assert!(printed(&created, Output::Text).starts_with("created department d1\n"));
        let located = Written::new(
            "deleted",
            pb::LocationResponse {
                location: Some(location()),
                result: None,
            },
        );
        assert_eq!(located.json()["location"]["headquarters"], true);
    }
}
