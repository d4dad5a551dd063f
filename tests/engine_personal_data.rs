//! Personal data in the runtime (SPEC §6), on both stores: sealed in the journal and in
//! snapshots, opened on recovery, erased by shredding, and a tampered or moved ciphertext
//! refused for that value while the node keeps serving.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use engine::{
    domain::{TenantCommand, TenantId, TenantScopeCommand, UserCommand, UserId, UserStatus},
    journal::{Journal, KeyPurpose},
    runtime::{Engine, EngineConfig, EntityView, RequestMeta},
    testing::{TestDatabase, new_tenant, sqlite_journal, tenant_command},
};

/// A store under test, with raw SQL access for tampering.
/// (The database and the directory are kept alive with the journal.)
enum Store {
    Postgres(
        #[allow(dead_code)] TestDatabase,
        engine::journal::postgres::PostgresJournal,
    ),
    Sqlite(
        #[allow(dead_code)] tempfile::TempDir,
        engine::journal::sqlite::SqliteJournal,
    ),
}

impl Store {
    async fn postgres() -> Self {
        let db = TestDatabase::create().await;
        let journal = db.journal().await;
        Store::Postgres(db, journal)
    }

    async fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let journal = sqlite_journal(dir.path()).await;
        Store::Sqlite(dir, journal)
    }

    fn journal(&self) -> Arc<dyn Journal> {
        match self {
            Store::Postgres(_, j) => Arc::new(j.clone()),
            Store::Sqlite(_, j) => Arc::new(j.clone()),
        }
    }

    /// Replaces the payload of the `UserInvited` event of `user` by `payload`.
    async fn set_invited_payload(&self, user: UserId, payload: &serde_json::Value) {
        let text = payload.to_string();
        let done = match self {
            Store::Postgres(_, j) => sqlx::query(
                "UPDATE events SET payload = $1::jsonb WHERE stream_id = $2 AND sequence = 1",
            )
            .bind(&text)
            .bind(user.0)
            .execute(j.pool())
            .await
            .unwrap()
            .rows_affected(),
            Store::Sqlite(_, j) => {
                sqlx::query("UPDATE events SET payload = ?1 WHERE stream_id = ?2 AND sequence = 1")
                    .bind(&text)
                    .bind(user.0.to_string())
                    .execute(j.pool())
                    .await
                    .unwrap()
                    .rows_affected()
            }
        };
        assert_eq!(done, 1);
    }

    async fn drop_snapshots(&self) {
        match self {
            Store::Postgres(_, j) => {
                sqlx::query("DELETE FROM snapshots")
                    .execute(j.pool())
                    .await
                    .unwrap();
            }
            Store::Sqlite(_, j) => {
                sqlx::query("DELETE FROM snapshots")
                    .execute(j.pool())
                    .await
                    .unwrap();
            }
        }
    }
}

const OWNER_EMAIL: &str = "canary-owner-7f3a@personal.example";

fn create_tenant(id: TenantId, slug: &str) -> TenantScopeCommand {
    let mut create = new_tenant(id, "Personal Data Inc");
    create.slug = slug.into();
    create.onboarding.owner_email = OWNER_EMAIL.into();
    tenant_command(create)
}

fn invite(id: UserId, email: &str, name: &str) -> TenantScopeCommand {
    TenantScopeCommand::User(UserCommand::Invite {
        id,
        email: email.into(),
        display_name: name.into(),
        roles: vec![],
        organization_id: None,
        expires_in_days: 7,
        token_hash: engine::secrets::token_hash(&id.to_string()),
    })
}

async fn run(engine: &Engine, tenant: TenantId, command: TenantScopeCommand) -> EntityView {
    engine
        .execute(tenant, command, RequestMeta::default())
        .await
        .unwrap()
        .view
}

fn canary(n: u32) -> (String, String) {
    (
        format!("canary-{n}-c81e@personal.example"),
        format!("Canary Person {n} Zq"),
    )
}

