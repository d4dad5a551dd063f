//! Test helpers (feature `test-util`): throwaway journals.
//!
//! [`TestDatabase::create`] makes a fresh, empty PostgreSQL database in the throwaway server
//! whose admin URL is in `ENTITY_TEST_DATABASE_URL` (`scripts/test` starts one and sets it);
//! [`sqlite_journal`] opens a migrated SQLite journal in a directory; [`Intercepted`] puts a
//! test's [`Hooks`] (a slow save, a crash) in front of a journal. Helpers panic with a clear
//! message on failure: they are for tests only.

mod intercepted;

use std::path::Path;

use sqlx::{Connection, PgConnection};
use uuid::Uuid;

pub use intercepted::{Hooks, Intercepted};

use crate::journal::{postgres::PostgresJournal, sqlite::SqliteJournal};

/// Environment variable naming the admin URL of the throwaway PostgreSQL server.
pub const DATABASE_URL_VAR: &str = "ENTITY_TEST_DATABASE_URL";

/// Pool size of [`TestDatabase::journal`].
const TEST_POOL_SIZE: u32 = 16;

/// A uniquely named, initially empty database, dropped (best effort) with this value.
#[derive(Debug)]
pub struct TestDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl TestDatabase {
    /// Creates the database. Panics if `ENTITY_TEST_DATABASE_URL` is unset or the server
    /// refuses.
    pub async fn create() -> TestDatabase {
        let admin_url = std::env::var(DATABASE_URL_VAR).unwrap_or_else(|_| {
            panic!(
                "{DATABASE_URL_VAR} is not set: run the tests with `scripts/test` (it starts a \
                 throwaway PostgreSQL server), or set {DATABASE_URL_VAR} to the admin URL of one, \
                 e.g. postgres://postgres@127.0.0.1:5432/postgres"
            )
        });
        let name = format!("entity_test_{}", Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {DATABASE_URL_VAR}={admin_url}: {e}"));
        sqlx::raw_sql(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
        let _ = admin.close().await;
        let url = with_database(&admin_url, &name);
        TestDatabase {
            admin_url,
            name,
            url,
        }
    }

    /// URL of the test database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A journal connected to the test database, migrated.
    pub async fn journal(&self) -> PostgresJournal {
        let journal = PostgresJournal::connect(&self.url, TEST_POOL_SIZE)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to test database {}: {e}", self.name));
        journal
            .migrate()
            .await
            .unwrap_or_else(|e| panic!("cannot migrate test database {}: {e}", self.name));
        journal
    }
}

impl Drop for TestDatabase {
    /// Drops the database from a background thread, without blocking; if the process exits
    /// first, the server (and the database with it) is thrown away by `scripts/test` anyway.
    fn drop(&mut self) {
        let admin_url = std::mem::take(&mut self.admin_url);
        let name = std::mem::take(&mut self.name);
        let _ = std::thread::Builder::new()
            .name("drop-test-database".into())
            .spawn(move || {
                let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                runtime.block_on(async move {
                    if let Ok(mut admin) = PgConnection::connect(&admin_url).await {
                        let drop = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                        let _ = sqlx::raw_sql(&drop).execute(&mut admin).await;
                        let _ = admin.close().await;
                    }
                });
            });
    }
}

/// A SQLite journal in `dir` (file `journal.db`), opened and migrated.
pub async fn sqlite_journal(dir: &Path) -> SqliteJournal {
    let path = dir.join("journal.db");
    let journal = SqliteJournal::open(&path)
        .await
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    journal
        .migrate()
        .await
        .unwrap_or_else(|e| panic!("cannot migrate {}: {e}", path.display()));
    journal
}

/// `url` with its database (the path) replaced by `database`; the query string is kept.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{database}?{query}"),
        None => format!("{base}/{database}"),
    }
}

/// The state a tenant's journal folds to, personal values opened with this process's
/// [`MasterKeys::ephemeral`](crate::personal::MasterKeys::ephemeral) key (the one
/// `EngineConfig::default()` seals with): the reference the engine's state is compared to.
pub async fn scope_from_journal(
    journal: std::sync::Arc<dyn crate::journal::Journal>,
    tenant: crate::domain::TenantId,
) -> crate::domain::TenantScope {
    use crate::{
        domain::{TenantScope, TenantScopeEvent},
        personal::{MasterKeys, SEALED_SINCE_SCHEMA, Vault},
    };
    let recorded = journal
        .read_tenant(tenant, 0)
        .await
        .unwrap_or_else(|e| panic!("cannot read tenant {tenant}: {e}"));
    let mut events: Vec<(TenantScopeEvent, i32, _)> = recorded
        .into_iter()
        .map(|r| {
            let event = TenantScopeEvent::from_stored(r.stream.kind, r.schema_version, r.payload)
                .unwrap_or_else(|e| panic!("undecodable event at {}: {e}", r.position));
            (event, r.schema_version, r.recorded_at)
        })
        .collect();
    let vault = Vault::new(MasterKeys::ephemeral(), journal);
    let mut sealed: Vec<_> = events
        .iter_mut()
        .filter(|(_, version, _)| *version >= SEALED_SINCE_SCHEMA)
        .map(|(event, _, _)| (tenant, event))
        .collect();
    vault
        .open_events(&mut sealed)
        .await
        .unwrap_or_else(|e| panic!("cannot open personal values: {e}"));
    let mut scope = TenantScope::new(tenant);
    for (event, _, at) in &events {
        scope.apply(event, *at);
    }
    scope
}

