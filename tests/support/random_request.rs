//! Random requests for every RPC, made from the compiled contract (no hand list), shared by
//! the in-process fuzz target (`tests/fuzz_requests.rs`) and the random-request test against a
//! running node (`tests/random_requests.rs`).
//!
//! [`random_request`] is deterministic in its seed, so a failure's seed reproduces it. A case
//! is a structured request (a `DynamicMessage` of the RPC's input type: each field set or not,
//! strings from a mix of ordinary text of several scripts and forbidden or borderline
//! characters, ids from a pool of live entities, extreme numbers, unknown enum values, nested
//! messages, 0–4 list items, field masks with real and bogus paths), that encoding mutated
//! byte by byte, or pure noise.
//!
//! Include with `#[path = "support/random_request.rs"] mod random_request;`.

#![allow(dead_code)]

use prost_reflect::{
    DynamicMessage, FieldDescriptor, Kind, MessageDescriptor, Value, prost::Message,
};

/// A small deterministic generator (SplitMix64).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.u64() % n.max(1) as u64) as usize
    }

    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    pub fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())].clone()
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.u64() as u8).collect()
    }

    fn uuid(&mut self) -> String {
        let bytes: [u8; 16] = self.bytes(16).try_into().unwrap_or_default();
        uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .to_string()
    }
}

/// Every RPC of `entity.v1`: its path (`/entity.v1.TenantService/GetTenant`) and input message.
pub fn rpcs() -> Vec<(String, MessageDescriptor)> {
    entity_proto::rpc_inputs().expect("descriptors")
}

/// How a case's bytes were made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Shape {
    /// The encoding of a random message of the input type.
    Structured,
    /// That encoding with bytes flipped, inserted, deleted, cut or appended.
    Mutated,
    /// Random bytes.
    Noise,
}

/// One random request.
pub struct Case {
    pub shape: Shape,
    pub bytes: Vec<u8>,
}

/// Ids of live entities by kind (`tenant`, `organization`, `team`, `user`, `role`).
pub type Ids = [(&'static str, String)];

/// The request of `seed` for RPC input `input`. Fields named `id`, `*_id` or `*_ids` take one
/// of `ids` part of the time: one of the kind the name mentions (`organization_id`), if any.
pub fn random_request(input: &MessageDescriptor, seed: u64, ids: &Ids) -> Case {
    // Each RPC its own sequence of requests.
    let name = input.full_name().bytes();
    let mut rng = Rng::new(name.fold(seed, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01B3)
    }));
    // Percent of string fragments that are forbidden or borderline: some requests are clean,
    // so that they get past the codec and reach the handlers.
    let nasty = rng.pick(&[0, 0, 10, 40]);
    let mut generator = Generator { rng, ids, nasty };
    let bytes = generator.message(input, 0).encode_to_vec();
    let mut rng = generator.rng;
    match rng.below(10) {
        0..=5 => Case {
            shape: Shape::Structured,
            bytes,
        },
        6..=8 => Case {
            shape: Shape::Mutated,
            bytes: mutate(bytes, &mut rng),
        },
        _ => {
            let n = rng.below(64);
            Case {
                shape: Shape::Noise,
                bytes: rng.bytes(n),
            }
        }
    }
}

/// Nested messages deeper than this are left empty (requests nest three deep).
const MAX_DEPTH: usize = 4;

/// Ordinary text: every request field must be able to hold most of these.
const VALID: &[&str] = &[
    "Acme",
    "Acme Inc.",
    "Zürich",
    "東京",
    "Ελληνικά",
    "مرحبا",
    "😀 team",
    "👩‍👩‍👧",
    "acme-corp",
    "sales-eu",
    "ivy@example.com",
    "https://example.com/logo.png",
    "invoice:approve",
    "admin",
    "member",
    "",
    " padded ",
];

/// Forbidden or borderline fragments: controls, separators, bidirectional and invisible
/// characters, tags, a lone combining mark, the replacement character.
const NASTY: &[&str] = &[
    "\0",
    "\u{1b}[2J",
    "\u{7}",
    "\u{7f}",
    "\u{85}",
    "\u{9b}",
    "\r",
    "\n",
    "\r\n",
    "\t",
    "\u{202E}",
    "\u{2066}",
    "\u{200E}",
    "\u{200B}",
    "\u{200D}",
    "\u{FEFF}",
    "\u{AD}",
    "\u{2028}",
    "\u{2029}",
    "\u{E0041}",
    "\u{E007F}",
    "\u{301}",
    "\u{FFFD}",
];

struct Generator<'a> {
    rng: Rng,
    ids: &'a Ids,
    nasty: usize,
}

