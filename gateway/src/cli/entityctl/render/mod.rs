//! How `entityctl` shows results (text `key: value` lines, one JSON object, or only ids) and
//! gRPC errors (on stderr, with their `google.rpc` details).
//!
//! Every result is a [`View`]. Most are built from three generic shapes over a
//! [`Resource`] (a tenant, organization, team, user, role, client, directory record, API key,
//! registration settings message or search hit): [`One`] (a Get), [`Written`] (a write's answer: summary
//! line, secrets shown once or a TXT record to publish, the resource) and [`Listed`] (a page of
//! a List). The rest (permission checks, role assignments, organization paths, team
//! memberships, projection states, API key verifications, registration resolutions, token
//! claims, search keys) are views of their own. A resource's module implements [`Resource`] (its own
//! fields: the views add its id and version) and declares its write answer (`write_answer!`)
//! and its enums' names (`labels!`).
//!
//! Views hand over raw server text; [`Rendered::format`], [`status_text`] and [`error_text`],
//! the only ways to output, escape all of it (see [`escape`](mod@escape)).

/// Declares a write's answer ([`WriteAnswer`]): `Response { field: Resource }`, then the
/// fields holding values shown this once, if any.
macro_rules! write_answer {
    ($response:ty { $field:ident: $resource:ty } $(, secret $($secret:ident),+)?) => {
        impl super::WriteAnswer for $response {
            type Resource = $resource;

            fn resource(&self) -> Option<&$resource> {
                self.$field.as_ref()
            }

            fn result(&self) -> Option<&pb::WriteResult> {
                self.result.as_ref()
            }

            $(fn secrets(&self) -> Vec<(&'static str, String)> {
                vec![$((stringify!($secret), self.$secret.clone())),+]
            })?
        }
    };
}

/// Inside `impl Resource`: `id` and `stamps` of a message with `id`, `version`,
/// `create_time` and `update_time` fields.
macro_rules! id_and_stamps {
    () => {
        fn id(&self) -> &str {
            &self.id
        }

        fn stamps(&self) -> Option<super::Stamps<'_>> {
            Some((
                self.version,
                self.create_time.as_ref(),
                self.update_time.as_ref(),
            ))
        }
    };
}

/// Declares how proto enums are named ([`Label`]): `Enum: "PREFIX_"`.
macro_rules! labels {
    ($($enum:ty: $prefix:literal),* $(,)?) => {$(
        impl super::Label for $enum {
            const PREFIX: &'static str = $prefix;

            fn proto_name(self) -> &'static str {
                self.as_str_name()
            }
        }
    )*};
}

mod access;
mod admin;
mod analytics;
mod api_key;
mod audit;
mod client;
mod customer;
mod directory;
mod escape;
mod organization;
mod registration;
mod role;
mod search;
mod team;
mod tenant;
mod user;

use std::borrow::Cow;

use chrono::{DateTime, SecondsFormat};
use entity_proto::v1 as pb;
use serde_json::{Map, Value, json};
use tonic::{Code, Status};
use tonic_types::StatusExt;

pub use access::{Assignments, Check, Effective};
pub use admin::{NodeView, Projections, Rebuilding};
pub use analytics::Exported;
pub use api_key::Verified;
pub use organization::OrgPath;
pub use registration::{AddedDomain, Resolved};
pub use search::SearchKey;
pub use team::Memberships;
pub use user::Claims;

use self::escape::{escape, escaped_width, json_text, pad, printable};
use super::args::Output;

/// Something a command produced, printable in every output format. Its strings are raw:
/// [`Rendered::format`] escapes them.
pub trait View {
    /// Readable `key: value` lines (or one row per item), one string per printed line: a
    /// newline inside one is data, printed as `\n`.
    fn text(&self) -> Vec<String>;
    /// One JSON object.
    fn json(&self) -> Value;
    /// The id(s) of the resulting resource(s), for shell scripts, one per line.
    fn ids(&self) -> Vec<String>;
}

/// The result of one command.
pub struct Rendered(Box<dyn View + Send>);