/// A snapshot job of `scope` as the runtime makes one (benches): a commit token for every
/// stream of the scope, an empty request window, the data keys of `keys` when sealing.
pub fn snapshot_job(
    scope: &crate::domain::TenantScope,
    keys: Option<&crate::personal::Keyring>,
    last_position: i64,
) -> crate::runtime::SnapshotJob {
    use crate::{
        domain::{StreamId, StreamKind},
        journal::CommitToken,
    };
    let token = CommitToken {
        transaction_id: 1,
        position: last_position,
    };
    let streams = std::iter::once(StreamId::new(StreamKind::Tenant, scope.tenant_id().0))
        .chain(
            scope
                .organizations()
                .map(|o| StreamId::new(StreamKind::Organization, o.id.0)),
        )
        .chain(
            scope
                .teams()
                .map(|t| StreamId::new(StreamKind::Team, t.id.0)),
        )
        .chain(
            scope
                .users()
                .map(|u| StreamId::new(StreamKind::User, u.id.0)),
        )
        .chain(
            scope
                .roles()
                .map(|r| StreamId::new(StreamKind::Role, r.id.0)),
        );
    crate::runtime::SnapshotJob::new(
        scope.clone(),
        Vec::new(),
        streams.map(|s| (s, token)).collect(),
        keys.map(crate::personal::Keyring::sealer),
        last_position,
    )
}

/// Decodes a snapshot as recovery does (values opened with `keys`, indexes rebuilt): the
/// scope, or `None` when recovery would ignore the snapshot.
pub fn decode_snapshot(
    snapshot: &crate::journal::Snapshot,
    tenant: crate::domain::TenantId,
    keys: Option<&crate::personal::Keyring>,
) -> Option<crate::domain::TenantScope> {
    crate::runtime::snapshot::decode(snapshot, tenant, keys).map(|d| d.body.scope)
}

/// A `CreateTenant` command for a Gold business tenant named `name` with a fresh slug, default
/// organization and owner (`owner@<slug>.example.com`).
pub fn create_tenant(id: crate::domain::TenantId, name: &str) -> crate::domain::TenantScopeCommand {
    tenant_command(new_tenant(id, name))
}

/// A `CreateTenant` command for a tenant `Tenant <slug>` on `plan`, owned by
/// `owner@<slug>.example.com`.
pub fn create_tenant_with_slug(
    id: crate::domain::TenantId,
    slug: &str,
    plan: crate::domain::Plan,
) -> crate::domain::TenantScopeCommand {
    let mut create = new_tenant(id, &format!("Tenant {slug}"));
    create.slug = slug.to_owned();
    create.plan = plan;
    create.onboarding.owner_email = format!("owner@{slug}.example.com");
    tenant_command(create)
}

/// The fields of [`create_tenant`]'s command, for a test that changes some (the slug, the plan,
/// the owner) before wrapping them with [`tenant_command`].
pub fn new_tenant(id: crate::domain::TenantId, name: &str) -> crate::domain::CreateTenant {
    use crate::domain::{
        CreateTenant, OnboardingPlan, OrganizationId, Plan, TenantKind, TenantSettings, UserId,
    };
    let slug = format!("t-{}", Uuid::new_v4().simple());
    let owner_email = format!("owner@{slug}.example.com");
    CreateTenant {
        id,
        name: name.into(),
        slug,
        kind: TenantKind::Business,
        plan: Plan::Gold,
        settings: TenantSettings::default(),
        products: vec![],
        business_profile: None,
        onboarding: OnboardingPlan {
            default_organization_id: OrganizationId::new_v7(),
            owner_user_id: UserId::new_v7(),
            owner_email,
            owner_token_hash: None,
        },
        bootstrap_key: None,
        parent: None,
    }
}

/// The command that creates the tenant `create` describes.
pub fn tenant_command(create: crate::domain::CreateTenant) -> crate::domain::TenantScopeCommand {
    use crate::domain::{TenantCommand, TenantScopeCommand};
    TenantScopeCommand::Tenant(TenantCommand::Create(create))
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn replaces_the_database_of_a_url() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            with_database("postgres://u:p@h:1", "t1"),
            "postgres://u:p@h:1/t1"
        );
        assert_eq!(
            with_database("postgres://h/postgres?sslmode=disable", "t1"),
            "postgres://h/t1?sslmode=disable"
        );
    }
}

/// A clock a test moves by hand (grace periods, invitations and key expiries run on it).
#[derive(Debug)]
pub struct ManualClock(std::sync::Mutex<chrono::DateTime<chrono::Utc>>);

impl ManualClock {
    /// A clock at `at`.
    pub fn at(at: chrono::DateTime<chrono::Utc>) -> std::sync::Arc<ManualClock> {
        std::sync::Arc::new(ManualClock(std::sync::Mutex::new(at)))
    }

    /// Sets the time.
    pub fn set(&self, to: chrono::DateTime<chrono::Utc>) {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = to;
    }

    /// Moves the time on by `by`.
    pub fn advance(&self, by: chrono::Duration) {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) += by;
    }
}

impl crate::runtime::Clock for ManualClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
