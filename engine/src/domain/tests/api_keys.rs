//! Data partitions, partition groups and API keys: names unique per owner, groups a forest of
//! one owner, keys within their issuer's grants, rotation with overlap, revocation, the
//! cascades (partition or client deletion revokes; tenant, client or partition state stops
//! and restores), verification's reasons, and the bootstrap key.

use chrono::TimeDelta;

use super::support::*;
use crate::domain::{
    ApiKeyCommand, ApiKeyEvent, ApiKeyId, ClientCommand, ClientEvent, DomainError, KeyExpiry,
    KeyIssuer, KeyRefusal, KeyScopes, KeySecret, Partition, PartitionGroup, Plan, RecordCommand,
    RecordEvent, RecordFields, RecordKind, ResourceKind, Revocation, Scope, TenantCommand,
    TenantEvent, TenantScopeCommand, TenantScopeEvent, default_partition_id,
};

fn key(n: u128) -> ApiKeyId {
    ApiKeyId(uuid::Uuid::from_u128(0x7000 + n))
}

fn secret(n: u128) -> KeySecret {
    KeySecret {
        hash: hash(n),
        hint: "Ab12".into(),
    }
}

fn partition(name: &str, group: Option<u128>) -> RecordFields {
    RecordFields::Partition(Partition {
        name: name.into(),
        group_id: group.map(rec),
        description: String::new(),
    })
}

fn group(name: &str, parent: Option<u128>) -> RecordFields {
    RecordFields::PartitionGroup(PartitionGroup {
        name: name.into(),
        parent_id: parent.map(rec),
    })
}

fn created(
    n: u128,
    owner: Option<crate::domain::ClientId>,
    fields: RecordFields,
) -> TenantScopeEvent {
    rce(RecordEvent::RecordCreated {
        id: rec(n),
        client_id: owner,
        fields,
    })
}

fn key_created(n: u128, partition: u128, scopes: KeyScopes) -> TenantScopeEvent {
    client_key_created(n, partition, None, scopes)
}

fn client_key_created(
    n: u128,
    partition: u128,
    owner: Option<crate::domain::ClientId>,
    scopes: KeyScopes,
) -> TenantScopeEvent {
    TenantScopeEvent::ApiKey(ApiKeyEvent::ApiKeyCreated {
        id: key(n),
        partition_id: rec(partition),
        client_id: owner,
        name: "ci".into(),
        scopes,
        foreign_key: String::new(),
        secret_hash: hash(n),
        hint: "Ab12".into(),
        expires_at: None,
        rotated_from: None,
    })
}

fn create_key(
    n: u128,
    partition: u128,
    scopes: KeyScopes,
    issuer: KeyIssuer,
) -> TenantScopeCommand {
    TenantScopeCommand::ApiKey(ApiKeyCommand::Create {
        id: key(n),
        partition_id: rec(partition),
        name: " ci ".into(),
        scopes,
        expiry: KeyExpiry::Never,
        foreign_key: String::new(),
        secret: secret(n),
        issuer,
    })
}

fn custom(list: &[&str]) -> KeyScopes {
    KeyScopes::Custom(perms(list))
}

/// A tenant with partition 1 (`prod`) and an admin key 1 on it.
fn keyed() -> Vec<TenantScopeEvent> {
    vec![
        tenant_created(Plan::Gold),
        created(1, None, partition("prod", None)),
        key_created(1, 1, KeyScopes::Admin),
    ]
}

#[test]
fn partition_names_are_unique_per_owner_and_groups_a_forest_of_one_owner() {
    let events = vec![
        tenant_created(Plan::Gold),
        client_created(client(1), "Globex"),
        created(1, None, partition("prod", None)),
        created(2, None, group("envs", None)),
        created(3, None, group("inner", Some(2))),
        created(4, Some(client(1)), group("theirs", None)),
    ];
    let when = |command| given(events.clone()).when(TenantScopeCommand::Record(command));
    let create = |n, owner, fields| RecordCommand::Create {
        id: rec(n),
        client_id: owner,
        fields,
    };
    when(create(9, None, partition(" PROD ", None))).then_error(DomainError::AlreadyExists {
        resource: ResourceKind::Partition,
        field: "name",
        value: format!("prod (partition {})", rec(1)),
    });
    // the same name is free for a client
    when(create(9, Some(client(1)), partition("prod", Some(4)))).then_events([created(
        9,
        Some(client(1)),
        partition("prod", Some(4)),
    )]);
    when(create(9, None, partition("qa", Some(4)))).then_invalid_state("GROUP_OF_ANOTHER_OWNER");
    when(create(9, None, partition("bad name", None))).then_invalid(&["name"]);
    // a group cannot move into its own subtree
    when(RecordCommand::Update {
        id: rec(2),
        fields: group("envs", Some(3)),
        active: true,
        mask: vec!["parent_id".into()],
    })
    .then_invalid_state("GROUP_CYCLE");
    // a group holding a group is not deleted; an empty one is
    when(RecordCommand::Delete {
        id: rec(2),
        kind: RecordKind::PartitionGroup,
    })
    .then_invalid_state("GROUP_IN_USE");
    when(RecordCommand::Delete {
        id: rec(3),
        kind: RecordKind::PartitionGroup,
    })
    .then_events([rce(RecordEvent::RecordDeleted {
        id: rec(3),
        kind: RecordKind::PartitionGroup,
    })]);
}

