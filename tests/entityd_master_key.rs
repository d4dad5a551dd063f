//! The master key of personal data in the real `entityd` binary (issue 13, SPEC §6): `serve`
//! refuses to start without a key, with a malformed one, or with a key that does not protect
//! its store (exit code 2, before it writes anything); the embedded mode makes its key at the
//! first start and keeps it; `entityd keys generate` writes a private key file and never
//! overwrites one; `entityd keys rotate-master` re-wraps every data key while a node serves
//! under load, loses nothing, and retires the old key. Needs `ENTITY_TEST_DATABASE_URL`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

#[path = "support/grpc.rs"]
mod grpc_support;

use std::{
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
};

use engine::{personal::MasterKey, testing::TestDatabase};
use entity_proto::v1 as pb;
use grpc_support::{
    Clients, Entityd, TEST_HS256_SECRET, bearer, claims, create_tenant_request, hs256_token,
    serve_args,
};

/// How long a refused start may take.
const REFUSAL_WITHIN: Duration = Duration::from_secs(60);

/// A test database (migrated, so that "nothing written" is a row count), the HS256 secret of
/// the nodes and a platform-admin token.
struct Setup {
    db: TestDatabase,
    pool: sqlx::PgPool,
    dir: tempfile::TempDir,
    secret: PathBuf,
    admin: String,
}

impl Setup {
    async fn new() -> Setup {
        let db = TestDatabase::create().await;
        let pool = db.journal().await.pool().clone();
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("hs256.secret");
        std::fs::write(&secret, TEST_HS256_SECRET).unwrap();
        let admin = hs256_token(&claims("master-key-test", None));
        Setup {
            db,
            pool,
            dir,
            secret,
            admin,
        }
    }

    /// A new master key file in the test's directory.
    fn key(&self, name: &str) -> (PathBuf, MasterKey) {
        let path = self.dir.path().join(name);
        let key = MasterKey::create_file(&path).unwrap();
        (path, key)
    }

    /// `entityd serve` on the test database, then `extra`.
    fn serve_args(&self, extra: &[&str]) -> Vec<String> {
        let mut args = serve_args(self.db.url(), self.secret.to_str().unwrap());
        args.extend(["--max-db-connections", "8"]);
        args.extend(extra);
        args.into_iter().map(str::to_owned).collect()
    }

