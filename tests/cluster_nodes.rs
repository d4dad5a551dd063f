//! A cluster of real `entityd serve` processes on loopback and one PostgreSQL: shards spread
//! evenly, any node serves any tenant (its engine reaches the shard's owner over the node
//! mesh), the mesh refuses malformed frames and wrong cookies and survives being cut (from the
//! peers or from PostgreSQL), a node that joins
//! under load takes its share with no failed command (clients retry only on UNAVAILABLE), and
//! a node killed with SIGKILL has its shards served by the others within 8 s, and a node cut
//! off by a partition stops writing; every acknowledged command is in the journal exactly
//! once; API keys verify alike through every node, and every cascade that stops them (a
//! client-cascade saga cut by a killed node included) is seen through every node.
//! Needs `ENTITY_TEST_DATABASE_URL`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

#[path = "support/grpc.rs"]
mod grpc_support;
#[path = "support/proxy.rs"]
mod proxy;
#[path = "support/raw.rs"]
mod raw;

use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use engine::testing::TestDatabase;
use entity_proto::v1 as pb;
use grpc_support::{
    Clients, Entityd, TEST_HS256_SECRET, bearer, claims, create_tenant_request, hs256_token,
    serve_args,
};
use tokio::time::Instant;
use tonic::Code;

const SHARDS: usize = 256;

/// Whether a call may be retried with the same request id: the node answered UNAVAILABLE, or
/// the client's connection failed under it (the outcome is unknown, and the request id makes
/// the retry safe). A status the server sent is decoded from its trailers and has no source;
/// one the client made from a failed connection carries that failure: a transport error (a
/// call queued on a connection the node closed with GOAWAY), an HTTP/2 error (a stream opened
/// above the server's last one), or an I/O error under hyper's (a node killed while its answer
/// was being read: "error reading a body from connection", broken pipe).
fn retryable(status: &tonic::Status) -> bool {
    status.code() == Code::Unavailable
        || (status.code() == Code::Unknown && status.message() == "transport error")
        || (matches!(
            status.code(),
            Code::Unknown | Code::Cancelled | Code::Internal
        ) && connection_failed(status))
}

/// Whether `status`'s chain of sources holds a failure of the client's connection.
fn connection_failed(status: &tonic::Status) -> bool {
    let mut source = std::error::Error::source(status);
    while let Some(error) = source {
        if error.is::<tonic::transport::Error>()
            || error.is::<h2::Error>()
            || error.is::<std::io::Error>()
        {
            return true;
        }
        source = error.source();
    }
    false
}

#[test]
fn a_failed_connection_or_unavailable_is_retried_and_an_answer_is_not() {
    let with_source = |code, source: Arc<dyn std::error::Error + Send + Sync>| {
        let mut status = tonic::Status::new(code, "h2 protocol error: error reading a body");
        status.set_source(source);
        status
    };
    let broken_pipe = Arc::new(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
    // hyper's body error wraps the I/O error; the chain is walked to it.
    let wrapped: Arc<dyn std::error::Error + Send + Sync> = Arc::new(tonic::Status::from_error(
        Box::new(std::io::Error::from(std::io::ErrorKind::BrokenPipe)),
    ));
    let reset = Arc::new(h2::Error::from(h2::Reason::CANCEL));
    for code in [Code::Unknown, Code::Cancelled, Code::Internal] {
        assert!(
            retryable(&with_source(code, broken_pipe.clone())),
            "{code:?}"
        );
        assert!(retryable(&with_source(code, reset.clone())), "{code:?}");
        assert!(retryable(&with_source(code, wrapped.clone())), "{code:?}");
        // The same codes sent by the server (no source) are its answer.
        assert!(
            !retryable(&tonic::Status::new(code, "answered")),
            "{code:?}"
        );
    }
    assert!(retryable(&tonic::Status::unavailable("moving")));
    assert!(!retryable(&tonic::Status::invalid_argument("bad")));
}

/// The value of `series` (name and labels, as exposed) in a scrape of `node`.
async fn metric(node: &Entityd, series: &str) -> f64 {
    let text = grpc_support::scrape_text(&node.metrics_url()).await;
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("{series} not in the scrape"))
}

