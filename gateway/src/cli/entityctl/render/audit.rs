//! Audit events as `entityctl` shows them.

use entity_proto::v1 as pb;
use prost_types::value::Kind;
use serde_json::{Map, Value, json};

use super::{Resource, label, nonempty_or, rfc3339};

labels! { pb::EntityKind: "ENTITY_KIND_" }

impl Resource for pb::AuditEvent {
    const KIND: &'static str = "event";

    fn id(&self) -> &str {
        &self.id
    }

    fn fields(&self) -> Vec<(&'static str, String)> {
        let actor = self.actor.clone().unwrap_or_default();
        let payload = self
            .payload
            .as_ref()
            .map_or(Value::Null, struct_json)
            .to_string();
        vec![
            ("tenant_id", self.tenant_id.clone()),
            ("entity", entity_text(self.entity.as_ref())),
            ("version", self.version.to_string()),
            ("event_type", self.event_type.clone()),
            ("time", self.time.as_ref().map(rfc3339).unwrap_or_default()),
            ("actor", actor_text(&actor)),
            ("credential", credential_text(&actor)),
            ("request_id", self.request_id.clone()),
            ("trace_id", self.trace_id.clone()),
            ("payload", payload),
        ]
    }

    fn json_fields(&self) -> Value {
        json!({
            "id": self.id,
            "tenant_id": self.tenant_id,
            "entity": self.entity.as_ref().map(|e| json!({
                "kind": label::<pb::EntityKind>(e.kind),
                "id": e.id,
            })),
            "version": self.version,
            "event_type": self.event_type,
            "time": self.time.as_ref().map(rfc3339),
            "actor": self.actor.as_ref().map(|a| json!({
                "subject": a.subject,
                "on_behalf_of": (!a.on_behalf_of.is_empty()).then_some(&a.on_behalf_of),
                "credential_kind": a.credential_kind,
                "credential_id": (!a.credential_id.is_empty()).then_some(&a.credential_id),
            })),
            "request_id": (!self.request_id.is_empty()).then_some(&self.request_id),
            "trace_id": (!self.trace_id.is_empty()).then_some(&self.trace_id),
            "payload": self.payload.as_ref().map(struct_json),
        })
    }

    /// `TIME  KIND:ID  vN  EVENT_TYPE  by ACTOR`.
    fn row(&self) -> String {
        format!(
            "{}  {}  v{}  {}  by {}",
            self.time.as_ref().map(rfc3339).unwrap_or_default(),
            entity_text(self.entity.as_ref()),
            self.version,
            self.event_type,
            actor_text(&self.actor.clone().unwrap_or_default())
        )
    }
}

/// `KIND:ID`, e.g. `organization:o1`.
fn entity_text(entity: Option<&pb::EntityRef>) -> String {
    entity.map_or_else(
        || "-".to_owned(),
        |e| format!("{}:{}", label::<pb::EntityKind>(e.kind), e.id),
    )
}

/// `SUBJECT` or `SUBJECT on behalf of OTHER`.
fn actor_text(a: &pb::AuditActor) -> String {
    let subject = nonempty_or(&a.subject, "-");
    if a.on_behalf_of.is_empty() {
        subject.to_owned()
    } else {
        format!("{subject} on behalf of {}", a.on_behalf_of)
    }
}

/// `KIND` or `KIND ID` (`jwt tok-1`).
fn credential_text(a: &pb::AuditActor) -> String {
    if a.credential_id.is_empty() {
        a.credential_kind.clone()
    } else {
        format!("{} {}", a.credential_kind, a.credential_id)
    }
}

/// A `google.protobuf.Struct` as the JSON object it stands for.
pub(super) fn struct_json(s: &prost_types::Struct) -> Value {
    Value::Object(
        s.fields
            .iter()
            .map(|(k, v)| (k.clone(), value_json(v)))
            .collect::<Map<_, _>>(),
    )
}

