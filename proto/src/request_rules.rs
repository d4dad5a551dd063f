//! The text rules of every string of every request, read from the contract itself.
//!
//! [`RequestRules`] is built once from [`crate::FILE_DESCRIPTOR_SET`]: for every message that
//! an RPC takes (and every message nested in one) it knows each field's number, name, whether
//! it repeats, and — for strings — its [`TextKind`] (the `(entity.v1.text)` field option,
//! SINGLE_LINE when absent). [`RequestRules::check`] walks a request's protobuf bytes with that
//! table *before* the message is decoded, so a new RPC or field is covered the day it is added
//! to a `.proto` file, with nothing to remember in a handler. It reports every bad string as a
//! field violation with the field's path (`business_profile.legal_name`, `products[2]`).
//!
//! The walk allocates nothing for a valid request: it reads tags and lengths, checks string
//! bytes in place, and skips scalars and unknown fields.

use std::{
    collections::HashMap,
    fmt::Write as _,
    sync::{Arc, OnceLock},
};

use entity_text::{TextKind, TextViolation};
use prost_reflect::{DescriptorPool, FieldDescriptor, Kind, MessageDescriptor, Value};

/// Name of the field option that declares a string field's text kind.
const TEXT_OPTION: &str = "entity.v1.text";
/// Package whose services' inputs are checked.
const PACKAGE: &str = "entity.v1";
/// Deepest nesting of messages a request may have (ours nest three deep).
pub const MAX_DEPTH: usize = 32;

/// One bad string of a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The field's path in the request, e.g. `business_profile.legal_name` or `products[2]`.
    pub field: String,
    /// What is wrong, for a person.
    pub description: String,
}

/// Why a request was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestError {
    /// The bytes are not a protobuf message of the expected shape.
    Malformed(String),
    /// One or more strings break the text rules.
    Invalid(Vec<Violation>),
}

/// What a field holds, for the walk.
#[derive(Clone, Debug)]
enum FieldKind {
    /// A string: checked against its kind.
    Text(TextKind),
    /// A nested message: walked (index into [`RequestRules::messages`]).
    Message(usize),
    /// Anything else (numbers, booleans, enums, bytes): skipped.
    Other,
}

#[derive(Clone, Debug)]
struct FieldRule {
    number: u32,
    name: Box<str>,
    repeated: bool,
    kind: FieldKind,
}

#[derive(Clone, Debug, Default)]
struct MessageRules {
    /// Sorted by number.
    fields: Vec<FieldRule>,
}

impl MessageRules {
    fn field(&self, number: u32) -> Option<&FieldRule> {
        self.fields
            .binary_search_by_key(&number, |f| f.number)
            .ok()
            .map(|i| &self.fields[i])
    }
}

/// The text rules of every request message of `entity.v1` (see the module docs).
#[derive(Clone, Debug)]
pub struct RequestRules {
    messages: Vec<MessageRules>,
    /// RPC input messages by their name within the package (`CreateTenantRequest`).
    inputs: HashMap<String, usize>,
}

/// The rules of [`crate::FILE_DESCRIPTOR_SET`], built on first use.
///
/// # Errors
/// When the embedded descriptor set cannot be read (a build defect: the server refuses to
/// start, see `gateway::server`).
pub fn request_rules() -> Result<&'static RequestRules, String> {
    static RULES: OnceLock<Result<Arc<RequestRules>, String>> = OnceLock::new();
    match RULES
        .get_or_init(|| RequestRules::from_descriptor_set(crate::FILE_DESCRIPTOR_SET).map(Arc::new))
    {
        Ok(rules) => Ok(rules.as_ref()),
        Err(e) => Err(e.clone()),
    }
}