/// Every stored byte of events, snapshots and keys, as text.
async fn stored_text(journal: &Arc<dyn Journal>, tenant: TenantId) -> String {
    let mut text = String::new();
    for e in journal.read_all(0, 10_000).await.unwrap() {
        text.push_str(&e.payload.to_string());
        text.push_str(&serde_json::to_string(&e.metadata).unwrap());
    }
    if let Some(s) = journal
        .load_snapshot("tenant-scope", tenant.0)
        .await
        .unwrap()
    {
        text.push_str(&String::from_utf8_lossy(&s.state));
    }
    text
}

async fn sealed_at_rest_and_opened_on_recovery(store: Store) {
    let journal = store.journal();
    let engine = Engine::start(journal.clone(), EngineConfig::default())
        .await
        .unwrap();
    let tenant = TenantId::new_v7();
    let slug = format!("pd-{}", uuid::Uuid::new_v4().simple());
    // With a request id: its fingerprint is keyed by the tenant's index key.
    let idempotent = RequestMeta {
        request_id: Some("create-pd".into()),
        ..RequestMeta::default()
    };
    engine
        .execute(tenant, create_tenant(tenant, &slug), idempotent)
        .await
        .unwrap();
    let mut users = Vec::new();
    for n in 0..5 {
        let id = UserId::new_v7();
        let (email, name) = canary(n);
        run(&engine, tenant, invite(id, &email, &name)).await;
        users.push((id, email, name));
    }
    engine.shutdown().await; // passivates: a snapshot is saved
    assert!(
        journal
            .load_snapshot("tenant-scope", tenant.0)
            .await
            .unwrap()
            .is_some()
    );
    let text = stored_text(&journal, tenant).await;
    assert!(text.contains("pd1."), "sealed values are stored");
    assert!(!text.contains(OWNER_EMAIL), "the owner's email is sealed");
    for (_, email, name) in &users {
        assert!(!text.contains(email.as_str()) && !text.contains(name.as_str()));
    }
    // One data key per person (the owner and five invitees) and the tenant's index key.
    let keys = journal.tenant_keys(tenant).await.unwrap();
    assert_eq!(keys.len(), 7, "{keys:?}");
    let index = keys.iter().filter(|k| k.purpose == KeyPurpose::Index);
    assert_eq!(
        index.map(|k| k.subject_id).collect::<Vec<_>>(),
        vec![tenant.0]
    );
    // The request fingerprint is keyed: no plain SHA-256 of the command is stored.
    let create = journal.read_all(0, 1).await.unwrap();
    let stored_hash = create[0].metadata.request_hash.clone().unwrap();
    assert_eq!(stored_hash.len(), 64);
    assert!(
        keys.iter()
            .all(|k| k.wrapped.as_ref().is_some_and(|w| w.len() == 60))
    );

    // Recovery from the snapshot, then from the events alone, opens every value.
    for pass in ["snapshot", "events"] {
        if pass == "events" {
            store.drop_snapshots().await;
        }
        let engine = Engine::start(journal.clone(), EngineConfig::default())
            .await
            .unwrap();
        for (id, email, name) in &users {
            let user = engine.get_user(tenant, *id).await.unwrap();
            assert_eq!((&user.email, &user.display_name), (email, name), "{pass}");
        }
        let tenant_state = engine.get_tenant(tenant).await.unwrap();
        let owner = tenant_state.onboarding.unwrap().plan.owner_email;
        assert_eq!(owner, OWNER_EMAIL, "{pass}");
        // Email uniqueness still holds after recovery.
        let dup = engine
            .execute(
                tenant,
                invite(UserId::new_v7(), &users[0].1.to_uppercase(), ""),
                RequestMeta::default(),
            )
            .await;
        assert!(dup.is_err(), "{pass}: {dup:?}");
        assert_eq!(engine.unreadable_personal_values(), 0);
        engine.shutdown().await;
    }
}

