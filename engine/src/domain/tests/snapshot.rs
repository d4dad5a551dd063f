//! The state survives the snapshot encodings the runtime uses (bincode, JSON).

use super::support::*;
use crate::domain::{
    ClientEvent, OrganizationCommand, PersonalField, Plan, RoleEvent, Scope, SealValue,
    SealedUsers, TeamEvent, TeamRole, TenantEvent, TenantScope, TenantScopeEvent,
};

fn populated() -> TenantScope {
    let events: Vec<TenantScopeEvent> = cat([
        vec![
            tenant_created(Plan::Gold),
            onboarding_started(),
            org_created(org(1), "A", None),
            org_created(org(2), "B", Some(org(1))),
            org_created(org(3), "C", None),
            org_deleted(org(3), None),
            team_created(team(1), org(2), "Red"),
            client_created(client(1), "Globex"),
            client_created(client(2), "Initech"),
            rce(crate::domain::RecordEvent::RecordCreated {
                id: rec(1),
                client_id: Some(client(1)),
                fields: crate::domain::RecordFields::Contact(crate::domain::Contact {
                    contact_type: "billing".into(),
                    name: "Ada".into(),
                    email: "ada@globex.test".into(),
                    phone: "+1 555 0100".into(),
                    location_id: None,
                }),
            }),
            ce(ClientEvent::ClientDisabled {
                id: client(2),
                provisioned_tenant_id: None,
            }),
            rce(crate::domain::RecordEvent::RecordCreated {
                id: rec(2),
                client_id: None,
                fields: crate::domain::RecordFields::Partition(crate::domain::Partition {
                    name: "prod".into(),
                    ..Default::default()
                }),
            }),
            TenantScopeEvent::ApiKey(crate::domain::ApiKeyEvent::ApiKeyCreated {
                id: crate::domain::ApiKeyId(uuid::Uuid::from_u128(0x7001)),
                partition_id: rec(2),
                client_id: None,
                name: "ci".into(),
                scopes: crate::domain::KeyScopes::Custom(vec!["user:read".parse().unwrap()]),
                foreign_key: String::new(),
                secret_hash: hash(1),
                hint: "Ab12".into(),
                expires_at: Some(days(30)),
                rotated_from: None,
            }),
            TenantScopeEvent::ApiKey(crate::domain::ApiKeyEvent::ApiKeyRevoked {
                id: crate::domain::ApiKeyId(uuid::Uuid::from_u128(0x7001)),
                reason: crate::domain::Revocation::Revoked,
            }),
        ],
        role_defined(role(1), "auditor", &["invoice:*"]),
        active_user(1),
        vec![
            invited(2),
            assigned(1, "auditor", Scope::Organization(org(1))),
            assigned(1, "member", Scope::Team(team(1))),
            tme(TeamEvent::MembershipAdded {
                id: team(1),
                user_id: user(1),
                role: TeamRole::Lead,
            }),
            deactivated(days(10)),
        ],
    ]);
    given(events).scope
}

#[test]
fn bincode_round_trip() {
    let scope = populated();
    let config = bincode::config::standard();
    let bytes = bincode::serde::encode_to_vec(&scope, config).expect("encode");
    let (mut back, _): (TenantScope, usize) =
        bincode::serde::decode_from_slice(&bytes, config).expect("decode");
    // The email index is derived, never stored (it would hold plaintext emails).
    assert!(back.user_by_email(&email(1)).is_none());
    back.rebuild_indexes();
    assert_eq!(back, scope);
}

/// The scope's persistent maps encode exactly as the `BTreeMap`s they replaced (issue 14):
/// decoding the bytes into a mirror built of `BTreeMap`s and encoding that again gives the same
/// bytes.
#[test]
fn bincode_form_is_the_btreemap_form() {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Serialize};

    use crate::domain::{
        ApiKey, ApiKeyId, Client, ClientId, Organization, OrganizationId, Record, RecordId,
        RoleDefinition, RoleId, Team, TeamId, Tenant, TenantId, User, UserId,
    };

    #[derive(Serialize, Deserialize)]
    struct BTreeScope {
        tenant_id: TenantId,
        tenant: Option<Tenant>,
        organizations: BTreeMap<OrganizationId, Organization>,
        teams: BTreeMap<TeamId, Team>,
        users: BTreeMap<UserId, User>,
        roles: BTreeMap<RoleId, RoleDefinition>,
        clients: BTreeMap<ClientId, Client>,
        records: BTreeMap<RecordId, Record>,
        api_keys: BTreeMap<ApiKeyId, ApiKey>,
        invitations_sent: BTreeMap<u32, u32>,
    }

    let scope = populated();
    let config = bincode::config::standard();
    let bytes = bincode::serde::encode_to_vec(&scope, config).expect("encode");
    let (mirror, _): (BTreeScope, usize) =
        bincode::serde::decode_from_slice(&bytes, config).expect("decode as BTreeMaps");
    assert_eq!(mirror.users.len(), scope.users().count());
    assert_eq!(mirror.clients.len(), 2);
    assert_eq!(mirror.api_keys.len(), 1);
    assert_eq!(
        bincode::serde::encode_to_vec(&mirror, config).expect("encode the mirror"),
        bytes
    );
}

/// Marks each value with its subject and field, so that a value written in the wrong place or
/// under the wrong person shows.
struct Marker;

impl SealValue for Marker {
    fn seal_value(
        &self,
        subject: uuid::Uuid,
        field: PersonalField,
        value: &str,
    ) -> Result<String, String> {
        Ok(match value.is_empty() {
            true => String::new(),
            false => marked(subject, field, value),
        })
    }
}

