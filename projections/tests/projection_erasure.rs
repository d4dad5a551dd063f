//! Erasure in the read models and on Kafka (SPEC §6), PostgreSQL and SQLite: personal values
//! reach the read models opened (plaintext, never ciphertext); `UserErased` blanks the user's
//! row and `TenantErased` every user row of that tenant (and of no other); a contact's deletion
//! removes its row, and `TenantErased` every contact row of that tenant; no plaintext of an
//! erased person stays in any read-model table, also after a rebuild from zero (which reads
//! their values as "": the keys are gone); a node without the right master key fails the batch
//! and retries it, never skipping; the Kafka publisher publishes plaintext live, and a rebuilt
//! publisher republishes an erased person's events with empty values, never ciphertext.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use engine::{
    domain::{
        Address, ClientCommand, ClientId, Contact, Location, RecordCommand, RecordFields, RecordId,
        RecordKind, StreamKind, TenantCommand, TenantId, TenantScopeCommand, UserCommand, UserId,
        UserStatus,
    },
    journal::CommitToken,
    personal::{MasterKey, MasterKeys, Vault},
    runtime::Engine,
    secrets::token_hash,
};
use futures::future::join_all;
use projections::{
    KafkaPublisher, PageRequest, ProjectionHandle, ProjectionService, ReadModels, ReadStore,
    RecordFilter, RunnerConfig, UserFilter, names, standard_projections,
};
use serde_json::Value;
use sqlx::Row;
use support::{kafka::*, workload::run_tenant_with, *};

const ORIGIN: CommitToken = CommitToken {
    transaction_id: 0,
    position: 0,
};

/// A row of `users`, every column but the times.
#[derive(Clone, Debug, PartialEq, Eq)]
struct UserRow {
    tenant_id: String,
    email: String,
    email_lower: String,
    display_name: String,
    display_name_lower: String,
    status: String,
    version: i64,
}

impl UserRow {
    fn is_erased(&self) -> bool {
        self.status == erased_text()
            && self.email.is_empty()
            && self.email_lower.is_empty()
            && self.display_name.is_empty()
            && self.display_name_lower.is_empty()
    }
}

fn erased_text() -> String {
    match serde_json::to_value(UserStatus::Erased).unwrap() {
        Value::String(s) => s,
        other => panic!("status stored as {other}"),
    }
}

macro_rules! user_rows {
    ($rows:expr) => {
        $rows
            .iter()
            .map(|r| {
                (
                    r.get::<String, _>("id"),
                    UserRow {
                        tenant_id: r.get("tenant_id"),
                        email: r.get("email"),
                        email_lower: r.get("email_lower"),
                        display_name: r.get("display_name"),
                        display_name_lower: r.get("display_name_lower"),
                        status: r.get("status"),
                        version: r.get("version"),
                    },
                )
            })
            .collect()
    };
}

/// Every row of `users`, by user id (hyphenated).
async fn users_table(store: &ReadStore) -> BTreeMap<String, UserRow> {
    match store {
        ReadStore::Postgres { pool, .. } => {
            let rows = sqlx::query(
                "SELECT tenant_id::text AS tenant_id, id::text AS id, email, email_lower,
                        display_name, display_name_lower, status, version FROM users",
            )
            .fetch_all(pool)
            .await
            .unwrap();
            user_rows!(rows)
        }
        ReadStore::Sqlite { pool, .. } => {
            let rows = sqlx::query(
                "SELECT tenant_id, id, email, email_lower, display_name, display_name_lower,
                        status, version FROM users",
            )
            .fetch_all(pool)
            .await
            .unwrap();
            user_rows!(rows)
        }
    }
}

/// Asserts that no row of any read-model table contains `secret` (case-insensitively).
async fn assert_nowhere(store: &ReadStore, secret: &str) {
    let secret = secret.to_lowercase();
    for (table, rows) in dump(store).await {
        for row in rows {
            assert!(
                !row.to_lowercase().contains(&secret),
                "{table} still holds {secret:?}: {row}"
            );
        }
    }
}

/// Asserts that every projection of `handle` is caught up and never failed.
async fn assert_no_failures(handle: &ProjectionHandle) {
    for status in handle.status().await {
        assert_eq!(status.events_behind, Some(0), "{status:?}");
        assert_eq!(status.failures, 0, "{status:?}");
        assert_eq!(status.last_error, None, "{status:?}");
    }
}

