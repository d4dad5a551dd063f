//! One node's moving parts, started and stopped together: the [`Engine`] (commands and point
//! reads), the [`ProjectionService`] (read models built from the journal tail) and the
//! [`ReadModels`] queries the List RPCs answer from. Both backends work the same way.
//!
//! A cluster node (PostgreSQL only, [`ClusterOptions`]) also runs a [`ShardKeeper`] (its
//! membership and shard leases; the engine fences every append with them) and a [`Mesh`]
//! (its sessions with the other nodes: the engine's calls for tenants of other nodes' shards
//! go to those nodes over it). On shutdown it hands its shards over before the engine stops.

use std::{sync::Arc, time::Duration};

use cluster::{
    KeeperConfig, ShardKeeper,
    mesh::{Mesh, MeshConfig},
};

use engine::{
    journal::{Journal, postgres::PostgresJournal, sqlite::SqliteJournal, tail::JournalTail},
    runtime::{Engine, EngineConfig},
};
use projections::{
    KafkaPublisher, Projection, ReadModels, ReadStore, RunnerConfig,
    saga::{DispatcherConfig, SagaDispatcher},
    standard_projections,
};

use crate::{
    error::{GatewayError, Result},
    projection_host::{PROJECTIONS_ROLE, ProjectionHost},
};

/// How long a leaving node waits for its shards to be taken over.
const HAND_OVER_TIMEOUT: Duration = Duration::from_secs(30);

/// What makes a node a cluster member.
#[derive(Clone, Debug)]
pub struct ClusterOptions {
    /// Stable id of this node.
    pub node_id: String,
    /// Where the other nodes reach this node's gRPC API (`host:port`).
    pub advertise_address: String,
    /// The node mesh: how this node's engine reaches the others.
    pub mesh: MeshConfig,
}

/// The store a node runs on.
#[derive(Clone, Debug)]
pub enum Storage {
    /// PostgreSQL (`entityd serve`, the tests that matter).
    Postgres(PostgresJournal),
    /// The embedded SQLite file (`entityd` without arguments).
    Sqlite(SqliteJournal),
}

impl Storage {
    /// The journal, the gap-safe tail and the read store on this storage.
    fn parts(&self) -> (Arc<dyn Journal>, Arc<dyn JournalTail>, ReadStore) {
        match self {
            Storage::Postgres(journal) => {
                let shared = Arc::new(journal.clone());
                (shared.clone(), shared, self.read_store())
            }
            Storage::Sqlite(journal) => {
                let shared = Arc::new(journal.clone());
                (shared.clone(), shared, self.read_store())
            }
        }
    }

    /// The read store on this storage (for operator commands that run beside a node).
    pub fn read_store(&self) -> ReadStore {
        match self {
            Storage::Postgres(journal) => ReadStore::postgres(journal),
            Storage::Sqlite(journal) => ReadStore::sqlite(journal),
        }
    }
}

/// What a node runs besides the engine.
#[derive(Clone, Default)]
pub struct NodeOptions {
    /// Engine tuning.
    pub engine: EngineConfig,
    /// Projection runner tuning.
    pub runner: RunnerConfig,
    /// Projections run besides the standard read models (e.g. the Kafka publisher).
    pub extra_projections: Vec<Arc<dyn Projection>>,
    /// Join a cluster (PostgreSQL only); `None` runs a single node owning every shard.
    pub cluster: Option<ClusterOptions>,
    /// Publish every event to Kafka (a projection; its counters show in the node status).
    pub kafka: Option<Arc<KafkaPublisher>>,
    /// Saga dispatcher tuning.
    pub sagas: DispatcherConfig,
    /// Where registration domains' TXT records are looked up; `None`: the system's DNS.
    pub txt_resolver: Option<Arc<dyn crate::dns::TxtResolver>>,
}

/// A cluster node's membership and mesh.
struct Member {
    keeper: Arc<ShardKeeper>,
    mesh: Arc<Mesh>,
}

/// A running node: engine, projections and read-model queries.
pub struct Node {
    engine: Engine,
    projections: Arc<ProjectionHost>,
    reads: ReadModels,
    member: Option<Member>,
    kafka: Option<Arc<KafkaPublisher>>,
    resolver: Arc<dyn crate::dns::TxtResolver>,
    /// Runs the saga steps whose target tenant this node serves.
    sagas: tokio::task::JoinHandle<()>,
}