impl Rendered {
    /// Wraps a view.
    pub fn new(view: impl View + Send + 'static) -> Self {
        Self(Box::new(view))
    }

    /// The result in the requested format, escaped, ready to print.
    pub fn format(&self, output: Output) -> String {
        printed(&*self.0, output)
    }
}

/// `view` in the `output` format, escaped, ready to print.
fn printed(view: &dyn View, output: Output) -> String {
    match output {
        Output::Json => json_text(&view.json()),
        Output::Text => printable(&view.text()),
        Output::Id => printable(&view.ids()),
    }
}

/// A resource message as `entityctl` shows it.
pub trait Resource {
    /// Its kind, as named in summaries and JSON keys (`tenant`, `organization`, …).
    const KIND: &'static str;
    /// The key of its id's text line: `id` but for resources named by another entity's id
    /// (registration settings: `tenant_id`).
    const ID_KEY: &'static str = "id";
    /// Its id.
    fn id(&self) -> &str;
    /// Its version and creation and update times, shown after its fields; none by default.
    fn stamps(&self) -> Option<Stamps<'_>> {
        None
    }
    /// Its `key: value` lines between the `id` line and the [`stamps`](Self::stamps).
    fn fields(&self) -> Vec<(&'static str, String)>;
    /// Its JSON object (lower-case enums, RFC 3339 times) but for the [`stamps`](Self::stamps).
    fn json_fields(&self) -> Value;
    /// Its one-line form in a listing.
    fn row(&self) -> String;
}

/// A resource's version, creation time and last update time.
pub type Stamps<'a> = (
    i64,
    Option<&'a prost_types::Timestamp>,
    Option<&'a prost_types::Timestamp>,
);

/// The `key: value` lines of a resource: `id` (its [`ID_KEY`](Resource::ID_KEY)), its
/// fields, then `version`, `created` and `updated`.
fn resource_lines<R: Resource>(r: &R) -> Vec<String> {
    let mut pairs = vec![(R::ID_KEY, r.id().to_owned())];
    pairs.extend(r.fields());
    if let Some((version, created, updated)) = r.stamps() {
        pairs.push(("version", version.to_string()));
        pairs.push(("created", created.map(rfc3339).unwrap_or_default()));
        pairs.push(("updated", updated.map(rfc3339).unwrap_or_default()));
    }
    lines(&pairs)
}

/// The JSON object of a resource: its fields, and `version`, `create_time` and `update_time`.
fn resource_json(r: &impl Resource) -> Value {
    let mut fields = r.json_fields();
    if let (Some(object), Some((version, created, updated))) = (fields.as_object_mut(), r.stamps())
    {
        object.insert("version".to_owned(), version.into());
        object.insert("create_time".to_owned(), created.map(rfc3339).into());
        object.insert("update_time".to_owned(), updated.map(rfc3339).into());
    }
    fields
}

/// A resource read by itself.
pub struct One<R>(pub R);

impl<R: Resource> View for One<R> {
    fn text(&self) -> Vec<String> {
        resource_lines(&self.0)
    }

    fn json(&self) -> Value {
        resource_json(&self.0)
    }

    fn ids(&self) -> Vec<String> {
        vec![self.0.id().to_owned()]
    }
}

/// The answer to a write: the changed resource and its write result.
pub trait WriteAnswer {
    /// The resource it carries.
    type Resource: Resource;
    /// The resource after the write.
    fn resource(&self) -> Option<&Self::Resource>;
    /// Version, consistency token, replay flag.
    fn result(&self) -> Option<&pb::WriteResult>;
    /// Values shown under the summary, before the resource, and as members of the JSON object
    /// (secrets shown this once, such as invitation tokens; the TXT record a domain needs):
    /// `(key, value)`, an empty value left out of the text (null in JSON).
    fn secrets(&self) -> Vec<(&'static str, String)> {
        Vec::new()
    }
}

