//! The CloudEvents binary-content-mode mapping of one journal event (see the table in the
//! module doc).

use chrono::SecondsFormat;
use engine::{
    domain::{StreamId, StreamKind, TenantId},
    journal::RecordedEvent,
    telemetry::trace::TraceParent,
};
use rdkafka::{
    message::{Header, OwnedHeaders},
    producer::FutureRecord,
};
use serde_json::json;

use super::format::{Encoded, Encoding};
use crate::{Envelope, Error, Result};

/// `ce_id` of an event: `<stream uuid>:<sequence>`.
pub fn ce_id(stream: &StreamId, sequence: i64) -> String {
    format!("{}:{sequence}", stream.id)
}

/// The payload fields, at any depth, that hold the hash of a secret the engine issued (an
/// invitation token, an API key). The journal keeps them to recognise the secret; a consumer
/// has no use for them, so they are not published: one fewer place holding them.
pub const SECRET_HASH_FIELDS: [&str; 3] = ["token_hash", "owner_token_hash", "secret_hash"];

/// `payload` without its [`SECRET_HASH_FIELDS`].
pub fn without_secret_hashes(payload: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match payload {
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .filter(|(name, _)| !SECRET_HASH_FIELDS.contains(&name.as_str()))
                .map(|(name, value)| (name.clone(), without_secret_hashes(value)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_secret_hashes).collect()),
        other => other.clone(),
    }
}

/// `ce_type` of an event type name: `io.entity.v1.<event type>`.
pub fn ce_type(event_type: &str) -> String {
    format!("io.entity.v1.{event_type}")
}

/// `ce_subject`: the resource name of the stream's entity.
pub fn subject(tenant: TenantId, stream: &StreamId) -> String {
    let collection = match stream.kind {
        StreamKind::Tenant => return format!("tenants/{tenant}"),
        // A user's claims: a sub-resource of the user.
        StreamKind::Claims => {
            let user = engine::domain::claims_stream_user(stream.id);
            return format!("tenants/{tenant}/users/{user}/claims");
        }
        StreamKind::Organization => "organizations",
        StreamKind::Team => "teams",
        StreamKind::User => "users",
        StreamKind::Role => "roles",
        StreamKind::Client => "clients",
        StreamKind::Department => "departments",
        StreamKind::Location => "locations",
        StreamKind::Contact => "contacts",
        StreamKind::Partition => "partitions",
        StreamKind::PartitionGroup => "partition-groups",
        StreamKind::ApiKey => "api-keys",
    };
    format!("tenants/{tenant}/{collection}/{}", stream.id)
}