async fn erasure_shreds_and_frees_the_email(store: Store) {
    let journal = store.journal();
    let engine = Engine::start(journal.clone(), EngineConfig::default())
        .await
        .unwrap();
    let tenant = TenantId::new_v7();
    let slug = format!("pd-{}", uuid::Uuid::new_v4().simple());
    run(&engine, tenant, create_tenant(tenant, &slug)).await;
    let (ada, bob) = (UserId::new_v7(), UserId::new_v7());
    let (ada_email, ada_name) = canary(1);
    let (bob_email, bob_name) = canary(2);
    run(&engine, tenant, invite(ada, &ada_email, &ada_name)).await;
    run(&engine, tenant, invite(bob, &bob_email, &bob_name)).await;

    let erase = TenantScopeCommand::User(UserCommand::Erase { id: ada });
    let EntityView::User(erased) = run(&engine, tenant, erase.clone()).await else {
        panic!("a user view")
    };
    assert_eq!(erased.status, UserStatus::Erased);
    assert!(erased.email.is_empty() && erased.display_name.is_empty());
    // Idempotent: a second erasure changes nothing.
    let again = engine
        .execute(tenant, erase, RequestMeta::default())
        .await
        .unwrap();
    assert_eq!(again.version, 2);
    let ada_key = journal.subject_keys(&[ada.0]).await.unwrap();
    assert_eq!(ada_key.len(), 1);
    assert!(ada_key[0].wrapped.is_none() && ada_key[0].shredded_at.is_some());

    // The same address makes a new person, with a new key.
    let again_id = UserId::new_v7();
    run(&engine, tenant, invite(again_id, &ada_email, "Ada Again")).await;
    engine.shutdown().await;

    // After a restart (snapshot and from events alone), Ada stays erased; Bob is intact.
    for pass in ["snapshot", "events"] {
        if pass == "events" {
            store.drop_snapshots().await;
        }
        let engine = Engine::start(journal.clone(), EngineConfig::default())
            .await
            .unwrap();
        let old = engine.get_user(tenant, ada).await.unwrap();
        assert_eq!(old.status, UserStatus::Erased, "{pass}");
        assert!(
            old.email.is_empty() && old.display_name.is_empty(),
            "{pass}"
        );
        let bob_now = engine.get_user(tenant, bob).await.unwrap();
        assert_eq!(bob_now.email, bob_email, "{pass}");
        let new = engine.get_user(tenant, again_id).await.unwrap();
        assert_eq!(
            (new.email.as_str(), new.status),
            (ada_email.as_str(), UserStatus::Invited)
        );
        // Nothing personal can be written about an erased person again.
        let update = TenantScopeCommand::User(UserCommand::UpdateProfile {
            id: ada,
            display_name: Some("Back".into()),
        });
        assert!(
            engine
                .execute(tenant, update, RequestMeta::default())
                .await
                .is_err()
        );
        assert_eq!(engine.unreadable_personal_values(), 0, "{pass}");
        engine.shutdown().await;
    }

    // Erasing the tenant shreds every key it has.
    let engine = Engine::start(journal.clone(), EngineConfig::default())
        .await
        .unwrap();
    let delete = TenantScopeCommand::Tenant(TenantCommand::Delete);
    run(&engine, tenant, delete).await;
    run(
        &engine,
        tenant,
        TenantScopeCommand::Tenant(TenantCommand::Erase),
    )
    .await;
    let keys = journal.tenant_keys(tenant).await.unwrap();
    assert!(keys.iter().all(|k| k.wrapped.is_none()), "{keys:?}");
    let bob_now = engine.get_user(tenant, bob).await.unwrap();
    assert_eq!(bob_now.status, UserStatus::Erased);
    engine.shutdown().await;
    store.drop_snapshots().await;
    let engine = Engine::start(journal.clone(), EngineConfig::default())
        .await
        .unwrap();
    let tenant_state = engine.get_tenant(tenant).await.unwrap();
    assert!(tenant_state.erased_at.is_some());
    assert_eq!(tenant_state.onboarding.unwrap().plan.owner_email, "");
    for id in [ada, bob, again_id] {
        let user = engine.get_user(tenant, id).await.unwrap();
        assert!(user.email.is_empty() && user.status == UserStatus::Erased);
    }
    engine.shutdown().await;
}