#[test]
fn a_key_is_issued_within_its_issuers_grants() {
    let mut events = keyed();
    events.extend(active_user(1));
    events.push(assigned(1, "member", Scope::Tenant));
    events.extend(active_user(2));
    events.push(assigned(2, "tenant-admin", Scope::Tenant));
    let admin = KeyScopes::Admin;
    // a platform issuer, a tenant-admin user and the admin key itself may issue an admin key
    for issuer in [
        KeyIssuer::Platform,
        KeyIssuer::User(user(2)),
        KeyIssuer::ApiKey(key(1)),
    ] {
        given(events.clone())
            .when(create_key(2, 1, admin.clone(), issuer))
            .then_events([key_created(2, 1, KeyScopes::Admin)]);
    }
    // a member may not, nor grant what it does not hold; it may grant what it holds
    given(events.clone())
        .when(create_key(2, 1, admin.clone(), KeyIssuer::User(user(1))))
        .then_invalid_state("SCOPES_EXCEED_ISSUER");
    given(events.clone())
        .when(create_key(
            2,
            1,
            custom(&["user:delete"]),
            KeyIssuer::User(user(1)),
        ))
        .then_invalid_state("SCOPES_EXCEED_ISSUER");
    // tenant-admin's exceptions stay exceptions: it cannot mint `*`
    given(events.clone())
        .when(create_key(2, 1, custom(&["*"]), KeyIssuer::User(user(2))))
        .then_invalid_state("SCOPES_EXCEED_ISSUER");
    given(events.clone())
        .when(create_key(
            2,
            1,
            custom(&["tenant:delete"]),
            KeyIssuer::ApiKey(key(1)),
        ))
        .then_invalid_state("SCOPES_EXCEED_ISSUER");
    given(events)
        .when(create_key(
            2,
            1,
            custom(&["user:read"]),
            KeyIssuer::User(user(2)),
        ))
        .then_events([key_created(2, 1, custom(&["user:read"]))]);
}

#[test]
fn a_key_needs_a_live_active_partition_and_valid_input() {
    let mut events = keyed();
    given(events.clone())
        .when(create_key(2, 9, KeyScopes::Admin, KeyIssuer::Platform))
        .then_error(DomainError::NotFound {
            resource: ResourceKind::Partition,
            id: rec(9).to_string(),
        });
    given(events.clone())
        .when(create_key(1, 1, KeyScopes::Admin, KeyIssuer::Platform))
        .then_error(DomainError::AlreadyExists {
            resource: ResourceKind::ApiKey,
            field: "id",
            value: key(1).to_string(),
        });
    given(events.clone())
        .when(create_key(2, 1, custom(&[]), KeyIssuer::Platform))
        .then_invalid(&["scopes"]);
    events.push(rce(RecordEvent::RecordUpdated {
        id: rec(1),
        fields: partition("prod", None),
        active: false,
    }));
    given(events)
        .when(create_key(2, 1, KeyScopes::Admin, KeyIssuer::Platform))
        .then_invalid_state("PARTITION_INACTIVE");
}

