//! Personal data at rest (SPEC §6), scanned the way `secrets_at_rest.rs` scans for tokens:
//! every row of every table of both stores, column by column as bytes, and on SQLite the
//! database files raw.
//!
//! People are created over gRPC with canary emails and names (the owner, invitees, a display
//! name set on acceptance and one by a profile update, a deactivation's requester). While the
//! node runs, no canary may be in the journal, the snapshots, the unique claims, the timers or
//! the key tables — only in the read models, which prove the scan sees them. After EraseUser
//! and EraseTenant, and a rebuild of every projection, no canary may be anywhere. A canary
//! planted in a table of its own proves the scan finds what is there.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

#[path = "support/dump.rs"]
mod dump;
#[path = "support/grpc.rs"]
mod grpc_support;

use std::{path::Path, time::Duration};

use dump::{Dump, contains, postgres_dump, raw_files, sqlite_dump, sqlite_store, tables_holding};
use engine::{runtime::EngineConfig, testing::TestDatabase};
use entity_proto::v1 as pb;
use gateway::{AuthMode, Node, NodeOptions, Storage};
use grpc_support::{Clients, create_tenant_request};
use prost_types::FieldMask;
use sqlx::{Connection, PgConnection, SqliteConnection};

/// Tables that are read models: they may hold a person's values until the person is erased.
const READ_MODELS: &[&str] = &[
    "users",
    "user_organizations",
    "tenant_directory",
    "organizations",
    "teams",
    "team_members",
    "role_assignments",
    "analytics_changes",
    "analytics_entities",
    "projection_checkpoints",
];

/// The canaries of one run: each must never be at rest outside the read models.
struct Canaries {
    values: Vec<String>,
}

impl Canaries {
    fn new() -> Self {
        let tag = &uuid::Uuid::new_v4().simple().to_string()[..10];
        let values = [
            format!("owner.{tag}@canary.example"),
            format!("ada.{tag}@canary.example"),
            format!("bob.{tag}@canary.example"),
            format!("Ada Invited {tag}"),
            format!("Bob Invited {tag}"),
            format!("Ada Accepted {tag}"),
            format!("Bob Renamed {tag}"),
            format!("Requester {tag}"),
        ];
        Self {
            values: values.into(),
        }
    }

    fn get(&self, i: usize) -> String {
        self.values[i].clone()
    }

    /// Every form a value could take at rest: as given and lower-cased (the folded columns).
    fn forms(&self) -> Vec<(String, Vec<u8>)> {
        let mut forms = Vec::new();
        for v in &self.values {
            forms.push((v.clone(), v.as_bytes().to_vec()));
            let lower = v.to_lowercase();
            if lower != *v {
                forms.push((format!("{v} (lower-cased)"), lower.into_bytes()));
            }
        }
        forms
    }
}

/// `(canary, table)` for every canary form found in a table outside `allowed`.
fn found_in(dump: &Dump, canaries: &Canaries, allowed: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for (form, needle) in canaries.forms() {
        for table in tables_holding(dump, &needle) {
            if !allowed.contains(&table.as_str()) {
                found.push(format!("{form} in table {table}"));
            }
        }
    }
    found
}

/// The node of a run, with its clients.
struct Running {
    server: gateway::RunningServer,
    projections: std::sync::Arc<gateway::projection_host::ProjectionHost>,
    clients: Clients,
}

async fn start(storage: &Storage) -> Running {
    let options = NodeOptions {
        engine: EngineConfig {
            snapshot_every: 1,
            ..EngineConfig::default()
        },
        ..NodeOptions::default()
    };
    let node = Node::start(storage, options).await.expect("node starts");
    let projections = node.projections();
    let addr = "127.0.0.1:0".parse().unwrap();
    let server = gateway::spawn_server(node, AuthMode::DevIdentity, addr)
        .await
        .expect("server starts");
    let clients = Clients::connect(&server.endpoint()).await;
    Running {
        server,
        projections,
        clients,
    }
}

impl Running {
    async fn caught_up(&self) {
        self.projections
            .handle()
            .expect("a single node runs its projections")
            .wait_caught_up(Duration::from_secs(30))
            .await
            .expect("read models catch up");
    }
}