    /// A serving node with `extra` arguments (which name its master key).
    async fn node(&self, extra: &[&str]) -> (Entityd, Clients) {
        let args = self.serve_args(extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let node = Entityd::start(&args).await;
        let clients = Clients::connect(&node.endpoint()).await;
        (node, clients)
    }

    async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    /// Waits until cluster node `owner` holds every shard (it serves none before).
    async fn holds_every_shard(&self, owner: &str) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let held: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM shard_leases WHERE owner = $1 AND expires_at > now()",
            )
            .bind(owner)
            .fetch_one(&self.pool)
            .await
            .unwrap();
            if held == 256 {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{owner} holds {held} shards"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Every master key id the store knows, with whether it is retired.
    async fn master_keys(&self) -> Vec<(String, bool)> {
        sqlx::query_as("SELECT id, retired_at IS NOT NULL FROM master_keys ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .unwrap()
    }

    /// What the store holds that a node writes: events, cluster rows, master keys.
    async fn written(&self) -> [i64; 5] {
        [
            self.count("events").await,
            self.count("cluster_nodes").await,
            self.count("shard_leases").await,
            self.count("master_keys").await,
            self.count("personal_keys").await,
        ]
    }
}

/// Runs `entityd args` to its end (it must not start serving) and returns its exit code and
/// stderr. The environment's master-key settings are not inherited.
async fn refused(args: &[String]) -> (Option<i32>, String) {
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_entityd"))
        .args(args)
        .env("ENTITYD_LOG", "warn")
        .env_remove("ENTITYD_MASTER_KEY_FILE")
        .env_remove("ENTITYD_PREVIOUS_MASTER_KEY_FILE")
        .env_remove("ENTITYD_CONFIG")
        .env(
            "ENTITYD_CLUSTER_COOKIE",
            grpc_support::test_cluster_cookie(),
        )
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(REFUSAL_WITHIN, child)
        .await
        .expect("entityd exits")
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !stdout.contains("entityd listening on"),
        "it must not serve: {stdout}"
    );
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs `entityd args` to its end and returns its exit code, stdout and stderr.
async fn run_entityd(args: &[String]) -> (Option<i32>, String, String) {
    let out = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::process::Command::new(env!("CARGO_BIN_EXE_entityd"))
            .args(args)
            .env("ENTITYD_LOG", "warn")
            .env_remove("ENTITYD_MASTER_KEY_FILE")
            .env_remove("ENTITYD_PREVIOUS_MASTER_KEY_FILE")
            .env_remove("ENTITYD_CONFIG")
            .env_remove("ENTITYD_DATABASE_URL")
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("entityd exits")
    .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| (*s).to_owned()).collect()
}

/// Creates a gold tenant as `token` and returns its id.
async fn tenant(c: &mut Clients, token: &str) -> String {
    c.tenants
        .create_tenant(bearer(create_tenant_request("Acme", pb::Plan::Gold), token))
        .await
        .expect("create tenant")
        .into_inner()
        .tenant
        .unwrap()
        .id
}

/// Invites `email` into `tenant` as `token` (`None`: no token, the dev identity).
async fn invite(
    c: &mut Clients,
    token: Option<&str>,
    tenant: &str,
    email: &str,
) -> Result<String, tonic::Status> {
    let request = pb::InviteUserRequest {
        tenant_id: tenant.to_owned(),
        email: email.to_owned(),
        ..Default::default()
    };
    let request = match token {
        Some(token) => bearer(request, token),
        None => tonic::Request::new(request),
    };
    Ok(c.users
        .invite_user(request)
        .await?
        .into_inner()
        .user
        .unwrap()
        .id)
}

/// The email GetUser answers for a user.
async fn email_of(c: &mut Clients, token: Option<&str>, tenant: &str, user: &str) -> String {
    let request = pb::GetUserRequest {
        tenant_id: tenant.to_owned(),
        user_id: user.to_owned(),
        ..Default::default()
    };
    let request = match token {
        Some(token) => bearer(request, token),
        None => tonic::Request::new(request),
    };
    c.users
        .get_user(request)
        .await
        .unwrap_or_else(|s| panic!("get user {user}: {s:?}"))
        .into_inner()
        .email
}

#[tokio::test]
async fn serve_without_a_master_key_exits_2_and_writes_nothing() {
    let s = Setup::new().await;
    let (code, stderr) = refused(&s.serve_args(&[])).await;
    assert_eq!(code, Some(2), "{stderr}");
    for needle in [
        "--master-key-file",
        "ENTITYD_MASTER_KEY_FILE",
        "entityd keys generate --out",
    ] {
        assert!(stderr.contains(needle), "{needle}: {stderr}");
    }
    // Also as a cluster node: it does not register or take leases.
    let (code, stderr) = refused(&s.serve_args(&["--node-id", "keyless"])).await;
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(s.written().await, [0; 5]);
}

#[tokio::test]
async fn a_malformed_or_unreadable_key_file_exits_2() {
    let s = Setup::new().await;
    let malformed = s.dir.path().join("malformed.key");
    std::fs::write(&malformed, "not a key\n").unwrap();
    let short = s.dir.path().join("short.key");
    std::fs::write(&short, "0123456789abcdef\n").unwrap();
    let absent = s.dir.path().join("absent.key");
    for (file, needle) in [
        (&malformed, "64 hex digits"),
        (&short, "64 hex digits"),
        (&absent, "cannot read"),
    ] {
        let file = file.to_str().unwrap();
        let (code, stderr) = refused(&s.serve_args(&["--master-key-file", file])).await;
        assert_eq!(code, Some(2), "{file}: {stderr}");
        assert!(
            stderr.contains(needle) && stderr.contains(file),
            "{file}: {stderr}"
        );
    }
    // A good current key with a bad previous one is refused too.
    let (good, _) = s.key("good.key");
    let (code, stderr) = refused(&s.serve_args(&[
        "--master-key-file",
        good.to_str().unwrap(),
        "--previous-master-key-file",
        malformed.to_str().unwrap(),
    ]))
    .await;
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(s.written().await, [0; 5]);
}

#[tokio::test]
async fn serve_refuses_a_key_that_does_not_protect_its_store_before_writing() {
    let s = Setup::new().await;
    let (a_file, a) = s.key("a.key");
    let (b_file, b) = s.key("b.key");
    let a_arg = a_file.to_str().unwrap();
    let (node, mut c) = s
        .node(&["--master-key-file", a_arg, "--node-id", "node-a"])
        .await;
    s.holds_every_shard("node-a").await;
    let t = tenant(&mut c, &s.admin).await;
    let user = invite(&mut c, Some(&s.admin), &t, "ann@a.example")
        .await
        .unwrap();
    assert_eq!(s.master_keys().await, [(a.id().to_owned(), false)]);
    // node-a keeps serving while node-b tries to join with the wrong key.
    let before = s.written().await;

    let (code, stderr) = refused(&s.serve_args(&[
        "--master-key-file",
        b_file.to_str().unwrap(),
        "--node-id",
        "node-b",
    ]))
    .await;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(b.id()) && stderr.contains(a.id()) && stderr.contains("--master-key-file"),
        "{stderr}"
    );
    assert_eq!(s.written().await, before, "nothing written");
    let nodes: Vec<String> = sqlx::query_scalar("SELECT node_id FROM cluster_nodes")
        .fetch_all(&s.pool)
        .await
        .unwrap();
    assert_eq!(nodes, ["node-a"], "node-b never registered");
    assert!(node.terminate(Duration::from_secs(30)).await.success());
    let owners: Vec<String> = sqlx::query_scalar("SELECT DISTINCT owner FROM shard_leases")
        .fetch_all(&s.pool)
        .await
        .unwrap();
    assert!(!owners.contains(&"node-b".to_owned()), "{owners:?}");