impl Node {
    /// Starts the engine and the projections on `storage`.
    ///
    /// # Errors
    /// When the engine or the projections cannot start (store unreachable).
    pub async fn start(storage: &Storage, mut options: NodeOptions) -> Result<Node> {
        let (journal, tail, read_store) = storage.parts();
        let keeper = match (&options.cluster, storage) {
            (None, _) => None,
            (Some(cluster), Storage::Postgres(pg)) => {
                let config = KeeperConfig {
                    metrics: options.engine.metrics.clone(),
                    ..KeeperConfig::new(
                        &cluster.node_id,
                        &cluster.advertise_address,
                        options.engine.shard_count,
                    )
                };
                let keeper = ShardKeeper::start(pg.pool().clone(), config)
                    .await
                    .map_err(|e| GatewayError::Config(e.to_string()))?;
                let metrics = options.engine.metrics.clone();
                let mesh = Mesh::start(pg.pool().clone(), cluster.mesh.clone(), metrics)
                    .await
                    .map_err(|e| GatewayError::Config(e.to_string()))?;
                options.engine.leases = Some(keeper.clone());
                options.engine.peers = Some(mesh.clone());
                Some((keeper, mesh))
            }
            (Some(_), Storage::Sqlite(_)) => {
                return Err(GatewayError::Config(
                    "a cluster needs PostgreSQL; the embedded store runs one node".into(),
                ));
            }
        };
        let engine = Engine::start(journal.clone(), options.engine).await?;
        let sagas = SagaDispatcher::new(
            read_store.clone(),
            engine.clone(),
            journal,
            engine.vault(),
            options.sagas,
        )
        .spawn();
        let member = match keeper {
            Some((keeper, mesh)) => {
                mesh.serve(engine.clone());
                let passivate = engine.clone();
                keeper.on_release(Arc::new(move |shard| {
                    let engine = passivate.clone();
                    Box::pin(async move {
                        if let Err(error) = engine.passivate_shard(shard).await {
                            tracing::warn!(shard, %error, "shard handed over before passivating");
                        }
                    })
                }));
                Some(Member { keeper, mesh })
            }
            _ => None,
        };
        let mut all = standard_projections();
        all.extend(options.extra_projections);
        if let Some(kafka) = &options.kafka {
            all.push(kafka.clone());
        }
        let projections = ProjectionHost::new(
            read_store.clone(),
            tail,
            engine.vault(),
            all,
            options.runner,
        );
        let reads = match &member {
            // One node of the cluster runs the projections: wait on the stored checkpoints.
            Some(member) => {
                let keeper = member.keeper.clone();
                projections.follow(move || keeper.leads(PROJECTIONS_ROLE));
                ReadModels::new(read_store)
            }
            None => {
                if let Err(error) = projections.run().await {
                    sagas.abort();
                    engine.shutdown().await;
                    return Err(error);
                }
                let handle = projections.handle();
                let reads = ReadModels::new(read_store);
                match handle {
                    Some(handle) => reads.with_projections(handle),
                    None => reads,
                }
            }
        };
        Ok(Node {
            engine,
            projections,
            reads,
            member,
            kafka: options.kafka,
            resolver: options
                .txt_resolver
                .unwrap_or_else(|| Arc::new(crate::dns::SystemResolver::default())),
            sagas,
        })
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The read-model queries.
    pub fn reads(&self) -> &ReadModels {
        &self.reads
    }

    /// This node's projections (running here on a single node, or on the cluster node that
    /// leads them).
    pub fn projections(&self) -> Arc<ProjectionHost> {
        self.projections.clone()
    }

    /// The Kafka publisher, when configured.
    pub fn kafka(&self) -> Option<Arc<KafkaPublisher>> {
        self.kafka.clone()
    }

    /// Where registration domains' TXT records are looked up.
    pub fn resolver(&self) -> Arc<dyn crate::dns::TxtResolver> {
        self.resolver.clone()
    }

    /// A cluster node's membership and leases (`None` on a single node).
    pub fn keeper(&self) -> Option<Arc<ShardKeeper>> {
        self.member.as_ref().map(|m| m.keeper.clone())
    }

    /// The node mesh of a cluster node (`None` on a single node).
    pub fn mesh(&self) -> Option<Arc<Mesh>> {
        self.member.as_ref().map(|m| m.mesh.clone())
    }

    /// Hands a cluster node's shards over, then stops the engine (in-flight commands finish),
    /// then the projections (the batch in flight commits or rolls back whole).
    pub async fn shutdown(self) {
        if let Some(member) = &self.member
            && let Err(error) = member.keeper.leave(HAND_OVER_TIMEOUT).await
        {
            tracing::warn!(%error, "could not leave the cluster cleanly; leases will expire");
        }
        self.sagas.abort();
        self.engine.shutdown().await;
        if let Some(member) = &self.member {
            member.mesh.stop();
        }
        self.projections.shutdown().await;
    }
}
