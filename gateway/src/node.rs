//! One node's moving parts, started and stopped together: the [`Engine`] (commands and point
//! reads), the [`ProjectionService`] (read models built from the journal tail) and the
//! [`ReadModels`] queries the List RPCs answer from. Both backends work the same way.

use std::sync::Arc;

use engine::{
    journal::{Journal, postgres::PostgresJournal, sqlite::SqliteJournal, tail::JournalTail},
    runtime::{Engine, EngineConfig},
};
use projections::{
    Projection, ProjectionHandle, ProjectionService, ReadModels, ReadStore, RunnerConfig,
    standard_projections,
};

use crate::error::Result;

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
                (shared.clone(), shared, ReadStore::postgres(journal))
            }
            Storage::Sqlite(journal) => {
                let shared = Arc::new(journal.clone());
                (shared.clone(), shared, ReadStore::sqlite(journal))
            }
        }
    }

    /// The read store on this storage (for operator commands that run beside a node).
    pub fn read_store(&self) -> ReadStore {
        self.parts().2
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
}

/// A running node: engine, projections and read-model queries.
pub struct Node {
    engine: Engine,
    projections: ProjectionService,
    reads: ReadModels,
}

impl Node {
    /// Starts the engine and the projections on `storage`.
    ///
    /// # Errors
    /// When the engine or the projections cannot start (store unreachable).
    pub async fn start(storage: &Storage, options: NodeOptions) -> Result<Node> {
        let (journal, tail, read_store) = storage.parts();
        let engine = Engine::start(journal, options.engine).await?;
        let mut all = standard_projections();
        all.extend(options.extra_projections);
        let projections =
            match ProjectionService::start(read_store.clone(), tail, all, options.runner).await {
                Ok(service) => service,
                Err(error) => {
                    engine.shutdown().await;
                    return Err(error.into());
                }
            };
        let reads = ReadModels::new(read_store).with_projections(projections.handle());
        Ok(Node {
            engine,
            projections,
            reads,
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

    /// The projections' status and rebuild handle.
    pub fn projections(&self) -> ProjectionHandle {
        self.projections.handle()
    }

    /// Stops the engine (in-flight commands finish), then the projections (the batch in
    /// flight commits or rolls back whole).
    pub async fn shutdown(self) {
        self.engine.shutdown().await;
        self.projections.stop().await;
    }
}