impl RequestRules {
    /// Reads the rules from an encoded `FileDescriptorSet`.
    ///
    /// # Errors
    /// When the set does not decode or lacks the `(entity.v1.text)` option.
    pub fn from_descriptor_set(bytes: &[u8]) -> Result<Self, String> {
        let pool = DescriptorPool::decode(bytes).map_err(|e| format!("descriptor set: {e}"))?;
        let option = pool
            .get_extension_by_name(TEXT_OPTION)
            .ok_or_else(|| format!("the descriptor set has no {TEXT_OPTION} option"))?;
        let mut builder = Builder {
            option,
            rules: RequestRules {
                messages: Vec::new(),
                inputs: HashMap::new(),
            },
            index: HashMap::new(),
        };
        for service in pool.services().filter(|s| s.package_name() == PACKAGE) {
            for method in service.methods() {
                let input = method.input();
                let index = builder.add(&input);
                builder.rules.inputs.insert(input.name().to_owned(), index);
            }
        }
        Ok(builder.rules)
    }

    /// The index of RPC input message `name` (its name within `entity.v1`), if it is one.
    pub fn input(&self, name: &str) -> Option<usize> {
        self.inputs.get(name).copied()
    }

    /// Every string field reachable from RPC input `name`, as `(path, kind)`, with repeated
    /// fields and nested messages shown once (`products[0]`, `business_profile.legal_name`):
    /// what the descriptor-driven tests fill in.
    pub fn text_fields(&self, name: &str) -> Vec<(String, TextKind)> {
        let mut out = Vec::new();
        if let Some(index) = self.input(name) {
            self.collect_text_fields(index, "", &mut out, 0);
        }
        out
    }

    fn collect_text_fields(
        &self,
        index: usize,
        prefix: &str,
        out: &mut Vec<(String, TextKind)>,
        depth: usize,
    ) {
        if depth > 4 {
            return;
        }
        for field in &self.messages[index].fields {
            let mut path = format!("{prefix}{}", field.name);
            if field.repeated {
                path.push_str("[0]");
            }
            match field.kind {
                FieldKind::Text(kind) => out.push((path, kind)),
                FieldKind::Message(nested) => {
                    self.collect_text_fields(nested, &format!("{path}."), out, depth + 1);
                }
                FieldKind::Other => {}
            }
        }
    }

    /// Checks the encoded request `bytes` of input message `index` (see [`Self::input`]).
    ///
    /// # Errors
    /// [`RequestError::Malformed`] when the bytes are not a message of that shape (the
    /// first problem); [`RequestError::Invalid`] with every bad string otherwise.
    pub fn check(&self, index: usize, bytes: &[u8]) -> Result<(), RequestError> {
        let mut walk = Walk {
            rules: self,
            path: String::new(),
            violations: Vec::new(),
        };
        walk.message(index, bytes, 0)
            .map_err(RequestError::Malformed)?;
        if walk.violations.is_empty() {
            Ok(())
        } else {
            Err(RequestError::Invalid(walk.violations))
        }
    }
}

struct Builder {
    option: prost_reflect::ExtensionDescriptor,
    rules: RequestRules,
    index: HashMap<String, usize>,
}

impl Builder {
    /// Adds `message` and everything nested in it; returns its index.
    fn add(&mut self, message: &MessageDescriptor) -> usize {
        if let Some(&index) = self.index.get(message.full_name()) {
            return index;
        }
        let index = self.rules.messages.len();
        self.index.insert(message.full_name().to_owned(), index);
        self.rules.messages.push(MessageRules::default());
        let mut fields: Vec<FieldRule> = message
            .fields()
            .map(|field| FieldRule {
                number: field.number(),
                name: field.name().into(),
                repeated: field.is_list() || field.is_map(),
                kind: self.kind(&field),
            })
            .collect();
        fields.sort_by_key(|f| f.number);
        self.rules.messages[index].fields = fields;
        index
    }

    fn kind(&mut self, field: &FieldDescriptor) -> FieldKind {
        match field.kind() {
            Kind::String => FieldKind::Text(self.text_kind(field)),
            Kind::Message(nested) => FieldKind::Message(self.add(&nested)),
            _ => FieldKind::Other,
        }
    }