fn marked(subject: uuid::Uuid, field: PersonalField, value: &str) -> String {
    format!("{subject}/{}/{value}", field.name())
}

/// A snapshot seals the users' values as it writes them (issue 14): the bytes are those of
/// the derived form with the same values replaced in place, in bincode and in JSON.
#[test]
fn the_sealed_form_writes_what_the_derived_form_writes() {
    let scope = populated();
    assert_eq!(scope.users().count(), 2);
    let mut expected = scope.clone();
    expected
        .try_for_each_user_personal_field(|slot| {
            if !slot.value.is_empty() {
                *slot.value = marked(slot.subject, slot.field, slot.value);
            }
            Ok::<(), ()>(())
        })
        .expect("infallible");
    assert_ne!(expected, scope, "the fixture's users have values to seal");
    let sealed = SealedUsers::new(&scope, &Marker);
    let config = bincode::config::standard();
    assert_eq!(
        bincode::serde::encode_to_vec(&sealed, config).expect("encode"),
        bincode::serde::encode_to_vec(&expected, config).expect("encode")
    );
    assert_eq!(
        serde_json::to_string(&sealed).expect("encode"),
        serde_json::to_string(&expected).expect("encode")
    );
}

#[test]
fn a_value_that_cannot_be_sealed_stops_the_sealed_form() {
    struct Refuses;
    impl SealValue for Refuses {
        fn seal_value(&self, _: uuid::Uuid, _: PersonalField, _: &str) -> Result<String, String> {
            Err("no key for this person".into())
        }
    }
    let err = bincode::serde::encode_to_vec(
        SealedUsers::new(&populated(), &Refuses),
        bincode::config::standard(),
    )
    .expect_err("refused");
    assert!(err.to_string().contains("no key for this person"), "{err}");
}

/// The visitor's two halves together visit what the whole visitor visits.
#[test]
fn users_and_the_rest_are_all_the_personal_fields() {
    type Seen = Vec<(uuid::Uuid, PersonalField)>;
    let seen = |visit: &dyn Fn(&mut TenantScope, &mut Seen)| {
        let mut scope = populated();
        let mut out = Vec::new();
        visit(&mut scope, &mut out);
        out.sort_by_key(|(subject, field)| (*subject, field.name()));
        out
    };
    let all = seen(&|scope, out| {
        let _ = scope.try_for_each_personal_field(|slot| {
            out.push((slot.subject, slot.field));
            Ok::<(), ()>(())
        });
    });
    let halves = seen(&|scope, out| {
        let _ = scope.try_for_each_user_personal_field(|slot| {
            out.push((slot.subject, slot.field));
            Ok::<(), ()>(())
        });
        let _ = scope.try_for_each_personal_field_outside_users(|slot| {
            out.push((slot.subject, slot.field));
            Ok::<(), ()>(())
        });
    });
    assert_eq!(all, halves);
    assert!(all.len() >= 7, "tenant, users and a contact: {all:?}");
}

#[test]
fn json_round_trip_and_decisions_agree() {
    let scope = populated();
    let mut back: TenantScope =
        serde_json::from_str(&serde_json::to_string(&scope).expect("encode")).expect("decode");
    back.rebuild_indexes();
    assert_eq!(back, scope);
    let cmd = crate::domain::TenantScopeCommand::Organization(OrganizationCommand::Delete {
        id: org(1),
        cascade: true,
    });
    let ctx = crate::domain::Context::at(t0());
    assert_eq!(back.decide(&cmd, &ctx), scope.decide(&cmd, &ctx));
}

#[test]
fn events_round_trip_through_their_stored_form() {
    let events = [
        tenant_created(Plan::Gold),
        suspended(),
        deactivated(days(3)),
        deleted(),
        org_created(org(1), "A", Some(org(2))),
        org_deleted(org(1), Some(org(2))),
        onboarding_started(),
        te(TenantEvent::OnboardingCompleted),
        team_created(team(1), org(1), "Red"),
        team_deleted(team(1), Some(org(1))),
        tme(TeamEvent::MembershipAdded {
            id: team(1),
            user_id: user(1),
            role: TeamRole::Member,
        }),
        invited(1),
        activated(1),
        assigned(1, "member", Scope::Team(team(1))),
        assigned(1, "viewer", Scope::Tenant),
        re(RoleEvent::RoleDeleted { id: role(1) }),
    ]
    .into_iter()
    .chain(role_defined(role(1), "auditor", &["invoice:*", "*"]))
    .collect::<Vec<_>>();
    for e in events {
        let payload = serde_json::to_value(&e).expect("encode");
        let kind = e.stream(tid()).kind;
        let back = TenantScopeEvent::from_stored(kind, TenantScopeEvent::SCHEMA_VERSION, payload)
            .expect("decode");
        assert_eq!(back, e);
    }
}

#[test]
fn permission_checks_agree_after_a_round_trip() {
    let scope = populated();
    let config = bincode::config::standard();
    let bytes = bincode::serde::encode_to_vec(&scope, config).expect("encode");
    let (mut back, _): (TenantScope, usize) =
        bincode::serde::decode_from_slice(&bytes, config).expect("decode");
    back.rebuild_indexes();
    for (p, at) in [
        ("invoice:approve", Scope::Organization(org(2))),
        ("team:read", Scope::Team(team(1))),
    ] {
        assert_eq!(
            back.check_permission(user(1), &perm(p), at),
            scope.check_permission(user(1), &perm(p), at)
        );
    }
    assert_eq!(
        back.user_by_email("USER1@acme.test").map(|u| u.id),
        Some(user(1))
    );
    assert_eq!(back.invitations_sent_in(202_501), 2);
}