async fn moved_and_flipped_ciphertexts_are_refused(store: Store) {
    let journal = store.journal();
    let engine = Engine::start(journal.clone(), EngineConfig::default())
        .await
        .unwrap();
    let tenant = TenantId::new_v7();
    let slug = format!("pd-{}", uuid::Uuid::new_v4().simple());
    run(&engine, tenant, create_tenant(tenant, &slug)).await;
    let (ada, bob, cyd) = (UserId::new_v7(), UserId::new_v7(), UserId::new_v7());
    let (ada_email, _) = canary(1);
    let (bob_email, _) = canary(2);
    let (cyd_email, _) = canary(3);
    run(&engine, tenant, invite(ada, &ada_email, "")).await;
    run(&engine, tenant, invite(bob, &bob_email, "")).await;
    run(&engine, tenant, invite(cyd, &cyd_email, "")).await;
    engine.shutdown().await;
    store.drop_snapshots().await;

    let invited = |user: UserId| {
        let journal = journal.clone();
        async move {
            let events = journal
                .read_stream(
                    engine::domain::StreamId::new(engine::domain::StreamKind::User, user.0),
                    0,
                )
                .await
                .unwrap();
            events[0].payload.clone()
        }
    };
    // Bob's sealed email moved into Ada's event; one bit of Cyd's flipped.
    let mut ada_payload = invited(ada).await;
    let bob_payload = invited(bob).await;
    ada_payload["email"] = bob_payload["email"].clone();
    store.set_invited_payload(ada, &ada_payload).await;
    let mut cyd_payload = invited(cyd).await;
    let sealed = cyd_payload["email"].as_str().unwrap().to_owned();
    let mut chars: Vec<char> = sealed.chars().collect();
    let last = chars.len() - 1;
    chars[last] = if chars[last] == 'A' { 'B' } else { 'A' };
    cyd_payload["email"] = serde_json::Value::String(chars.into_iter().collect());
    store.set_invited_payload(cyd, &cyd_payload).await;

    let engine = Engine::start(journal.clone(), EngineConfig::default())
        .await
        .unwrap();
    // The moved value does not open as Bob's address in Ada's record, nor does the flipped one.
    let ada_now = engine.get_user(tenant, ada).await.unwrap();
    assert_eq!(ada_now.email, "", "a moved ciphertext is refused");
    let cyd_now = engine.get_user(tenant, cyd).await.unwrap();
    assert_eq!(cyd_now.email, "", "a flipped bit is refused");
    assert_eq!(
        engine.unreadable_personal_values(),
        2,
        "each refusal is counted"
    );
    // Everyone else is intact and the tenant keeps working.
    assert_eq!(engine.get_user(tenant, bob).await.unwrap().email, bob_email);
    run(
        &engine,
        tenant,
        invite(UserId::new_v7(), "next@personal.example", ""),
    )
    .await;
    engine.shutdown().await;
}

#[tokio::test]
async fn postgres_sealed_at_rest_and_opened_on_recovery() {
    sealed_at_rest_and_opened_on_recovery(Store::postgres().await).await;
}

#[tokio::test]
async fn sqlite_sealed_at_rest_and_opened_on_recovery() {
    sealed_at_rest_and_opened_on_recovery(Store::sqlite().await).await;
}

#[tokio::test]
async fn postgres_erasure_shreds_and_frees_the_email() {
    erasure_shreds_and_frees_the_email(Store::postgres().await).await;
}

#[tokio::test]
async fn sqlite_erasure_shreds_and_frees_the_email() {
    erasure_shreds_and_frees_the_email(Store::sqlite().await).await;
}

#[tokio::test]
async fn postgres_moved_and_flipped_ciphertexts_are_refused() {
    moved_and_flipped_ciphertexts_are_refused(Store::postgres().await).await;
}

#[tokio::test]
async fn sqlite_moved_and_flipped_ciphertexts_are_refused() {
    moved_and_flipped_ciphertexts_are_refused(Store::sqlite().await).await;
}