    // The right key still reads everything.
    let (node, mut c) = s
        .node(&["--master-key-file", a_arg, "--node-id", "node-a"])
        .await;
    s.holds_every_shard("node-a").await;
    assert_eq!(
        email_of(&mut c, Some(&s.admin), &t, &user).await,
        "ann@a.example"
    );
    node.kill9().await;
}

#[tokio::test]
async fn the_embedded_mode_makes_its_master_key_once_and_keeps_it() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("master.key");
    let node = Entityd::embedded(dir.path()).await;
    assert!(key_file.exists(), "created at the first start");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let key = std::fs::read(&key_file).unwrap();
    assert!(MasterKey::load(&key_file).is_ok());
    let mut c = Clients::connect(&node.endpoint()).await;
    let t = c
        .tenants
        .create_tenant(create_tenant_request("Acme", pb::Plan::Gold))
        .await
        .unwrap()
        .into_inner()
        .tenant
        .unwrap()
        .id;
    let user = invite(&mut c, None, &t, "bea@embedded.example")
        .await
        .unwrap();
    assert!(node.terminate(Duration::from_secs(30)).await.success());

    let node = Entityd::embedded(dir.path()).await;
    assert_eq!(
        std::fs::read(&key_file).unwrap(),
        key,
        "reused, not replaced"
    );
    let mut c = Clients::connect(&node.endpoint()).await;
    assert_eq!(
        email_of(&mut c, None, &t, &user).await,
        "bea@embedded.example"
    );
    assert!(node.terminate(Duration::from_secs(30)).await.success());

    // Another key is refused; a lost key is not silently replaced by a new one.
    let data_dir = dir.path().to_str().unwrap();
    let other = tempfile::tempdir().unwrap();
    let other_key = other.path().join("other.key");
    MasterKey::create_file(&other_key).unwrap();
    let embedded = |extra: &[&str]| {
        let mut args = strings(&["--dev-identity", "--data-dir", data_dir, "--listen"]);
        args.push("127.0.0.1:0".to_owned());
        args.extend(strings(extra));
        args
    };
    let (code, stderr) = refused(&embedded(&[
        "--master-key-file",
        other_key.to_str().unwrap(),
    ]))
    .await;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("not the key"), "{stderr}");
    let moved = other.path().join("master.key.bak");
    std::fs::rename(&key_file, &moved).unwrap();
    let (code, stderr) = refused(&embedded(&[])).await;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("missing"), "{stderr}");
    assert!(!key_file.exists(), "no new key made for a store in use");
}

#[tokio::test]
async fn keys_generate_writes_a_private_key_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("new.key");
    let args = strings(&["keys", "generate", "--out", out.to_str().unwrap()]);
    let (code, stdout, stderr) = run_entityd(&args).await;
    assert_eq!(code, Some(0), "{stderr}");
    let key = MasterKey::load(&out).unwrap();
    assert!(stdout.contains(&format!("id: {}", key.id())), "{stdout}");
    let hex = std::fs::read_to_string(&out).unwrap();
    assert!(
        !stdout.contains(hex.trim()) && !stderr.contains(hex.trim()),
        "the key is never printed"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let (code, _, stderr) = run_entityd(&args).await;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("never overwritten"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), hex);
}

/// What a load task saw: every acknowledged (tenant, user id, email), and every failure.
type Load = (Vec<(String, String, String)>, Vec<tonic::Status>);

