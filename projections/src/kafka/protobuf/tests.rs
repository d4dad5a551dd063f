//! Every event type of the domain converts to its message and back with nothing unknown or
//! dropped; the envelope and the customer events too; old payloads arrive upcast.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use engine::{
    domain::{
        ApiKeyEvent, ClientEvent, OrganizationEvent, RecordEvent, RoleEvent, StreamId, StreamKind,
        TeamEvent, TenantEvent, TenantId, TenantScopeEvent, UserEvent,
    },
    journal::{AuditActor, EventMetadata, RecordedEvent},
};
use prost::Message as _;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use uuid::Uuid;

use super::*;
use crate::{
    Envelope,
    kafka::{
        CUSTOMER_REGISTERED, CUSTOMER_UPDATED, CustomerEvent, KafkaFormat,
        format::{Encoded, Encoding},
        without_secret_hashes,
    },
};

// ---------------------------------------------------------------------------------------------
// What the domain has
// ---------------------------------------------------------------------------------------------

/// The variant names of an internally tagged enum, as serde lists them when refusing an
/// unknown `type`: read from the domain, so a new event type is enumerated here unasked.
fn variants<T: DeserializeOwned>() -> Vec<String> {
    let error = serde_json::from_value::<T>(json!({"type": "\u{1}"}))
        .err()
        .expect("no event type is named U+0001")
        .to_string();
    // "unknown variant `\u{1}`, expected one of `A`, `B`" (or "expected `A`")
    error
        .split('`')
        .skip(3)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// The stream event enums of [`TenantScopeEvent`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Family {
    Tenant,
    Organization,
    Team,
    User,
    Role,
    Client,
    Record,
    ApiKey,
}

const FAMILIES: [Family; 8] = [
    Family::Tenant,
    Family::Organization,
    Family::Team,
    Family::User,
    Family::Role,
    Family::Client,
    Family::Record,
    Family::ApiKey,
];

/// Exhaustive on purpose: a new kind of stream event does not compile until it is listed in
/// [`Family`], [`FAMILIES`] and [`family_variants`].
fn family_of(event: &TenantScopeEvent) -> Family {
    match event {
        TenantScopeEvent::Tenant(_) => Family::Tenant,
        TenantScopeEvent::Organization(_) => Family::Organization,
        TenantScopeEvent::Team(_) => Family::Team,
        TenantScopeEvent::User(_) => Family::User,
        TenantScopeEvent::Role(_) => Family::Role,
        TenantScopeEvent::Client(_) => Family::Client,
        TenantScopeEvent::Record(_) => Family::Record,
        TenantScopeEvent::ApiKey(_) => Family::ApiKey,
    }
}

fn family_variants(family: Family) -> Vec<String> {
    match family {
        Family::Tenant => variants::<TenantEvent>(),
        Family::Organization => variants::<OrganizationEvent>(),
        Family::Team => variants::<TeamEvent>(),
        Family::User => variants::<UserEvent>(),
        Family::Role => variants::<RoleEvent>(),
        Family::Client => variants::<ClientEvent>(),
        Family::Record => variants::<RecordEvent>(),
        Family::ApiKey => variants::<ApiKeyEvent>(),
    }
}

