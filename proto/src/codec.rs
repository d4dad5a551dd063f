//! The gRPC codec of every `entity.v1` service and client: prost, plus the text rules.
//!
//! A request (an RPC's input message) is checked by [`crate::request_rules`] before it is
//! decoded, so no handler ever sees a string that breaks the rules: that is the one place the
//! rules are enforced for every field of every RPC, present and future. Refusals are
//! INVALID_ARGUMENT with `google.rpc.ErrorInfo` (reason `INVALID_ARGUMENT`, or
//! `MALFORMED_REQUEST` for bytes that are not a message of the RPC's input type) and a
//! `google.rpc.BadRequest` field violation per bad string. Responses decode as with plain prost
//! (a response that does not decode is INTERNAL, as the gRPC status guide says).

use std::{collections::HashMap, marker::PhantomData};

use bytes::Buf;
use prost::{Message, Name};
use tonic::{
    Code, Status,
    codec::{BufferSettings, Codec, DecodeBuf, Decoder},
};
use tonic_prost::ProstEncoder;
use tonic_types::{ErrorDetails, StatusExt};

use crate::request_rules::{RequestError, request_rules};

/// `google.rpc.ErrorInfo.domain` of every error this service returns.
pub const ERROR_DOMAIN: &str = "entity-engine";

/// Codec of the generated servers and clients (see the module docs).
#[derive(Debug)]
pub struct ValidatingCodec<T, U> {
    _types: PhantomData<(T, U)>,
}

impl<T, U> Default for ValidatingCodec<T, U> {
    fn default() -> Self {
        Self {
            _types: PhantomData,
        }
    }
}

impl<T, U> Codec for ValidatingCodec<T, U>
where
    T: Message + Send + 'static,
    U: Message + Default + Name + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = ValidatingDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        ProstEncoder::new(BufferSettings::default())
    }

    fn decoder(&mut self) -> Self::Decoder {
        ValidatingDecoder { _type: PhantomData }
    }
}

/// Decoder of [`ValidatingCodec`].
#[derive(Debug)]
pub struct ValidatingDecoder<U> {
    _type: PhantomData<U>,
}

impl<U: Message + Default + Name> Decoder for ValidatingDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        if U::PACKAGE != "entity.v1" {
            return decode_response(buf).map(Some);
        }
        let rules = request_rules().map_err(|e| {
            tracing::error!(error = %e, "the request rules cannot be built");
            Status::internal("the server cannot check requests")
        })?;
        let Some(index) = rules.input(U::NAME) else {
            return decode_response(buf).map(Some);
        };
        // A gRPC message arrives as one contiguous buffer; copy only if it did not.
        let decoded = if buf.chunk().len() == buf.remaining() {
            rules
                .check(index, buf.chunk())
                .map_err(|e| refusal(U::NAME, e))?;
            U::decode(buf)
        } else {
            let bytes = buf.copy_to_bytes(buf.remaining());
            rules
                .check(index, &bytes)
                .map_err(|e| refusal(U::NAME, e))?;
            U::decode(bytes)
        };
        decoded
            .map(Some)
            .map_err(|e| malformed(U::NAME, &e.to_string()))
    }

    fn buffer_settings(&self) -> BufferSettings {
        BufferSettings::default()
    }
}

fn decode_response<U: Message + Default>(buf: &mut DecodeBuf<'_>) -> Result<U, Status> {
    U::decode(buf).map_err(|e| Status::internal(e.to_string()))
}

fn refusal(message: &str, error: RequestError) -> Status {
    match error {
        RequestError::Malformed(detail) => malformed(message, &detail),
        RequestError::Invalid(violations) => {
            let text = violations
                .iter()
                .map(|v| format!("{}: {}", v.field, v.description))
                .collect::<Vec<_>>()
                .join("; ");
            let mut details =
                ErrorDetails::with_error_info("INVALID_ARGUMENT", ERROR_DOMAIN, HashMap::new());
            for v in violations {
                details.add_bad_request_violation(v.field, v.description);
            }
            Status::with_error_details(
                Code::InvalidArgument,
                format!("invalid argument: {text}"),
                details,
            )
        }
    }
}

fn malformed(message: &str, detail: &str) -> Status {
    tracing::warn!(message, detail, "refused a request that does not decode");
    Status::with_error_details(
        Code::InvalidArgument,
        format!("the request is not a valid {message}: {detail}"),
        ErrorDetails::with_error_info("MALFORMED_REQUEST", ERROR_DOMAIN, HashMap::new()),
    )
}