/// Keeps inviting users into each of `tenants` (one caller each) until `stop`, counting
/// acknowledged invites in `acks`.
fn spawn_load(
    c: &Clients,
    token: &str,
    tenants: &[&str],
    stop: &Arc<AtomicBool>,
    acks: &Arc<AtomicUsize>,
) -> Vec<tokio::task::JoinHandle<Load>> {
    tenants
        .iter()
        .enumerate()
        .map(|(worker, tenant)| {
            let mut c = c.clone();
            let token = token.to_owned();
            let tenant = (*tenant).to_owned();
            let stop = stop.clone();
            let acks = acks.clone();
            tokio::spawn(async move {
                let mut acknowledged = Vec::new();
                let mut failures = Vec::new();
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let email = format!("load-{worker}-{n}@rotation.example");
                    match invite(&mut c, Some(&token), &tenant, &email).await {
                        Ok(id) => {
                            acks.fetch_add(1, Ordering::Relaxed);
                            acknowledged.push((tenant.clone(), id, email));
                        }
                        Err(status) => failures.push(status),
                    }
                }
                (acknowledged, failures)
            })
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rotating_the_master_key_under_load_loses_nothing() {
    let s = Setup::new().await;
    let (old_file, old) = s.key("old.key");
    let (new_file, new) = s.key("new.key");
    let old_arg = old_file.to_str().unwrap();
    let new_arg = new_file.to_str().unwrap();

    // Data under OLD.
    let (node, mut c) = s.node(&["--master-key-file", old_arg]).await;
    let tenants = [
        tenant(&mut c, &s.admin).await,
        tenant(&mut c, &s.admin).await,
    ];
    let mut users: Vec<(String, String, String)> = Vec::new();
    for i in 0..30 {
        let t = &tenants[i % 2];
        let email = format!("before-{i}@rotation.example");
        let id = invite(&mut c, Some(&s.admin), t, &email).await.unwrap();
        users.push((t.clone(), id, email));
    }
    assert!(node.terminate(Duration::from_secs(30)).await.success());

    // Step 2: the node holds NEW (current) and OLD (previous).
    let (node, mut c) = s
        .node(&[
            "--master-key-file",
            new_arg,
            "--previous-master-key-file",
            old_arg,
        ])
        .await;
    let (t0, u0, e0) = &users[0];
    assert_eq!(&email_of(&mut c, Some(&s.admin), t0, u0).await, e0);
    let stop = Arc::new(AtomicBool::new(false));
    let (t1, t2) = (tenants[0].as_str(), tenants[1].as_str());
    let acks = Arc::new(AtomicUsize::new(0));
    let load = spawn_load(&c, &s.admin, &[t1, t1, t1, t2], &stop, &acks);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let acked_before = acks.load(Ordering::Relaxed);

    // Step 3: the rotation, as its own process, while the load runs.
    let (code, stdout, stderr) = run_entityd(&strings(&[
        "keys",
        "rotate-master",
        "--database-url",
        s.db.url(),
        "--master-key-file",
        old_arg,
        "--new-key-file",
        new_arg,
    ]))
    .await;
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let acked_during = acks.load(Ordering::Relaxed) - acked_before;
    assert!(
        acked_during > 0,
        "invites were acknowledged while the rotation ran"
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.store(true, Ordering::Relaxed);
    let mut failures = Vec::new();
    let mut during = 0;
    for task in load {
        let (acknowledged, failed) = task.await.unwrap();
        during += acknowledged.len();
        failures.extend(failed);
        users.extend(acknowledged);
    }
    assert!(failures.is_empty(), "invites failed: {failures:?}");
    assert!(during >= 4, "the load ran: {during} invites");
    eprintln!("{during} invites under load, {acked_during} of them while rotate-master ran");
    let rewrapped: u64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("keys re-wrapped: "))
        .unwrap_or_else(|| panic!("{stdout}"))
        .trim()
        .parse()
        .unwrap();
    assert!(rewrapped >= 30, "every key made under OLD: {stdout}");
    assert!(
        stdout.contains(&format!("retired master keys: {}", old.id()))
            && stdout.contains("--master-key-file")
            && stdout.contains(new_arg),
        "{stdout}"
    );
    let under_old: i64 =
        sqlx::query_scalar("SELECT count(*) FROM personal_keys WHERE master_key_id = $1")
            .bind(old.id())
            .fetch_one(&s.pool)
            .await
            .unwrap();
    assert_eq!(under_old, 0, "nothing is left wrapped by OLD");
    node.kill9().await;

    // Step 4: NEW only reads every acknowledged user.
    let mut expected = vec![(old.id().to_owned(), true), (new.id().to_owned(), false)];
    expected.sort();
    assert_eq!(s.master_keys().await, expected);
    let (node, mut c) = s.node(&["--master-key-file", new_arg]).await;
    for (tenant, user, email) in &users {
        assert_eq!(
            &email_of(&mut c, Some(&s.admin), tenant, user).await,
            email,
            "{user}"
        );
    }
    assert!(node.terminate(Duration::from_secs(30)).await.success());

    // OLD alone is retired now.
    let before = s.written().await;
    let (code, stderr) = refused(&s.serve_args(&["--master-key-file", old_arg])).await;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("retired"), "{stderr}");
    assert_eq!(s.written().await, before);
}

/// `rotate-master` checks its keys against the store before it changes anything.
#[tokio::test]
async fn rotate_master_refuses_keys_the_store_does_not_know() {
    let s = Setup::new().await;
    let (a_file, a) = s.key("a.key");
    let (stranger, _) = s.key("stranger.key");
    let (new_file, _) = s.key("new.key");
    let (node, mut c) = s
        .node(&["--master-key-file", a_file.to_str().unwrap()])
        .await;
    tenant(&mut c, &s.admin).await;
    node.kill9().await;
    let rotate = |current: &Path| {
        strings(&[
            "keys",
            "rotate-master",
            "--database-url",
            s.db.url(),
            "--master-key-file",
            current.to_str().unwrap(),
            "--new-key-file",
            new_file.to_str().unwrap(),
        ])
    };
    let (code, _, stderr) = run_entityd(&rotate(&stranger)).await;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("never used with this store"), "{stderr}");
    let (code, _, stderr) = run_entityd(&rotate(&new_file)).await;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("nothing to rotate"), "{stderr}");
    assert_eq!(s.master_keys().await, [(a.id().to_owned(), false)]);
}

