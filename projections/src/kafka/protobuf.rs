//! Events as protobuf (issue 20): the JSON form of an event (the journal's payload, upcast)
//! mapped into its message in `proto/entity/v1/events.proto` through the descriptors, with
//! no per-event code. Adding an event type means adding its message (and its member of
//! `JournalEvent.event`); the unit test converts one event of every type of the domain and
//! fails for a type without one.
//!
//! The mapping is proto3 JSON (field names as in the proto) plus the rules at the top of
//! events.proto, which this module implements generically:
//! - the payload's `type` picks the member of `JournalEvent.event` whose message is named
//!   after it, or, where streams share a type, after the stream kind and the type
//!   ([`EventCodec::event_field`]);
//! - a bare string where a message is expected names that message's member of type
//!   `google.protobuf.Empty` (a serde enum's unit variant: `"admin"` → `{"admin": {}}`).

use engine::domain::StreamKind;
use prost_reflect::{
    DescriptorPool, DeserializeOptions, DynamicMessage, FieldDescriptor, Kind, MessageDescriptor,
    OneofDescriptor, ReflectMessage, Value as ProtoValue,
};
use serde_json::{Map, Value};

/// Package of the event messages.
pub const EVENTS_PACKAGE: &str = "entity.v1.events";
/// The message of every journal event's value.
pub const JOURNAL_EVENT: &str = "entity.v1.events.JournalEvent";
/// What `ce_dataschema` puts before a message's full name (the protobuf type-URL form the
/// CloudEvents protobuf format asks for).
pub const TYPE_URL_PREFIX: &str = "type.googleapis.com/";

const EVENT_ONEOF: &str = "event";
const EMPTY: &str = "google.protobuf.Empty";

/// Why an event could not be converted to its message.
#[derive(Debug, thiserror::Error)]
pub enum ProtobufError {
    /// The embedded descriptor set does not hold what it must (a build defect).
    #[error("event descriptors unusable: {0}")]
    Descriptors(String),
    /// events.proto has no message for this payload type on this kind of stream.
    #[error(
        "events.proto has no message for payload type {payload_type:?} of a {stream_kind} stream"
    )]
    UnknownEventType {
        /// The payload's `type`.
        payload_type: String,
        /// The stream kind.
        stream_kind: &'static str,
    },
    /// The JSON value has no string `type`, or is not an object where one is needed.
    #[error("{0}")]
    Shape(String),
    /// The JSON does not fit the message (a field the message lacks, a value of another type).
    #[error("{message} does not take this JSON: {reason}")]
    Mismatch {
        /// The message's full name.
        message: String,
        /// What did not fit.
        reason: String,
    },
}

/// The event messages, read once from `entity_proto::FILE_DESCRIPTOR_SET`.
#[derive(Clone, Debug)]
pub struct EventCodec {
    pool: DescriptorPool,
    journal_event: MessageDescriptor,
    event: OneofDescriptor,
}

impl EventCodec {
    /// Reads the descriptors.
    ///
    /// # Errors
    /// [`ProtobufError::Descriptors`] if the embedded set lacks `JournalEvent` or its `event`
    /// oneof.
    pub fn new() -> Result<Self, ProtobufError> {
        let pool = DescriptorPool::decode(entity_proto::FILE_DESCRIPTOR_SET)
            .map_err(|e| ProtobufError::Descriptors(e.to_string()))?;
        let journal_event = pool
            .get_message_by_name(JOURNAL_EVENT)
            .ok_or_else(|| ProtobufError::Descriptors(format!("no message {JOURNAL_EVENT}")))?;
        let event = journal_event
            .oneofs()
            .find(|o| o.name() == EVENT_ONEOF)
            .ok_or_else(|| ProtobufError::Descriptors(format!("{JOURNAL_EVENT} has no oneof")))?;
        Ok(Self {
            pool,
            journal_event,
            event,
        })
    }

    /// The message `name` of [`EVENTS_PACKAGE`] (e.g. `CustomerUpdated`).
    ///
    /// # Errors
    /// [`ProtobufError::Descriptors`] if there is none.
    pub fn message(&self, name: &str) -> Result<MessageDescriptor, ProtobufError> {
        self.pool
            .get_message_by_name(&format!("{EVENTS_PACKAGE}.{name}"))
            .ok_or_else(|| {
                ProtobufError::Descriptors(format!("no message {EVENTS_PACKAGE}.{name}"))
            })
    }

