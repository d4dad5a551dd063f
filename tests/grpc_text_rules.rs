//! The text rules hold for every string field of every RPC (SPEC §4), generated from the
//! compiled contract, not from a hand list: NUL, other control characters, bidirectional
//! overrides and invisible characters are refused with INVALID_ARGUMENT and a BadRequest
//! field violation naming the field's path; line feeds only where the contract declares the
//! field multi-line; nothing reaches the journal. A new RPC or field is covered the day it is
//! added. Needs `ENTITY_TEST_DATABASE_URL`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

#[path = "support/grpc.rs"]
mod grpc_support;
#[path = "support/raw.rs"]
mod raw;

use entity_proto::v1 as pb;
use entity_text::TextKind;
use gateway::AuthMode;
use grpc_support::{PgNode, violation_fields};
use prost_reflect::prost::Message;
use prost_reflect::{DynamicMessage, Kind, MessageDescriptor, ReflectMessage, Value};
use tonic::Code;
use tonic_types::StatusExt;

/// Every RPC of `entity.v1`: its path and input message.
fn rpcs() -> Vec<(String, MessageDescriptor)> {
    entity_proto::rpc_inputs().unwrap()
}

/// `message` with the string at `path` (`a.b[0].c`, as `RequestRules::text_fields` names it)
/// set to `value`, creating the messages and one-element lists on the way.
fn set_path(message: &mut DynamicMessage, path: &str, value: &str) {
    let (head, rest) = match path.split_once('.') {
        Some((head, rest)) => (head, Some(rest)),
        None => (path, None),
    };
    let (name, repeated) = match head.strip_suffix("[0]") {
        Some(name) => (name, true),
        None => (head, false),
    };
    let field = message
        .descriptor()
        .get_field_by_name(name)
        .unwrap_or_else(|| panic!("no field {name} in {}", message.descriptor().full_name()));
    // A map entry: its key or its value set, the other plain.
    if field.is_map() {
        let (key, entry) = match rest {
            Some("key") => (value, "plain"),
            _ => ("key", value),
        };
        let map = [(
            prost_reflect::MapKey::String(key.to_owned()),
            Value::String(entry.to_owned()),
        )]
        .into_iter()
        .collect();
        message.set_field(&field, Value::Map(map));
        return;
    }
    let leaf = match (rest, field.kind()) {
        (None, _) => Value::String(value.to_owned()),
        (Some(rest), Kind::Message(nested)) => {
            let mut child = DynamicMessage::new(nested);
            set_path(&mut child, rest, value);
            Value::Message(child)
        }
        (Some(_), kind) => panic!("{name} is a {kind:?}, not a message"),
    };
    message.set_field(
        &field,
        if repeated {
            Value::List(vec![leaf])
        } else {
            leaf
        },
    );
}

/// The strings every field must refuse, and those only single-line fields refuse.
const REFUSED_EVERYWHERE: [(&str, &str); 5] = [
    ("NUL", "a\0b"),
    ("ESC", "a\u{1b}[31mb"),
    ("BEL", "a\u{7}"),
    ("RLO", "abc\u{202E}fed"),
    ("CR", "a\rb"),
];
const REFUSED_IN_NAMES: [(&str, &str); 4] = [
    ("LF", "line\nbreak"),
    ("ZWSP", "a\u{200B}b"),
    ("BOM", "\u{FEFF}a"),
    ("LRM", "a\u{200E}b"),
];

