//! Shared helpers of the gRPC, CLI and durability tests: an in-process server on PostgreSQL,
//! real tonic clients, the `entityd` binary as a child process, and status inspection.
//!
//! Include with `#[path = "support/grpc.rs"] mod grpc_support;`.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    sync::{Arc, OnceLock},
    time::Duration,
};

use engine::{
    journal::{EventLog, RecordedEvent, postgres::PostgresJournal},
    runtime::Engine,
    testing::TestDatabase,
};
use entity_proto::v1::analytics_service_client::AnalyticsServiceClient;
use entity_proto::v1::{
    self as pb, access_service_client::AccessServiceClient,
    admin_service_client::AdminServiceClient, api_key_service_client::ApiKeyServiceClient,
    audit_service_client::AuditServiceClient, client_service_client::ClientServiceClient,
    contact_service_client::ContactServiceClient, customer_service_client::CustomerServiceClient,
    department_service_client::DepartmentServiceClient,
    location_service_client::LocationServiceClient,
    organization_service_client::OrganizationServiceClient,
    partition_group_service_client::PartitionGroupServiceClient,
    partition_service_client::PartitionServiceClient,
    registration_service_client::RegistrationServiceClient, role_service_client::RoleServiceClient,
    search_service_client::SearchServiceClient, team_service_client::TeamServiceClient,
    tenant_service_client::TenantServiceClient, user_service_client::UserServiceClient,
};
use gateway::{AuthMode, Node, NodeOptions, RunningServer, Storage};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};
use tonic::{Status, transport::Channel};
use tonic_types::StatusExt;

/// Clients of every service on one channel.
#[derive(Clone)]
pub struct Clients {
    pub tenants: TenantServiceClient<Channel>,
    pub orgs: OrganizationServiceClient<Channel>,
    pub teams: TeamServiceClient<Channel>,
    pub users: UserServiceClient<Channel>,
    pub roles: RoleServiceClient<Channel>,
    pub access: AccessServiceClient<Channel>,
    pub audit: AuditServiceClient<Channel>,
    pub admin: AdminServiceClient<Channel>,
    pub clients: ClientServiceClient<Channel>,
    pub departments: DepartmentServiceClient<Channel>,
    pub locations: LocationServiceClient<Channel>,
    pub contacts: ContactServiceClient<Channel>,
    pub customers: CustomerServiceClient<Channel>,
    pub partitions: PartitionServiceClient<Channel>,
    pub partition_groups: PartitionGroupServiceClient<Channel>,
    pub api_keys: ApiKeyServiceClient<Channel>,
    pub registration: RegistrationServiceClient<Channel>,
    pub analytics: AnalyticsServiceClient<Channel>,
    pub search: SearchServiceClient<Channel>,
    pub channel: Channel,
}

impl Clients {
    /// Clients of every service on `channel`.
    pub fn from_channel(channel: Channel) -> Clients {
        Clients {
            tenants: TenantServiceClient::new(channel.clone()),
            orgs: OrganizationServiceClient::new(channel.clone()),
            teams: TeamServiceClient::new(channel.clone()),
            users: UserServiceClient::new(channel.clone()),
            roles: RoleServiceClient::new(channel.clone()),
            access: AccessServiceClient::new(channel.clone()),
            audit: AuditServiceClient::new(channel.clone()),
            admin: AdminServiceClient::new(channel.clone()),
            clients: ClientServiceClient::new(channel.clone()),
            departments: DepartmentServiceClient::new(channel.clone()),
            locations: LocationServiceClient::new(channel.clone()),
            contacts: ContactServiceClient::new(channel.clone()),
            customers: CustomerServiceClient::new(channel.clone()),
            partitions: PartitionServiceClient::new(channel.clone()),
            partition_groups: PartitionGroupServiceClient::new(channel.clone()),
            api_keys: ApiKeyServiceClient::new(channel.clone()),
            registration: RegistrationServiceClient::new(channel.clone()),
            analytics: AnalyticsServiceClient::new(channel.clone()),
            search: SearchServiceClient::new(channel.clone()),
            channel,
        }
    }