    /// `JournalEvent`'s descriptor.
    pub fn journal_event_descriptor(&self) -> &MessageDescriptor {
        &self.journal_event
    }

    /// The members of `JournalEvent.event`: one per event type.
    pub fn event_fields(&self) -> impl Iterator<Item = FieldDescriptor> + '_ {
        self.event.fields()
    }

    /// The member of `JournalEvent.event` for payload type `payload_type` on a stream of
    /// `kind`: the one whose message is named `payload_type`, else the one named after the
    /// stream kind and the type (`team` + `MembershipAdded` → `TeamMembershipAdded`).
    ///
    /// # Errors
    /// [`ProtobufError::UnknownEventType`] if there is neither.
    pub fn event_field(
        &self,
        kind: StreamKind,
        payload_type: &str,
    ) -> Result<FieldDescriptor, ProtobufError> {
        let named = |name: &str| {
            self.event
                .fields()
                .find(|f| matches!(f.kind(), Kind::Message(m) if m.name() == name))
        };
        named(payload_type)
            .or_else(|| named(&format!("{}{payload_type}", pascal_case(kind.as_str()))))
            .ok_or_else(|| ProtobufError::UnknownEventType {
                payload_type: payload_type.to_owned(),
                stream_kind: kind.as_str(),
            })
    }

    /// A journal event's value: `envelope` is the JSON format's value (its `payload` in
    /// today's shape, with its `type`), `kind` its stream's kind.
    ///
    /// # Errors
    /// [`ProtobufError`] if the payload's type has no message or any field does not fit.
    pub fn journal_event(
        &self,
        kind: StreamKind,
        envelope: &Value,
    ) -> Result<DynamicMessage, ProtobufError> {
        let Value::Object(fields) = envelope else {
            return Err(ProtobufError::Shape("the envelope is not an object".into()));
        };
        let mut fields = fields.clone();
        let payload = fields
            .remove("payload")
            .ok_or_else(|| ProtobufError::Shape("the envelope has no payload".into()))?;
        let mut message = from_json(&self.journal_event, &Value::Object(fields))?;
        let (field, event) = self.payload(kind, &payload)?;
        message.set_field(&field, ProtoValue::Message(event));
        Ok(message)
    }

    /// A payload (JSON with its `type`) as its event's message, with the member of
    /// `JournalEvent.event` that holds it.
    ///
    /// # Errors
    /// [`ProtobufError`] if the type has no message or any field does not fit.
    pub fn payload(
        &self,
        kind: StreamKind,
        payload: &Value,
    ) -> Result<(FieldDescriptor, DynamicMessage), ProtobufError> {
        let Value::Object(fields) = payload else {
            return Err(ProtobufError::Shape("the payload is not an object".into()));
        };
        let mut fields = fields.clone();
        let payload_type = match fields.remove("type") {
            Some(Value::String(t)) => t,
            _ => {
                return Err(ProtobufError::Shape(
                    "the payload has no string \"type\"".into(),
                ));
            }
        };
        let field = self.event_field(kind, &payload_type)?;
        let Kind::Message(descriptor) = field.kind() else {
            return Err(ProtobufError::Descriptors(format!(
                "{} is not a message field",
                field.full_name()
            )));
        };
        let message = from_json(&descriptor, &Value::Object(fields))?;
        Ok((field, message))
    }
}

/// `value` (the message's JSON form) as a `descriptor` message. Unknown fields and values of
/// the wrong type are errors: nothing is dropped.
///
/// # Errors
/// [`ProtobufError::Mismatch`] naming the message and what did not fit.
pub fn from_json(
    descriptor: &MessageDescriptor,
    value: &Value,
) -> Result<DynamicMessage, ProtobufError> {
    DynamicMessage::deserialize_with_options(
        descriptor.clone(),
        shaped(descriptor, value),
        &DeserializeOptions::new().deny_unknown_fields(true),
    )
    .map_err(|e| ProtobufError::Mismatch {
        message: descriptor.full_name().to_owned(),
        reason: e.to_string(),
    })
}