/// A write's answer with what happened (`created`, `suspended`, …).
pub struct Written<W> {
    /// What happened, as a past-tense verb (`created`, `added domain acme.com to`).
    pub verb: Cow<'static, str>,
    /// The answer.
    pub answer: W,
}

impl<W> Written<W> {
    /// The answer to a write that `verb`-ed its resource.
    pub fn new(verb: impl Into<Cow<'static, str>>, answer: W) -> Self {
        Self {
            verb: verb.into(),
            answer,
        }
    }
}

impl<W: WriteAnswer> View for Written<W> {
    fn text(&self) -> Vec<String> {
        let resource = self.answer.resource();
        let mut out = vec![summary(
            &self.verb,
            W::Resource::KIND,
            resource.map_or("", |r| r.id()),
            self.answer.result(),
        )];
        for (key, value) in self.answer.secrets() {
            if !value.is_empty() {
                out.push(format!("{key}: {value}"));
            }
        }
        if let Some(r) = resource {
            out.extend(resource_lines(r));
        }
        out
    }

    fn json(&self) -> Value {
        let mut object = Map::new();
        object.insert(
            W::Resource::KIND.to_owned(),
            self.answer.resource().map_or(Value::Null, resource_json),
        );
        object.insert(
            "result".to_owned(),
            self.answer.result().map_or(Value::Null, result_json),
        );
        for (key, value) in self.answer.secrets() {
            let value = if value.is_empty() {
                Value::Null
            } else {
                Value::String(value)
            };
            object.insert(key.to_owned(), value);
        }
        Value::Object(object)
    }

    fn ids(&self) -> Vec<String> {
        self.answer
            .resource()
            .map(|r| r.id().to_owned())
            .into_iter()
            .collect()
    }
}

/// A page of a listing.
pub struct Listed<R> {
    /// The items.
    pub items: Vec<R>,
    /// Token of the next page ("" on the last page).
    pub next_page_token: String,
}

impl<R> Listed<R> {
    /// A page and the token of the next one.
    pub fn new(items: Vec<R>, next_page_token: String) -> Self {
        Self {
            items,
            next_page_token,
        }
    }
}

impl<R: Resource> View for Listed<R> {
    fn text(&self) -> Vec<String> {
        let mut out: Vec<String> = self.items.iter().map(Resource::row).collect();
        out.push(page_line(self.items.len(), R::KIND, &self.next_page_token));
        out
    }

    fn json(&self) -> Value {
        let mut object = Map::new();
        object.insert(
            format!("{}s", R::KIND),
            self.items.iter().map(resource_json).collect(),
        );
        object.insert(
            "next_page_token".to_owned(),
            Value::String(self.next_page_token.clone()),
        );
        Value::Object(object)
    }

    fn ids(&self) -> Vec<String> {
        self.items.iter().map(|r| r.id().to_owned()).collect()
    }
}

fn summary(verb: &str, kind: &str, id: &str, result: Option<&pb::WriteResult>) -> String {
    match result {
        Some(r) => format!(
            "{verb} {kind} {id} (version {}, consistency token {}{})",
            r.version,
            r.consistency_token,
            if r.replayed {
                ", replayed: nothing new written"
            } else {
                ""
            }
        ),
        None => format!("{verb} {kind} {id}"),
    }
}

fn page_line(count: usize, kind: &str, next: &str) -> String {
    let plural = if count == 1 { "" } else { "s" };
    if next.is_empty() {
        format!("({count} {kind}{plural})")
    } else {
        format!("({count} {kind}{plural}; next page: --page-token {next})")
    }
}

/// What a list row ends with: `  (deleted)` for a tombstone, else nothing.
fn deleted_mark(deleted: bool) -> &'static str {
    if deleted { "  (deleted)" } else { "" }
}