#[tokio::test]
async fn every_text_field_of_every_rpc_refuses_forbidden_characters() {
    let node = PgNode::start(AuthMode::DevIdentity).await;
    let rules = entity_proto::request_rules().unwrap();
    let before = node.events().await;

    let mut failures = Vec::new();
    let (mut calls, mut fields) = (0, 0);
    for (path, input) in rpcs() {
        for (field, kind) in rules.text_fields(input.name()) {
            fields += 1;
            let refused = REFUSED_EVERYWHERE.iter().chain(
                (kind == TextKind::SingleLine)
                    .then_some(REFUSED_IN_NAMES.iter())
                    .into_iter()
                    .flatten(),
            );
            for (label, bad) in refused {
                let mut message = DynamicMessage::new(input.clone());
                set_path(&mut message, &field, bad);
                calls += 1;
                let outcome = raw::call(
                    node.clients.channel.clone(),
                    &path,
                    message.encode_to_vec(),
                    None,
                )
                .await;
                let problem = match outcome {
                    Ok(_) => Some("accepted".to_owned()),
                    Err(s) if s.code() != Code::InvalidArgument => {
                        Some(format!("{:?} {}", s.code(), s.message()))
                    }
                    Err(s) if violation_fields(&s) != [field.clone()] => {
                        Some(format!("violations {:?}", violation_fields(&s)))
                    }
                    Err(s) => s
                        .get_details_error_info()
                        .filter(|i| i.reason == "INVALID_ARGUMENT")
                        .is_none()
                        .then(|| format!("error info {:?}", s.get_details_error_info())),
                };
                if let Some(problem) = problem {
                    failures.push(format!("{path} {field} {label}: {problem}"));
                }
            }
        }
    }
    println!("{calls} calls over {fields} text fields");
    assert!(fields > 100, "the walk found only {fields} text fields");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(node.events().await, before, "nothing reached the journal");
}

#[tokio::test]
async fn multi_line_fields_take_line_feeds_and_tabs() {
    let node = PgNode::start(AuthMode::DevIdentity).await;
    let rules = entity_proto::request_rules().unwrap();
    let mut multi_line = 0;
    for (path, input) in rpcs() {
        for (field, kind) in rules.text_fields(input.name()) {
            if kind != TextKind::MultiLine {
                continue;
            }
            multi_line += 1;
            let mut message = DynamicMessage::new(input.clone());
            set_path(&mut message, &field, "first line\n\tsecond line, indented");
            // The rest of the request is empty, so the call fails for other reasons; the
            // multi-line field is never the one blamed.
            if let Err(s) = raw::call(
                node.clients.channel.clone(),
                &path,
                message.encode_to_vec(),
                None,
            )
            .await
            {
                assert!(
                    !violation_fields(&s).contains(&field),
                    "{path} {field}: {:?} {}",
                    s.code(),
                    s.message()
                );
                assert_ne!(s.code(), Code::Internal, "{path}: {}", s.message());
            }
        }
    }
    assert!(
        multi_line >= 7,
        "descriptions and feedback text: {multi_line}"
    );
}

#[tokio::test]
async fn undecodable_requests_are_invalid_argument() {
    let node = PgNode::start(AuthMode::DevIdentity).await;
    let before = node.events().await;
    for (path, _) in rpcs() {
        for garbage in [&[0xffu8, 0xff, 0xff][..], &[0x12, 0x05, b'a'], &[0x0b]] {
            let err = raw::call(node.clients.channel.clone(), &path, garbage.to_vec(), None)
                .await
                .unwrap_err();
            assert_eq!(
                err.code(),
                Code::InvalidArgument,
                "{path}: {}",
                err.message()
            );
            assert_eq!(
                err.get_details_error_info().map(|i| i.reason),
                Some("MALFORMED_REQUEST".to_owned()),
                "{path}"
            );
        }
    }
    assert_eq!(node.events().await, before);
}

/// An error that repeats a long (valid) request value is shortened before it leaves the node:
/// a header list over the client's 16 KiB limit would make the client drop the connection and
/// fail every other call on it (found by the random-request test).
#[tokio::test]
async fn errors_about_long_values_leave_the_connection_working() {
    let node = PgNode::start(AuthMode::DevIdentity).await;
    let mut c = node.clients.clone();
    let long = "x".repeat(4096);
    let emoji = "😀".repeat(4096);
    let neighbours: Vec<_> = (0..8)
        .map(|_| {
            let mut admin = c.admin.clone();
            tokio::spawn(async move {
                admin
                    .list_projections(pb::ListProjectionsRequest::default())
                    .await
            })
        })
        .collect();
    let err = c
        .admin
        .rebuild_projection(pb::RebuildProjectionRequest { name: long.clone() })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{}", err.message());
    assert!(err.message().len() <= 1024, "{}", err.message().len());
    let err = c
        .orgs
        .update_organization(pb::UpdateOrganizationRequest {
            update_mask: Some(prost_types::FieldMask {
                paths: vec![emoji.clone(), long.clone(), long],
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{}", err.message());
    for call in neighbours {
        call.await.unwrap().expect("a call sharing the connection");
    }
    c.admin
        .list_projections(pb::ListProjectionsRequest::default())
        .await
        .expect("the connection still works");
}