/// A `google.protobuf.Value` as JSON; whole numbers print without a fraction.
fn value_json(v: &prost_types::Value) -> Value {
    match &v.kind {
        None | Some(Kind::NullValue(_)) => Value::Null,
        Some(Kind::BoolValue(b)) => Value::Bool(*b),
        Some(Kind::StringValue(s)) => Value::String(s.clone()),
        Some(Kind::NumberValue(n)) => {
            // Exactly representable integers (|n| < 2^53) print as integers.
            if n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 {
                json!(*n as i64)
            } else {
                serde_json::Number::from_f64(*n).map_or(Value::Null, Value::Number)
            }
        }
        Some(Kind::StructValue(s)) => struct_json(s),
        Some(Kind::ListValue(l)) => Value::Array(l.values.iter().map(value_json).collect()),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::cli::entityctl::{
        args::Output,
        render::{Listed, One, Rendered, View, printed},
    };

    fn value(kind: Kind) -> prost_types::Value {
        prost_types::Value { kind: Some(kind) }
    }

    fn event() -> pb::AuditEvent {
        let nested = prost_types::Struct {
            fields: BTreeMap::from([("country".to_owned(), value(Kind::StringValue("FR".into())))]),
        };
        pb::AuditEvent {
            id: "o1:2".into(),
            tenant_id: "t1".into(),
            entity: Some(pb::EntityRef {
                kind: pb::EntityKind::Organization as i32,
                id: "o1".into(),
            }),
            version: 2,
            event_type: "OrganizationRenamed".into(),
            time: Some(prost_types::Timestamp {
                seconds: 1_700_000_000,
                nanos: 0,
            }),
            actor: Some(pb::AuditActor {
                subject: "u1".into(),
                on_behalf_of: "svc".into(),
                credential_kind: "jwt".into(),
                credential_id: "tok-1".into(),
            }),
            request_id: "r1".into(),
            trace_id: String::new(),
            payload: Some(prost_types::Struct {
                fields: BTreeMap::from([
                    ("name".to_owned(), value(Kind::StringValue("Sales".into()))),
                    ("depth".to_owned(), value(Kind::NumberValue(3.0))),
                    ("ratio".to_owned(), value(Kind::NumberValue(0.5))),
                    ("gone".to_owned(), value(Kind::NullValue(0))),
                    ("address".to_owned(), value(Kind::StructValue(nested))),
                    (
                        "tags".to_owned(),
                        value(Kind::ListValue(prost_types::ListValue {
                            values: vec![value(Kind::BoolValue(true))],
                        })),
                    ),
                ]),
            }),
        }
    }

    #[test]
    fn events_read_as_one_line_each() {
        let page = || Listed::new(vec![event()], "n2".into());
        assert_eq!(
            Rendered::new(page()).format(Output::Text),
            "2023-11-14T22:13:20Z  organization:o1  v2  OrganizationRenamed  by u1 on behalf \
             of svc\n(1 event; next page: --page-token n2)"
        );
        assert_eq!(Rendered::new(page()).format(Output::Id), "o1:2");
        assert_eq!(page().json()["events"][0]["entity"]["kind"], "organization");
        assert_eq!(page().json()["next_page_token"], "n2");
    }

    #[test]
    fn payloads_are_json_objects() {
        let v = One(event()).json();
        assert_eq!(
            v["payload"],
            json!({
                "name": "Sales",
                "depth": 3,
                "ratio": 0.5,
                "gone": null,
                "address": {"country": "FR"},
                "tags": [true],
            })
        );
        assert_eq!(v["actor"]["credential_id"], "tok-1");
        assert_eq!(v["trace_id"], Value::Null);
        let text = printed(&One(event()), Output::Text);
        assert!(text.contains("\ncredential: jwt tok-1\n"), "{text}");
        assert!(text.contains("\"depth\":3"), "{text}");
    }
}