/// Rows under a header, each column as wide as its widest cell once escaped (the last one
/// unpadded).
fn table(header: &[&str], rows: &[Vec<String>]) -> Vec<String> {
    let mut widths: Vec<usize> = header.iter().map(|h| escaped_width(h)).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(escaped_width(cell));
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let padded: Vec<String> = cells.zip(&widths).map(|(cell, w)| pad(cell, *w)).collect();
        padded.join("  ").trim_end_matches(' ').to_owned()
    };
    let mut out = vec![line(&mut header.iter().copied())];
    out.extend(rows.iter().map(|r| line(&mut r.iter().map(String::as_str))));
    out
}

/// `(N things)`: a count with its plural.
fn count_line(count: usize, what: &str) -> String {
    format!("({count} {what}{})", if count == 1 { "" } else { "s" })
}

fn lines(pairs: &[(&str, String)]) -> Vec<String> {
    pairs.iter().map(|(k, v)| format!("{k}: {v}")).collect()
}

/// `value`, or `placeholder` when it is empty.
fn nonempty_or<'a>(value: &'a str, placeholder: &'a str) -> &'a str {
    if value.is_empty() { placeholder } else { value }
}

/// Another entity's id in text; empty: `(none)`.
fn reference(id: &str) -> String {
    nonempty_or(id, "(none)").to_owned()
}