/// Every event type of the domain: (family, payload type).
fn domain_event_types() -> BTreeSet<(Family, String)> {
    FAMILIES
        .iter()
        .flat_map(|&f| family_variants(f).into_iter().map(move |v| (f, v)))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// One event of every type, fields filled in (and the other shapes of the tricky ones)
// ---------------------------------------------------------------------------------------------

fn id(n: u64) -> String {
    format!("0190f000-0000-7000-8000-{n:012}")
}

const TENANT: u64 = 1;
const PARENT: u64 = 2;
const ORG: u64 = 3;
const ORG2: u64 = 4;
const TEAM: u64 = 5;
const USER: u64 = 6;
const CLIENT: u64 = 7;
const ROLE: u64 = 8;
const RECORD: u64 = 9;
const GROUP: u64 = 10;
const KEY: u64 = 11;
const KEY2: u64 = 12;

fn address() -> Value {
    json!({"line1": "1 Main St", "line2": "Suite 2", "city": "Springfield", "region": "IL",
           "postal_code": "62701", "country": "US"})
}

/// A profile in today's shape (codes, classified social profiles, one of an unknown host).
fn profile() -> Value {
    json!({
        "legal_name": "Acme Inc", "industry_sector": "information_technology",
        "industry_group": "software_services", "legal_form": "llc", "size_range": "51-200",
        "external_id": "ext-1", "logo_url": "https://acme.example/logo.png",
        "social_profiles": [
            {"platform": "linkedin", "url": "https://www.linkedin.com/company/acme"},
            {"platform": null, "url": "https://social.example/@acme"}
        ],
        "address": address()
    })
}

/// A profile stored before classification whose texts name no code (kept as text).
fn unclassified_profile() -> Value {
    json!({
        "legal_name": "Globex", "industry_sector": "Space Mining", "industry_group": "",
        "legal_form": "Guild of traders", "size_range": "", "external_id": "", "logo_url": "",
        "social_profiles": [], "address": null
    })
}

fn assignment(role: &str, kind: &str, on: Option<u64>) -> Value {
    match on {
        Some(n) => json!({"role": role, "scope": {"kind": kind, "id": id(n)}}),
        None => json!({"role": role, "scope": {"kind": kind}}),
    }
}

fn onboarding(hash: Value) -> Value {
    json!({"default_organization_id": id(ORG), "owner_user_id": id(USER),
           "owner_email": "owner@acme.example", "owner_token_hash": hash})
}

/// (stream kind, payload in today's shape).
#[allow(clippy::too_many_lines, reason = "one line per event type")]
fn samples() -> Vec<(StreamKind, Value)> {
    use StreamKind as K;
    vec![
        (
            K::Tenant,
            json!({"type": "TenantCreated", "id": id(TENANT), "name": "Acme",
            "slug": "acme", "kind": "business", "plan": "gold",
            "settings": {"session_expiration_seconds": 3600}, "products": ["crm", "billing"],
            "business_profile": profile(),
            "parent": {"tenant_id": id(PARENT), "client_id": id(CLIENT)}}),
        ),
        (
            K::Tenant,
            json!({"type": "TenantCreated", "id": id(TENANT), "name": "Solo",
            "slug": "solo", "kind": "consumer", "plan": "bronze",
            "settings": {"session_expiration_seconds": null}, "products": [],
            "business_profile": null, "parent": null}),
        ),
        (
            K::Tenant,
            json!({"type": "TenantUpdated", "name": "Acme 2",
            "settings": {"session_expiration_seconds": 0}, "products": ["crm"],
            "business_profile": unclassified_profile()}),
        ),
        (
            K::Tenant,
            json!({"type": "TenantUpdated", "name": null, "settings": null,
            "products": [], "business_profile": null}),
        ),
        (
            K::Tenant,
            json!({"type": "TenantPlanChanged", "from": "bronze", "to": "gold"}),
        ),
        (
            K::Tenant,
            json!({"type": "TenantSuspended", "reason": "overdue"}),
        ),
        (K::Tenant, json!({"type": "TenantReactivated"})),
        (
            K::Tenant,
            json!({"type": "TenantDeactivated",
            "grace_period_ends_at": "2025-04-01T00:00:00.123456Z",
            "feedback": {"reason_code": "too_expensive", "text": "Costs", "recommendation_score": 7,
                         "context": "survey", "requested_by": "owner@acme.example"}}),
        ),
        (
            K::Tenant,
            json!({"type": "TenantDeactivated", "grace_period_ends_at": "2025-04-01T00:00:00Z",
            "feedback": {"reason_code": "", "text": "", "recommendation_score": null,
                         "context": "", "requested_by": ""}}),
        ),
        (
            K::Tenant,
            json!({"type": "OnboardingStarted", "plan": onboarding(json!("ab12".repeat(16)))}),
        ),
        (K::Tenant, json!({"type": "OnboardingCompleted"})),
        (
            K::Tenant,
            json!({"type": "TenantDeleted", "grace_period_expired": true}),
        ),
        (K::Tenant, json!({"type": "TenantErased"})),
        (
            K::Tenant,
            json!({"type": "RegistrationConfigured", "enabled": true,
            "auto_roles": [assignment("member", "tenant", None),
                           assignment("viewer", "organization", Some(ORG))]}),
        ),
        (
            K::Tenant,
            json!({"type": "RegistrationHostChanged", "from": null,
            "to": "signup.acme.example"}),
        ),
        (
            K::Tenant,
            json!({"type": "RegistrationDomainAdded", "domain": "acme.example",
            "client_id": id(CLIENT), "txt_token": "entity-verify=abc"}),
        ),
        (
            K::Tenant,
            json!({"type": "RegistrationDomainVerified", "domain": "acme.example",
            "method": "dns"}),
        ),
        (
            K::Tenant,
            json!({"type": "RegistrationDomainRemoved", "domain": "acme.example"}),
        ),
        (K::Tenant, json!({"type": "ClaimsResyncEnded"})),
        (
            K::Organization,
            json!({"type": "OrganizationCreated", "id": id(ORG), "name": "Sales",
            "description": "Sells", "parent_id": id(ORG2)}),
        ),
        (
            K::Organization,
            json!({"type": "OrganizationUpdated", "id": id(ORG), "name": "Sales 2",
            "description": null}),
        ),
        (
            K::Organization,
            json!({"type": "OrganizationMoved", "id": id(ORG),
            "from_parent_id": null, "to_parent_id": id(ORG2)}),
        ),
        (
            K::Organization,
            json!({"type": "OrganizationDeleted", "id": id(ORG),
            "cascaded_from": id(ORG2)}),
        ),
        (
            K::Team,
            json!({"type": "TeamCreated", "id": id(TEAM), "organization_id": id(ORG),
            "name": "Blue", "description": ""}),
        ),
        (
            K::Team,
            json!({"type": "TeamUpdated", "id": id(TEAM), "name": null,
            "description": "The blue team"}),
        ),
        (
            K::Team,
            json!({"type": "TeamDeleted", "id": id(TEAM), "cascaded_from": null}),
        ),
        (
            K::Team,
            json!({"type": "MembershipAdded", "id": id(TEAM), "user_id": id(USER),
            "role": "lead"}),
        ),
        (
            K::Team,
            json!({"type": "MembershipRemoved", "id": id(TEAM), "user_id": id(USER)}),
        ),
        (
            K::User,
            json!({"type": "UserInvited", "id": id(USER), "email": "ann@acme.example",
            "display_name": "Ann", "token_hash": "cd34".repeat(16), "expires_at": "2025-03-08T12:00:00Z"}),
        ),
        (
            K::User,
            json!({"type": "InvitationResent", "id": id(USER), "token_hash": "ef56".repeat(16),
            "expires_at": "2025-03-09T12:00:00.500Z"}),
        ),
        (
            K::User,
            json!({"type": "InvitationRevoked", "id": id(USER)}),
        ),
        (
            K::User,
            json!({"type": "InvitationExpired", "id": id(USER)}),
        ),
        (
            K::User,
            json!({"type": "UserActivated", "id": id(USER), "display_name": "Ann B"}),
        ),
        (
            K::User,
            json!({"type": "UserProfileUpdated", "id": id(USER), "display_name": null}),
        ),
        (
            K::User,
            json!({"type": "UserClientChanged", "id": id(USER), "client_id": id(CLIENT)}),
        ),
        (K::User, json!({"type": "UserDeactivated", "id": id(USER)})),
        (K::User, json!({"type": "UserReactivated", "id": id(USER)})),
        (
            K::User,
            json!({"type": "MembershipAdded", "id": id(USER), "organization_id": id(ORG)}),
        ),
        (
            K::User,
            json!({"type": "MembershipRemoved", "id": id(USER), "organization_id": id(ORG)}),
        ),
        (
            K::User,
            json!({"type": "RoleAssigned", "id": id(USER),
            "assignment": assignment("org-admin", "organization", Some(ORG))}),
        ),
        (
            K::User,
            json!({"type": "RoleRevoked", "id": id(USER),
            "assignment": assignment("team-member", "team", Some(TEAM))}),
        ),
        (K::User, json!({"type": "UserErased", "id": id(USER)})),
        (
            K::User,
            json!({"type": "UserRegistered", "id": id(USER), "email": "bo@acme.example",
            "display_name": "Bo", "domain": "acme.example", "client_id": null}),
        ),
        (
            K::Claims,
            json!({"type": "ClaimsChanged", "id": id(USER),
            "claims": {"tenant_id": id(TENANT), "user_id": id(USER), "client_id": id(CLIENT),
                       "roles": [assignment("member", "tenant", None)], "products": ["crm"],
                       "session_expiration_seconds": 3600, "status": "active"},
            "cause": "user"}),
        ),
        (
            K::Claims,
            json!({"type": "ClaimsChanged", "id": id(USER),
            "claims": {"tenant_id": id(TENANT), "user_id": id(USER), "client_id": null,
                       "roles": [], "products": [], "session_expiration_seconds": 86400,
                       "status": "deactivated"},
            "cause": {"tenant_resync": {"last": true}}}),
        ),
        (
            K::Role,
            json!({"type": "RoleDefined", "id": id(ROLE), "name": "auditor",
            "description": "Reads", "permissions": ["audit:read", "tenant:*"]}),
        ),
        (
            K::Role,
            json!({"type": "RoleUpdated", "id": id(ROLE), "description": null,
            "permissions": ["*"]}),
        ),
        (
            K::Role,
            json!({"type": "RoleUpdated", "id": id(ROLE), "description": "Reads all",
            "permissions": null}),
        ),
        (K::Role, json!({"type": "RoleDeleted", "id": id(ROLE)})),
        (
            K::Role,
            json!({"type": "PermissionPolicyChanged", "id": id(ROLE), "name": "auditor",
            "permissions": ["audit:read"]}),
        ),
        (
            K::Client,
            json!({"type": "ClientCreated", "id": id(CLIENT), "name": "Globex",
            "external_id": "g-1", "business_profile": unclassified_profile()}),
        ),
        (
            K::Client,
            json!({"type": "ClientUpdated", "id": id(CLIENT), "name": "Globex 2",
            "external_id": null, "business_profile": profile()}),
        ),
        (
            K::Client,
            json!({"type": "ClientDisabled", "id": id(CLIENT),
            "provisioned_tenant_id": id(PARENT)}),
        ),
        (
            K::Client,
            json!({"type": "ClientEnabled", "id": id(CLIENT),
            "provisioned_tenant_id": null}),
        ),
        (
            K::Client,
            json!({"type": "ClientDeleted", "id": id(CLIENT),
            "provisioned_tenant_id": id(PARENT)}),
        ),
        (
            K::Client,
            json!({"type": "ClientTenantProvisioned", "id": id(CLIENT),
            "tenant": {"tenant_id": id(PARENT), "slug": "globex", "plan": "silver",
                       "onboarding": onboarding(Value::Null)},
            "name": "Globex", "business_profile": null}),
        ),
        (
            K::Client,
            json!({"type": "ClientTenantProvisioningFailed", "id": id(CLIENT),
            "tenant_id": id(PARENT), "reason": "slug taken"}),
        ),
        (
            K::Department,
            json!({"type": "RecordCreated", "id": id(RECORD), "client_id": null,
            "fields": {"department": {"name": "R&D", "code": "rd"}}}),
        ),
        (
            K::Location,
            json!({"type": "RecordCreated", "id": id(RECORD), "client_id": id(CLIENT),
            "fields": {"location": {"name": "HQ", "address": address(), "headquarters": true,
                "code": "hq", "website": "https://acme.example", "phone": "+1 555 0100",
                "email": "hq@acme.example", "notes": "Front desk"}}}),
        ),
        (
            K::Contact,
            json!({"type": "RecordUpdated", "id": id(RECORD),
            "fields": {"contact": {"contact_type": "billing", "name": "Bea",
                "email": "bea@acme.example", "phone": "+1 555 0101", "location_id": id(GROUP)}},
            "active": false}),
        ),
        (
            K::Partition,
            json!({"type": "RecordUpdated", "id": id(RECORD),
            "fields": {"partition": {"name": "prod", "group_id": id(GROUP), "description": "Live"}},
            "active": true}),
        ),
        (
            K::PartitionGroup,
            json!({"type": "RecordCreated", "id": id(GROUP), "client_id": null,
            "fields": {"partition_group": {"name": "eu", "parent_id": null}}}),
        ),
        (
            K::Contact,
            json!({"type": "RecordDeleted", "id": id(RECORD), "kind": "contact"}),
        ),
        (
            K::PartitionGroup,
            json!({"type": "RecordDeleted", "id": id(GROUP),
            "kind": "partition_group"}),
        ),
        (
            K::ApiKey,
            json!({"type": "ApiKeyCreated", "id": id(KEY), "partition_id": id(RECORD),
            "client_id": null, "name": "ci", "scopes": "admin", "foreign_key": "fk-1",
            "secret_hash": "0a0b".repeat(16), "hint": "Ab12", "expires_at": null, "rotated_from": null}),
        ),
        (
            K::ApiKey,
            json!({"type": "ApiKeyCreated", "id": id(KEY2), "partition_id": id(RECORD),
            "client_id": id(CLIENT), "name": "ci 2", "scopes": {"custom": ["user:read", "org:*"]},
            "foreign_key": "", "secret_hash": "0c0d".repeat(16), "hint": "Cd34",
            "expires_at": "2026-01-01T00:00:00Z", "rotated_from": id(KEY)}),
        ),
        (
            K::ApiKey,
            json!({"type": "ApiKeyRotated", "id": id(KEY), "replaced_by": id(KEY2),
            "expires_at": "2025-03-02T00:00:00Z"}),
        ),
        (
            K::ApiKey,
            json!({"type": "ApiKeyRevoked", "id": id(KEY), "reason": "partition_deleted"}),
        ),
    ]
}

/// `value` without `null`s (an unset field in the message): what to compare.
fn without_nulls(value: &Value) -> Value {
    match value {
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

fn decoded(kind: StreamKind, payload: &Value) -> TenantScopeEvent {
    TenantScopeEvent::from_stored(kind, TenantScopeEvent::SCHEMA_VERSION, payload.clone())
        .unwrap_or_else(|e| panic!("sample does not decode ({e}): {payload}"))
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[test]
fn every_event_type_of_the_domain_has_a_sample_and_a_message() {
    let codec = EventCodec::new().unwrap();
    let domain = domain_event_types();
    assert!(domain.len() > 50, "variants read from serde: {domain:?}");
    let sampled: BTreeSet<(Family, String)> = samples()
        .iter()
        .map(|(kind, payload)| {
            let event = decoded(*kind, payload);
            (
                family_of(&event),
                payload["type"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let missing: Vec<_> = domain.difference(&sampled).collect();
    assert!(
        missing.is_empty(),
        "event types without a sample here (add one, and its message to events.proto): \
         {missing:?}"
    );
    // Every member of JournalEvent.event is some event's.
    let used: BTreeSet<String> = samples()
        .iter()
        .map(|(kind, payload)| {
            let field = codec
                .event_field(*kind, payload["type"].as_str().unwrap())
                .unwrap_or_else(|e| panic!("{e}"));
            field.name().to_owned()
        })
        .collect();
    let members: BTreeSet<String> = codec.event_fields().map(|f| f.name().to_owned()).collect();
    assert_eq!(used, members, "JournalEvent.event members no event uses");
}

#[test]
fn samples_are_in_todays_shape() {
    for (kind, payload) in samples() {
        let again = serde_json::to_value(decoded(kind, &payload)).unwrap();
        assert_eq!(
            without_nulls(&again),
            without_nulls(&payload),
            "a sample field the domain does not have (or reshapes)"
        );
    }
}

#[test]
fn every_event_converts_to_its_message_and_back_with_nothing_lost() {
    let codec = EventCodec::new().unwrap();
    for (kind, stored) in samples() {
        // What the publisher converts: the decoded event re-serialized, no secret hashes.
        let payload = without_secret_hashes(&serde_json::to_value(decoded(kind, &stored)).unwrap());
        let (field, message) = codec
            .payload(kind, &payload)
            .unwrap_or_else(|e| panic!("{e}: {payload}"));
        // Through the wire, too.
        let Kind::Message(descriptor) = field.kind() else {
            panic!("{} is not a message", field.name())
        };
        let wire = DynamicMessage::decode(descriptor, message.encode_to_vec().as_slice()).unwrap();
        let mut expected = payload.clone();
        expected.as_object_mut().unwrap().remove("type");
        assert_eq!(
            without_nulls(&to_json(&wire).unwrap()),
            without_nulls(&expected),
            "{} ({kind:?}) does not round-trip",
            payload["type"]
        );
    }
}

#[test]
fn unit_variants_and_absent_lists_keep_their_meaning() {
    let codec = EventCodec::new().unwrap();
    let keys: Vec<Value> = samples_of("ApiKeyCreated")
        .iter()
        .map(without_secret_hashes)
        .collect();
    let (_, admin) = codec.payload(StreamKind::ApiKey, &keys[0]).unwrap();
    let scopes = admin.get_field_by_name("scopes").unwrap();
    let scopes = scopes.as_message().unwrap();
    assert!(scopes.has_field_by_name("admin"), "{scopes:?}");
    assert!(!scopes.has_field_by_name("custom"));
    // products: [] (cleared) is set; products: null (unchanged) is not.
    let updates = samples_of("TenantUpdated");
    let (_, cleared) = codec.payload(StreamKind::Tenant, &updates[1]).unwrap();
    assert!(cleared.has_field_by_name("products"));
    assert!(!cleared.has_field_by_name("name"));
    let (_, renamed) = codec.payload(StreamKind::Tenant, &updates[0]).unwrap();
    assert!(renamed.has_field_by_name("name"));
    // A string that names no unit variant is refused, not guessed.
    let (_, custom) = codec.payload(StreamKind::ApiKey, &keys[1]).unwrap();
    let custom = custom.get_field_by_name("scopes").unwrap();
    assert!(custom.as_message().unwrap().has_field_by_name("custom"));
    let mut wrong = keys[0].clone();
    wrong["scopes"] = json!("superuser");
    assert!(matches!(
        codec.payload(StreamKind::ApiKey, &wrong),
        Err(ProtobufError::Mismatch { .. })
    ));
}

#[test]
fn a_field_the_message_lacks_is_an_error_not_dropped() {
    let codec = EventCodec::new().unwrap();
    let mut payload = samples_of("TenantSuspended")[0].clone();
    payload["severity"] = json!("high");
    let error = codec.payload(StreamKind::Tenant, &payload).unwrap_err();
    assert!(
        error.to_string().contains("TenantSuspended"),
        "names the message: {error}"
    );
    let error = codec
        .payload(StreamKind::Tenant, &json!({"type": "TenantVanished"}))
        .unwrap_err();
    assert!(
        matches!(error, ProtobufError::UnknownEventType { .. }),
        "{error}"
    );
}

fn samples_of(payload_type: &str) -> Vec<Value> {
    samples()
        .into_iter()
        .filter(|(_, p)| p["type"] == payload_type)
        .map(|(_, p)| p)
        .collect()
}

fn recorded(kind: StreamKind, payload: Value, schema_version: i32) -> RecordedEvent {
    let event = decoded(kind, &payload);
    let tenant = TenantId(Uuid::parse_str(&id(TENANT)).unwrap());
    RecordedEvent {
        position: 42,
        transaction_id: 7_000_000_001,
        tenant_id: tenant,
        stream: StreamId::new(kind, event.stream(tenant).id),
        sequence: 3,
        event_type: event.event_type().to_owned(),
        schema_version,
        payload,
        metadata: EventMetadata {
            actor: AuditActor {
                subject: "dev".into(),
                on_behalf_of: Some(id(USER)),
                credential_kind: "dev".into(),
                credential_id: None,
            },
            request_id: Some("req-1".into()),
            request_hash: None,
            request_target: Some(StreamId::new(StreamKind::Tenant, tenant.0)),
            correlation_id: Some("req-1".into()),
            causation_id: None,
            trace_id: Some("4bf92f3577b34da6a3ce929d0e0e4736".into()),
            traceparent: Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into()),
        },
        recorded_at: "2025-03-01T12:00:00.123457Z"
            .parse::<DateTime<Utc>>()
            .unwrap(),
    }
}

#[test]
fn the_envelope_carries_what_the_json_value_carries() {
    let codec = EventCodec::new().unwrap();
    for (kind, payload) in samples() {
        let envelope = Envelope::decode(recorded(kind, payload, 2)).unwrap();
        let Encoded {
            bytes,
            content_type,
            dataschema,
        } = Encoding::Protobuf(Box::new(codec.clone()))
            .journal_event(&envelope)
            .unwrap();
        assert_eq!(content_type, "application/protobuf");
        assert_eq!(
            dataschema.as_deref(),
            Some("type.googleapis.com/entity.v1.events.JournalEvent")
        );
        let message =
            DynamicMessage::decode(codec.journal_event_descriptor().clone(), bytes.as_slice())
                .unwrap();
        let json_value: Value =
            serde_json::from_slice(&Encoding::Json.journal_event(&envelope).unwrap().bytes)
                .unwrap();
        // The JSON value with its payload moved under the member the type names.
        let mut expected = json_value.clone();
        let mut payload = expected.as_object_mut().unwrap().remove("payload").unwrap();
        let payload_type = payload["type"].as_str().unwrap().to_owned();
        payload.as_object_mut().unwrap().remove("type");
        let member = codec.event_field(kind, &payload_type).unwrap();
        expected[member.name()] = payload;
        assert_eq!(
            without_nulls(&to_json(&message).unwrap()),
            without_nulls(&expected),
            "{payload_type}"
        );
    }
}

#[test]
fn old_payloads_arrive_in_todays_shape() {
    let codec = EventCodec::new().unwrap();
    // Stored before classification: free-text labels and bare social URLs.
    let mut old = samples_of("TenantCreated")[0].clone();
    old["business_profile"] = json!({
        "legal_name": "Acme Inc", "industry_sector": "Information Technology",
        "industry_group": "", "legal_form": "", "size_range": "51-200", "external_id": "",
        "logo_url": "", "address": null,
        "social_profiles": ["https://www.linkedin.com/company/acme", "https://social.example/@a"]
    });
    let envelope = Envelope::decode(recorded(StreamKind::Tenant, old, 1)).unwrap();
    let Encoded { bytes, .. } = Encoding::Protobuf(Box::new(codec.clone()))
        .journal_event(&envelope)
        .unwrap();
    let message =
        DynamicMessage::decode(codec.journal_event_descriptor().clone(), bytes.as_slice()).unwrap();
    let json = to_json(&message).unwrap();
    let profile = &json["tenant_created"]["business_profile"];
    assert_eq!(profile["industry_sector"], "information_technology");
    assert_eq!(
        profile["social_profiles"],
        json!([
            {"platform": "linkedin", "url": "https://www.linkedin.com/company/acme"},
            {"url": "https://social.example/@a"}
        ])
    );
    assert_eq!(json["schema_version"], 1, "the version it was stored at");
}

#[test]
fn customer_events_convert_to_their_messages() {
    let codec = EventCodec::new().unwrap();
    let encoding = Encoding::Protobuf(Box::new(codec.clone()));
    let mut seen = BTreeSet::new();
    for (kind, payload) in samples()
        .into_iter()
        .filter(|(k, _)| *k == StreamKind::Tenant)
    {
        let record = recorded(kind, payload.clone(), 2);
        let Some(customer) = CustomerEvent::of(&decoded(kind, &payload)).unwrap() else {
            continue;
        };
        let value = customer.value(&record);
        let Encoded {
            bytes, dataschema, ..
        } = encoding
            .customer_event(customer.event_type, &value)
            .unwrap();
        let descriptor = codec.message(customer.event_type).unwrap();
        assert_eq!(
            dataschema,
            Some(format!("{TYPE_URL_PREFIX}{}", descriptor.full_name()))
        );
        let message = DynamicMessage::decode(descriptor, bytes.as_slice()).unwrap();
        assert_eq!(
            without_nulls(&to_json(&message).unwrap()),
            without_nulls(&value)
        );
        seen.insert(customer.event_type);
    }
    assert_eq!(
        seen,
        BTreeSet::from([CUSTOMER_REGISTERED, CUSTOMER_UPDATED])
    );
}

#[test]
fn formats_parse() {
    assert_eq!("json".parse(), Ok(KafkaFormat::Json));
    assert_eq!(" Protobuf ".parse(), Ok(KafkaFormat::Protobuf));
    let error = "avro".parse::<KafkaFormat>().unwrap_err();
    assert!(error.to_string().contains("json or protobuf"), "{error}");
    assert_eq!(KafkaFormat::default(), KafkaFormat::Json);
}