/// Waits (up to 15 s) until `series` of `node` is at least `value`.
async fn metric_reaches(node: &Entityd, series: &str, value: f64) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let now = metric(node, series).await;
        if now >= value {
            return;
        }
        assert!(Instant::now() < deadline, "{series} is {now}, not {value}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

struct Cluster {
    db: TestDatabase,
    pool: sqlx::PgPool,
    secret: tempfile::NamedTempFile,
    token: String,
}

impl Cluster {
    async fn new() -> Cluster {
        let db = TestDatabase::create().await;
        let pool = db.journal().await.pool().clone();
        let secret = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(secret.path(), TEST_HS256_SECRET).unwrap();
        let token = hs256_token(&claims("cluster-test", None));
        Cluster {
            db,
            pool,
            secret,
            token,
        }
    }

    async fn node(&self, id: &str) -> (Entityd, Clients) {
        self.node_via(id, self.db.url(), None).await
    }

    /// A node reaching PostgreSQL at `database_url`, its mesh reached by its peers through
    /// `mesh_link` when given (the proxy is pointed at the node's mesh port).
    async fn node_via(
        &self,
        id: &str,
        database_url: &str,
        mesh_link: Option<&proxy::Proxy>,
    ) -> (Entityd, Clients) {
        let advertise = mesh_link.map(|link| link.addr.to_string());
        let mut extra = vec!["--metrics-listen", "127.0.0.1:0"];
        if let Some(address) = &advertise {
            extra.extend(["--mesh-advertise-address", address.as_str()]);
        }
        let node = Entityd::start(
            &[
                &serve_args(database_url, self.secret.path().to_str().unwrap())[..],
                &["--max-db-connections", "8", "--node-id", id],
                &extra,
            ]
            .concat(),
        )
        .await;
        assert!(
            node.ready_line.contains(&format!("cluster node {id}")),
            "{}",
            node.ready_line
        );
        if let Some(link) = mesh_link {
            // "… mesh at <bound> (<advertised>)": until now the proxy dropped every dial.
            let bound = node
                .ready_line
                .split("mesh at ")
                .nth(1)
                .and_then(|rest| rest.split(' ').next())
                .expect("the ready line names the mesh address");
            link.set_target(bound.parse().unwrap());
        }
        let clients = Clients::connect(&node.endpoint()).await;
        (node, clients)
    }

    /// node-0 (reaching PostgreSQL at `database_url`, its mesh through `mesh_link`) and
    /// node-1, balanced, each with a tenant created through it (so of its own shards), each
    /// tenant served once through the other node (the mesh is up).
    async fn pair(
        &self,
        database_url: &str,
        mesh_link: Option<&proxy::Proxy>,
    ) -> [(Entityd, Clients, String); 2] {
        let (n0, mut c0) = self.node_via("node-0", database_url, mesh_link).await;
        let (n1, mut c1) = self.node("node-1").await;
        self.balanced(&["node-0", "node-1"], Duration::from_secs(30))
            .await;
        let t0 = self.create_tenant(&mut c0).await;
        let t1 = self.create_tenant(&mut c1).await;
        assert_eq!(self.owner_of(&t0).await.as_deref(), Some("node-0"));
        assert_eq!(self.owner_of(&t1).await.as_deref(), Some("node-1"));
        let within = Duration::from_secs(10);
        eventually_get_tenant(&mut c1, &self.token, &t0, within).await;
        eventually_get_tenant(&mut c0, &self.token, &t1, within).await;
        [(n0, c0, t0), (n1, c1, t1)]
    }

    /// A proxy to the test database, and the database URL through it.
    async fn db_proxy(&self) -> (proxy::Proxy, String) {
        let url = self.db.url();
        let host_port = url
            .split('@')
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .unwrap();
        let pg: std::net::SocketAddr = host_port
            .parse()
            .expect("the test database URL names an IP");
        let link = proxy::Proxy::start(Some(pg)).await;
        let via = url.replace(host_port, &link.addr.to_string());
        (link, via)
    }

    /// The holder of each validly leased shard.
    async fn holders(&self) -> HashMap<u32, String> {
        let rows: Vec<(i32, String)> = sqlx::query_as(
            "SELECT shard, owner FROM shard_leases WHERE expires_at > clock_timestamp()",
        )
        .fetch_all(&self.pool)
        .await
        .unwrap();
        rows.into_iter()
            .map(|(shard, owner)| (u32::try_from(shard).unwrap(), owner))
            .collect()
    }

    /// Waits until every shard is held by the node rendezvous placement gives it among
    /// `nodes` (the keepers' final answer, not a share near it: hand-overs go a few shards a
    /// round, and a tenant created on a shard still to move would change owner under the
    /// test); returns the shards per node.
    async fn balanced(&self, nodes: &[&str], within: Duration) -> HashMap<String, usize> {
        let deadline = Instant::now() + within;
        loop {
            let holders = self.holders().await;
            let settled = (0..SHARDS as u32).all(|shard| {
                holders.get(&shard).map(String::as_str)
                    == cluster::placement::owner_of(shard, nodes)
            });
            let mut shares = HashMap::new();
            for owner in holders.into_values() {
                *shares.entry(owner).or_insert(0) += 1;
            }
            if settled {
                return shares;
            }
            assert!(
                Instant::now() < deadline,
                "not placed over {nodes:?} within {within:?}: {shares:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Creates a tenant through `c`, retrying (same request id) while the node answers
    /// UNAVAILABLE (busy box: a shard may be between owners).
    async fn create_tenant(&self, c: &mut Clients) -> String {
        let request = pb::CreateTenantRequest {
            options: Some(pb::MutationOptions {
                request_id: uuid::Uuid::new_v4().to_string(),
                expected_version: None,
            }),
            ..create_tenant_request("Clustered", pb::Plan::Gold)
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match c
                .tenants
                .create_tenant(bearer(request.clone(), &self.token))
                .await
            {
                Ok(answer) => return answer.into_inner().tenant.unwrap().id,
                Err(status) if retryable(&status) && Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(status) => panic!("create tenant: {status:?}"),
            }
        }
    }

    /// Creates an organization with `request_id`, retrying on UNAVAILABLE or a broken
    /// connection (the same request id: a retry of a write that did commit is answered from
    /// the first attempt) over `clients` in turn. `Err` for any other refusal.
    async fn create_org(
        &self,
        clients: &[Clients],
        first: usize,
        tenant: &str,
        request_id: &str,
    ) -> Result<String, tonic::Status> {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut attempt = 0;
        loop {
            let mut c = clients[(first + attempt) % clients.len()].clone();
            let request = pb::CreateOrganizationRequest {
                tenant_id: tenant.to_owned(),
                name: format!("Org {request_id}"),
                options: Some(pb::MutationOptions {
                    request_id: request_id.to_owned(),
                    expected_version: None,
                }),
                ..Default::default()
            };
            match c
                .orgs
                .create_organization(bearer(request, &self.token))
                .await
            {
                Ok(answer) => return Ok(answer.into_inner().organization.unwrap().id),
                Err(status) if retryable(&status) && Instant::now() < deadline => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(status) => return Err(status),
            }
        }
    }

    /// The index of the node (among `clients`) that runs the projections, waiting until exactly
    /// one does.
    async fn projections_leader(&self, clients: &[Clients], within: Duration) -> usize {
        let deadline = Instant::now() + within;
        loop {
            let mut leaders = Vec::new();
            for (i, c) in clients.iter().enumerate() {
                let mut c = c.clone();
                if let Ok(status) = c
                    .admin
                    .get_node_status(bearer(pb::GetNodeStatusRequest {}, &self.token))
                    .await
                    && status
                        .into_inner()
                        .cluster
                        .is_some_and(|m| m.runs_projections)
                {
                    leaders.push(i);
                }
            }
            if leaders.len() == 1 {
                return leaders[0];
            }
            assert!(
                Instant::now() < deadline,
                "not exactly one node runs the projections: {leaders:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Writes each reachable node refused by fencing (its own lease check or the journal's).
    async fn fenced_refusals(&self, clients: &[Clients]) -> Vec<Option<u64>> {
        let mut all = Vec::new();
        for c in clients {
            let mut c = c.clone();
            let status = c
                .admin
                .get_node_status(bearer(pb::GetNodeStatusRequest {}, &self.token))
                .await;
            all.push(
                status
                    .ok()
                    .and_then(|s| s.into_inner().cluster)
                    .map(|m| m.fenced_refusals),
            );
        }
        all
    }

    /// Events per request id of the journal.
    async fn events_per_request(&self) -> HashMap<String, i64> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT metadata->>'request_id', count(*) FROM events \
             WHERE metadata ? 'request_id' GROUP BY 1",
        )
        .fetch_all(&self.pool)
        .await
        .unwrap();
        rows.into_iter().collect()
    }
}

/// Organizations created for the tenants in a loop, round robin over `targets`, until
/// stopped; every acknowledged request id and every failure is kept.
struct Load {
    targets: Arc<Mutex<Vec<Clients>>>,
    acked: Arc<Mutex<Vec<String>>>,
    failures: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Load {
    fn start(
        cluster: Arc<Cluster>,
        targets: Vec<Clients>,
        tenants: Vec<String>,
        tag: &str,
    ) -> Load {
        let targets = Arc::new(Mutex::new(targets));
        let acked = Arc::new(Mutex::new(Vec::new()));
        let failures = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let task = tokio::spawn({
            let (targets, acked, failures, stop) = (
                targets.clone(),
                acked.clone(),
                failures.clone(),
                stop.clone(),
            );
            let tag = tag.to_owned();
            async move {
                let mut i = 0usize;
                while !stop.load(Ordering::Relaxed) {
                    let tenant = &tenants[i % tenants.len()];
                    let request_id = format!("{tag}-{i}");
                    let clients = targets.lock().unwrap().clone();
                    match cluster.create_org(&clients, i, tenant, &request_id).await {
                        Ok(_) => acked.lock().unwrap().push(request_id),
                        Err(e) => failures
                            .lock()
                            .unwrap()
                            .push(format!("{request_id}: {e:?}")),
                    }
                    i += 1;
                }
            }
        });
        Load {
            targets,
            acked,
            failures,
            stop,
            task,
        }
    }

    fn acked(&self) -> usize {
        self.acked.lock().unwrap().len()
    }

    /// Waits until `more` further commands are acknowledged.
    async fn progress(&self, more: usize) {
        let target = self.acked() + more;
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.acked() < target {
            assert!(
                Instant::now() < deadline,
                "the load stalled at {} acknowledged; failures: {:?}",
                self.acked(),
                self.failures.lock().unwrap()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops; asserts that nothing failed and that every acknowledged command is in the
    /// journal exactly once.
    async fn finish(self, cluster: &Cluster) {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.unwrap();
        let failures = self.failures.lock().unwrap().clone();
        assert!(failures.is_empty(), "failed commands: {failures:?}");
        let per_request = cluster.events_per_request().await;
        let acked = self.acked.lock().unwrap().clone();
        let distinct: HashSet<&String> = acked.iter().collect();
        assert_eq!(distinct.len(), acked.len());
        for id in &acked {
            assert_eq!(per_request.get(id), Some(&1), "{id}");
        }
        println!("{} commands acknowledged, each exactly once", acked.len());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_nodes_serve_every_tenant_from_any_node() {
    let cluster = Cluster::new().await;
    let mut nodes = Vec::new();
    let mut clients = Vec::new();
    for id in ["node-1", "node-2", "node-3"] {
        let (node, c) = cluster.node(id).await;
        nodes.push(node);
        clients.push(c);
    }
    let shares = cluster
        .balanced(&["node-1", "node-2", "node-3"], Duration::from_secs(30))
        .await;
    println!("shards per node: {shares:?}");
    let leader = cluster
        .projections_leader(&clients, Duration::from_secs(15))
        .await;
    println!("node-{} runs the projections", leader + 1);

    // 300 tenants, created round robin; each then written through another node and read
    // through a third.
    let mut tenants = Vec::new();
    for i in 0..300 {
        tenants.push(cluster.create_tenant(&mut clients[i % 3]).await);
    }
    for (i, tenant) in tenants.iter().enumerate() {
        let org = cluster
            .create_org(&clients, (i + 1) % 3, tenant, &format!("org-{i}"))
            .await
            .unwrap_or_else(|e| panic!("tenant {i}: {e:?}"));
        // A shard whose lease renewal is late answers UNAVAILABLE for a moment: retried.
        let reader = std::slice::from_ref(&clients[(i + 2) % 3]);
        let got = on_any(reader, |mut c| {
            let request = bearer(
                pb::GetOrganizationRequest {
                    tenant_id: tenant.clone(),
                    organization_id: org.clone(),
                    consistency_token: String::new(),
                },
                &cluster.token,
            );
            async move { c.orgs.get_organization(request).await }
        })
        .await;
        assert_eq!(got.id, org);
    }
    let per_request = cluster.events_per_request().await;
    for i in 0..300 {
        assert_eq!(per_request.get(&format!("org-{i}")), Some(&1), "org-{i}");
    }
    // Node status tells each node's share (a lease whose renewal is late is not counted for
    // a moment, so the sum is polled).
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let mut held = 0;
        for c in &mut clients {
            let status = c
                .admin
                .get_node_status(bearer(pb::GetNodeStatusRequest {}, &cluster.token))
                .await
                .unwrap()
                .into_inner();
            held += status.cluster.unwrap().shards_held as usize;
        }
        if held == SHARDS {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{held} shards held, not {SHARDS}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for node in nodes {
        node.kill9().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nodes_join_and_die_under_load_without_losing_a_command() {
    let cluster = Arc::new(Cluster::new().await);
    let mut nodes = Vec::new();
    let mut clients = Vec::new();
    for id in ["node-1", "node-2", "node-3"] {
        let (node, c) = cluster.node(id).await;
        nodes.push(Some(node));
        clients.push(c);
    }
    cluster
        .balanced(&["node-1", "node-2", "node-3"], Duration::from_secs(30))
        .await;
    let mut tenants = Vec::new();
    for i in 0..60 {
        tenants.push(cluster.create_tenant(&mut clients[i % 3]).await);
    }

    // Load: organizations for every tenant, round robin over the nodes known to the load.
    let first_tenant = tenants[0].clone();
    let load = Load::start(cluster.clone(), clients.clone(), tenants, "load");
    load.progress(50).await;

    // A fourth node joins.
    let (fourth, c4) = cluster.node("node-4").await;
    nodes.push(Some(fourth));
    load.targets.lock().unwrap().push(c4);
    let shares = cluster
        .balanced(
            &["node-1", "node-2", "node-3", "node-4"],
            Duration::from_secs(60),
        )
        .await;
    println!(
        "after node-4 joined: {shares:?}, {} commands acked",
        load.acked()
    );
    load.progress(50).await;

    // The node that runs the projections dies. The load drops it from its targets (as a
    // client's balancer would after connection errors) and keeps going; its shards must serve
    // again within seconds, and another node takes the projections over.
    let all = load.targets.lock().unwrap().clone();
    let names = ["node-1", "node-2", "node-3", "node-4"];
    let leader = cluster
        .projections_leader(&all, Duration::from_secs(15))
        .await;
    let died = Instant::now();
    nodes[leader].take().unwrap().kill9().await;
    load.targets.lock().unwrap().remove(leader);
    let survivors: Vec<&str> = names
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != leader)
        .map(|(_, n)| *n)
        .collect();
    let shares = cluster.balanced(&survivors, Duration::from_secs(15)).await;
    let recovered = died.elapsed();
    println!(
        "{} (ran the projections) killed; its shards served again after {recovered:?}: {shares:?}",
        names[leader]
    );
    // 2.8–3.3 s measured (3 s leases; BENCHMARKS.md "Failover"); the bound leaves room for a
    // busy CI box but fails at the 10 s leases this replaced.
    assert!(recovered <= Duration::from_secs(8), "{recovered:?}");
    let rest = load.targets.lock().unwrap().clone();
    let next = cluster
        .projections_leader(&rest, Duration::from_secs(15))
        .await;
    println!(
        "projections moved to {} after {:?}",
        survivors[next],
        died.elapsed()
    );
    // The read models keep up: a list with a fresh write's token answers (the new leader may
    // still be catching up: UNAVAILABLE until it has, which `on_any` retries).
    let org = on_any(&rest, |mut c| {
        let request = bearer(
            pb::CreateOrganizationRequest {
                tenant_id: first_tenant.clone(),
                name: "After the failover".into(),
                options: Some(pb::MutationOptions {
                    request_id: "after-the-failover".into(),
                    expected_version: None,
                }),
                ..Default::default()
            },
            &cluster.token,
        );
        async move { c.orgs.create_organization(request).await }
    })
    .await;
    let token = org.result.unwrap().consistency_token;
    let listed = on_any(&rest, |mut c| {
        let request = bearer(
            pb::ListOrganizationsRequest {
                tenant_id: first_tenant.clone(),
                page_size: 500,
                consistency_token: token.clone(),
                ..Default::default()
            },
            &cluster.token,
        );
        async move { c.orgs.list_organizations(request).await }
    })
    .await;
    let org_id = org.organization.unwrap().id;
    assert!(listed.organizations.iter().any(|o| o.id == org_id));
    load.progress(100).await;
    load.finish(&cluster).await;
    println!(
        "fencing refusals per surviving node: {:?}",
        cluster.fenced_refusals(&rest).await
    );
    for node in nodes.into_iter().flatten() {
        node.kill9().await;
    }
}

/// A partition without root or namespaces: node-0 reaches PostgreSQL, and its peers reach its
/// mesh, through TCP proxies that the test cuts (every open connection closed, new ones
/// refused) and later heals. Cut off, node-0 stops using its leases before they can expire (so it can no
/// longer write), the others take its shards over, and after healing it rejoins with new
/// leases; every command acknowledged by any node, before, during or after the partition, is
/// in the journal exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_partitioned_node_stops_writing_and_nothing_acknowledged_is_lost() {
    let cluster = Arc::new(Cluster::new().await);
    let (db_link, url_via_proxy) = cluster.db_proxy().await;
    let peer_link = proxy::Proxy::start(None).await;

    let (n1, c1) = cluster.node("node-1").await;
    let (n2, c2) = cluster.node("node-2").await;
    // node-0 sorts first: its peers dial it, through the proxy.
    let (x, cx) = cluster
        .node_via("node-0", &url_via_proxy, Some(&peer_link))
        .await;
    cluster
        .balanced(&["node-1", "node-2", "node-0"], Duration::from_secs(30))
        .await;
    let mut all = vec![c1, c2, cx.clone()];
    let mut tenants = Vec::new();
    for i in 0..60 {
        tenants.push(cluster.create_tenant(&mut all[i % 3]).await);
    }

    let load = Load::start(cluster.clone(), all, tenants, "p");
    load.progress(30).await;

    // The partition: node-0 loses PostgreSQL and its peers.
    let cut = Instant::now();
    db_link.cut().await;
    peer_link.cut().await;
    let mut x_admin = cx.clone();
    loop {
        let status = x_admin
            .admin
            .get_node_status(bearer(pb::GetNodeStatusRequest {}, &cluster.token))
            .await
            .unwrap()
            .into_inner();
        if status.cluster.unwrap().shards_held == 0 {
            break;
        }
        assert!(
            cut.elapsed() < Duration::from_secs(10),
            "node-0 still holds shards {:?} after the cut",
            cut.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!("node-0 stopped writing {:?} after the cut", cut.elapsed());
    let shares = cluster
        .balanced(&["node-1", "node-2"], Duration::from_secs(20))
        .await;
    println!(
        "the others serve every shard after {:?}: {shares:?}",
        cut.elapsed()
    );
    load.progress(50).await;

    // Healed: node-0 rejoins with fresh leases (its old epochs are gone).
    db_link.heal();
    peer_link.heal();
    let shares = cluster
        .balanced(&["node-1", "node-2", "node-0"], Duration::from_secs(40))
        .await;
    println!("after healing: {shares:?}");
    load.progress(50).await;
    load.finish(&cluster).await;
    println!(
        "fencing refusals (node-0 last): {:?}",
        cluster.fenced_refusals(std::slice::from_ref(&cx)).await
    );
    for node in [n1, n2, x] {
        node.kill9().await;
    }
}

/// A length-delimited protobuf field.
fn field(number: u8, bytes: &[u8]) -> Vec<u8> {
    let mut out = vec![(number << 3) | 2];
    let mut len = bytes.len();
    loop {
        let byte = (len & 0x7f) as u8;
        len >>= 7;
        if len == 0 {
            out.push(byte);
            break;
        }
        out.push(byte | 0x80);
    }
    out.extend_from_slice(bytes);
    out
}

/// A request that does not decode is refused where it arrives (INVALID_ARGUMENT), as is a body
/// over the size bound, before anything reaches the owner; both nodes keep serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn malformed_and_oversized_requests_between_nodes_are_refused() {
    let cluster = Cluster::new().await;
    let (n1, mut c1) = cluster.node("node-1").await;
    let (n2, mut c2) = cluster.node("node-2").await;
    cluster
        .balanced(&["node-1", "node-2"], Duration::from_secs(30))
        .await;
    // A tenant of node-1 (created there), addressed through node-2.
    let tenant = cluster.create_tenant(&mut c1).await;

    // The tenant field reads fine; the nested organization is garbage.
    let mut body = field(2, tenant.as_bytes());
    body.extend(field(4, &[0xff, 0xff, 0xff]));
    let err = raw::call(
        c2.channel.clone(),
        "/entity.v1.OrganizationService/UpdateOrganization",
        body,
        Some(&cluster.token),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert!(
        err.message()
            .contains("is not a valid UpdateOrganizationRequest"),
        "{err:?}"
    );
    assert_eq!(
        tonic_types::StatusExt::get_details_error_info(&err).map(|i| i.reason),
        Some("MALFORMED_REQUEST".to_owned())
    );

    // Over the size bound: refused by node-2 before anything is decoded.
    let mut huge = field(2, tenant.as_bytes());
    huge.extend(field(3, &vec![b'x'; 2 * 1024 * 1024]));
    let err = raw::call(
        c2.channel.clone(),
        "/entity.v1.OrganizationService/UpdateOrganization",
        huge,
        Some(&cluster.token),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted, "{err:?}");

    // Both nodes still serve, including over the mesh.
    for c in [&mut c1, &mut c2] {
        let got = c
            .tenants
            .get_tenant(bearer(
                pb::GetTenantRequest {
                    tenant_id: tenant.clone(),
                    consistency_token: String::new(),
                },
                &cluster.token,
            ))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(got.id, tenant);
    }
    n1.kill9().await;
    n2.kill9().await;
}

/// A CA and one certificate for 127.0.0.1 and localhost, made with the `openssl` command (which
/// `scripts/test` installs).
fn test_pki(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let run = |args: &[&str]| {
        let out = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("run openssl");
        assert!(out.status.success(), "openssl {args:?}: {out:?}");
    };
    std::fs::write(
        dir.join("san.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=entity-engine test CA",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "node.key",
        "-out",
        "node.csr",
        "-subj",
        "/CN=localhost",
    ]);
    run(&[
        "x509",
        "-req",
        "-in",
        "node.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "node.pem",
        "-days",
        "2",
        "-extfile",
        "san.ext",
    ]);
    (
        dir.join("ca.pem"),
        dir.join("node.pem"),
        dir.join("node.key"),
    )
}

/// The owner's invitation token of a new tenant: the one CreateTenant answered, or — when a
/// shard hand-over interrupted the onboarding, which then finished after the answer — a new
/// one from ResendInvitation once the owner exists (the documented way to get it).
async fn owner_invitation(c: &mut Clients, token: &str, created: &pb::TenantResponse) -> String {
    if !created.owner_invitation_token.is_empty() {
        return created.owner_invitation_token.clone();
    }
    let tenant = created.tenant.as_ref().unwrap();
    let owner = tenant.onboarding.as_ref().unwrap().owner_user_id.clone();
    for _ in 0..100 {
        let resent = c
            .users
            .resend_invitation(bearer(
                pb::ResendInvitationRequest {
                    tenant_id: tenant.id.clone(),
                    user_id: owner.clone(),
                    ..Default::default()
                },
                token,
            ))
            .await;
        if let Ok(answer) = resent {
            return answer.into_inner().invitation_token;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the owner of {} was never invited", tenant.id);
}

/// A user's write is authorized by the node that owns the tenant, in the message that runs
/// it, also when another node forwards the call: through either node (one of the two
/// forwards), a viewer's rename is PERMISSION_DENIED naming permission and scope and writes
/// nothing, and the owner's is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writes_through_any_node_are_authorized_by_the_owner() {
    let cluster = Cluster::new().await;
    let (n1, mut c1) = cluster.node("node-1").await;
    let (n2, c2) = cluster.node("node-2").await;
    cluster
        .balanced(&["node-1", "node-2"], Duration::from_secs(30))
        .await;
    let created = c1
        .tenants
        .create_tenant(bearer(
            create_tenant_request("Forwarded", pb::Plan::Gold),
            &cluster.token,
        ))
        .await
        .unwrap()
        .into_inner();
    let owner_token = owner_invitation(&mut c1, &cluster.token, &created).await;
    let tenant = created.tenant.unwrap();
    let org = tenant.onboarding.clone().unwrap().default_organization_id;
    let accept = |token: String| pb::AcceptInvitationRequest {
        tenant_id: tenant.id.clone(),
        token,
        ..Default::default()
    };
    let owner = c1
        .users
        .accept_invitation(bearer(accept(owner_token), &cluster.token))
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    let invited = c1
        .users
        .invite_user(bearer(
            pb::InviteUserRequest {
                tenant_id: tenant.id.clone(),
                email: "viewer@forwarded.test".into(),
                roles: vec![pb::RoleAssignment {
                    role: "viewer".into(),
                    scope: None,
                }],
                ..Default::default()
            },
            &cluster.token,
        ))
        .await
        .unwrap()
        .into_inner();
    let viewer = c1
        .users
        .accept_invitation(bearer(accept(invited.invitation_token), &cluster.token))
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    let owner_token = hs256_token(&claims(&owner.id, Some(&tenant.id)));
    let viewer_token = hs256_token(&claims(&viewer.id, Some(&tenant.id)));
    let rename = |request_id: &str| pb::UpdateOrganizationRequest {
        options: Some(pb::MutationOptions {
            request_id: request_id.to_owned(),
            expected_version: None,
        }),
        tenant_id: tenant.id.clone(),
        organization_id: org.clone(),
        organization: Some(pb::OrganizationUpdate {
            name: format!("Renamed {request_id}"),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["name".into()],
        }),
    };

    for (node, mut c) in [("node-1", c1.clone()), ("node-2", c2.clone())] {
        let denied = format!("viewer-via-{node}");
        let err = c
            .orgs
            .update_organization(bearer(rename(&denied), &viewer_token))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied, "via {node}: {err:?}");
        assert_eq!(
            err.message(),
            format!("UpdateOrganization needs organization:update at organization/{org}")
        );
        let info = tonic_types::StatusExt::get_details_error_info(&err).unwrap();
        assert_eq!(info.reason, "PERMISSION_DENIED");
        assert_eq!(info.metadata["permission"], "organization:update");
        assert_eq!(info.metadata["scope"], format!("organization/{org}"));

        let allowed = format!("owner-via-{node}");
        c.orgs
            .update_organization(bearer(rename(&allowed), &owner_token))
            .await
            .unwrap_or_else(|e| panic!("owner via {node}: {e:?}"));
        let written = cluster.events_per_request().await;
        assert_eq!(written.get(&denied), None, "the refused write via {node}");
        assert_eq!(
            written.get(&allowed),
            Some(&1),
            "the owner's write via {node}"
        );
    }
    n1.kill9().await;
    n2.kill9().await;
}

/// With TLS configured, clients and the calls between nodes are encrypted and verified
/// against the CA; a plaintext client is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nodes_and_clients_talk_over_tls() {
    let cluster = Cluster::new().await;
    let pki = tempfile::tempdir().unwrap();
    let (ca, cert, key) = test_pki(pki.path());
    let tls_args = [
        "--tls-cert-file",
        cert.to_str().unwrap(),
        "--tls-key-file",
        key.to_str().unwrap(),
        "--tls-ca-file",
        ca.to_str().unwrap(),
    ];
    let start = |id: &'static str| {
        let mut args = serve_args(cluster.db.url(), cluster.secret.path().to_str().unwrap());
        args.extend(["--node-id", id]);
        args.extend(tls_args);
        async move { Entityd::start(&args).await }
    };
    let n1 = start("node-1").await;
    let n2 = start("node-2").await;
    assert!(n1.ready_line.contains("TLS"), "{}", n1.ready_line);
    cluster
        .balanced(&["node-1", "node-2"], Duration::from_secs(30))
        .await;
    let ca_pem = std::fs::read(&ca).unwrap();
    let tls_client = |addr: &str| {
        let ca_pem = ca_pem.clone();
        let addr = addr.to_owned();
        async move {
            let channel = tonic::transport::Channel::from_shared(format!("https://{addr}"))
                .unwrap()
                .tls_config(
                    tonic::transport::ClientTlsConfig::new()
                        .ca_certificate(tonic::transport::Certificate::from_pem(ca_pem))
                        .domain_name("127.0.0.1"),
                )
                .unwrap()
                .connect()
                .await
                .expect("TLS connection");
            Clients::from_channel(channel)
        }
    };
    let mut c1 = tls_client(&n1.addr).await;
    let mut c2 = tls_client(&n2.addr).await;
    // Created on node-1 (a shard of node-1), read through node-2: forwarded over TLS.
    let tenant = cluster.create_tenant(&mut c1).await;
    let got = c2
        .tenants
        .get_tenant(bearer(
            pb::GetTenantRequest {
                tenant_id: tenant.clone(),
                consistency_token: String::new(),
            },
            &cluster.token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.id, tenant);
    // Plaintext is refused.
    let plain = tonic::transport::Channel::from_shared(format!("http://{}", n1.addr))
        .unwrap()
        .connect()
        .await;
    if let Ok(channel) = plain {
        let mut c = Clients::from_channel(channel);
        let result = c
            .tenants
            .get_tenant(bearer(
                pb::GetTenantRequest {
                    tenant_id: tenant.clone(),
                    consistency_token: String::new(),
                },
                &cluster.token,
            ))
            .await;
        assert!(result.is_err(), "plaintext call answered: {result:?}");
    }
    n1.kill9().await;
    n2.kill9().await;
}

/// A node stopped gracefully (SIGTERM) under load hands its shards over before it exits: no
/// command fails beyond UNAVAILABLE answers that a retry (same request id) resolves.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_graceful_stop_under_load_fails_no_command() {
    let cluster = Arc::new(Cluster::new().await);
    let mut nodes = Vec::new();
    let mut clients = Vec::new();
    for id in ["node-1", "node-2", "node-3"] {
        let (node, c) = cluster.node(id).await;
        nodes.push(node);
        clients.push(c);
    }
    cluster
        .balanced(&["node-1", "node-2", "node-3"], Duration::from_secs(30))
        .await;
    let mut tenants = Vec::new();
    for i in 0..60 {
        tenants.push(cluster.create_tenant(&mut clients[i % 3]).await);
    }
    let load = Load::start(cluster.clone(), clients.clone(), tenants, "g");
    load.progress(50).await;

    let stopping = Instant::now();
    let third = nodes.pop().unwrap();
    let status = third.terminate(Duration::from_secs(60)).await;
    println!(
        "node-3 exited ({status}) {:?} after SIGTERM",
        stopping.elapsed()
    );
    assert!(status.success(), "{status}");
    load.targets.lock().unwrap().pop();
    let shares = cluster
        .balanced(&["node-1", "node-2"], Duration::from_secs(15))
        .await;
    println!(
        "after node-3 left: {shares:?} {:?} after SIGTERM",
        stopping.elapsed()
    );
    load.progress(100).await;
    load.finish(&cluster).await;
    for node in nodes {
        node.kill9().await;
    }
}

impl Cluster {
    /// The node holding the shard of `tenant` now (a valid lease).
    async fn owner_of(&self, tenant: &str) -> Option<String> {
        let tenant: engine::domain::TenantId = tenant.parse().unwrap();
        let shard = engine::runtime::shard_of(tenant, SHARDS as u32);
        sqlx::query_scalar(
            "SELECT owner FROM shard_leases WHERE shard = $1 AND expires_at > clock_timestamp()",
        )
        .bind(i32::try_from(shard).unwrap())
        .fetch_optional(&self.pool)
        .await
        .unwrap()
    }

    /// How many events of `event_type` the stream of tenant `tenant` holds.
    async fn tenant_events(&self, tenant: &str, event_type: &str) -> i64 {
        sqlx::query_scalar(
            "SELECT count(*) FROM events WHERE stream_id = $1::uuid AND event_type = $2",
        )
        .bind(tenant)
        .bind(event_type)
        .fetch_one(&self.pool)
        .await
        .unwrap()
    }

    /// Waits (up to `within`) until the stream of `tenant` holds one event of `event_type`.
    async fn await_event(&self, tenant: &str, event_type: &str, within: Duration) {
        let deadline = Instant::now() + within;
        while self.tenant_events(tenant, event_type).await == 0 {
            assert!(
                Instant::now() < deadline,
                "no {event_type} in tenant {tenant} within {within:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Retries `call` on UNAVAILABLE or a broken connection over `clients` in turn (same request).
async fn on_any<T, F, Fut>(clients: &[Clients], mut call: F) -> T
where
    F: FnMut(Clients) -> Fut,
    Fut: std::future::Future<Output = Result<tonic::Response<T>, tonic::Status>>,
{
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut attempt = 0;
    loop {
        match call(clients[attempt % clients.len()].clone()).await {
            Ok(answer) => return answer.into_inner(),
            Err(status) if retryable(&status) && Instant::now() < deadline => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(status) => panic!("{status:?}"),
        }
    }
}

/// The client-cascade saga across nodes: the provisioned tenant's shard is on another node
/// than its parent's; disabling the client suspends it there; the node that runs the step is
/// killed (SIGKILL) right after the client was disabled, and the cascade still ends with
/// exactly one TenantSuspended; re-enabling reactivates the tenant.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_client_cascade_crosses_nodes_and_survives_a_killed_node() {
    use pb::verify_api_key_response::Reason;
    let cluster = Cluster::new().await;
    let names = ["node-1", "node-2", "node-3"];
    let mut nodes = Vec::new();
    let mut clients = Vec::new();
    for id in names {
        let (node, c) = cluster.node(id).await;
        nodes.push(Some(node));
        clients.push(c);
    }
    cluster.balanced(&names, Duration::from_secs(30)).await;
    let token = cluster.token.clone();
    let parent = cluster.create_tenant(&mut clients[0]).await;
    let parent_owner = cluster.owner_of(&parent).await.unwrap();

    // a client whose provisioned tenant lives on another node than the parent
    let (client, tenant) = loop {
        let client = on_any(&clients, |mut c| {
            let request = bearer(
                pb::CreateClientRequest {
                    tenant_id: parent.clone(),
                    name: "Globex".into(),
                    ..Default::default()
                },
                &token,
            );
            async move { c.clients.create_client(request).await }
        })
        .await
        .client
        .unwrap()
        .id;
        let provisioned = on_any(&clients, |mut c| {
            let request = bearer(
                pb::ProvisionClientTenantRequest {
                    options: Some(pb::MutationOptions {
                        request_id: format!("provision-{client}"),
                        expected_version: None,
                    }),
                    tenant_id: parent.clone(),
                    client_id: client.clone(),
                    slug: format!("globex-{}", uuid::Uuid::new_v4().simple()),
                    owner_email: "owner@globex.test".into(),
                    ..Default::default()
                },
                &token,
            );
            async move { c.clients.provision_client_tenant(request).await }
        })
        .await;
        let owner = cluster.owner_of(&provisioned.tenant_id).await.unwrap();
        if owner != parent_owner {
            break (client, provisioned.tenant_id);
        }
    };
    cluster
        .await_event(&tenant, "OnboardingCompleted", Duration::from_secs(30))
        .await;
    let runs_step = cluster.owner_of(&tenant).await.unwrap();
    println!("parent on {parent_owner}, provisioned tenant on {runs_step}");
    // an API key of the provisioned tenant follows its status through the cascade
    let key = provisioned_key(&clients, &token, &tenant).await;
    verdict_everywhere(&clients, &token, &key, Reason::Unspecified).await;

    // disable, then kill the node that runs the step at once
    let survivors: Vec<Clients> = names
        .iter()
        .zip(&clients)
        .filter(|(n, _)| **n != runs_step)
        .map(|(_, c)| c.clone())
        .collect();
    on_any(&survivors, |mut c| {
        let request = bearer(
            pb::DisableClientRequest {
                options: Some(pb::MutationOptions {
                    request_id: format!("disable-{client}"),
                    expected_version: None,
                }),
                tenant_id: parent.clone(),
                client_id: client.clone(),
            },
            &token,
        );
        async move { c.clients.disable_client(request).await }
    })
    .await;
    let victim = names.iter().position(|n| *n == runs_step).unwrap();
    nodes[victim].take().unwrap().kill9().await;
    cluster
        .await_event(&tenant, "TenantSuspended", Duration::from_secs(45))
        .await;
    verdict_everywhere(&survivors, &token, &key, Reason::TenantNotActive).await;

    // re-enable: reactivated, and still one suspension
    on_any(&survivors, |mut c| {
        let request = bearer(
            pb::EnableClientRequest {
                options: Some(pb::MutationOptions {
                    request_id: format!("enable-{client}"),
                    expected_version: None,
                }),
                tenant_id: parent.clone(),
                client_id: client.clone(),
            },
            &token,
        );
        async move { c.clients.enable_client(request).await }
    })
    .await;
    cluster
        .await_event(&tenant, "TenantReactivated", Duration::from_secs(30))
        .await;
    verdict_everywhere(&survivors, &token, &key, Reason::Unspecified).await;
    assert_eq!(cluster.tenant_events(&tenant, "TenantSuspended").await, 1);
    assert_eq!(cluster.tenant_events(&tenant, "TenantCreated").await, 1);
    for node in nodes.into_iter().flatten() {
        node.kill9().await;
    }
}

/// An admin API key of `tenant` on a new partition `prod`, made through any of `clients`.
async fn provisioned_key(clients: &[Clients], token: &str, tenant: &str) -> String {
    let partition = on_any(clients, |mut c| {
        let request = bearer(
            pb::CreatePartitionRequest {
                options: Some(pb::MutationOptions {
                    request_id: format!("partition-of-{tenant}"),
                    expected_version: None,
                }),
                tenant_id: tenant.to_owned(),
                partition: Some(pb::Partition {
                    name: "prod".into(),
                    ..Default::default()
                }),
            },
            token,
        );
        async move { c.partitions.create_partition(request).await }
    })
    .await
    .partition
    .unwrap()
    .id;
    on_any(clients, |mut c| {
        let request = bearer(
            pb::CreateApiKeyRequest {
                tenant_id: tenant.to_owned(),
                partition_id: partition.clone(),
                name: "ci".into(),
                admin: true,
                ..Default::default()
            },
            token,
        );
        async move { c.api_keys.create_api_key(request).await }
    })
    .await
    .key
}

/// VerifyApiKey of `key` through `c`, retried while the tenant's shard moves.
async fn verify_on(c: &Clients, token: &str, key: &str) -> pb::VerifyApiKeyResponse {
    on_any(std::slice::from_ref(c), |mut c| {
        let request = bearer(
            pb::VerifyApiKeyRequest {
                api_key: key.to_owned(),
            },
            token,
        );
        async move { c.api_keys.verify_api_key(request).await }
    })
    .await
}

/// Asserts `key`'s verdict through every node, right after the write that decided it.
async fn verdict_everywhere(
    clients: &[Clients],
    token: &str,
    key: &str,
    expected: pb::verify_api_key_response::Reason,
) {
    for (i, c) in clients.iter().enumerate() {
        let answer = verify_on(c, token, key).await;
        assert_eq!(
            (answer.valid, answer.reason),
            (
                expected == pb::verify_api_key_response::Reason::Unspecified,
                expected as i32
            ),
            "node-{} answered {answer:?}",
            i + 1
        );
    }
}

/// API keys on a cluster: every node verifies any key (the key's tenant names the node that
/// answers), a key authenticates calls through any node, and every cascade — a partition's
/// deletion, a client's deletion, the tenant's suspension, reactivation and deletion — is
/// seen through every node right after its acknowledgement.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn api_keys_are_verified_and_cascade_alike_on_every_node() {
    use pb::verify_api_key_response::Reason;
    let cluster = Cluster::new().await;
    let names = ["node-1", "node-2", "node-3"];
    let mut nodes = Vec::new();
    let mut clients = Vec::new();
    for id in names {
        let (node, c) = cluster.node(id).await;
        nodes.push(node);
        clients.push(c);
    }
    cluster.balanced(&names, Duration::from_secs(30)).await;
    let token = cluster.token.clone();
    let tenant = cluster.create_tenant(&mut clients[0]).await;
    let partition = |name: &'static str, client: String| {
        let request_id = format!("partition-{name}-{client}");
        let message = pb::CreatePartitionRequest {
            options: Some(pb::MutationOptions {
                request_id,
                expected_version: None,
            }),
            tenant_id: tenant.clone(),
            partition: Some(pb::Partition {
                client_id: client,
                name: name.into(),
                ..Default::default()
            }),
        };
        let token = token.clone();
        move |mut c: Clients| {
            let request = bearer(message.clone(), &token);
            async move { c.partitions.create_partition(request).await }
        }
    };
    let prod = on_any(&clients, partition("prod", String::new()))
        .await
        .partition
        .unwrap()
        .id;
    let dev = on_any(&clients, partition("dev", String::new()))
        .await
        .partition
        .unwrap()
        .id;
    let client = on_any(&clients, |mut c| {
        let request = bearer(
            pb::CreateClientRequest {
                tenant_id: tenant.clone(),
                name: "Globex".into(),
                ..Default::default()
            },
            &token,
        );
        async move { c.clients.create_client(request).await }
    })
    .await
    .client
    .unwrap()
    .id;
    let theirs = on_any(&clients, partition("prod", client.clone()))
        .await
        .partition
        .unwrap()
        .id;
    let key_of = |partition: String| {
        let request_id = format!("key-{partition}");
        let message = pb::CreateApiKeyRequest {
            options: Some(pb::MutationOptions {
                request_id,
                expected_version: None,
            }),
            tenant_id: tenant.clone(),
            partition_id: partition,
            name: "ci".into(),
            admin: true,
            ..Default::default()
        };
        let token = token.clone();
        move |mut c: Clients| {
            let request = bearer(message.clone(), &token);
            async move { c.api_keys.create_api_key(request).await }
        }
    };
    let prod_key = on_any(&clients, key_of(prod)).await.key;
    let dev_key = on_any(&clients, key_of(dev.clone())).await.key;
    let client_key = on_any(&clients, key_of(theirs)).await.key;
    verdict_everywhere(&clients, &token, &prod_key, Reason::Unspecified).await;

    // the key is a credential through every node (forwarded to, and verified by, the owner)
    for c in &clients {
        on_any(std::slice::from_ref(c), |mut c| {
            let request = bearer(
                pb::GetTenantRequest {
                    tenant_id: tenant.clone(),
                    ..Default::default()
                },
                &prod_key,
            );
            async move { c.tenants.get_tenant(request).await }
        })
        .await;
    }

    // a partition's deletion, through node-2
    on_any(&clients[1..2], |mut c| {
        let request = bearer(
            pb::DeleteRecordRequest {
                tenant_id: tenant.clone(),
                id: dev.clone(),
                ..Default::default()
            },
            &token,
        );
        async move { c.partitions.delete_partition(request).await }
    })
    .await;
    verdict_everywhere(&clients, &token, &dev_key, Reason::Revoked).await;

    // a client's deletion, through node-3
    on_any(&clients[2..3], |mut c| {
        let request = bearer(
            pb::DeleteClientRequest {
                tenant_id: tenant.clone(),
                client_id: client.clone(),
                ..Default::default()
            },
            &token,
        );
        async move { c.clients.delete_client(request).await }
    })
    .await;
    verdict_everywhere(&clients, &token, &client_key, Reason::Revoked).await;

    // the tenant's suspension and reactivation, through node-1
    let lifecycle = |suspend: bool| {
        let tenant = tenant.clone();
        let token = token.clone();
        move |mut c: Clients| {
            let tenant = tenant.clone();
            let token = token.clone();
            async move {
                if suspend {
                    let request = pb::SuspendTenantRequest {
                        tenant_id: tenant,
                        reason: "unpaid".into(),
                        ..Default::default()
                    };
                    c.tenants.suspend_tenant(bearer(request, &token)).await
                } else {
                    let request = pb::ReactivateTenantRequest {
                        tenant_id: tenant,
                        ..Default::default()
                    };
                    c.tenants.reactivate_tenant(bearer(request, &token)).await
                }
            }
        }
    };
    on_any(&clients[0..1], lifecycle(true)).await;
    verdict_everywhere(&clients, &token, &prod_key, Reason::TenantNotActive).await;
    for c in &clients {
        let mut c = c.clone();
        let refused = loop {
            let request = bearer(
                pb::GetTenantRequest {
                    tenant_id: tenant.clone(),
                    ..Default::default()
                },
                &prod_key,
            );
            match c.tenants.get_tenant(request).await {
                Err(status) if retryable(&status) => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                other => break other.unwrap_err(),
            }
        };
        assert_eq!(refused.code(), Code::Unauthenticated, "{refused:?}");
    }
    on_any(&clients[0..1], lifecycle(false)).await;
    verdict_everywhere(&clients, &token, &prod_key, Reason::Unspecified).await;
    on_any(&clients[1..2], |mut c| {
        let request = bearer(
            pb::DeleteTenantRequest {
                tenant_id: tenant.clone(),
                ..Default::default()
            },
            &token,
        );
        async move { c.tenants.delete_tenant(request).await }
    })
    .await;
    verdict_everywhere(&clients, &token, &prod_key, Reason::TenantNotActive).await;
    for node in nodes {
        node.kill9().await;
    }
}

/// RegisterUser and ResolveRegistration name no tenant: every node finds it from the email's
/// verified domain (or the custom host) in the shared claims and routes the call to the node
/// that holds the tenant's shard; GetUserClaims answers alike on every node.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn registration_by_email_reaches_the_tenant_from_every_node() {
    let cluster = Cluster::new().await;
    let names = ["node-1", "node-2", "node-3"];
    let mut nodes = Vec::new();
    let mut clients = Vec::new();
    for id in names {
        let (node, c) = cluster.node(id).await;
        nodes.push(node);
        clients.push(c);
    }
    cluster.balanced(&names, Duration::from_secs(30)).await;
    let token = cluster.token.clone();
    let tenant = cluster.create_tenant(&mut clients[0]).await;
    for step in ["add", "verify", "configure"] {
        let (tenant, token) = (tenant.clone(), token.clone());
        on_any(&clients, move |mut c| {
            let (tenant, token) = (tenant.clone(), token.clone());
            async move {
                let options = Some(pb::MutationOptions {
                    request_id: format!("registration-{step}"),
                    expected_version: None,
                });
                match step {
                    "configure" => {
                        let request = pb::ConfigureRegistrationRequest {
                            options,
                            tenant_id: tenant,
                            enabled: true,
                            custom_host: "join.clustered.example".into(),
                            ..Default::default()
                        };
                        c.registration
                            .configure_registration(bearer(request, &token))
                            .await
                    }
                    "add" => {
                        let request = pb::AddRegistrationDomainRequest {
                            options,
                            tenant_id: tenant,
                            domain: "clustered.example".into(),
                            ..Default::default()
                        };
                        c.registration
                            .add_registration_domain(bearer(request, &token))
                            .await
                    }
                    _ => {
                        let request = pb::VerifyRegistrationDomainRequest {
                            options,
                            tenant_id: tenant,
                            domain: "clustered.example".into(),
                            manual: true,
                        };
                        c.registration
                            .verify_registration_domain(bearer(request, &token))
                            .await
                    }
                }
            }
        })
        .await;
    }
    for (i, c) in clients.iter().enumerate() {
        let token = token.clone();
        let resolved = on_any(std::slice::from_ref(c), move |mut c| {
            let request = bearer(
                pb::ResolveRegistrationRequest {
                    email: format!("someone{i}@clustered.example"),
                    ..Default::default()
                },
                &token,
            );
            async move { c.registration.resolve_registration(request).await }
        })
        .await;
        assert_eq!(resolved.tenant_id, tenant, "resolved on {}", names[i]);
        let (token, host) = (
            cluster.token.clone(),
            (i % 2 == 1).then_some("join.clustered.example"),
        );
        let user = on_any(std::slice::from_ref(c), move |mut c| {
            let request = bearer(
                pb::RegisterUserRequest {
                    options: Some(pb::MutationOptions {
                        request_id: format!("register-{i}"),
                        expected_version: None,
                    }),
                    email: format!("person{i}@clustered.example"),
                    host: host.unwrap_or_default().into(),
                    ..Default::default()
                },
                &token,
            );
            async move { c.users.register_user(request).await }
        })
        .await
        .user
        .unwrap();
        assert_eq!(user.tenant_id, tenant, "registered through {}", names[i]);
        for other in &clients {
            let (token, tenant, id) = (cluster.token.clone(), tenant.clone(), user.id.clone());
            let claims = on_any(std::slice::from_ref(other), move |mut c| {
                let request = bearer(
                    pb::GetUserClaimsRequest {
                        tenant_id: tenant.clone(),
                        user_id: id.clone(),
                    },
                    &token,
                );
                async move { c.users.get_user_claims(request).await }
            })
            .await;
            assert_eq!(claims.status, pb::UserStatus::Active as i32);
        }
    }
    for node in nodes {
        node.kill9().await;
    }
}

/// GetTenant of `tenant` through `c`.
async fn get_tenant(
    c: &mut Clients,
    token: &str,
    tenant: &str,
) -> Result<pb::Tenant, tonic::Status> {
    c.tenants
        .get_tenant(bearer(
            pb::GetTenantRequest {
                tenant_id: tenant.to_owned(),
                consistency_token: String::new(),
            },
            token,
        ))
        .await
        .map(|r| r.into_inner())
}

/// GetTenant through `c` until it answers (the mesh sessions may still be forming).
async fn eventually_get_tenant(c: &mut Clients, token: &str, tenant: &str, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        match get_tenant(c, token, tenant).await {
            Ok(got) => {
                assert_eq!(got.id, tenant);
                return;
            }
            Err(status) if status.code() == Code::Unavailable && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(status) => panic!("GetTenant {tenant}: {status:?}"),
        }
    }
}

/// The node mesh alone cut (the node keeps PostgreSQL): the cut node keeps its leases and
/// serves its own tenants, reads and writes; a call that needs the other side of the cut is
/// UNAVAILABLE (after the move wait), never another answer; the closed sessions are counted;
/// healed, the sessions come back and every tenant is served through every node again.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_cut_from_its_peers_but_not_from_postgres_serves_its_own_shards() {
    let cluster = Cluster::new().await;
    let mesh_link = proxy::Proxy::start(None).await;
    // node-0 sorts first: node-1 dials it, through the proxy.
    let [(n0, mut c0, t0), (n1, mut c1, t1)] =
        cluster.pair(cluster.db.url(), Some(&mesh_link)).await;
    let token = cluster.token.clone();
    let closed = "entity_mesh_sessions_total{outcome=\"closed\"}";
    let closed_before = metric(&n1, closed).await;
    let peer_calls = metric(&n1, "entity_peer_calls_total{outcome=\"ok\"}").await;
    assert!(
        peer_calls >= 1.0,
        "node-1 reached node-0's tenant over the mesh"
    );

    mesh_link.cut().await;
    // node-0 still holds its shards and serves its own tenant, writes included.
    let org = cluster.create_org(&[c0.clone()], 0, &t0, "cut-1").await;
    assert!(org.is_ok(), "{org:?}");
    get_tenant(&mut c0, &token, &t0).await.unwrap();
    get_tenant(&mut c1, &token, &t1).await.unwrap();
    // Across the cut: UNAVAILABLE (retryable), both ways.
    for (c, tenant) in [(&mut c1, &t0), (&mut c0, &t1)] {
        let refused = get_tenant(c, &token, tenant).await.unwrap_err();
        assert_eq!(refused.code(), Code::Unavailable, "{refused:?}");
    }
    assert_eq!(
        cluster.owner_of(&t0).await.as_deref(),
        Some("node-0"),
        "no takeover"
    );
    assert!(
        metric(&n1, closed).await > closed_before,
        "the dropped session is counted"
    );

    mesh_link.heal();
    eventually_get_tenant(&mut c1, &token, &t0, Duration::from_secs(10)).await;
    eventually_get_tenant(&mut c0, &token, &t1, Duration::from_secs(10)).await;
    n0.kill9().await;
    n1.kill9().await;
}

/// PostgreSQL alone cut (the mesh stays): the cut node stops writing and its shards move to
/// the other node, which serves every tenant; through the cut node, a tenant whose owner it
/// still knows is served over the mesh, any other call is UNAVAILABLE; healed, it takes its
/// share back.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_cut_from_postgres_but_not_from_its_peers_reaches_them_over_the_mesh() {
    let cluster = Cluster::new().await;
    let (db_link, url_via_proxy) = cluster.db_proxy().await;
    let [(n0, mut c0, t0), (n1, mut c1, t1)] = cluster.pair(&url_via_proxy, None).await;
    let token = cluster.token.clone();

    db_link.cut().await;
    cluster.balanced(&["node-1"], Duration::from_secs(20)).await;
    // node-1 serves both tenants.
    get_tenant(&mut c1, &token, &t0).await.unwrap();
    get_tenant(&mut c1, &token, &t1).await.unwrap();
    // node-0, without PostgreSQL, still reaches node-1's tenant over the mesh; its own former
    // tenant is served (if its owner map caught the move before the cut) or UNAVAILABLE.
    get_tenant(&mut c0, &token, &t1).await.unwrap();
    if let Err(status) = get_tenant(&mut c0, &token, &t0).await {
        assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    }

    db_link.heal();
    cluster
        .balanced(&["node-0", "node-1"], Duration::from_secs(40))
        .await;
    eventually_get_tenant(&mut c0, &token, &t0, Duration::from_secs(10)).await;
    eventually_get_tenant(&mut c1, &token, &t0, Duration::from_secs(10)).await;
    n0.kill9().await;
    n1.kill9().await;
}

/// The mesh port refuses what is not a peer: a frame that does not decode, a length prefix
/// over the bound (refused before anything is allocated), a peer with the wrong cookie and a
/// connection that never completes the handshake each close their own session (counted),
/// while a peer with the right cookie gets one; the nodes go on serving each other.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_mesh_refuses_malformed_frames_and_wrong_cookies() {
    use tokio::io::AsyncWriteExt;

    let cluster = Cluster::new().await;
    let (n1, mut c1) = cluster.node("node-1").await;
    let (n2, mut c2) = cluster.node("node-2").await;
    cluster
        .balanced(&["node-1", "node-2"], Duration::from_secs(30))
        .await;
    let token = cluster.token.clone();
    let t1 = cluster.create_tenant(&mut c1).await;
    eventually_get_tenant(&mut c2, &token, &t1, Duration::from_secs(10)).await;
    let mesh: String =
        sqlx::query_scalar("SELECT mesh_address FROM cluster_nodes WHERE node_id = 'node-1'")
            .fetch_one(&cluster.pool)
            .await
            .unwrap();
    let sessions = |event: &str| format!("entity_mesh_sessions_total{{outcome=\"{event}\"}}");
    let closed_before = metric(&n1, &sessions("closed")).await;
    let ready_before = metric(&n1, &sessions("ready")).await;

    // A connection that never says anything: closed at the handshake deadline (5 s).
    let mut silent = tokio::net::TcpStream::connect(&mesh).await.unwrap();
    let silent_since = Instant::now();

    // A frame whose body is not a message, then a length prefix of 1 TiB.
    for frame in [
        [&5u64.to_be_bytes()[..], &[0xff; 5]].concat(),
        (1u64 << 40).to_be_bytes().to_vec(),
    ] {
        let mut raw = tokio::net::TcpStream::connect(&mesh).await.unwrap();
        raw.write_all(&frame).await.unwrap();
        raw.flush().await.unwrap();
        let mut rest = Vec::new();
        let closed = tokio::time::timeout(
            Duration::from_secs(5),
            tokio::io::AsyncReadExt::read_to_end(&mut raw, &mut rest),
        )
        .await;
        assert!(closed.is_ok(), "node-1 closes the connection");
    }

    // A peer with the wrong cookie, then one with the right cookie, from this process.
    let peer = |cookie: String| {
        ractor_cluster::NodeServer::new(
            0,
            cookie,
            "zz-test-peer".into(),
            "localhost".into(),
            None,
            None,
        )
    };
    let (wrong, wrong_handle) =
        ractor::Actor::spawn(None, peer("not-the-cluster-cookie".into()), ())
            .await
            .unwrap();
    ractor_cluster::client_connect(&wrong, mesh.as_str())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let authenticated =
        ractor::call_t!(wrong, ractor_cluster::NodeServerMessage::GetSessions, 1000).unwrap();
    assert!(authenticated.is_empty(), "no session with the wrong cookie");
    wrong.stop(None);
    wrong_handle.await.unwrap();
    // The node counts a session when ractor's supervision sees it end, after the socket.
    metric_reaches(&n1, &sessions("closed"), closed_before + 3.0).await;
    assert_eq!(metric(&n1, &sessions("ready")).await, ready_before);
    let mut nothing = Vec::new();
    let ended = tokio::time::timeout(
        Duration::from_secs(15),
        tokio::io::AsyncReadExt::read_to_end(&mut silent, &mut nothing),
    )
    .await;
    assert!(ended.is_ok(), "a silent connection is closed");
    assert!(
        silent_since.elapsed() >= Duration::from_secs(4),
        "not before the handshake deadline"
    );
    metric_reaches(&n1, &sessions("closed"), closed_before + 4.0).await;

    let cookie = grpc_support::test_cluster_cookie().to_owned();
    let (right, right_handle) = ractor::Actor::spawn(None, peer(cookie), ()).await.unwrap();
    ractor_cluster::client_connect(&right, mesh.as_str())
        .await
        .unwrap();
    metric_reaches(&n1, &sessions("ready"), ready_before + 1.0).await;
    right.stop(None);
    right_handle.await.unwrap();

    // Both nodes still serve each other's tenants.
    let t2 = cluster.create_tenant(&mut c2).await;
    eventually_get_tenant(&mut c1, &token, &t2, Duration::from_secs(10)).await;
    eventually_get_tenant(&mut c2, &token, &t1, Duration::from_secs(10)).await;
    n1.kill9().await;
    n2.kill9().await;
}