/// A JSON string, or null when empty.
fn nonempty(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

/// A list for a text line: comma-separated, or `(none)`.
fn list_text(items: &[String]) -> String {
    if items.is_empty() {
        "(none)".to_owned()
    } else {
        items.join(", ")
    }
}

fn result_json(r: &pb::WriteResult) -> Value {
    json!({
        "version": r.version,
        "consistency_token": r.consistency_token,
        "replayed": r.replayed,
    })
}

fn rfc3339(ts: &prost_types::Timestamp) -> String {
    u32::try_from(ts.nanos)
        .ok()
        .and_then(|n| DateTime::from_timestamp(ts.seconds, n))
        .map_or_else(
            || format!("(invalid timestamp {}s {}ns)", ts.seconds, ts.nanos),
            |t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        )
}

/// A proto enum (declared with `labels!`).
trait Label: TryFrom<i32> {
    /// What every proto name of the enum starts with (`TEAM_STATUS_`).
    const PREFIX: &'static str;
    /// The proto name of a value.
    fn proto_name(self) -> &'static str;
}

/// Lower-case name of a value of proto enum `E`: its proto name without the type prefix
/// (`unknown(N)` for a value the enum does not have).
fn label<E: Label>(value: i32) -> String {
    E::try_from(value)
        .ok()
        .and_then(|e| e.proto_name().strip_prefix(E::PREFIX))
        .map_or_else(|| format!("unknown({value})"), str::to_ascii_lowercase)
}

/// The canonical name of a gRPC status code (`NOT_FOUND`, …).
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

/// A gRPC error as shown on stderr, escaped: `error: <CODE>: <message>`, then its reason,
/// metadata, field violations and retry delay, one per line.
pub fn status_text(status: &Status) -> String {
    let mut out = vec![format!(
        "error: {}: {}",
        code_name(status.code()),
        status.message()
    )];
    let details = status.get_error_details();
    if let Some(info) = details.error_info() {
        out.push(format!("  reason: {}", info.reason));
        let mut metadata: Vec<_> = info.metadata.iter().collect();
        metadata.sort();
        for (k, v) in metadata {
            out.push(format!("  {k}: {v}"));
        }
    }
    if let Some(bad) = details.bad_request() {
        for v in &bad.field_violations {
            out.push(format!("  field {}: {}", v.field, v.description));
        }
    }
    if let Some(retry) = details.retry_info().and_then(|r| r.retry_delay) {
        out.push(format!("  retry after: {}s", retry.as_secs_f64()));
    }
    printable(&out)
}

/// A local error as shown on stderr, escaped: `error: <message>`.
pub fn error_text(message: &str) -> String {
    format!("error: {}", escape(message))
}

#[cfg(test)]
mod tests {
    use tonic_types::ErrorDetails;

    use super::*;

    #[test]
    fn errors_show_their_details() {
        let mut d = ErrorDetails::with_error_info("TENANT_SUSPENDED", "entity-engine", []);
        d.add_bad_request_violation("tenant.name", "must not be empty");
        let s = Status::with_error_details(Code::FailedPrecondition, "tenant is suspended", d);
        let text = status_text(&s);
        assert!(text.starts_with("error: FAILED_PRECONDITION: tenant is suspended\n"));
        assert!(text.contains("reason: TENANT_SUSPENDED"));
        assert!(text.contains("field tenant.name: must not be empty"));
    }

    #[test]
    fn page_lines() {
        assert_eq!(page_line(1, "user", ""), "(1 user)");
        assert_eq!(
            page_line(2, "team", "ab"),
            "(2 teams; next page: --page-token ab)"
        );
        assert_eq!(count_line(0, "projection"), "(0 projections)");
    }

    #[test]
    fn tables_align_their_columns() {
        let rows = vec![
            vec!["a".to_owned(), "long cell".to_owned(), "x".to_owned()],
            vec!["bbbbbb".to_owned(), "c".to_owned(), String::new()],
        ];
        assert_eq!(
            printable(&table(&["NAME", "B", "LAST"], &rows)),
            "NAME    B          LAST\na       long cell  x\nbbbbbb  c"
        );
        assert_eq!(table(&["ONLY"], &[]), ["ONLY"]);
        // a cell is as wide as it is printed: `\u001b` is six characters
        let rows = vec![vec!["a\u{1b}".to_owned(), "x".to_owned()]];
        assert_eq!(
            printable(&table(&["NAME", "B"], &rows)),
            "NAME     B\na\\u001b  x"
        );
    }

    /// What a tenant could store: terminal sequences, BEL, NUL, DEL, C1, bidi and invisible
    /// characters, a forged line and a backslash, in non-ASCII company.
    const HOSTILE: &str = "Zürich\u{1b}[2J\u{1b}]0;pwned\u{7}\0\u{7f}\u{9b}2J\u{202E}gpj.exe\u{2066}\
                           \u{200B}\u{FEFF}\u{AD}\u{E0041}\r\nstatus: active\t\\u001b 東京 🎉";

    fn hostile() -> String {
        HOSTILE.to_owned()
    }

    fn assignment() -> pb::RoleAssignment {
        pb::RoleAssignment {
            role: hostile(),
            scope: Some(pb::Scope {
                kind: pb::ScopeKind::Organization as i32,
                id: hostile(),
            }),
        }
    }

    fn tenant() -> pb::Tenant {
        pb::Tenant {
            id: hostile(),
            name: hostile(),
            slug: hostile(),
            products: vec![hostile()],
            suspension_reason: hostile(),
            business_profile: Some(pb::BusinessProfile {
                legal_name: hostile(),
                address: Some(pb::Address {
                    country: hostile(),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            onboarding: Some(pb::Onboarding {
                default_organization_id: hostile(),
                owner_user_id: hostile(),
                owner_email: hostile(),
                completed: false,
            }),
            ..Default::default()
        }
    }

    fn organization() -> pb::Organization {
        pb::Organization {
            id: hostile(),
            tenant_id: hostile(),
            parent_id: hostile(),
            name: hostile(),
            description: hostile(),
            ..Default::default()
        }
    }

    fn team() -> pb::Team {
        pb::Team {
            id: hostile(),
            organization_id: hostile(),
            name: hostile(),
            description: hostile(),
            members: vec![pb::TeamMember {
                user_id: hostile(),
                role: pb::TeamRole::Lead as i32,
            }],
            ..Default::default()
        }
    }

    fn client() -> pb::Client {
        pb::Client {
            tenant_id: hostile(),
            id: hostile(),
            name: hostile(),
            external_id: hostile(),
            business_profile: tenant().business_profile,
            provisioned_tenant_id: hostile(),
            ..Default::default()
        }
    }

    fn department() -> pb::Department {
        pb::Department {
            tenant_id: hostile(),
            id: hostile(),
            client_id: hostile(),
            name: hostile(),
            code: hostile(),
            ..Default::default()
        }
    }

    fn location() -> pb::Location {
        pb::Location {
            tenant_id: hostile(),
            id: hostile(),
            client_id: hostile(),
            name: hostile(),
            address: Some(pb::Address {
                line1: hostile(),
                line2: hostile(),
                city: hostile(),
                region: hostile(),
                postal_code: hostile(),
                country: hostile(),
            }),
            code: hostile(),
            website: hostile(),
            phone: hostile(),
            email: hostile(),
            notes: hostile(),
            ..Default::default()
        }
    }

    fn contact() -> pb::Contact {
        pb::Contact {
            tenant_id: hostile(),
            id: hostile(),
            client_id: hostile(),
            r#type: hostile(),
            name: hostile(),
            email: hostile(),
            phone: hostile(),
            location_id: hostile(),
            ..Default::default()
        }
    }

    fn partition() -> pb::Partition {
        pb::Partition {
            tenant_id: hostile(),
            id: hostile(),
            client_id: hostile(),
            name: hostile(),
            group_id: hostile(),
            description: hostile(),
            ..Default::default()
        }
    }

    fn partition_group() -> pb::PartitionGroup {
        pb::PartitionGroup {
            tenant_id: hostile(),
            id: hostile(),
            client_id: hostile(),
            name: hostile(),
            parent_id: hostile(),
            ..Default::default()
        }
    }

    fn api_key() -> pb::ApiKey {
        pb::ApiKey {
            tenant_id: hostile(),
            id: hostile(),
            partition_id: hostile(),
            client_id: hostile(),
            name: hostile(),
            scopes: vec![hostile(), hostile()],
            foreign_key: hostile(),
            masked_key: hostile(),
            revocation_reason: hostile(),
            rotated_from: hostile(),
            replaced_by: hostile(),
            ..Default::default()
        }
    }

    fn user() -> pb::User {
        pb::User {
            id: hostile(),
            client_id: hostile(),
            email: hostile(),
            display_name: hostile(),
            organization_ids: vec![hostile()],
            roles: vec![assignment()],
            ..Default::default()
        }
    }

    fn registration() -> pb::RegistrationSettings {
        pb::RegistrationSettings {
            tenant_id: hostile(),
            enabled: true,
            auto_roles: vec![assignment()],
            custom_host: hostile(),
            domains: vec![pb::RegistrationDomain {
                domain: hostile(),
                status: pb::DomainStatus::Verified as i32,
                txt_record: hostile(),
                client_id: hostile(),
                verify_time: Some(prost_types::Timestamp::default()),
                ..Default::default()
            }],
            version: 1,
        }
    }

    fn role() -> pb::Role {
        pb::Role {
            id: hostile(),
            name: hostile(),
            description: hostile(),
            permissions: vec![hostile()],
            except_permissions: vec![hostile()],
            ..Default::default()
        }
    }

    fn hit() -> pb::SearchHit {
        pb::SearchHit {
            entry: pb::SearchEntryKind::Client as i32,
            id: hostile(),
            tenant_id: hostile(),
            name: hostile(),
            slug: hostile(),
            external_id: hostile(),
            legal_name: hostile(),
            provisioned_tenant_id: hostile(),
            ..Default::default()
        }
    }

    fn event() -> pb::AuditEvent {
        let text = prost_types::Value {
            kind: Some(prost_types::value::Kind::StringValue(hostile())),
        };
        pb::AuditEvent {
            id: hostile(),
            entity: Some(pb::EntityRef {
                kind: pb::EntityKind::User as i32,
                id: hostile(),
            }),
            event_type: hostile(),
            actor: Some(pb::AuditActor {
                subject: hostile(),
                on_behalf_of: hostile(),
                credential_kind: hostile(),
                credential_id: hostile(),
            }),
            request_id: hostile(),
            payload: Some(prost_types::Struct {
                fields: [(hostile(), text)].into(),
            }),
            ..Default::default()
        }
    }

    /// Every view, each over a response whose every string is [`HOSTILE`].
    fn views() -> Vec<Box<dyn View>> {
        let result = || {
            Some(pb::WriteResult {
                version: 1,
                consistency_token: hostile(),
                replayed: false,
            })
        };
        vec![
            Box::new(One(tenant())),
            Box::new(Written::new(
                "created",
                pb::TenantResponse {
                    tenant: Some(tenant()),
                    result: result(),
                    owner_invitation_token: hostile(),
                    bootstrap_api_key: hostile(),
                    bootstrap_api_key_id: hostile(),
                },
            )),
            Box::new(Listed::new(vec![tenant()], hostile())),
            Box::new(One(organization())),
            Box::new(Listed::new(vec![organization()], hostile())),
            Box::new(OrgPath(vec![organization(), organization()])),
            Box::new(One(team())),
            Box::new(Listed::new(vec![team()], hostile())),
            Box::new(Memberships {
                memberships: vec![pb::TeamMembership {
                    team_id: hostile(),
                    user_id: hostile(),
                    role: 0,
                }],
                next_page_token: hostile(),
                of_user: false,
            }),
            Box::new(Written::new(
                "invited",
                pb::UserResponse {
                    user: Some(user()),
                    result: result(),
                    invitation_token: hostile(),
                },
            )),
            Box::new(Listed::new(vec![user()], hostile())),
            Box::new(One(role())),
            Box::new(Listed::new(vec![role()], hostile())),
            Box::new(Written::new(
                "created",
                pb::ClientResponse {
                    client: Some(client()),
                    result: result(),
                },
            )),
            Box::new(Listed::new(vec![client()], hostile())),
            Box::new(One(department())),
            Box::new(Written::new(
                "created",
                pb::LocationResponse {
                    location: Some(location()),
                    result: result(),
                },
            )),
            Box::new(Listed::new(vec![location()], hostile())),
            Box::new(One(contact())),
            Box::new(Listed::new(vec![contact()], hostile())),
            Box::new(One(partition())),
            Box::new(Written::new(
                "created",
                pb::PartitionResponse {
                    partition: Some(partition()),
                    result: result(),
                },
            )),
            Box::new(Listed::new(vec![partition()], hostile())),
            Box::new(One(partition_group())),
            Box::new(Written::new(
                "updated",
                pb::PartitionGroupResponse {
                    partition_group: Some(partition_group()),
                    result: result(),
                },
            )),
            Box::new(Listed::new(vec![partition_group()], hostile())),
            Box::new(One(api_key())),
            Box::new(Written::new(
                "created",
                pb::IssuedApiKey {
                    api_key: Some(api_key()),
                    key: hostile(),
                    result: result(),
                },
            )),
            Box::new(Written::new(
                "revoked",
                pb::ApiKeyResponse {
                    api_key: Some(api_key()),
                    result: result(),
                },
            )),
            Box::new(Listed::new(vec![api_key()], hostile())),
            Box::new(Verified(pb::VerifyApiKeyResponse {
                valid: true,
                tenant_id: hostile(),
                client_id: hostile(),
                partition_id: hostile(),
                key_id: hostile(),
                scopes: vec![hostile()],
                ..Default::default()
            })),
            Box::new(One(registration())),
            Box::new(Written::new(
                format!("added domain {HOSTILE} to"),
                AddedDomain {
                    domain: hostile(),
                    answer: pb::RegistrationSettingsResponse {
                        settings: Some(registration()),
                        result: result(),
                    },
                },
            )),
            Box::new(Resolved(pb::ResolveRegistrationResponse {
                accepted: true,
                tenant_id: hostile(),
                tenant_name: hostile(),
                reason: hostile(),
            })),
            Box::new(Resolved(pb::ResolveRegistrationResponse {
                reason: hostile(),
                ..Default::default()
            })),
            Box::new(Claims(pb::UserClaims {
                tenant_id: hostile(),
                user_id: hostile(),
                client_id: hostile(),
                roles: vec![assignment()],
                products: vec![hostile()],
                ..Default::default()
            })),
            Box::new(Check(pb::CheckPermissionResponse {
                allowed: false,
                granted_by: Some(assignment()),
                denial_reason: hostile(),
            })),
            Box::new(Effective(pb::ListEffectivePermissionsResponse {
                permissions: vec![pb::EffectivePermission {
                    permission: hostile(),
                    except: vec![hostile()],
                    granted_by: Some(assignment()),
                }],
            })),
            Box::new(Assignments {
                assignments: vec![pb::UserRoleAssignment {
                    user_id: hostile(),
                    assignment: Some(assignment()),
                    assign_time: None,
                }],
                next_page_token: hostile(),
                of_user: false,
            }),
            Box::new(One(hit())),
            Box::new(Listed::new(vec![hit()], hostile())),
            Box::new(SearchKey(pb::CreateSearchKeyResponse {
                search_key: hostile(),
                tenant_id: hostile(),
                ..Default::default()
            })),
            Box::new(One(event())),
            Box::new(Listed::new(vec![event()], hostile())),
            Box::new(Projections(vec![pb::ProjectionStatus {
                name: hostile(),
                checkpoint: hostile(),
                last_error: hostile(),
                ..Default::default()
            }])),
            Box::new(Rebuilding(hostile())),
            Box::new(NodeView(pb::NodeStatus {
                cluster: Some(pb::ClusterMembership {
                    node_id: hostile(),
                    ..Default::default()
                }),
                ..Default::default()
            })),
        ]
    }

    /// The first character of `out` a terminal would act on or hide, if any (line feeds
    /// between printed lines aside).
    fn raw_character(out: &str) -> Option<char> {
        out.chars().find(|&c| c != '\n' && escape::is_unsafe(c))
    }

    #[test]
    fn every_view_prints_hostile_text_escaped_in_every_format() {
        for (i, view) in views().iter().enumerate() {
            let view = view.as_ref();
            for (output, lines) in [
                (Output::Text, view.text().len()),
                (Output::Id, view.ids().len()),
            ] {
                let out = printed(view, output);
                assert_eq!(raw_character(&out), None, "view {i} {output:?}: {out}");
                assert_eq!(
                    out.split('\n').count(),
                    lines.max(1),
                    "view {i} {output:?}: no forged lines in\n{out}"
                );
            }
            let out = printed(view, Output::Text);
            assert!(out.contains(&*escape(HOSTILE)), "view {i}: {out}");
            let out = printed(view, Output::Json);
            assert_eq!(raw_character(&out), None, "view {i} json: {out}");
            assert!(!out.contains('\n'), "view {i} json: {out}");
            let parsed: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
            assert_eq!(parsed, view.json(), "view {i}: the JSON value is unchanged");
        }
        // the text shows the stored value, escaped once
        let out = printed(&One(organization()), Output::Text);
        assert!(out.contains(
            "\ndescription: Zürich\\u001b[2J\\u001b]0;pwned\\u0007\\u0000\\u007f\\u009b2J\\u202egpj.exe\
             \\u2066\\u200b\\ufeff\\u00ad\\udb40\\udc41\\r\\nstatus: active\\t\\\\u001b 東京 🎉\n"
        ));
    }

    #[test]
    fn errors_from_the_server_are_escaped() {
        let mut d = ErrorDetails::with_error_info(
            HOSTILE,
            "entity-engine",
            [(HOSTILE.to_owned(), HOSTILE.to_owned())],
        );
        d.add_bad_request_violation(HOSTILE, HOSTILE);
        let s = Status::with_error_details(Code::InvalidArgument, HOSTILE, d);
        let text = status_text(&s);
        assert_eq!(raw_character(&text), None, "{text}");
        assert_eq!(
            text.lines().count(),
            4,
            "message, reason, metadata, field:\n{text}"
        );
        assert!(text.starts_with(&format!("error: INVALID_ARGUMENT: {}\n", escape(HOSTILE))));
        let local = error_text(HOSTILE);
        assert_eq!(raw_character(&local), None);
        assert_eq!(local.lines().count(), 1);
    }
}