    /// Connects to `endpoint` (`http://host:port`), retrying briefly while the server starts.
    pub async fn connect(endpoint: &str) -> Clients {
        let mut last_error = None;
        for _ in 0..100 {
            match Channel::from_shared(endpoint.to_owned())
                .unwrap()
                .connect()
                .await
            {
                Ok(channel) => return Clients::from_channel(channel),
                Err(e) => last_error = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("cannot connect to {endpoint}: {last_error:?}");
    }
}

/// An in-process node on a fresh PostgreSQL database.
pub struct PgNode {
    pub db: TestDatabase,
    pub journal: PostgresJournal,
    pub engine: Engine,
    pub projections: Arc<gateway::projection_host::ProjectionHost>,
    pub server: RunningServer,
    pub clients: Clients,
    /// The node's DNS: fixed TXT records, set by the test (no test queries real DNS).
    pub dns: gateway::dns::StaticResolver,
}

impl PgNode {
    /// A fresh database, an engine on it and a server on 127.0.0.1:0 with `auth`.
    pub async fn start(auth: AuthMode) -> PgNode {
        let db = TestDatabase::create().await;
        Self::start_on(db, auth).await
    }

    /// An engine and server on an existing test database.
    pub async fn start_on(db: TestDatabase, auth: AuthMode) -> PgNode {
        Self::start_with(db, move |_| auth).await
    }

    /// An engine and server on an existing test database, the auth mode made from the engine.
    pub async fn start_with(db: TestDatabase, auth: impl FnOnce(&Engine) -> AuthMode) -> PgNode {
        let journal = db.journal().await;
        let dns = gateway::dns::StaticResolver::new();
        let options = NodeOptions {
            txt_resolver: Some(Arc::new(dns.clone())),
            ..NodeOptions::default()
        };
        let node = Node::start(&Storage::Postgres(journal.clone()), options)
            .await
            .expect("node starts");
        let engine = node.engine().clone();
        let projections = node.projections();
        let auth = auth(&engine);
        let server = gateway::spawn_server(node, auth, "127.0.0.1:0".parse().unwrap())
            .await
            .expect("server starts");
        let clients = Clients::connect(&server.endpoint()).await;
        PgNode {
            db,
            journal,
            engine,
            projections,
            server,
            clients,
            dns,
        }
    }

    /// Waits until every read model has applied every write acknowledged so far (for tests
    /// that list after several writes; a client passes the write's consistency token instead).
    pub async fn caught_up(&self) {
        self.projections
            .handle()
            .expect("a single node runs its projections")
            .wait_caught_up(Duration::from_secs(30))
            .await
            .expect("read models catch up");
    }

    /// Every event in the journal, in position order.
    pub async fn events(&self) -> Vec<RecordedEvent> {
        all_events(&self.journal).await
    }
}

/// Every event of a journal, in position order.
pub async fn all_events(journal: &dyn EventLog) -> Vec<RecordedEvent> {
    journal.read_all(0, 1_000_000).await.expect("read_all")
}

/// `google.rpc.ErrorInfo.reason` of a status ("" when absent).
pub fn reason(status: &Status) -> String {
    status
        .get_details_error_info()
        .map(|i| i.reason)
        .unwrap_or_default()
}

/// Fields of the `BadRequest` violations of a status.
pub fn violation_fields(status: &Status) -> Vec<String> {
    status
        .get_details_bad_request()
        .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}

/// Mutation options with a request id.
pub fn with_request_id(id: &str) -> Option<pb::MutationOptions> {
    Some(pb::MutationOptions {
        request_id: id.to_owned(),
        expected_version: None,
    })
}

/// Mutation options with an expected version.
pub fn expecting(version: i64) -> Option<pb::MutationOptions> {
    Some(pb::MutationOptions {
        request_id: String::new(),
        expected_version: Some(version),
    })
}

/// A unique valid slug with `prefix`.
pub fn slug(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

/// A CreateTenant request for a business tenant on `plan`, owned by `owner@<slug>.test`.
pub fn create_tenant_request(name: &str, plan: pb::Plan) -> pb::CreateTenantRequest {
    let slug = slug("t");
    pb::CreateTenantRequest {
        name: name.to_owned(),
        owner_email: format!("owner@{slug}.test"),
        slug,
        kind: pb::TenantKind::Business as i32,
        plan: plan as i32,
        ..Default::default()
    }
}

/// Creates a tenant and returns it with its write result.
pub async fn create_tenant(clients: &mut Clients, plan: pb::Plan) -> (pb::Tenant, pb::WriteResult) {
    let r = create_tenant_answer(clients, plan).await;
    (r.tenant.unwrap(), r.result.unwrap())
}

/// Creates a tenant and returns the whole answer (with the owner's invitation token).
pub async fn create_tenant_answer(clients: &mut Clients, plan: pb::Plan) -> pb::TenantResponse {
    clients
        .tenants
        .create_tenant(create_tenant_request("Acme", plan))
        .await
        .expect("create tenant")
        .into_inner()
}

/// Invites a user with `roles` (into `org` unless empty) and returns the answer.
pub async fn invite(
    clients: &mut Clients,
    tenant_id: &str,
    email: &str,
    org: &str,
    roles: Vec<pb::RoleAssignment>,
) -> pb::UserResponse {
    clients
        .users
        .invite_user(pb::InviteUserRequest {
            tenant_id: tenant_id.to_owned(),
            email: email.to_owned(),
            organization_id: org.to_owned(),
            roles,
            ..Default::default()
        })
        .await
        .unwrap_or_else(|s| panic!("invite {email}: {s:?}"))
        .into_inner()
}

/// Accepts an invitation and returns the (now active) user.
pub async fn accept(clients: &mut Clients, tenant_id: &str, token: &str) -> pb::User {
    clients
        .users
        .accept_invitation(pb::AcceptInvitationRequest {
            tenant_id: tenant_id.to_owned(),
            token: token.to_owned(),
            ..Default::default()
        })
        .await
        .unwrap_or_else(|s| panic!("accept: {s:?}"))
        .into_inner()
        .user
        .unwrap()
}

/// A scope message.
pub fn scope(kind: pb::ScopeKind, id: &str) -> Option<pb::Scope> {
    Some(pb::Scope {
        kind: kind as i32,
        id: id.to_owned(),
    })
}

/// A role assignment at the tenant (`scope` None) or at an organization or team.
pub fn role_at(role: &str, scope: Option<pb::Scope>) -> pb::RoleAssignment {
    pb::RoleAssignment {
        role: role.to_owned(),
        scope,
    }
}

/// CheckPermission for `user` at `scope`.
pub async fn check(
    clients: &mut Clients,
    tenant_id: &str,
    user_id: &str,
    permission: &str,
    scope: Option<pb::Scope>,
) -> pb::CheckPermissionResponse {
    clients
        .access
        .check_permission(pb::CheckPermissionRequest {
            tenant_id: tenant_id.to_owned(),
            user_id: user_id.to_owned(),
            permission: permission.to_owned(),
            scope,
            consistency_token: String::new(),
        })
        .await
        .unwrap_or_else(|s| panic!("check {permission}: {s:?}"))
        .into_inner()
}

/// Creates an organization and returns it.
pub async fn create_org(
    clients: &mut Clients,
    tenant_id: &str,
    name: &str,
    parent_id: &str,
) -> pb::Organization {
    clients
        .orgs
        .create_organization(pb::CreateOrganizationRequest {
            tenant_id: tenant_id.to_owned(),
            name: name.to_owned(),
            parent_id: parent_id.to_owned(),
            ..Default::default()
        })
        .await
        .unwrap_or_else(|s| panic!("create organization {name}: {s:?}"))
        .into_inner()
        .organization
        .unwrap()
}

/// Creates team `name` in organization `org` of `tenant`.
pub async fn create_team(c: &mut Clients, tenant: &str, org: &str, name: &str) -> pb::Team {
    c.teams
        .create_team(pb::CreateTeamRequest {
            tenant_id: tenant.to_owned(),
            organization_id: org.to_owned(),
            name: name.to_owned(),
            ..Default::default()
        })
        .await
        .unwrap_or_else(|s| panic!("create team {name}: {s:?}"))
        .into_inner()
        .team
        .unwrap()
}

/// Creates client `name` of `tenant` (no external id, no profile).
pub async fn create_client(c: &mut Clients, tenant: &str, name: &str) -> pb::Client {
    c.clients
        .create_client(pb::CreateClientRequest {
            tenant_id: tenant.to_owned(),
            name: name.to_owned(),
            ..Default::default()
        })
        .await
        .unwrap_or_else(|s| panic!("create client {name}: {s:?}"))
        .into_inner()
        .client
        .unwrap()
}

/// A department, a location and a contact at that location, all of `client`: their ids.
pub async fn create_records(
    c: &mut Clients,
    tenant: &str,
    client: &str,
) -> (String, String, String) {
    let department = c
        .departments
        .create_department(pb::CreateDepartmentRequest {
            tenant_id: tenant.to_owned(),
            department: Some(pb::Department {
                client_id: client.to_owned(),
                name: "Sales".into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .expect("create department")
        .into_inner()
        .department
        .unwrap()
        .id;
    let location = c
        .locations
        .create_location(pb::CreateLocationRequest {
            tenant_id: tenant.to_owned(),
            location: Some(pb::Location {
                client_id: client.to_owned(),
                name: "Office".into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .expect("create location")
        .into_inner()
        .location
        .unwrap()
        .id;
    let contact = c
        .contacts
        .create_contact(pb::CreateContactRequest {
            tenant_id: tenant.to_owned(),
            contact: Some(pb::Contact {
                client_id: client.to_owned(),
                r#type: "billing".into(),
                name: "Ada Lovelace".into(),
                email: "ada@globex.test".into(),
                location_id: location.clone(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .expect("create contact")
        .into_inner()
        .contact
        .unwrap()
        .id;
    (department, location, contact)
}

/// Defines custom role `name` of `tenant` granting `permissions`.
pub async fn define_role(
    c: &mut Clients,
    tenant: &str,
    name: &str,
    permissions: &[&str],
) -> pb::Role {
    c.roles
        .define_role(pb::DefineRoleRequest {
            tenant_id: tenant.to_owned(),
            name: name.to_owned(),
            permissions: permissions.iter().map(|p| (*p).to_owned()).collect(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .role
        .unwrap()
}

/// Live entities of one gold tenant that tests aim at: an organization, a team in it, a user
/// invited into it, and a custom role (plus the tenant itself, with its onboarding ids).
pub struct Fixtures {
    pub tenant: String,
    pub org: String,
    pub team: String,
    pub user: String,
    pub role: String,
    pub client: String,
    pub created: pb::Tenant,
}

impl Fixtures {
    pub async fn create(c: &mut Clients) -> Fixtures {
        let (tenant, _) = create_tenant(c, pb::Plan::Gold).await;
        let org = create_org(c, &tenant.id, "Sales", "").await;
        let team = create_team(c, &tenant.id, &org.id, "Core").await;
        let user = invite(c, &tenant.id, "ivy@example.com", &org.id, vec![])
            .await
            .user
            .unwrap();
        let role = define_role(c, &tenant.id, "approver", &["invoice:approve"]).await;
        let client = create_client(c, &tenant.id, "Globex").await;
        Fixtures {
            tenant: tenant.id.clone(),
            org: org.id,
            team: team.id,
            user: user.id,
            role: role.id,
            client: client.id,
            created: tenant,
        }
    }
}

/// The master key of every `entityd serve` this test process starts without one of its own:
/// random, and the same for all of them (the nodes of a test share their store).
fn test_master_key_hex() -> &'static str {
    static KEY: OnceLock<String> = OnceLock::new();
    KEY.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("master.key");
        engine::personal::MasterKey::create_file(&path).expect("create a master key");
        std::fs::read_to_string(&path).expect("read the master key")
    })
}

/// Writes this test process's master key (see [`Entityd::start`]) to `dir/master.key`
/// (mode 0600) and returns the file.
pub fn write_test_master_key(dir: &Path) -> PathBuf {
    use std::io::Write;
    let path = dir.join("master.key");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&path).expect("create the master key file");
    file.write_all(test_master_key_hex().as_bytes())
        .expect("write the master key file");
    path
}

/// The arguments every test's `entityd serve` starts with: the database, a free port and the
/// test issuer's HS256 secret in `secret_file`; a test appends its own.
pub fn serve_args<'a>(database_url: &'a str, secret_file: &'a str) -> Vec<&'a str> {
    vec![
        "serve",
        "--database-url",
        database_url,
        "--listen",
        "127.0.0.1:0",
        "--jwt-issuer",
        TEST_ISSUER,
        "--jwt-audience",
        TEST_AUDIENCE,
        "--jwt-hs256-secret-file",
        secret_file,
    ]
}

/// The text of one Prometheus scrape of `url`, after checking its status and content type.
pub async fn scrape_text(url: &str) -> String {
    let response = reqwest::get(url).await.expect("scrape");
    assert!(response.status().is_success(), "{}", response.status());
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    response.text().await.unwrap()
}

/// A running `entityd` child process.
pub struct Entityd {
    pub child: Child,
    pub addr: String,
    pub ready_line: String,
    /// Holds the master key file given to `serve` by [`Entityd::start`].
    _key_dir: Option<tempfile::TempDir>,
}

/// The cluster cookie of every node this test process starts (random per process; a single
/// node ignores it).
pub fn test_cluster_cookie() -> &'static str {
    static COOKIE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    COOKIE.get_or_init(|| {
        format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        )
    })
}

impl Entityd {
    /// Starts `entityd` with `args` and waits for its ready line. `entityd serve` without a
    /// `--master-key-file` gets this test process's master key (the same for every node the
    /// process starts); the environment's master-key settings are never inherited.
    pub async fn start(args: &[&str]) -> Entityd {
        Self::start_with_env(args, &[]).await
    }

    /// [`Entityd::start`] with `env` set for the process.
    pub async fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> Entityd {
        let mut args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        let mut key_dir = None;
        if args.first().is_some_and(|a| a == "serve")
            && !args.iter().any(|a| a.starts_with("--master-key-file"))
        {
            let dir = tempfile::tempdir().expect("temporary directory");
            let file = write_test_master_key(dir.path());
            args.push("--master-key-file".to_owned());
            args.push(file.to_str().unwrap().to_owned());
            key_dir = Some(dir);
        }
        let mut child = Command::new(env!("CARGO_BIN_EXE_entityd"))
            .args(&args)
            .env("ENTITYD_LOG", "warn")
            .env_remove("ENTITYD_MASTER_KEY_FILE")
            .env_remove("ENTITYD_PREVIOUS_MASTER_KEY_FILE")
            .env_remove("ENTITYD_CLUSTER_COOKIE_FILE")
            .env("ENTITYD_CLUSTER_COOKIE", test_cluster_cookie())
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn entityd");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let ready_line = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await.expect("read entityd stdout") {
                if line.starts_with("entityd listening on ") {
                    return line;
                }
            }
            panic!("entityd exited before it was ready");
        })
        .await
        .expect("entityd ready within 60 s");
        // Keep draining stdout so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let addr = ready_line
            .trim_start_matches("entityd listening on ")
            .split(' ')
            .next()
            .unwrap()
            .to_owned();
        Entityd {
            child,
            addr,
            ready_line,
            _key_dir: key_dir,
        }
    }

    /// Starts the embedded mode with the dev identity on `data_dir` and a free port.
    pub async fn embedded(data_dir: &std::path::Path) -> Entityd {
        Self::embedded_with(data_dir, &[]).await
    }

    /// [`Entityd::embedded`] serving its metrics on a free port too ([`Entityd::metrics_url`]).
    pub async fn embedded_with_metrics(data_dir: &std::path::Path) -> Entityd {
        Self::embedded_with(data_dir, &["--metrics-listen", "127.0.0.1:0"]).await
    }

    async fn embedded_with(data_dir: &std::path::Path, extra: &[&str]) -> Entityd {
        let base = [
            "--dev-identity",
            "--data-dir",
            data_dir.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ];
        Self::start(&[&base[..], extra].concat()).await
    }

    /// `http://<addr>`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The metrics URL on the ready line (started with `--metrics-listen`).
    pub fn metrics_url(&self) -> String {
        self.ready_line
            .split("metrics at ")
            .nth(1)
            .and_then(|rest| rest.split([',', ')']).next())
            .expect("the ready line names the metrics address")
            .to_owned()
    }

    /// SIGKILL, no goodbye.
    pub async fn kill9(mut self) {
        self.child.kill().await.expect("kill entityd");
    }

    /// SIGTERM (a graceful stop), then waits up to `within` for the process to exit.
    pub async fn terminate(mut self, within: Duration) -> std::process::ExitStatus {
        let pid = self.child.id().expect("entityd is running").to_string();
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -TERM {pid}");
        tokio::time::timeout(within, self.child.wait())
            .await
            .expect("entityd exits after SIGTERM")
            .expect("wait for entityd")
    }
}

/// Issuer and audience of the test tokens.
pub const TEST_ISSUER: &str = "https://issuer.test";
/// Audience of the test tokens.
pub const TEST_AUDIENCE: &str = "entity-engine-tests";
/// The HS256 secret of [`hs256_auth`].
pub const TEST_HS256_SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-test-only";

/// JWT authentication with the test issuer/audience, `jwks` and optionally the HS256 test secret.
pub async fn jwt_auth(
    jwks: Option<gateway::auth::jwt::JwksSource>,
    hs256: bool,
) -> (AuthMode, Arc<gateway::auth::jwt::JwtAuthenticator>) {
    let config = gateway::auth::jwt::JwtConfig {
        issuer: TEST_ISSUER.to_owned(),
        audience: TEST_AUDIENCE.to_owned(),
        jwks,
        hs256_secret: hs256.then(|| TEST_HS256_SECRET.to_vec()),
        platform_admin_claim: "platform_admin".to_owned(),
    };
    let jwt = Arc::new(
        gateway::auth::jwt::JwtAuthenticator::new(config)
            .await
            .unwrap(),
    );
    (AuthMode::Jwt(jwt.clone()), jwt)
}

/// Valid claims (1 h) for `sub` in `tenant`, or a platform admin when `tenant` is `None`.
pub fn claims(sub: &str, tenant: Option<&str>) -> serde_json::Value {
    let now = chrono::Utc::now().timestamp();
    let mut c = serde_json::json!({
        "iss": TEST_ISSUER,
        "aud": TEST_AUDIENCE,
        "sub": sub,
        "iat": now,
        "exp": now + 3600,
        "jti": uuid::Uuid::new_v4().to_string(),
    });
    match tenant {
        Some(t) => c["tenant_id"] = t.into(),
        None => c["platform_admin"] = true.into(),
    }
    c
}

/// `claims` signed with the HS256 test secret.
pub fn hs256_token(claims: &serde_json::Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(TEST_HS256_SECRET),
    )
    .unwrap()
}

/// `message` with `authorization: Bearer <token>`.
pub fn bearer<T>(message: T, token: &str) -> tonic::Request<T> {
    // An API key (`eek_…`) goes in its own scheme, a JWT as a bearer token.
    let scheme = if token.starts_with("eek_") {
        "ApiKey"
    } else {
        "Bearer"
    };
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        format!("{scheme} {token}").parse().unwrap(),
    );
    request
}

/// A partition `name` of `tenant` (owned by `client`, or the tenant when empty).
pub async fn create_partition(
    c: &mut Clients,
    tenant: &str,
    client: &str,
    name: &str,
) -> pb::Partition {
    c.partitions
        .create_partition(pb::CreatePartitionRequest {
            tenant_id: tenant.into(),
            partition: Some(pb::Partition {
                client_id: client.into(),
                name: name.into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .partition
        .unwrap()
}

/// An API key of `partition` (admin when `scopes` is empty): the key and its id.
pub async fn create_api_key(
    c: &mut Clients,
    tenant: &str,
    partition: &str,
    scopes: &[&str],
) -> (String, String) {
    let issued = c
        .api_keys
        .create_api_key(pb::CreateApiKeyRequest {
            tenant_id: tenant.into(),
            partition_id: partition.into(),
            name: "ci".into(),
            admin: scopes.is_empty(),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    (issued.key, issued.api_key.unwrap().id)
}

/// A tenant on `plan` created by the platform admin `admin` (a token), whose owner accepted the
/// invitation, and an HS256 token of that owner (who holds `tenant-owner`).
pub async fn tenant_with_owner(
    c: &mut Clients,
    admin: &str,
    name: &str,
    plan: pb::Plan,
) -> (pb::Tenant, String) {
    let answer = c
        .tenants
        .create_tenant(bearer(create_tenant_request(name, plan), admin))
        .await
        .unwrap()
        .into_inner();
    let tenant = answer.tenant.unwrap();
    let owner = c
        .users
        .accept_invitation(bearer(
            pb::AcceptInvitationRequest {
                tenant_id: tenant.id.clone(),
                token: answer.owner_invitation_token,
                ..Default::default()
            },
            admin,
        ))
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    let token = hs256_token(&claims(&owner.id, Some(&tenant.id)));
    (tenant, token)
}

/// Requests without a token are the dev platform admin (test setup through the plain
/// helpers); requests with one are verified as JWTs and checked against the engine's role
/// assignments.
pub struct SetupOrJwt(pub Arc<gateway::auth::jwt::JwtAuthenticator>);

#[async_trait::async_trait]
impl gateway::Authenticator for SetupOrJwt {
    async fn authenticate(
        &self,
        metadata: &tonic::metadata::MetadataMap,
    ) -> Result<gateway::Caller, Status> {
        if metadata.get("authorization").is_some() {
            self.0.authenticate(metadata).await
        } else {
            gateway::DevIdentity.authenticate(metadata).await
        }
    }
}

/// A node on a fresh database that verifies HS256 JWTs (see [`jwt_auth`]), API keys and search
/// keys, and authorizes them by the engine's role assignments; calls without a token are the
/// dev platform admin.
pub async fn jwt_node() -> PgNode {
    let (_, jwt) = jwt_auth(None, true).await;
    let db = TestDatabase::create().await;
    PgNode::start_with(db, |engine| AuthMode::Custom {
        authenticator: Arc::new(gateway::auth::search_key::SearchKeyAuthenticator::new(
            Arc::new(gateway::auth::api_key::ApiKeyAuthenticator::new(
                Arc::new(SetupOrJwt(jwt)),
                engine.clone(),
            )),
            engine.clone(),
        )),
        authorizer: Arc::new(gateway::auth::RoleAuthorizer::new(engine.clone())),
    })
    .await
}