    fn text_kind(&self, field: &FieldDescriptor) -> TextKind {
        let options = field.options();
        if !options.has_extension(&self.option) {
            return TextKind::SingleLine;
        }
        match options.get_extension(&self.option).as_ref() {
            // entity.v1.TextKind.MULTI_LINE
            Value::EnumNumber(2) => TextKind::MultiLine,
            _ => TextKind::SingleLine,
        }
    }
}

/// One request's walk: the current field path and what was found.
struct Walk<'a> {
    rules: &'a RequestRules,
    path: String,
    violations: Vec<Violation>,
}

impl Walk<'_> {
    fn message(&mut self, index: usize, mut bytes: &[u8], depth: usize) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err(format!("messages nested deeper than {MAX_DEPTH}"));
        }
        let rules = &self.rules.messages[index];
        // Occurrences of each repeated field so far, for `[i]` in paths.
        let mut seen: Vec<(u32, usize)> = Vec::new();
        while !bytes.is_empty() {
            let key = varint(&mut bytes)?;
            let number = u32::try_from(key >> 3)
                .ok()
                .filter(|n| *n != 0)
                .ok_or_else(|| format!("invalid field number in key {key}"))?;
            match key & 7 {
                0 => {
                    varint(&mut bytes)?;
                }
                1 => skip(&mut bytes, 8)?,
                5 => skip(&mut bytes, 4)?,
                2 => {
                    let len = usize::try_from(varint(&mut bytes)?)
                        .map_err(|_| "length out of range".to_owned())?;
                    let value = take(&mut bytes, len)?;
                    if let Some(field) = rules.field(number) {
                        self.field(field, &mut seen, value, depth)?;
                    }
                }
                wire => return Err(format!("unsupported wire type {wire} (field {number})")),
            }
        }
        Ok(())
    }

    fn field(
        &mut self,
        field: &FieldRule,
        seen: &mut Vec<(u32, usize)>,
        value: &[u8],
        depth: usize,
    ) -> Result<(), String> {
        if matches!(field.kind, FieldKind::Other) {
            return Ok(());
        }
        let mark = self.path.len();
        if !self.path.is_empty() {
            self.path.push('.');
        }
        self.path.push_str(&field.name);
        if field.repeated {
            let n = match seen.iter_mut().find(|(number, _)| *number == field.number) {
                Some((_, n)) => {
                    *n += 1;
                    *n
                }
                None => {
                    seen.push((field.number, 0));
                    0
                }
            };
            let _ = write!(self.path, "[{n}]");
        }
        let result = match field.kind {
            FieldKind::Text(kind) => {
                self.text(value, kind);
                Ok(())
            }
            FieldKind::Message(nested) => self.message(nested, value, depth + 1),
            FieldKind::Other => Ok(()),
        };
        self.path.truncate(mark);
        result
    }

    fn text(&mut self, value: &[u8], kind: TextKind) {
        let problem = match std::str::from_utf8(value) {
            Err(_) => Some("must be valid UTF-8".to_owned()),
            Ok(s) => entity_text::check(s, kind)
                .err()
                .map(|v: TextViolation| v.to_string()),
        };
        if let Some(description) = problem {
            self.violations.push(Violation {
                field: self.path.clone(),
                description,
            });
        }
    }
}

fn varint(bytes: &mut &[u8]) -> Result<u64, String> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = bytes
            .split_first()
            .ok_or_else(|| "truncated varint".to_owned())?;
        *bytes = rest;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err("varint longer than 10 bytes".to_owned())
}

fn take<'a>(bytes: &mut &'a [u8], len: usize) -> Result<&'a [u8], String> {
    if bytes.len() < len {
        return Err(format!(
            "length {len} exceeds the {} bytes left",
            bytes.len()
        ));
    }
    let (value, rest) = bytes.split_at(len);
    *bytes = rest;
    Ok(value)
}