#[test]
fn rotation_issues_a_like_key_and_lets_the_old_one_overlap() {
    let rotate = |overlap| {
        TenantScopeCommand::ApiKey(ApiKeyCommand::Rotate {
            id: key(1),
            new_id: key(2),
            overlap_seconds: overlap,
            expiry: KeyExpiry::Never,
            secret: secret(2),
            issuer: KeyIssuer::Platform,
        })
    };
    let scope = given(keyed()).when(rotate(3600)).then_events([
        TenantScopeEvent::ApiKey(ApiKeyEvent::ApiKeyRotated {
            id: key(1),
            replaced_by: key(2),
            expires_at: t0() + TimeDelta::hours(1),
        }),
        TenantScopeEvent::ApiKey(ApiKeyEvent::ApiKeyCreated {
            id: key(2),
            partition_id: rec(1),
            client_id: None,
            name: "ci".into(),
            scopes: KeyScopes::Admin,
            foreign_key: String::new(),
            secret_hash: hash(2),
            hint: "Ab12".into(),
            expires_at: None,
            rotated_from: Some(key(1)),
        }),
    ]);
    // both work during the overlap; only the new one after it
    assert!(scope.verify_api_key(key(1), &hash(1), t0()).is_ok());
    assert!(scope.verify_api_key(key(2), &hash(2), t0()).is_ok());
    let later = t0() + TimeDelta::hours(1);
    assert_eq!(
        scope.verify_api_key(key(1), &hash(1), later).err(),
        Some(KeyRefusal::Expired)
    );
    assert!(scope.verify_api_key(key(2), &hash(2), later).is_ok());
    // an overlap of 0 ends the old key at once; a rotated-out key cannot be rotated again
    let scope = given(keyed()).when(rotate(0)).then_events_any();
    assert_eq!(
        scope.verify_api_key(key(1), &hash(1), t0()).err(),
        Some(KeyRefusal::Expired)
    );
}

#[test]
fn verification_names_why_a_key_opens_nothing() {
    let scope = given(keyed()).scope;
    assert_eq!(
        scope.verify_api_key(key(1), &hash(1), t0()).map(|k| k.id),
        Ok(key(1))
    );
    assert_eq!(
        scope.verify_api_key(key(1), &hash(2), t0()).err(),
        Some(KeyRefusal::Unknown)
    );
    assert_eq!(
        scope.verify_api_key(key(9), &hash(1), t0()).err(),
        Some(KeyRefusal::Unknown)
    );
    // revoked, once; revoking again changes nothing
    let revoke = TenantScopeCommand::ApiKey(ApiKeyCommand::Revoke { id: key(1) });
    let revoked = given(keyed())
        .when(revoke.clone())
        .then_events([TenantScopeEvent::ApiKey(ApiKeyEvent::ApiKeyRevoked {
            id: key(1),
            reason: Revocation::Revoked,
        })]);
    assert_eq!(
        revoked.verify_api_key(key(1), &hash(1), t0()).err(),
        Some(KeyRefusal::Revoked)
    );
    given_scope(revoked).when(revoke).then_nothing();
    // a TTL ends it at its time
    let ttl = given(keyed())
        .when(TenantScopeCommand::ApiKey(ApiKeyCommand::Create {
            id: key(2),
            partition_id: rec(1),
            name: "short".into(),
            scopes: KeyScopes::Admin,
            expiry: KeyExpiry::AfterSeconds(60),
            foreign_key: "ext-1".into(),
            secret: secret(2),
            issuer: KeyIssuer::Platform,
        }))
        .then_events_any();
    assert!(
        ttl.verify_api_key(key(2), &hash(2), t0() + TimeDelta::seconds(59))
            .is_ok()
    );
    assert_eq!(
        ttl.verify_api_key(key(2), &hash(2), t0() + TimeDelta::seconds(60))
            .err(),
        Some(KeyRefusal::Expired)
    );
}

