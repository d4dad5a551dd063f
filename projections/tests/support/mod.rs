//! Shared helpers of the projection tests: stores, engine commands, a random workload, the
//! read models recomputed from the journal, and table dumps.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod expected;
pub mod kafka;
pub mod recording;
pub mod workload;

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use engine::{
    domain::{
        Assignment, OrganizationCommand, OrganizationId, Plan, Scope, SecretHash, TenantId,
        TenantScopeCommand, UserCommand, UserId,
    },
    journal::{
        Journal, RecordedEvent, postgres::PostgresJournal, sqlite::SqliteJournal, tail::JournalTail,
    },
    personal::{MasterKeys, Vault},
    runtime::{CommandOutcome, Engine, EngineConfig, RequestMeta},
    testing::TestDatabase,
};
use projections::{
    Envelope, ProjectionHandle, ProjectionService, ReadModels, ReadStore, RunnerConfig,
    standard_projections,
};
use sqlx::Row;

/// A journal of either backend, with what the tests need of it.
#[derive(Clone)]
pub struct Store {
    pub journal: Arc<dyn Journal>,
    pub tail: Arc<dyn JournalTail>,
    pub read: ReadStore,
    /// Opens personal values: this process's ephemeral master key, the one
    /// `EngineConfig::default()` uses, so it opens what an engine of the tests sealed.
    pub vault: Arc<Vault>,
}

fn vault_of(journal: Arc<dyn Journal>) -> Arc<Vault> {
    Arc::new(Vault::new(MasterKeys::ephemeral(), journal))
}

/// A fresh PostgreSQL database (keep the guard alive for the test).
pub async fn postgres() -> (TestDatabase, Arc<PostgresJournal>, Store) {
    let db = TestDatabase::create().await;
    let journal = Arc::new(db.journal().await);
    let store = Store {
        journal: journal.clone(),
        tail: journal.clone(),
        read: ReadStore::postgres(&journal),
        vault: vault_of(journal.clone()),
    };
    (db, journal, store)
}

/// A fresh SQLite file in `dir`.
pub async fn sqlite(dir: &std::path::Path) -> (Arc<SqliteJournal>, Store) {
    let journal = Arc::new(engine::testing::sqlite_journal(dir).await);
    let store = Store {
        journal: journal.clone(),
        tail: journal.clone(),
        read: ReadStore::sqlite(&journal),
        vault: vault_of(journal.clone()),
    };
    (journal, store)
}

pub async fn start_engine(store: &Store) -> Engine {
    Engine::start(store.journal.clone(), EngineConfig::default())
        .await
        .unwrap()
}

pub async fn start_projections(store: &Store) -> ProjectionService {
    ProjectionService::start(
        store.read.clone(),
        store.tail.clone(),
        store.vault.clone(),
        standard_projections(),
        RunnerConfig::default(),
    )
    .await
    .unwrap()
}

pub fn read_models(store: &Store, handle: &ProjectionHandle) -> ReadModels {
    ReadModels::new(store.read.clone()).with_projections(handle.clone())
}

pub fn meta() -> RequestMeta {
    RequestMeta::default()
}

pub use engine::testing::create_tenant_with_slug as create_tenant;

pub fn create_org(
    id: OrganizationId,
    name: &str,
    parent: Option<OrganizationId>,
) -> TenantScopeCommand {
    TenantScopeCommand::Organization(OrganizationCommand::Create {
        id,
        name: name.to_owned(),
        description: String::new(),
        parent_id: parent,
    })
}

pub fn invite(
    id: UserId,
    email: &str,
    org: Option<OrganizationId>,
    token_hash: &SecretHash,
) -> TenantScopeCommand {
    TenantScopeCommand::User(UserCommand::Invite {
        id,
        email: email.to_owned(),
        display_name: format!("Name of {email}"),
        roles: org
            .map(|o| Assignment {
                role: "member".into(),
                scope: Scope::Organization(o),
            })
            .into_iter()
            .collect(),
        organization_id: org,
        expires_in_days: 7,
        token_hash: *token_hash,
    })
}

pub fn unique_slug(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// Creates a gold tenant; returns its id and the creation outcome.
pub async fn new_tenant(engine: &Engine) -> (TenantId, CommandOutcome) {
    let tenant = TenantId::new_v7();
    let outcome = engine
        .execute(
            tenant,
            create_tenant(tenant, &unique_slug("t"), Plan::Gold),
            meta(),
        )
        .await
        .unwrap();
    (tenant, outcome)
}

/// Every committed event, in tail order.
pub async fn all_events(tail: &dyn JournalTail) -> Vec<RecordedEvent> {
    let mut out = Vec::new();
    let mut after = engine::journal::CommitToken {
        transaction_id: 0,
        position: 0,
    };
    loop {
        let batch = tail.read_committed(after, 5_000).await.unwrap();
        let Some(last) = batch.last() else {
            return out;
        };
        after = engine::journal::CommitToken {
            transaction_id: last.transaction_id,
            position: last.position,
        };
        out.extend(batch);
    }
}

/// Every committed event, in tail order, with personal values opened as the runner opens them
/// (plaintext, or "" once erased): what the read models and the Kafka publisher see.
pub async fn opened_events(store: &Store) -> Vec<RecordedEvent> {
    let events = all_events(store.tail.as_ref()).await;
    let mut envelopes: Vec<Envelope> = events
        .into_iter()
        .map(|e| Envelope::decode(e).unwrap())
        .collect();
    Envelope::open_personal(&mut envelopes, &store.vault)
        .await
        .unwrap();
    envelopes.into_iter().map(|e| e.recorded).collect()
}

/// Waits (up to 60 s) until every projection has passed everything committed now.
pub async fn caught_up(handle: &ProjectionHandle) {
    handle
        .wait_caught_up(Duration::from_secs(60))
        .await
        .unwrap();
}

/// The read-model tables, one sorted list of rendered rows per table.
pub type Dump = BTreeMap<&'static str, Vec<String>>;

pub const TABLES: [&str; 13] = [
    "tenant_directory",
    "organizations",
    "teams",
    "team_members",
    "users",
    "user_organizations",
    "role_assignments",
    "clients",
    "records",
    "analytics_changes",
    "analytics_entities",
    "audit_entries",
    "projection_checkpoints",
];

/// Renders every row of the read-model tables (checkpoint `updated_at` excluded).
pub async fn dump(store: &ReadStore) -> Dump {
    let mut out = Dump::new();
    for table in TABLES
        .into_iter()
        .filter(|t| *t != "projection_checkpoints")
    {
        let rows = match store {
            ReadStore::Postgres { pool, .. } => {
                let sql = format!("SELECT t::text AS r FROM {table} AS t ORDER BY 1");
                sqlx::query(&sql)
                    .fetch_all(pool)
                    .await
                    .unwrap()
                    .iter()
                    .map(|row| row.get::<String, _>("r"))
                    .collect()
            }
            ReadStore::Sqlite { pool, .. } => {
                let sql = format!("SELECT * FROM {table}");
                let mut rendered: Vec<String> = sqlx::query(&sql)
                    .fetch_all(pool)
                    .await
                    .unwrap()
                    .iter()
                    .map(|row| {
                        (0..row.len())
                            .map(|i| {
                                if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
                                    format!("{v:?}")
                                } else {
                                    format!("{:?}", row.get::<Option<String>, _>(i))
                                }
                            })
                            .collect::<Vec<_>>()
                            .join("|")
                    })
                    .collect();
                rendered.sort();
                rendered
            }
        };
        out.insert(table, rows);
    }
    out
}