/// `ce_time` of an event: when it was recorded, RFC 3339 UTC with microseconds.
pub fn event_time(event: &RecordedEvent) -> String {
    event
        .recorded_at
        .to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// One event rendered for Kafka: owns what the record borrows.
pub(super) struct Message {
    key: String,
    value: Vec<u8>,
    headers: OwnedHeaders,
    timestamp_ms: i64,
}

/// The JSON value of a journal event's message: where it sits in the journal, its stream,
/// type, metadata and `payload` (given: as stored, or upcast).
pub(super) fn envelope_value(
    event: &RecordedEvent,
    payload: serde_json::Value,
) -> serde_json::Value {
    json!({
        "position": event.position,
        "transaction_id": event.transaction_id,
        "tenant_id": event.tenant_id.to_string(),
        "stream": { "kind": event.stream.kind.as_str(), "id": event.stream.id },
        "sequence": event.sequence,
        "event_type": event.event_type,
        "schema_version": event.schema_version,
        "recorded_at": event_time(event),
        "metadata": event.metadata,
        "payload": payload,
    })
}

impl Message {
    /// The CloudEvent of a journal event, its value encoded by `encoding`.
    pub(super) fn new(envelope: &Envelope, source: &str, encoding: &Encoding) -> Result<Self> {
        let event = &envelope.recorded;
        let value = encoding
            .journal_event(envelope)
            .map_err(|e| Error::Decode {
                position: event.position,
                event_type: event.event_type.clone(),
                message: format!("cannot encode {e}"),
            })?;
        let tenant = event.tenant_id.to_string();
        let sequence = event.sequence.to_string();
        Ok(Self::cloud_event(
            event,
            value,
            &[
                ("ce_id", &ce_id(&event.stream, event.sequence)),
                ("ce_source", source),
                ("ce_type", &ce_type(&event.event_type)),
                ("ce_subject", &subject(event.tenant_id, &event.stream)),
                ("ce_tenantid", &tenant),
                ("ce_sequence", &sequence),
            ],
        ))
    }

    /// A CloudEvent about `event` (keyed by its tenant, at its time) with `value` and
    /// `attributes` besides `ce_specversion`, `ce_time`, `ce_dataschema` (protobuf: the
    /// value's message) and `content-type`.
    pub(super) fn cloud_event(
        event: &RecordedEvent,
        value: Encoded,
        attributes: &[(&str, &str)],
    ) -> Self {
        let time = event_time(event);
        let fixed = [("ce_specversion", "1.0"), ("ce_time", time.as_str())];
        let schema = value.dataschema.as_deref().map(|s| ("ce_dataschema", s));
        // The trace of the command that wrote the event (W3C, as OpenTelemetry's Kafka
        // instrumentations read it); only a well-formed one is passed on.
        let traceparent = event
            .metadata
            .traceparent
            .as_deref()
            .and_then(TraceParent::parse)
            .map(|t| t.to_string());
        let trace = traceparent.as_deref().map(|t| ("traceparent", t));
        let headers = fixed
            .iter()
            .chain(attributes)
            .chain(schema.as_ref())
            .chain(trace.as_ref())
            .chain(&[("content-type", value.content_type)])
            .fold(
                OwnedHeaders::new_with_capacity(attributes.len() + 5),
                |h, (k, v)| {
                    h.insert(Header {
                        key: k,
                        value: Some(*v),
                    })
                },
            );
        Self {
            key: event.tenant_id.to_string(),
            value: value.bytes,
            headers,
            timestamp_ms: event.recorded_at.timestamp_millis(),
        }
    }

    /// The record to send (moves the headers out: call once).
    pub(super) fn record<'a>(&'a mut self, topic: &'a str) -> FutureRecord<'a, String, Vec<u8>> {
        let headers = std::mem::replace(&mut self.headers, OwnedHeaders::new());
        FutureRecord::to(topic)
            .key(&self.key)
            .payload(&self.value)
            .headers(headers)
            .timestamp(self.timestamp_ms)
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    #[test]
    fn names() {
        let t = TenantId(Uuid::from_u128(1));
        let o = Uuid::from_u128(2);
        let org = StreamId::new(StreamKind::Organization, o);
        assert_eq!(
            subject(t, &StreamId::new(StreamKind::Tenant, t.0)),
            format!("tenants/{t}")
        );
        assert_eq!(subject(t, &org), format!("tenants/{t}/organizations/{o}"));
        assert_eq!(
            subject(t, &StreamId::new(StreamKind::User, o)),
            format!("tenants/{t}/users/{o}")
        );
        assert_eq!(ce_id(&org, 7), format!("{o}:7"));
        assert_eq!(ce_type("TenantCreated"), "io.entity.v1.TenantCreated");
    }

    #[test]
    fn secret_hashes_are_not_published() {
        let payload = serde_json::json!({
            "type": "UserInvited",
            "token_hash": "ab12",
            "roles": [{"role": "viewer", "secret_hash": "cd34"}],
            "plan": {"owner_email": "sealed", "owner_token_hash": "ef56"},
            "hint": "Ab12"
        });
        assert_eq!(
            without_secret_hashes(&payload),
            serde_json::json!({
                "type": "UserInvited",
                "roles": [{"role": "viewer"}],
                "plan": {"owner_email": "sealed"},
                "hint": "Ab12"
            })
        );
    }

    #[test]
    fn a_well_formed_traceparent_is_passed_on_as_a_header() {
        use engine::journal::EventMetadata;
        use rdkafka::message::Headers;

        let headers_of = |traceparent: Option<&str>| {
            let tenant = TenantId(Uuid::from_u128(1));
            let event = RecordedEvent {
                position: 1,
                transaction_id: 1,
                tenant_id: tenant,
                stream: StreamId::new(StreamKind::Tenant, tenant.0),
                sequence: 1,
                event_type: "TenantCreated".into(),
                schema_version: 1,
                payload: serde_json::json!({}),
                metadata: EventMetadata {
                    traceparent: traceparent.map(str::to_owned),
                    ..EventMetadata::default()
                },
                recorded_at: chrono::Utc::now(),
            };
            let value = Encoded {
                bytes: Vec::new(),
                content_type: "application/json",
                dataschema: None,
            };
            let message = Message::cloud_event(&event, value, &[]);
            message
                .headers
                .iter()
                .map(|h| {
                    let value = String::from_utf8(h.value.unwrap_or_default().to_vec()).unwrap();
                    (h.key.to_owned(), value)
                })
                .collect::<Vec<_>>()
        };
        let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert!(
            headers_of(Some(traceparent)).contains(&("traceparent".into(), traceparent.into()))
        );
        for absent in [None, Some("00-zz-00f067aa0ba902b7-01"), Some("")] {
            assert!(
                headers_of(absent).iter().all(|(k, _)| k != "traceparent"),
                "{absent:?}"
            );
        }
    }
}