/// The people of the run, created over gRPC. Returns (tenant id, ada's id, bob's id).
async fn create_people(c: &mut Clients, canaries: &Canaries) -> (String, String, String) {
    let mut create = create_tenant_request("Canary Corp", pb::Plan::Gold);
    create.owner_email = canaries.get(0);
    let created = c.tenants.create_tenant(create).await.unwrap().into_inner();
    let tenant = created.tenant.unwrap().id;
    let invite = |email: String, name: String| pb::InviteUserRequest {
        tenant_id: tenant.clone(),
        email,
        display_name: name,
        ..Default::default()
    };
    let ada = c
        .users
        .invite_user(invite(canaries.get(1), canaries.get(3)))
        .await
        .unwrap()
        .into_inner();
    let bob = c
        .users
        .invite_user(invite(canaries.get(2), canaries.get(4)))
        .await
        .unwrap()
        .into_inner();
    let ada_id = ada.user.unwrap().id;
    let bob_id = bob.user.unwrap().id;
    c.users
        .accept_invitation(pb::AcceptInvitationRequest {
            tenant_id: tenant.clone(),
            token: ada.invitation_token,
            display_name: Some(canaries.get(5)),
            ..Default::default()
        })
        .await
        .unwrap();
    c.users
        .update_user_profile(pb::UpdateUserProfileRequest {
            tenant_id: tenant.clone(),
            user_id: bob_id.clone(),
            user: Some(pb::UserProfileUpdate {
                display_name: canaries.get(6),
            }),
            update_mask: Some(FieldMask {
                paths: vec!["display_name".into()],
            }),
            ..Default::default()
        })
        .await
        .unwrap();
    (tenant, ada_id, bob_id)
}