#[tokio::test]
async fn a_lost_master_key_can_be_abandoned_losing_only_its_people() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap().to_owned();
    let key_file = dir.path().join("master.key");
    let node = Entityd::embedded(dir.path()).await;
    let lost_id = MasterKey::load(&key_file).unwrap().id().to_owned();
    let mut c = Clients::connect(&node.endpoint()).await;
    let t = c
        .tenants
        .create_tenant(create_tenant_request("Acme", pb::Plan::Gold))
        .await
        .unwrap()
        .into_inner()
        .tenant
        .unwrap()
        .id;
    let user = invite(&mut c, None, &t, "lost@embedded.example")
        .await
        .unwrap();
    assert!(node.terminate(Duration::from_secs(30)).await.success());

    // The key is lost: the node refuses to start, and the command wants confirmation.
    std::fs::remove_file(&key_file).unwrap();
    let mut serve = strings(&["--dev-identity", "--data-dir", &data_dir, "--listen"]);
    serve.push("127.0.0.1:0".to_owned());
    let (code, stderr) = refused(&serve).await;
    assert_eq!(code, Some(2), "{stderr}");
    let abandon = |extra: &[&str]| {
        let mut args = strings(&["keys", "abandon-master", "--data-dir", &data_dir, "--id"]);
        args.extend(strings(extra));
        args
    };
    let (code, _, stderr) = run_entityd(&abandon(&[&lost_id])).await;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--the-key-is-lost"), "{stderr}");
    let (code, _, stderr) = run_entityd(&abandon(&["0123456789abcdef", "--the-key-is-lost"])).await;
    assert_eq!(code, Some(2), "an unknown id changes nothing: {stderr}");
    let (code, stdout, stderr) = run_entityd(&abandon(&[&lost_id, "--the-key-is-lost"])).await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("data keys destroyed: 2"), "{stdout}");

    // A new key; the people read as erased, everything else is there and the tenant works.
    let node = Entityd::embedded(dir.path()).await;
    assert_ne!(MasterKey::load(&key_file).unwrap().id(), lost_id);
    let mut c = Clients::connect(&node.endpoint()).await;
    assert_eq!(email_of(&mut c, None, &t, &user).await, "");
    let tenant = c
        .tenants
        .get_tenant(pb::GetTenantRequest {
            tenant_id: t.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(tenant.name, "Acme");
    let again = invite(&mut c, None, &t, "lost@embedded.example")
        .await
        .unwrap();
    assert_eq!(
        email_of(&mut c, None, &t, &again).await,
        "lost@embedded.example"
    );
    assert!(node.terminate(Duration::from_secs(30)).await.success());
}