impl Generator<'_> {
    fn message(&mut self, descriptor: &MessageDescriptor, depth: usize) -> DynamicMessage {
        let mut message = DynamicMessage::new(descriptor.clone());
        for field in descriptor.fields() {
            // Ids, and every field of a clean request, are usually set, so that requests
            // reach real entities; optional numbers (`expected_version`) seldom.
            let scalar = !matches!(
                field.kind(),
                Kind::Message(_) | Kind::String | Kind::Enum(_)
            );
            let percent = match () {
                _ if scalar && field.supports_presence() => 25,
                _ if is_id(field.name()) || self.nasty == 0 => 80,
                _ => 50,
            };
            if field.is_map() || self.rng.below(100) >= percent {
                continue;
            }
            let value = if field.is_list() {
                let n = self.rng.below(5);
                Value::List(
                    (0..n)
                        .map(|_| self.value(&field, descriptor, depth))
                        .collect(),
                )
            } else {
                self.value(&field, descriptor, depth)
            };
            message.set_field(&field, value);
        }
        message
    }

    fn value(
        &mut self,
        field: &FieldDescriptor,
        parent: &MessageDescriptor,
        depth: usize,
    ) -> Value {
        let rng = &mut self.rng;
        match field.kind() {
            Kind::String => Value::String(self.string(field.name())),
            Kind::Message(m) if m.full_name() == "google.protobuf.FieldMask" => {
                let mut mask = DynamicMessage::new(m);
                let real = mask_paths(parent);
                let paths = (0..self.rng.below(5))
                    .map(|_| match self.rng.below(3) {
                        0 if !real.is_empty() => self.rng.pick(&real),
                        1 => {
                            let bogus = ["", "*", "id", "nope", "name.first", "a..b"];
                            self.rng.pick(&bogus).to_owned()
                        }
                        _ => self.string("path"),
                    })
                    .map(Value::String)
                    .collect();
                mask.set_field_by_name("paths", Value::List(paths));
                Value::Message(mask)
            }
            Kind::Message(m) if depth >= MAX_DEPTH => Value::Message(DynamicMessage::new(m)),
            Kind::Message(m) => Value::Message(self.message(&m, depth + 1)),
            Kind::Enum(_) if rng.one_in(6) => {
                let any = rng.u64() as i32;
                Value::EnumNumber(rng.pick(&[-1, 99, i32::MIN, i32::MAX, any]))
            }
            Kind::Enum(e) => {
                let numbers: Vec<i32> = e.values().map(|v| v.number()).collect();
                Value::EnumNumber(rng.pick(&numbers))
            }
            Kind::Bool => Value::Bool(rng.one_in(2)),
            Kind::Bytes => {
                let n = rng.below(16);
                Value::Bytes(rng.bytes(n).into())
            }
            Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => {
                Value::I32(self.int(i32::MIN.into(), i32::MAX.into()) as i32)
            }
            Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => Value::I64(self.int(i64::MIN, i64::MAX)),
            Kind::Uint32 | Kind::Fixed32 => Value::U32(self.int(0, u32::MAX.into()) as u32),
            Kind::Uint64 | Kind::Fixed64 => {
                let any = rng.u64();
                Value::U64(rng.pick(&[0, 1, u64::MAX, any % 1000, any]))
            }
            Kind::Float => Value::F32(rng.pick(&[0.0, -1.0, 1.5, f32::NAN, f32::INFINITY])),
            Kind::Double => Value::F64(rng.pick(&[0.0, -1.0, 1.5, f64::NAN, f64::MIN])),
        }
    }

    /// A string for field `name`: a live id, a random UUID, very long text, text that suits
    /// the field's name, or one to three fragments of ordinary and (`nasty` percent) bad text.
    fn string(&mut self, name: &str) -> String {
        let rng = &mut self.rng;
        if is_id(name) {
            match rng.below(10) {
                0..=5 if !self.ids.is_empty() => {
                    let named: Vec<&String> = self
                        .ids
                        .iter()
                        .filter(|(kind, _)| name.contains(kind))
                        .map(|(_, id)| id)
                        .collect();
                    return if named.is_empty() || rng.one_in(5) {
                        rng.pick(self.ids).1
                    } else {
                        rng.pick(&named).clone()
                    };
                }
                6 | 7 => return rng.uuid(),
                _ => {}
            }
        }
        if rng.one_in(40) {
            // Near and over the length limits, in one-, two-, three- and four-byte characters.
            let n = rng.pick(&[4095, 4096, 4097, 16_383, 16_384, 16_385, 70_000]);
            let c = rng.pick(&['a', 'é', '東', '😀']);
            let mut s: String = std::iter::repeat_n(c, n).collect();
            if rng.one_in(3) {
                s.push_str(rng.pick(NASTY));
            }
            return s;
        }
        let word = rng.pick(&["acme", "ivy", "sales", "x", "zürich"]);
        let n = rng.below(1000);
        let suited = match name {
            _ if name.contains("email") => Some(format!("{word}{n}@example.com")),
            _ if name.contains("slug") => Some(format!("{word}-{n}")),
            _ if name.contains("url") || name.contains("profiles") => {
                Some(format!("https://{word}.example/{n}"))
            }
            _ if name.starts_with("permission") => Some(
                rng.pick(&["invoice:approve", "team:read", "organization:*", "*"])
                    .into(),
            ),
            "role" => Some(
                rng.pick(&["tenant-admin", "member", "viewer", "approver"])
                    .into(),
            ),
            "name" => Some(
                rng.pick(&["Sales", "Zürich office", "東京", "Team 😀"])
                    .into(),
            ),
            // page and consistency tokens: only the server's own are valid
            _ if name.ends_with("_token") => Some(String::new()),
            _ => None,
        };
        let mut s = String::new();
        if let Some(suited) = suited.filter(|_| rng.one_in(2)) {
            s = suited;
        } else {
            for _ in 0..=rng.below(3) {
                match rng.below(4) {
                    _ if rng.below(100) < self.nasty => s.push_str(rng.pick(NASTY)),
                    0 => s.push_str(&rng.uuid()),
                    1 => s.push_str(&format!("{word}{n}")),
                    _ => s.push_str(rng.pick(VALID)),
                }
            }
        }
        if rng.below(100) < self.nasty {
            s.insert_str(0, rng.pick(NASTY));
        }
        s
    }

    /// 0, ±1, the range's ends, a small number or any number in `min..=max`; in a clean
    /// request mostly a small one (most numbers are sizes and counts).
    fn int(&mut self, min: i64, max: i64) -> i64 {
        let rng = &mut self.rng;
        let span = (i128::from(max) - i128::from(min) + 1) as u128;
        let any = (i128::from(min) + (u128::from(rng.u64()) % span) as i128) as i64;
        let small = rng.below(50) as i64;
        if self.nasty == 0 && rng.one_in(2) {
            return small;
        }
        rng.pick(&[0, 1, -1, min, max, small, -small, any])
            .clamp(min, max)
    }
}