/// The JSON form of `message` (the inverse of [`from_json`]): proto field names, 64-bit
/// integers as numbers, unset `optional` and message fields left out (the JSON form's
/// `null`s), a set `google.protobuf.Empty` member as its name.
///
/// # Errors
/// [`ProtobufError::Mismatch`] if the message does not serialize (an out-of-range timestamp).
pub fn to_json(message: &DynamicMessage) -> Result<Value, ProtobufError> {
    let options = prost_reflect::SerializeOptions::new()
        .use_proto_field_name(true)
        .skip_default_fields(false)
        .stringify_64_bit_integers(false);
    let value = message
        .serialize_with_options(serde_json::value::Serializer, &options)
        .map_err(|e| ProtobufError::Mismatch {
            message: message.descriptor().full_name().to_owned(),
            reason: e.to_string(),
        })?;
    Ok(unshaped(&message.descriptor(), value))
}

/// `value` with the rules proto3 JSON lacks applied for a `descriptor` message: a string
/// naming an Empty member becomes `{name: {}}`, at any depth.
fn shaped(descriptor: &MessageDescriptor, value: &Value) -> Value {
    match value {
        Value::String(name) if unit_member(descriptor, name).is_some() => {
            Value::Object(Map::from_iter([(name.clone(), Value::Object(Map::new()))]))
        }
        Value::Object(fields) if !is_well_known(descriptor) => Value::Object(
            fields
                .iter()
                .map(|(name, value)| {
                    let value = descriptor
                        .get_field_by_name(name)
                        .or_else(|| descriptor.get_field_by_json_name(name))
                        .map_or_else(|| value.clone(), |f| shaped_field(&f, value));
                    (name.clone(), value)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

fn shaped_field(field: &FieldDescriptor, value: &Value) -> Value {
    let Kind::Message(descriptor) = field.kind() else {
        return value.clone();
    };
    match value {
        Value::Object(entries) if field.is_map() => {
            let Kind::Message(values) = descriptor.map_entry_value_field().kind() else {
                return value.clone();
            };
            Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), shaped(&values, v)))
                    .collect(),
            )
        }
        Value::Array(items) if field.is_list() => {
            Value::Array(items.iter().map(|v| shaped(&descriptor, v)).collect())
        }
        _ => shaped(&descriptor, value),
    }
}

/// The inverse of [`shaped`].
fn unshaped(descriptor: &MessageDescriptor, value: Value) -> Value {
    let Value::Object(fields) = value else {
        return value;
    };
    if is_well_known(descriptor) {
        return Value::Object(fields);
    }
    if fields.len() == 1
        && let Some((name, Value::Object(inner))) = fields.iter().next()
        && inner.is_empty()
        && unit_member(descriptor, name).is_some()
    {
        return Value::String(name.clone());
    }
    Value::Object(
        fields
            .into_iter()
            .map(|(name, value)| {
                let value = match descriptor.get_field_by_name(&name) {
                    Some(field) => unshaped_field(&field, value),
                    None => value,
                };
                (name, value)
            })
            .collect(),
    )
}

fn unshaped_field(field: &FieldDescriptor, value: Value) -> Value {
    let Kind::Message(descriptor) = field.kind() else {
        return value;
    };
    match value {
        Value::Object(entries) if field.is_map() => {
            let Kind::Message(values) = descriptor.map_entry_value_field().kind() else {
                return Value::Object(entries);
            };
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, unshaped(&values, v)))
                    .collect(),
            )
        }
        Value::Array(items) if field.is_list() => Value::Array(
            items
                .into_iter()
                .map(|v| unshaped(&descriptor, v))
                .collect(),
        ),
        other => unshaped(&descriptor, other),
    }
}

/// The member of a oneof of `descriptor` named `name` whose type is `google.protobuf.Empty`.
fn unit_member(descriptor: &MessageDescriptor, name: &str) -> Option<FieldDescriptor> {
    descriptor.get_field_by_name(name).filter(|f| {
        f.containing_oneof().is_some()
            && matches!(f.kind(), Kind::Message(m) if m.full_name() == EMPTY)
    })
}

/// Messages whose JSON form proto3 defines itself (Timestamp, ListValue, Empty, …).
fn is_well_known(descriptor: &MessageDescriptor) -> bool {
    descriptor.package_name() == "google.protobuf"
}

/// `partition-group` → `PartitionGroup`.
fn pascal_case(kebab: &str) -> String {
    kebab
        .split(['-', '_'])
        .flat_map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase())
                .into_iter()
                .chain(chars)
        })
        .collect()
}

#[cfg(test)]
mod tests;