async fn run(engine: &Engine, tenant: TenantId, command: TenantScopeCommand) {
    engine.execute(tenant, command, meta()).await.unwrap();
}

/// A person invited to `tenant` and accepted with a display name of their own; returns their
/// id, email and display name (each unique to this person).
async fn person(engine: &Engine, tenant: TenantId, first_name: &str) -> (UserId, String, String) {
    let id = UserId::new_v7();
    let marker = uuid::Uuid::new_v4().simple().to_string();
    let email = format!("{first_name}.{marker}@Example.com");
    let hash = token_hash(&format!("token-{id}"));
    run(engine, tenant, invite(id, &email, None, &hash)).await;
    let display_name = format!("{first_name} Ünïque {marker}");
    run(
        engine,
        tenant,
        TenantScopeCommand::User(UserCommand::AcceptInvitation {
            id,
            token_hash: hash,
            display_name: Some(display_name.clone()),
        }),
    )
    .await;
    (id, email, display_name)
}

fn erase_user(id: UserId) -> TenantScopeCommand {
    TenantScopeCommand::User(UserCommand::Erase { id })
}

/// Erasing a user blanks their row (and only theirs); a rebuild from zero gives the same rows,
/// with no projection failure; the journal keeps their values sealed.
async fn user_erasure(store: Store) {
    let engine = start_engine(&store).await;
    let service = start_projections(&store).await;
    let handle = service.handle();
    let (tenant, _) = new_tenant(&engine).await;
    let (erin, erin_email, erin_name) = person(&engine, tenant, "Erin").await;
    let (bob, bob_email, bob_name) = person(&engine, tenant, "Bob").await;
    caught_up(&handle).await;

    let before = users_table(&store.read).await;
    let erin_row = &before[&erin.to_string()];
    assert_eq!(
        (erin_row.email.as_str(), erin_row.display_name.as_str()),
        (erin_email.as_str(), erin_name.as_str()),
        "the read model holds plaintext"
    );
    assert_eq!(erin_row.email_lower, erin_email.to_lowercase());
    assert_eq!(before[&bob.to_string()].email, bob_email);
    assert_eq!(before[&bob.to_string()].display_name, bob_name);
    // The journal holds them sealed, never in plaintext.
    let raw = all_events(store.tail.as_ref()).await;
    let raw_text = serde_json::to_string(&raw.iter().map(|e| &e.payload).collect::<Vec<_>>())
        .unwrap()
        .to_lowercase();
    assert!(raw_text.contains("pd1."), "payloads are sealed");
    assert!(!raw_text.contains(&erin_email.to_lowercase()));

    run(&engine, tenant, erase_user(erin)).await;
    caught_up(&handle).await;
    let after = users_table(&store.read).await;
    let erased = &after[&erin.to_string()];
    assert!(erased.is_erased(), "erin's row is blanked: {erased:?}");
    assert_eq!(
        erased.version,
        erin_row.version + 1,
        "UserErased is on her stream"
    );
    for (id, row) in &before {
        if *id != erin.to_string() {
            assert_eq!(&after[id], row, "user {id} untouched by erin's erasure");
        }
    }
    assert_nowhere(&store.read, &erin_email).await;
    assert_nowhere(&store.read, &erin_name).await;
    // Opened now, her values read as "" and nothing stays sealed.
    let opened = opened_events(&store).await;
    let opened_text =
        serde_json::to_string(&opened.iter().map(|e| &e.payload).collect::<Vec<_>>()).unwrap();
    assert!(!opened_text.contains("pd1."), "a value left sealed");
    let erin_invited = opened
        .iter()
        .find(|e| e.stream.id == erin.0 && e.event_type == "UserInvited")
        .unwrap();
    assert_eq!(erin_invited.payload["email"], "");
    assert_eq!(erin_invited.payload["display_name"], "");

    // The query API: her row reads erased and empty; a search for her address finds nobody.
    let read = read_models(&store, &handle);
    let page = read
        .list_users(
            tenant,
            &UserFilter::default(),
            &PageRequest::first(100),
            None,
        )
        .await
        .unwrap();
    let entry = page.items.iter().find(|u| u.id == erin).unwrap();
    assert_eq!(entry.status, UserStatus::Erased);
    assert_eq!(
        (entry.email.as_str(), entry.display_name.as_str()),
        ("", "")
    );
    let search = UserFilter {
        text: Some(erin_email.clone()),
        ..UserFilter::default()
    };
    let found = read
        .list_users(tenant, &search, &PageRequest::first(10), None)
        .await
        .unwrap();
    assert!(found.items.is_empty(), "{:?}", found.items);

    // From zero: the old events read as "" now, and the result is the same.
    let dumped = dump(&store.read).await;
    handle.rebuild(names::USERS).await.unwrap();
    caught_up(&handle).await;
    assert_eq!(users_table(&store.read).await, after);
    assert_eq!(
        dump(&store.read).await,
        dumped,
        "rebuild equals incremental"
    );
    assert_nowhere(&store.read, &erin_email).await;
    assert_nowhere(&store.read, &erin_name).await;
    assert_no_failures(&handle).await;
    assert_eq!(engine.unreadable_personal_values(), 0);
    assert_eq!(store.vault.unreadable_values(), 0);

    service.stop().await;
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_user_erasure_scrubs_the_row_and_survives_a_rebuild() {
    let (_db, _journal, store) = postgres().await;
    user_erasure(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_user_erasure_scrubs_the_row_and_survives_a_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    let (_journal, store) = sqlite(dir.path()).await;
    user_erasure(store).await;
}

/// Erasing a (deleted) tenant blanks every user row of that tenant, and of no other tenant;
/// the same after every projection is rebuilt from zero.
async fn tenant_erasure(store: Store) {
    let engine = start_engine(&store).await;
    let service = start_projections(&store).await;
    let handle = service.handle();
    let (gone, _) = new_tenant(&engine).await;
    let (kept, _) = new_tenant(&engine).await;
    let mut gone_people = Vec::new();
    let mut secrets = Vec::new();
    for name in ["Ada", "Grace", "Linus"] {
        let (id, email, display_name) = person(&engine, gone, name).await;
        gone_people.push(id);
        secrets.extend([email, display_name]);
    }
    let kept_people = join_all(["Ada", "Grace"].map(|n| person(&engine, kept, n))).await;
    // One of them erased on her own first: her row keeps its time and version.
    run(&engine, gone, erase_user(gone_people[0])).await;
    caught_up(&handle).await;
    let before = users_table(&store.read).await;
    let gone_text = gone.to_string();
    let gone_rows = before.values().filter(|r| r.tenant_id == gone_text).count();
    assert!(
        gone_rows > gone_people.len(),
        "the owner's invitation is a user too"
    );
    for (_, row) in before
        .iter()
        .filter(|(_, r)| r.tenant_id == gone_text)
        .filter(|(id, _)| **id != gone_people[0].to_string())
    {
        assert!(!row.email.is_empty(), "{row:?}");
        secrets.push(row.email.clone());
    }

    run(
        &engine,
        gone,
        TenantScopeCommand::Tenant(TenantCommand::Delete),
    )
    .await;
    run(
        &engine,
        gone,
        TenantScopeCommand::Tenant(TenantCommand::Erase),
    )
    .await;
    caught_up(&handle).await;
    let after = users_table(&store.read).await;
    for (id, row) in &after {
        if row.tenant_id == gone_text {
            assert!(row.is_erased(), "user {id} of the erased tenant: {row:?}");
            assert_eq!(row.version, before[id].version, "versions stay");
        } else {
            assert_eq!(row, &before[id], "user {id} of another tenant untouched");
        }
    }
    for (id, email, display_name) in &kept_people {
        let row = &after[&id.to_string()];
        assert_eq!((&row.email, &row.display_name), (email, display_name));
    }
    for secret in &secrets {
        assert_nowhere(&store.read, secret).await;
    }
    let tenants = read_models(&store, &handle)
        .list_tenants(
            &projections::TenantFilter::default(),
            &PageRequest::first(100),
            None,
        )
        .await
        .unwrap();
    let directory = tenants.items.iter().find(|t| t.tenant_id == gone).unwrap();
    assert_eq!(
        directory.status,
        engine::domain::TenantStatus::Deleted,
        "{directory:?}"
    );

    // The read models equal the journal folded through the domain, and a rebuild of every
    // projection from zero gives the same rows.
    let read = read_models(&store, &handle);
    let expected = expected::from_journal(&opened_events(&store).await);
    let actual = expected::from_read_models(&read, &[gone, kept], 7).await;
    expected::assert_same(&actual, &expected);
    let dumped = dump(&store.read).await;
    for name in handle.names() {
        handle.rebuild(&name).await.unwrap();
    }
    caught_up(&handle).await;
    assert_eq!(
        dump(&store.read).await,
        dumped,
        "rebuild equals incremental"
    );
    for secret in &secrets {
        assert_nowhere(&store.read, secret).await;
    }
    assert_no_failures(&handle).await;

    service.stop().await;
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_tenant_erasure_scrubs_every_user_of_that_tenant_only() {
    let (_db, _journal, store) = postgres().await;
    tenant_erasure(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_tenant_erasure_scrubs_every_user_of_that_tenant_only() {
    let dir = tempfile::tempdir().unwrap();
    let (_journal, store) = sqlite(dir.path()).await;
    tenant_erasure(store).await;
}

/// A contact of `owner` in `tenant` with a name, email and phone unique to it; returns its id
/// and those three values.
async fn contact_person(
    engine: &Engine,
    tenant: TenantId,
    owner: Option<ClientId>,
    location_id: Option<RecordId>,
    first_name: &str,
) -> (RecordId, [String; 3]) {
    let id = RecordId::new_v7();
    let marker = uuid::Uuid::new_v4().simple().to_string();
    let name = format!("{first_name} Kontakt {marker}");
    let email = format!("{first_name}.{marker}@example.com").to_lowercase();
    let phone = format!(
        "+1 {:012}",
        uuid::Uuid::new_v4().as_u128() % 1_000_000_000_000
    );
    run(
        engine,
        tenant,
        TenantScopeCommand::Record(RecordCommand::Create {
            id,
            client_id: owner,
            fields: RecordFields::Contact(Contact {
                contact_type: "billing".into(),
                name: name.clone(),
                email: email.clone(),
                phone: phone.clone(),
                location_id,
            }),
        }),
    )
    .await;
    (id, [name, email, phone])
}

/// The contacts of `tenant` the query API lists, by id.
async fn listed_contacts(
    read: &ReadModels,
    tenant: TenantId,
) -> BTreeMap<RecordId, engine::domain::Contact> {
    read.list_records(
        tenant,
        RecordKind::Contact,
        &RecordFilter::default(),
        &PageRequest::first(100),
        None,
    )
    .await
    .unwrap()
    .items
    .into_iter()
    .map(|r| match r.fields {
        RecordFields::Contact(c) => (r.id, c),
        other => panic!("a contact listed with {other:?}"),
    })
    .collect()
}

/// A contact's deletion removes its row and with it its name, email and phone; erasing the
/// (deleted) tenant removes every contact row of that tenant (and of no other), its other
/// records staying; the journal keeps the values sealed; a rebuild from zero gives the same
/// rows.
async fn contact_erasure(store: Store) {
    let engine = start_engine(&store).await;
    let service = start_projections(&store).await;
    let handle = service.handle();
    let read = read_models(&store, &handle);
    let (gone, _) = new_tenant(&engine).await;
    let (kept, _) = new_tenant(&engine).await;
    let client = ClientId::new_v7();
    run(
        &engine,
        gone,
        TenantScopeCommand::Client(ClientCommand::Create {
            id: client,
            name: "Client".into(),
            external_id: String::new(),
            business_profile: None,
        }),
    )
    .await;
    let office = RecordId::new_v7();
    run(
        &engine,
        gone,
        TenantScopeCommand::Record(RecordCommand::Create {
            id: office,
            client_id: None,
            fields: RecordFields::Location(Location {
                name: "Office".into(),
                address: Address {
                    city: "Springfield".into(),
                    ..Address::default()
                },
                ..Location::default()
            }),
        }),
    )
    .await;
    let (deleted, deleted_secrets) =
        contact_person(&engine, gone, None, Some(office), "Erin").await;
    let (of_tenant, tenant_secrets) = contact_person(&engine, gone, None, None, "Ada").await;
    let (of_client, client_secrets) =
        contact_person(&engine, gone, Some(client), None, "Grace").await;
    let (survivor, survivor_secrets) = contact_person(&engine, kept, None, None, "Linus").await;
    caught_up(&handle).await;

    let listed = listed_contacts(&read, gone).await;
    let erin = &listed[&deleted];
    assert_eq!(
        [&erin.name, &erin.email, &erin.phone],
        deleted_secrets.each_ref(),
        "the read model holds plaintext"
    );
    assert_eq!(listed.len(), 3);
    // The journal holds them sealed, never in plaintext.
    let raw = all_events(store.tail.as_ref()).await;
    let raw_text = serde_json::to_string(&raw.iter().map(|e| &e.payload).collect::<Vec<_>>())
        .unwrap()
        .to_lowercase();
    for secret in deleted_secrets.iter().chain(&tenant_secrets) {
        assert!(
            !raw_text.contains(&secret.to_lowercase()),
            "{secret} in the journal"
        );
    }

    // Deleted: its row goes, and its values with it; the others stay.
    run(
        &engine,
        gone,
        TenantScopeCommand::Record(RecordCommand::Delete {
            id: deleted,
            kind: RecordKind::Contact,
        }),
    )
    .await;
    caught_up(&handle).await;
    for secret in &deleted_secrets {
        assert_nowhere(&store.read, secret).await;
    }
    let listed = listed_contacts(&read, gone).await;
    assert_eq!(listed.keys().copied().collect::<Vec<_>>(), {
        let mut ids = vec![of_tenant, of_client];
        ids.sort();
        ids
    });
    assert_eq!(listed[&of_tenant].name, tenant_secrets[0]);
    // Its key is gone: opened now, its values read as "".
    let opened = opened_events(&store).await;
    let created = opened
        .iter()
        .find(|e| e.stream.id == deleted.0 && e.event_type == "ContactCreated")
        .unwrap();
    assert_eq!(created.payload["fields"]["contact"]["name"], "");
    assert_eq!(created.payload["fields"]["contact"]["email"], "");
    assert_eq!(created.payload["fields"]["contact"]["phone"], "");

    // The tenant erased: every contact row of it goes, its location stays, the other tenant's
    // contact is untouched.
    run(
        &engine,
        gone,
        TenantScopeCommand::Tenant(TenantCommand::Delete),
    )
    .await;
    run(
        &engine,
        gone,
        TenantScopeCommand::Tenant(TenantCommand::Erase),
    )
    .await;
    caught_up(&handle).await;
    assert!(listed_contacts(&read, gone).await.is_empty());
    let locations = read
        .list_records(
            gone,
            RecordKind::Location,
            &RecordFilter::default(),
            &PageRequest::first(10),
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        locations.items.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![office]
    );
    let theirs = listed_contacts(&read, kept).await;
    let linus = &theirs[&survivor];
    assert_eq!(
        [&linus.name, &linus.email, &linus.phone],
        survivor_secrets.each_ref()
    );
    let erased: Vec<&String> = deleted_secrets
        .iter()
        .chain(&tenant_secrets)
        .chain(&client_secrets)
        .collect();
    for secret in &erased {
        assert_nowhere(&store.read, secret).await;
    }

    // The read models equal the journal folded through the domain (an erased tenant's contacts
    // left out), and a rebuild of every projection from zero gives the same rows.
    let expected = expected::from_journal(&opened_events(&store).await);
    let actual = expected::from_read_models(&read, &[gone, kept], 3).await;
    expected::assert_same(&actual, &expected);
    let dumped = dump(&store.read).await;
    for name in handle.names() {
        handle.rebuild(&name).await.unwrap();
    }
    caught_up(&handle).await;
    assert_eq!(
        dump(&store.read).await,
        dumped,
        "rebuild equals incremental"
    );
    for secret in &erased {
        assert_nowhere(&store.read, secret).await;
    }
    assert_eq!(listed_contacts(&read, kept).await, theirs);
    assert_no_failures(&handle).await;

    service.stop().await;
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_contact_erasure_removes_the_rows_and_survives_a_rebuild() {
    let (_db, _journal, store) = postgres().await;
    contact_erasure(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_contact_erasure_removes_the_rows_and_survives_a_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    let (_journal, store) = sqlite(dir.path()).await;
    contact_erasure(store).await;
}

/// A random workload with erasures: the read models equal the journal folded through the
/// domain, every erased user's row is blank, and a rebuild from zero equals the incremental
/// build row for row.
async fn random_erasures(store: Store, tenants: u64, commands: usize) {
    let engine = start_engine(&store).await;
    let service = start_projections(&store).await;
    let handle = service.handle();
    let runs = join_all((0..tenants).map(|i| run_tenant_with(&engine, 40 + i, commands, true)));
    let ids: Vec<TenantId> = runs.await.into_iter().map(|(t, _)| t).collect();
    caught_up(&handle).await;

    let expected = expected::from_journal(&opened_events(&store).await);
    let actual = expected::from_read_models(&read_models(&store, &handle), &ids, 23).await;
    expected::assert_same(&actual, &expected);
    let rows = users_table(&store.read).await;
    let erased: Vec<&UserRow> = rows
        .values()
        .filter(|r| r.status == erased_text())
        .collect();
    assert!(!erased.is_empty(), "the workload erased nobody");
    for row in erased {
        assert!(row.is_erased(), "{row:?}");
    }

    let dumped = dump(&store.read).await;
    for name in handle.names() {
        handle.rebuild(&name).await.unwrap();
    }
    caught_up(&handle).await;
    assert_eq!(
        dump(&store.read).await,
        dumped,
        "rebuild equals incremental"
    );
    assert_no_failures(&handle).await;
    service.stop().await;
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_random_erasures_rebuild_equals_incremental() {
    let (_db, _journal, store) = postgres().await;
    random_erasures(store, 6, 300).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_random_erasures_rebuild_equals_incremental() {
    let dir = tempfile::tempdir().unwrap();
    let (_journal, store) = sqlite(dir.path()).await;
    random_erasures(store, 4, 300).await;
}

/// A node whose master key does not unwrap the personal-data keys fails the batch and retries
/// it (reported in the status), never applying or skipping it; with the right key it catches
/// up with plaintext.
async fn missing_master_key(store: Store) {
    let engine = start_engine(&store).await;
    let (tenant, _) = new_tenant(&engine).await;
    let (erin, erin_email, _) = person(&engine, tenant, "Erin").await;
    let stranger = Arc::new(MasterKeys::new(MasterKey::generate().unwrap()));
    let wrong = Arc::new(Vault::new(stranger, store.journal.clone()));
    let config = RunnerConfig {
        retry_initial: Duration::from_millis(20),
        retry_max: Duration::from_millis(200),
        ..RunnerConfig::default()
    };
    let service = ProjectionService::start(
        store.read.clone(),
        store.tail.clone(),
        wrong,
        standard_projections(),
        config.clone(),
    )
    .await
    .unwrap();
    let handle = service.handle();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let status = handle.status_of(names::USERS).await.unwrap();
        if status.failures >= 2 {
            let error = status.last_error.clone().unwrap();
            assert!(error.contains("personal data"), "{error}");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the users projection never failed: {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        !users_table(&store.read)
            .await
            .contains_key(&erin.to_string()),
        "nothing of the failing batch is applied"
    );
    let head = store.tail.head().await.unwrap().unwrap();
    assert!(
        handle.checkpoint(names::USERS).unwrap() < head,
        "not skipped"
    );
    service.stop().await;

    let service = ProjectionService::start(
        store.read.clone(),
        store.tail.clone(),
        store.vault.clone(),
        standard_projections(),
        config,
    )
    .await
    .unwrap();
    let handle = service.handle();
    caught_up(&handle).await;
    assert_eq!(
        users_table(&store.read).await[&erin.to_string()].email,
        erin_email
    );
    assert_no_failures(&handle).await;
    assert!(handle.checkpoint(names::USERS).unwrap() > ORIGIN);
    service.stop().await;
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_missing_master_key_fails_the_batch_never_skips_it() {
    let (_db, _journal, store) = postgres().await;
    missing_master_key(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_missing_master_key_fails_the_batch_never_skips_it() {
    let dir = tempfile::tempdir().unwrap();
    let (_journal, store) = sqlite(dir.path()).await;
    missing_master_key(store).await;
}

/// The messages of the `UserInvited` event of `user`, in topic order.
fn invitations_of(received: &[Received], user: UserId) -> Vec<&Received> {
    let id = serde_json::to_value(user).unwrap();
    let mut found: Vec<&Received> = received
        .iter()
        .filter(|m| {
            m.value["event_type"] == "UserInvited"
                && m.value["stream"]["kind"] == StreamKind::User.as_str()
                && m.value["payload"]["id"] == id
        })
        .collect();
    found.sort_by_key(|m| (m.partition, m.offset));
    found
}

fn assert_no_ciphertext(received: &[Received]) {
    for m in received {
        let text = serde_json::to_string(&m.value).unwrap();
        assert!(!text.contains("pd1."), "ciphertext published: {text}");
    }
}

/// Live, the publisher sends plaintext; after an erasure a publisher rebuilt from zero
/// republishes the erased person's invitation with empty values; never ciphertext.
async fn kafka_erasure(store: Store) {
    let kafka = MockKafka::start();
    let engine = start_engine(&store).await;
    let publisher = kafka.publisher(Duration::from_secs(30));
    let service = start_publisher(&store, &publisher).await;
    let handle = service.handle();
    let (tenant, _) = new_tenant(&engine).await;
    let (erin, erin_email, erin_name) = person(&engine, tenant, "Erin").await;
    let (bob, bob_email, _) = person(&engine, tenant, "Bob").await;
    caught_up(&handle).await;

    let live = read_topic(&kafka.bootstrap, "erasure-live").await;
    assert_no_ciphertext(&live);
    let invited = invitations_of(&live, erin);
    assert_eq!(invited.len(), 1, "{invited:?}");
    let payload = &invited[0].value["payload"];
    assert_eq!(payload["email"], erin_email.as_str());
    assert_eq!(
        payload["display_name"],
        format!("Name of {erin_email}").as_str()
    );
    let activated = live
        .iter()
        .find(|m| {
            m.value["event_type"] == "UserActivated"
                && m.value["payload"]["id"] == serde_json::to_value(erin).unwrap()
        })
        .unwrap();
    assert_eq!(
        activated.value["payload"]["display_name"],
        erin_name.as_str()
    );
    // What was published equals the journal, opened.
    assert_messages_match(&opened_events(&store).await, &live);

    run(&engine, tenant, erase_user(erin)).await;
    caught_up(&handle).await;
    handle.rebuild(KafkaPublisher::NAME).await.unwrap();
    caught_up(&handle).await;
    let after = read_topic(&kafka.bootstrap, "erasure-after").await;
    assert_no_ciphertext(&after);
    let invited = invitations_of(&after, erin);
    assert_eq!(invited.len(), 2, "published live and again: {invited:?}");
    let republished = &invited[1].value["payload"];
    assert_eq!(republished["email"], "");
    assert_eq!(republished["display_name"], "");
    let bob_invited = invitations_of(&after, bob);
    assert_eq!(bob_invited.len(), 2);
    assert_eq!(bob_invited[1].value["payload"]["email"], bob_email.as_str());
    assert!(
        after.iter().any(|m| m.value["event_type"] == "UserErased"),
        "the erasure itself is published"
    );
    let republished_text: String = after
        .iter()
        .filter(|m| {
            live.iter()
                .all(|l| (l.partition, l.offset) != (m.partition, m.offset))
        })
        .map(|m| serde_json::to_string(&m.value).unwrap())
        .collect();
    assert!(
        !republished_text.contains(&erin_email),
        "the republished messages do not hold the erased email"
    );
    assert!(!republished_text.contains(&erin_name));
    assert_no_failures(&handle).await;
    service.stop().await;
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_kafka_republishes_erased_values_empty_never_ciphertext() {
    let (_db, _journal, store) = postgres().await;
    kafka_erasure(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_kafka_republishes_erased_values_empty_never_ciphertext() {
    let dir = tempfile::tempdir().unwrap();
    let (_journal, store) = sqlite(dir.path()).await;
    kafka_erasure(store).await;
}