fn skip(bytes: &mut &[u8], len: usize) -> Result<(), String> {
    take(bytes, len).map(|_| ())
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;
    use crate::v1;

    fn rules() -> &'static RequestRules {
        request_rules().unwrap()
    }

    fn check<M: Message + prost::Name>(message: &M) -> Result<(), RequestError> {
        let index = rules().input(M::NAME).unwrap();
        rules().check(index, &message.encode_to_vec())
    }

    fn fields(result: Result<(), RequestError>) -> Vec<String> {
        match result {
            Err(RequestError::Invalid(v)) => v.into_iter().map(|v| v.field).collect(),
            other => panic!("expected violations, got {other:?}"),
        }
    }

    #[test]
    fn every_rpc_input_is_known() {
        let pool = DescriptorPool::decode(crate::FILE_DESCRIPTOR_SET).unwrap();
        let mut methods = 0;
        for service in pool.services().filter(|s| s.package_name() == PACKAGE) {
            for method in service.methods() {
                methods += 1;
                assert!(
                    rules().input(method.input().name()).is_some(),
                    "{}",
                    method.name()
                );
            }
        }
        assert!(methods > 40);
        assert!(
            rules().input("Tenant").is_none(),
            "responses are not walked"
        );
    }

    #[test]
    fn the_contract_declares_multi_line_fields() {
        let kinds: HashMap<String, TextKind> = rules()
            .text_fields("CreateOrganizationRequest")
            .into_iter()
            .collect();
        assert_eq!(kinds["description"], TextKind::MultiLine);
        assert_eq!(kinds["name"], TextKind::SingleLine);
        assert_eq!(kinds["options.request_id"], TextKind::SingleLine);
        let deactivate: HashMap<String, TextKind> = rules()
            .text_fields("DeactivateTenantRequest")
            .into_iter()
            .collect();
        assert_eq!(deactivate["feedback.text"], TextKind::MultiLine);
        assert_eq!(deactivate["feedback.context"], TextKind::SingleLine);
    }

    #[test]
    fn valid_requests_pass() {
        let request = v1::CreateTenantRequest {
            name: "Zürich Ltd".into(),
            slug: "zurich".into(),
            products: vec!["crm".into(), "東京".into()],
            ..Default::default()
        };
        assert_eq!(check(&request), Ok(()));
        let org = v1::CreateOrganizationRequest {
            description: "two\nlines\twith a tab".into(),
            ..Default::default()
        };
        assert_eq!(check(&org), Ok(()));
    }

    #[test]
    fn bad_strings_are_reported_with_their_paths() {
        let request = v1::CreateTenantRequest {
            name: "a\0b".into(),
            products: vec!["ok".into(), "bad\u{1b}[2J".into()],
            business_profile: Some(v1::BusinessProfile {
                legal_name: "x\u{202E}y".into(),
                social_profiles: vec![
                    v1::SocialProfile {
                        url: "https://a".into(),
                        ..Default::default()
                    },
                    v1::SocialProfile {
                        url: "h\u{200B}".into(),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(
            fields(check(&request)),
            [
                "name",
                "products[1]",
                "business_profile.legal_name",
                "business_profile.social_profiles[1].url"
            ]
        );
        let org = v1::CreateOrganizationRequest {
            name: "line\nbreak".into(),
            description: "nul\0".into(),
            ..Default::default()
        };
        assert_eq!(fields(check(&org)), ["name", "description"]);
    }

    #[test]
    fn invalid_utf8_and_malformed_bytes() {
        // field 2 (name) of CreateTenantRequest holding 0xFF
        let index = rules().input("CreateTenantRequest").unwrap();
        assert_eq!(fields(rules().check(index, &[0x12, 1, 0xff])), ["name"]);
        for garbage in [&[0x12, 5, b'a'][..], &[0xff; 11], &[0x0b], &[0x00, 1]] {
            assert!(
                matches!(
                    rules().check(index, garbage),
                    Err(RequestError::Malformed(_))
                ),
                "{garbage:?}"
            );
        }
    }
}
