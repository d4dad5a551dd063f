//! Fuzzing of request decoding and the text rules, in process (no node, no database): for
//! every RPC, `FUZZ_CASES` random requests (default 2,000; seeds from `FUZZ_SEED`, default 0)
//! from `support/random_request.rs` — structured, mutated and noise — go through the codec's
//! check (`RequestRules::check`) and through decoding as the RPC's input type. Never a panic,
//! and the check agrees with the decoded message:
//!
//! - accepted and decodable: every string of the message obeys its field's text kind (read
//!   from the `(entity.v1.text)` option here, not from the rules under test);
//! - refused as invalid and decodable: every bad string of the message is reported (its path,
//!   with list indices normalized, is among the violations); for an unmutated encoding the
//!   violations are exactly the message's bad strings, paths and descriptions;
//! - an unmutated encoding is never malformed.
//!
//! A longer run: `FUZZ_CASES=1000000 cargo nextest run --release --test fuzz_requests`. A
//! failure prints the RPC and the seed; `FUZZ_SEED=<seed> FUZZ_CASES=1` replays it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

#[path = "support/random_request.rs"]
mod random_request;

use std::{
    collections::BTreeMap,
    panic::{AssertUnwindSafe, catch_unwind},
};

use entity_proto::{RequestRules, request_rules::RequestError};
use entity_text::TextKind;
use prost_reflect::{DynamicMessage, ExtensionDescriptor, MessageDescriptor, Value};
use random_request::{Case, Shape, random_request, rpcs};

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name).map_or(default, |v| v.parse().expect(name))
}

/// A bad string of a decoded message: its path as the codec names it, and what is wrong.
type Bad = (String, String);

/// Every string of `message` that breaks the rules of its field's kind, with its path.
fn bad_strings(message: &DynamicMessage, text: &ExtensionDescriptor, prefix: &str) -> Vec<Bad> {
    let mut out = Vec::new();
    for (field, value) in message.fields() {
        let kind = match field.options().get_extension(text).as_enum_number() {
            Some(2) => TextKind::MultiLine,
            _ => TextKind::SingleLine,
        };
        let path = format!("{prefix}{}", field.name());
        let mut visit = |path: String, value: &Value| match value {
            Value::String(s) => {
                if let Err(v) = entity_text::check(s, kind) {
                    out.push((path, v.to_string()));
                }
            }
            Value::Message(m) => out.extend(bad_strings(m, text, &format!("{path}."))),
            _ => {}
        };
        match value {
            Value::List(items) => {
                for (i, item) in items.iter().enumerate() {
                    visit(format!("{path}[{i}]"), item);
                }
            }
            Value::Map(_) => panic!("{path}: maps in requests are not generated yet"),
            value => visit(path, value),
        }
    }
    out
}

/// `a[3].b[12]` → `a[0].b[0]`.
fn normalized(path: &str) -> String {
    let mut out = String::new();
    let mut in_index = false;
    for c in path.chars() {
        match c {
            '[' => {
                in_index = true;
                out.push_str("[0]");
            }
            ']' => in_index = false,
            _ if in_index => {}
            _ => out.push(c),
        }
    }
    out
}