#[test]
fn tenant_client_and_partition_state_stop_keys_and_restore_them() {
    let check = |events: Vec<TenantScopeEvent>| {
        given(events)
            .scope
            .verify_api_key(key(1), &hash(1), t0())
            .err()
    };
    let mut suspended_then = keyed();
    suspended_then.push(suspended());
    assert_eq!(
        check(suspended_then.clone()),
        Some(KeyRefusal::TenantNotActive)
    );
    suspended_then.push(te(TenantEvent::TenantReactivated));
    assert_eq!(check(suspended_then), None);
    let mut gone = keyed();
    gone.push(deleted());
    assert_eq!(check(gone), Some(KeyRefusal::TenantNotActive));
    let mut inactive = keyed();
    inactive.push(rce(RecordEvent::RecordUpdated {
        id: rec(1),
        fields: partition("prod", None),
        active: false,
    }));
    assert_eq!(check(inactive), Some(KeyRefusal::PartitionInactive));

    // a client's key stops while the client is disabled
    let mut of_client = vec![
        tenant_created(Plan::Gold),
        client_created(client(1), "Globex"),
        created(1, Some(client(1)), partition("prod", None)),
    ];
    let scope = given(of_client.clone())
        .when(create_key(1, 1, KeyScopes::Admin, KeyIssuer::Platform))
        .then_events_any();
    assert_eq!(
        scope.api_key(key(1)).map(|k| k.client_id),
        Some(Some(client(1)))
    );
    of_client.push(client_key_created(1, 1, Some(client(1)), KeyScopes::Admin));
    let mut disabled = of_client.clone();
    disabled.push(ce(ClientEvent::ClientDisabled {
        id: client(1),
        provisioned_tenant_id: None,
    }));
    assert_eq!(check(disabled), Some(KeyRefusal::ClientDisabled));

    // deleting the client deletes its partition and revokes its keys, in one decision
    let scope = given(of_client)
        .when_client(ClientCommand::Delete { id: client(1) })
        .then_events_any();
    assert_eq!(
        scope.verify_api_key(key(1), &hash(1), t0()).err(),
        Some(KeyRefusal::Revoked)
    );
    assert_eq!(
        scope
            .api_key(key(1))
            .and_then(|k| k.revoked)
            .map(|(_, why)| why),
        Some(Revocation::PartitionDeleted)
    );
}

#[test]
fn deleting_a_partition_revokes_its_keys_in_the_same_decision() {
    let mut events = keyed();
    events.push(key_created(2, 1, KeyScopes::Admin));
    given(events)
        .when(TenantScopeCommand::Record(RecordCommand::Delete {
            id: rec(1),
            kind: RecordKind::Partition,
        }))
        .then_events([
            TenantScopeEvent::ApiKey(ApiKeyEvent::ApiKeyRevoked {
                id: key(1),
                reason: Revocation::PartitionDeleted,
            }),
            TenantScopeEvent::ApiKey(ApiKeyEvent::ApiKeyRevoked {
                id: key(2),
                reason: Revocation::PartitionDeleted,
            }),
            rce(RecordEvent::RecordDeleted {
                id: rec(1),
                kind: RecordKind::Partition,
            }),
        ]);
}

#[test]
fn a_bootstrap_key_comes_with_the_tenant_on_its_default_partition() {
    let mut create = create_tenant(Plan::Gold);
    create.bootstrap_key = Some(crate::domain::BootstrapKey {
        id: key(1),
        secret: secret(1),
    });
    let scope = given([])
        .when_tenant(TenantCommand::Create(create))
        .then_events_any();
    let partition = default_partition_id(tid());
    let key = scope
        .verify_api_key(key(1), &hash(1), t0())
        .expect("the bootstrap key works");
    assert_eq!(
        (key.partition_id, &key.scopes),
        (partition, &KeyScopes::Admin)
    );
    assert_eq!(
        scope
            .record(RecordKind::Partition, partition)
            .and_then(|r| r.fields.partition_name()),
        Some("default")
    );
}

#[test]
fn a_key_gives_only_what_its_scopes_hold_tenant_wide() {
    let mut events = keyed();
    events.push(key_created(2, 1, custom(&["team:*", "user:read"])));
    let scope = given(events).scope;
    let unheld = |n: u128, role: &str, at: Scope| {
        let key = scope.verify_api_key(key(n), &hash(n), t0()).unwrap();
        let wanted = scope.role_grants(role).unwrap();
        scope
            .unheld_by_key(key, &wanted, at)
            .unwrap()
            .map(String::from)
    };
    // An admin key holds tenant-admin's grants: not the owner's, nor billing.
    assert_eq!(
        unheld(1, "tenant-owner", Scope::Tenant).as_deref(),
        Some("*")
    );
    assert_eq!(unheld(1, "tenant-admin", Scope::Tenant), None);
    assert_eq!(unheld(1, "org-admin", Scope::Tenant), None);
    // A custom key: exactly its patterns.
    assert_eq!(unheld(2, "team-member", Scope::Tenant), None);
    assert_eq!(
        unheld(2, "member", Scope::Tenant).as_deref(),
        Some("organization:read")
    );
    // A scope that is not live is NOT_FOUND, as for the key's permissions.
    let key = scope.verify_api_key(key(1), &hash(1), t0()).unwrap();
    let viewer = scope.role_grants("viewer").unwrap();
    assert!(matches!(
        scope.unheld_by_key(key, &viewer, Scope::Organization(org(1))),
        Err(DomainError::NotFound { .. })
    ));
}
