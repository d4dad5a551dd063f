//! The value formats of the publisher: JSON (the default, unchanged) or protobuf (issue 20).

use std::{fmt, str::FromStr};

use prost::Message as _;
use prost_reflect::ReflectMessage as _;
use serde_json::Value;

use super::{
    cloudevent::{envelope_value, without_secret_hashes},
    protobuf::{EventCodec, ProtobufError, TYPE_URL_PREFIX},
};
use crate::{Envelope, Error, Result};

/// How the publisher encodes message values (`--kafka-format`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum KafkaFormat {
    /// `application/json`: the envelope with the payload as stored in the journal.
    #[default]
    Json,
    /// `application/protobuf`: `entity.v1.events.JournalEvent` (and the customer events'
    /// messages), the payload upcast to today's shape; `ce_dataschema` names the message.
    Protobuf,
}

impl KafkaFormat {
    /// `json` or `protobuf`.
    pub const fn as_str(self) -> &'static str {
        match self {
            KafkaFormat::Json => "json",
            KafkaFormat::Protobuf => "protobuf",
        }
    }
}

impl fmt::Display for KafkaFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A format name that is neither `json` nor `protobuf`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown Kafka format {0:?} (use json or protobuf)")]
pub struct UnknownFormat(pub String);

impl FromStr for KafkaFormat {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "json" => Ok(KafkaFormat::Json),
            "protobuf" => Ok(KafkaFormat::Protobuf),
            _ => Err(UnknownFormat(s.to_owned())),
        }
    }
}

/// Why a value could not be encoded.
#[derive(Debug, thiserror::Error)]
pub(super) enum EncodeError {
    #[error("as JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("as protobuf: {0}")]
    Protobuf(#[from] ProtobufError),
}

/// An encoded value, with its `content-type` and (protobuf) `ce_dataschema`.
pub(super) struct Encoded {
    pub(super) bytes: Vec<u8>,
    pub(super) content_type: &'static str,
    pub(super) dataschema: Option<String>,
}

/// A [`KafkaFormat`] ready to encode (protobuf: with the descriptors read once).
#[derive(Debug)]
pub(super) enum Encoding {
    Json,
    Protobuf(Box<EventCodec>),
}

impl Encoding {
    /// # Errors
    /// [`Error::KafkaConfig`] if the event descriptors cannot be read (a build defect).
    pub(super) fn new(format: KafkaFormat) -> Result<Self> {
        Ok(match format {
            KafkaFormat::Json => Encoding::Json,
            KafkaFormat::Protobuf => Encoding::Protobuf(Box::new(
                EventCodec::new().map_err(|e| Error::KafkaConfig(e.to_string()))?,
            )),
        })
    }

    /// The value of a journal event's message. JSON: the payload as stored; protobuf: the
    /// decoded (upcast) event re-serialized, so it has today's shape. Both without the hashes
    /// of issued secrets.
    pub(super) fn journal_event(
        &self,
        envelope: &Envelope,
    ) -> std::result::Result<Encoded, EncodeError> {
        let event = &envelope.recorded;
        match self {
            Encoding::Json => Ok(json(&envelope_value(
                event,
                without_secret_hashes(&event.payload),
            ))?),
            Encoding::Protobuf(codec) => {
                let payload = without_secret_hashes(&serde_json::to_value(&envelope.event)?);
                let message =
                    codec.journal_event(event.stream.kind, &envelope_value(event, payload))?;
                Ok(protobuf(&message))
            }
        }
    }

    /// The value of a customer event's message (`name`: its message, e.g.
    /// `CustomerRegistered`) from its JSON form.
    pub(super) fn customer_event(
        &self,
        name: &str,
        value: &Value,
    ) -> std::result::Result<Encoded, EncodeError> {
        match self {
            Encoding::Json => Ok(json(value)?),
            Encoding::Protobuf(codec) => Ok(protobuf(&super::protobuf::from_json(
                &codec.message(name)?,
                value,
            )?)),
        }
    }
}

fn json(value: &Value) -> serde_json::Result<Encoded> {
    Ok(Encoded {
        bytes: serde_json::to_vec(value)?,
        content_type: "application/json",
        dataschema: None,
    })
}

fn protobuf(message: &prost_reflect::DynamicMessage) -> Encoded {
    Encoded {
        bytes: message.encode_to_vec(),
        content_type: "application/protobuf",
        dataschema: Some(format!(
            "{TYPE_URL_PREFIX}{}",
            message.descriptor().full_name()
        )),
    }
}