/// Checks one case; the outcome's label for the statistics, or what went wrong.
fn judge(
    rules: &RequestRules,
    index: usize,
    input: &MessageDescriptor,
    text: &ExtensionDescriptor,
    case: &Case,
) -> Result<&'static str, String> {
    let checked = rules.check(index, &case.bytes);
    let decoded = DynamicMessage::decode(input.clone(), case.bytes.as_slice());
    let structured = case.shape == Shape::Structured;
    let message = match (decoded, &checked) {
        (Err(e), _) if structured => return Err(format!("a valid encoding does not decode: {e}")),
        (_, Err(RequestError::Malformed(e))) if structured => {
            return Err(format!("a valid encoding is malformed: {e}"));
        }
        // The codec refuses what prost cannot decode (MALFORMED_REQUEST) whatever the check
        // said; the check said it without panicking.
        (Err(_), Ok(())) => return Ok("checked, undecodable"),
        (Err(_), Err(RequestError::Invalid(_))) => return Ok("invalid, undecodable"),
        (Err(_), Err(RequestError::Malformed(_))) => return Ok("malformed, undecodable"),
        // e.g. a group (wire types 3 and 4) in an unknown field, which the check refuses
        (Ok(_), Err(RequestError::Malformed(_))) => return Ok("malformed, decodable"),
        (Ok(message), _) => message,
    };
    let bad = bad_strings(&message, text, "");
    let violations = match checked {
        Ok(()) if bad.is_empty() => return Ok("accepted"),
        Ok(()) => return Err(format!("accepted, yet holds bad strings {bad:?}")),
        Err(RequestError::Malformed(_)) => unreachable!("handled above"),
        Err(RequestError::Invalid(violations)) => violations,
    };
    let mut reported: Vec<Bad> = violations
        .into_iter()
        .map(|v| (v.field, v.description))
        .collect();
    if structured {
        let mut expected = bad;
        expected.sort();
        reported.sort();
        return if reported == expected {
            Ok("refused")
        } else {
            Err(format!("violations {reported:?}, bad strings {expected:?}"))
        };
    }
    // Mutated bytes may hold a field twice: the check reports every occurrence, decoding
    // keeps the last (or merges), so compare normalized paths and require only that every bad
    // string of the message is among the violations.
    let paths: Vec<String> = reported.iter().map(|(p, _)| normalized(p)).collect();
    match bad.iter().find(|(p, _)| !paths.contains(&normalized(p))) {
        Some(missed) => Err(format!("violations {reported:?} miss {missed:?}")),
        None if bad.is_empty() => Ok("refused, overwritten"),
        None => Ok("refused"),
    }
}

#[test]
fn the_text_check_agrees_with_decoding_for_random_requests_to_every_rpc() {
    let cases = env("FUZZ_CASES", 2_000);
    let first = env("FUZZ_SEED", 0);
    let rules = entity_proto::request_rules().unwrap();
    let rpcs = rpcs();
    let text = rpcs[0]
        .1
        .parent_pool()
        .get_extension_by_name("entity.v1.text")
        .unwrap();
    // Ids of entities that do not exist: the generator needs a pool, the check does not care.
    let ids: Vec<(&str, String)> = ["tenant", "organization", "user"]
        .map(|kind| (kind, uuid::Uuid::now_v7().to_string()))
        .into();

    let mut outcomes: BTreeMap<(Shape, &str), u64> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut inputs = 0u64;
    for (path, input) in &rpcs {
        let index = rules.input(input.name()).unwrap();
        for seed in first..first + cases {
            let case = random_request(input, seed, &ids);
            inputs += 1;
            match catch_unwind(AssertUnwindSafe(|| {
                judge(rules, index, input, &text, &case)
            })) {
                Ok(Ok(outcome)) => *outcomes.entry((case.shape, outcome)).or_default() += 1,
                Ok(Err(problem)) => {
                    failures.push(format!("{path} seed {seed} ({:?}): {problem}", case.shape));
                }
                Err(_) => failures.push(format!("{path} seed {seed} ({:?}): panicked", case.shape)),
            }
        }
    }
    for ((shape, outcome), n) in &outcomes {
        println!("{shape:?} {outcome}: {n}");
    }
    println!(
        "fuzz_requests: {inputs} inputs over {} RPCs, {} failures",
        rpcs.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} failures (the first 50):\n{}",
        failures.len(),
        failures[..failures.len().min(50)].join("\n")
    );
    for outcome in ["accepted", "refused"] {
        assert!(
            outcomes.contains_key(&(Shape::Structured, outcome)),
            "no structured request was {outcome}"
        );
    }
}