fn is_id(name: &str) -> bool {
    name == "id" || name.ends_with("_id") || name.ends_with("_ids")
}

/// Field mask paths an update of `parent` could name: the fields of its message fields, one
/// level down too (`name`, `business_profile.legal_name`).
fn mask_paths(parent: &MessageDescriptor) -> Vec<String> {
    let mut paths = Vec::new();
    for field in parent.fields() {
        let Kind::Message(m) = field.kind() else {
            continue;
        };
        for f in m.fields() {
            if let Kind::Message(nested) = f.kind() {
                paths.extend(
                    nested
                        .fields()
                        .map(|g| format!("{}.{}", f.name(), g.name())),
                );
            }
            paths.push(f.name().to_owned());
        }
    }
    paths
}

/// `bytes` with one to four random edits: a bit flipped, a byte replaced, bytes inserted or
/// deleted, the end cut, a slice repeated (so fields occur twice), or a length-delimited field
/// with random content appended.
pub fn mutate(mut bytes: Vec<u8>, rng: &mut Rng) -> Vec<u8> {
    let edits = if rng.one_in(2) { 1 } else { 1 + rng.below(4) };
    for _ in 0..edits {
        let len = bytes.len();
        let at = rng.below(len + 1);
        match rng.below(7) {
            0 if at < len => bytes[at] ^= 1 << rng.below(8),
            1 if at < len => {
                let any = rng.u64() as u8;
                bytes[at] = rng.pick(&[0, 0x7f, 0x80, 0xff, any]);
            }
            2 => {
                let n = rng.below(8) + 1;
                bytes.splice(at..at, rng.bytes(n));
            }
            3 => {
                let end = (at + rng.below(8) + 1).min(len);
                bytes.drain(at..end);
            }
            4 => bytes.truncate(at),
            5 => {
                let start = rng.below(at + 1);
                bytes.extend_from_within(start..at);
            }
            _ => {
                let content = if rng.one_in(2) {
                    rng.pick(NASTY).as_bytes().to_vec()
                } else {
                    let n = rng.below(12);
                    rng.bytes(n)
                };
                let field = rng.below(12) as u8 + 1;
                bytes.push(field << 3 | 2);
                bytes.push(content.len() as u8);
                bytes.extend(content);
            }
        }
    }
    bytes
}