/// Erases Ada, then deactivates (with a requester), deletes and erases the whole tenant.
async fn erase_everyone(c: &mut Clients, canaries: &Canaries, tenant: &str, ada: &str) {
    let erased = c
        .users
        .erase_user(pb::EraseUserRequest {
            tenant_id: tenant.to_owned(),
            user_id: ada.to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert_eq!(erased.status, pb::UserStatus::Erased as i32);
    assert!(erased.email.is_empty() && erased.display_name.is_empty());
    let ends = chrono::Utc::now() + chrono::Duration::days(30);
    c.tenants
        .deactivate_tenant(pb::DeactivateTenantRequest {
            tenant_id: tenant.to_owned(),
            grace_period_ends_at: Some(prost_types::Timestamp {
                seconds: ends.timestamp(),
                nanos: 0,
            }),
            feedback: Some(pb::DeactivationFeedback {
                reason_code: "too_expensive".into(),
                requested_by: canaries.get(7),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap();
    c.tenants
        .delete_tenant(pb::DeleteTenantRequest {
            tenant_id: tenant.to_owned(),
            ..Default::default()
        })
        .await
        .unwrap();
    c.tenants
        .erase_tenant(pb::EraseTenantRequest {
            tenant_id: tenant.to_owned(),
            ..Default::default()
        })
        .await
        .unwrap();
}

/// Rebuilds every projection from zero and waits for them: nothing erased comes back, and no
/// projection fails on an event whose key is gone.
async fn rebuild_all(run: &Running) {
    let handle = run.projections.handle().expect("projections run here");
    for name in handle.names() {
        run.projections.rebuild(&name).await.unwrap();
    }
    run.caught_up().await;
    for status in handle.status().await {
        assert_eq!(status.consecutive_failures, 0, "{status:?}");
        assert!(status.last_error.is_none(), "{status:?}");
    }
}

/// Checks the scan while the node runs: sealed everywhere but the read models, which prove
/// that the scan sees the values.
fn assert_sealed_outside_read_models(dump: &Dump, canaries: &Canaries) {
    for table in [
        "events",
        "snapshots",
        "unique_keys",
        "timers",
        "personal_keys",
        "master_keys",
        "users",
    ] {
        assert!(dump.contains_key(table), "the scan covers {table}");
    }
    assert!(!dump["snapshots"].is_empty(), "snapshots were saved");
    assert!(!dump["personal_keys"].is_empty(), "keys were stored");
    // The current values (the invited names were replaced on acceptance and by the update).
    for i in [0, 1, 2, 5, 6] {
        let value = canaries.get(i);
        assert_eq!(
            tables_holding(dump, value.as_bytes()),
            ["analytics_changes", "analytics_entities", "users"],
            "the scan finds {value} in the read models holding people (users, the analytics \
             history), and only there"
        );
    }
    let leaks = found_in(dump, canaries, READ_MODELS);
    assert!(
        leaks.is_empty(),
        "personal data at rest outside the read models:\n{}",
        leaks.join("\n")
    );
}

fn assert_nothing_left(dump: &Dump, canaries: &Canaries) {
    let leaks = found_in(dump, canaries, &[]);
    assert!(
        leaks.is_empty(),
        "personal data left after erasure:\n{}",
        leaks.join("\n")
    );
    let users = &dump["users"];
    assert!(users.len() >= 3, "the erased users are still listed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_personal_data_is_sealed_and_erased() {
    let db = TestDatabase::create().await;
    let storage = Storage::Postgres(db.journal().await);
    let canaries = Canaries::new();
    let mut run = start(&storage).await;
    let (tenant, ada, _bob) = create_people(&mut run.clients, &canaries).await;
    run.caught_up().await;
    let mut conn = PgConnection::connect(db.url()).await.unwrap();
    assert_sealed_outside_read_models(&postgres_dump(&mut conn).await, &canaries);

    erase_everyone(&mut run.clients, &canaries, &tenant, &ada).await;
    run.caught_up().await;
    let dump = postgres_dump(&mut conn).await;
    assert!(found_in(&dump, &canaries, &[]).is_empty(), "erased at once");
    rebuild_all(&run).await;
    run.server.shutdown().await.expect("graceful stop");
    assert_nothing_left(&postgres_dump(&mut conn).await, &canaries);

    let planted = canaries.get(1);
    sqlx::raw_sql("CREATE TABLE personal_canary (t TEXT)")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query("INSERT INTO personal_canary VALUES ($1)")
        .bind(&planted)
        .execute(&mut conn)
        .await
        .unwrap();
    let dump = postgres_dump(&mut conn).await;
    assert_eq!(
        tables_holding(&dump, planted.as_bytes()),
        vec!["personal_canary".to_owned()],
        "the scan finds a planted canary"
    );
    let _ = conn.close().await;
}

/// Every (canary, file) found in the raw files of `dir`.
fn raw_leaks(dir: &Path, canaries: &Canaries) -> Vec<String> {
    let mut found = Vec::new();
    for (file, bytes) in raw_files(dir) {
        for (form, needle) in canaries.forms() {
            if contains(&bytes, &needle) {
                found.push(format!("{form} in file {file}"));
            }
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_personal_data_is_sealed_and_erased() {
    let dir = tempfile::tempdir().unwrap();
    let journal = engine::testing::sqlite_journal(dir.path()).await;
    let storage = Storage::Sqlite(journal);
    let canaries = Canaries::new();
    let mut run = start(&storage).await;
    let (tenant, ada, _bob) = create_people(&mut run.clients, &canaries).await;
    run.caught_up().await;
    let url = format!("sqlite://{}", dir.path().join("journal.db").display());
    let mut conn = sqlite_store(dir.path()).await;
    assert_sealed_outside_read_models(&sqlite_dump(&mut conn).await, &canaries);
    let _ = conn.close().await;

    erase_everyone(&mut run.clients, &canaries, &tenant, &ada).await;
    rebuild_all(&run).await;
    run.server.shutdown().await.expect("graceful stop");
    drop(storage);
    let mut conn = sqlite_store(dir.path()).await;
    assert_nothing_left(&sqlite_dump(&mut conn).await, &canaries);
    let _ = conn.close().await;
    // The files themselves: no deleted row's bytes linger in free pages or the WAL.
    let leaks = raw_leaks(dir.path(), &canaries);
    assert!(
        leaks.is_empty(),
        "personal data on disk after erasure:\n{}",
        leaks.join("\n")
    );

    let planted = canaries.get(1);
    let mut conn = SqliteConnection::connect(&url).await.unwrap();
    sqlx::raw_sql("CREATE TABLE personal_canary (t TEXT)")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query("INSERT INTO personal_canary VALUES (?1)")
        .bind(&planted)
        .execute(&mut conn)
        .await
        .unwrap();
    let _ = conn.close().await;
    assert!(
        !raw_leaks(dir.path(), &canaries).is_empty(),
        "the raw scan finds a planted canary"
    );
}
