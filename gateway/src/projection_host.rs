//! Where a node's projections run: always on a single node; on a cluster node only while it
//! leads the `projections` role (one node of the cluster, moving when nodes come and go), so
//! that the read models are applied, and the Kafka publisher publishes, from one place.

use std::{
    sync::{Arc, Mutex, RwLock},
    time::Duration,
};

use engine::{journal::tail::JournalTail, personal::Vault};
use projections::{
    Projection, ProjectionHandle, ProjectionService, ProjectionStatus, ReadStore, RunnerConfig,
};
use tokio::task::JoinHandle;

use crate::error::Result;

/// The role name of the projections in a cluster.
pub const PROJECTIONS_ROLE: &str = "projections";

/// How often a cluster node checks whether it should run the projections.
const CHECK_EVERY: Duration = Duration::from_millis(500);

/// Events counted behind a checkpoint at most in a status computed from the store.
const BEHIND_CAP: i64 = 1_000_000;

/// A node's projections, running or not.
pub struct ProjectionHost {
    store: ReadStore,
    tail: Arc<dyn JournalTail>,
    vault: Arc<Vault>,
    projections: Vec<Arc<dyn Projection>>,
    runner: RunnerConfig,
    running: tokio::sync::Mutex<Option<ProjectionService>>,
    handle: RwLock<Option<ProjectionHandle>>,
    supervisor: Mutex<Option<JoinHandle<()>>>,
}

impl ProjectionHost {
    /// A host of `projections` on `store`, not running yet; `vault` opens the personal values
    /// of the events they read.
    pub(crate) fn new(
        store: ReadStore,
        tail: Arc<dyn JournalTail>,
        vault: Arc<Vault>,
        projections: Vec<Arc<dyn Projection>>,
        runner: RunnerConfig,
    ) -> Arc<Self> {
        Arc::new(Self {
            store,
            tail,
            vault,
            projections,
            runner,
            running: tokio::sync::Mutex::new(None),
            handle: RwLock::new(None),
            supervisor: Mutex::new(None),
        })
    }

    /// Starts the projections now.
    ///
    /// # Errors
    /// When the store is unreachable.
    pub(crate) async fn run(&self) -> Result<()> {
        let mut running = self.running.lock().await;
        if running.is_none() {
            let service = ProjectionService::start(
                self.store.clone(),
                self.tail.clone(),
                self.vault.clone(),
                self.projections.clone(),
                self.runner.clone(),
            )
            .await?;
            if let Ok(mut handle) = self.handle.write() {
                *handle = Some(service.handle());
            }
            *running = Some(service);
        }
        Ok(())
    }

    /// Stops the projections (the batch in flight commits or rolls back whole).
    pub(crate) async fn halt(&self) {
        let service = self.running.lock().await.take();
        if let Ok(mut handle) = self.handle.write() {
            *handle = None;
        }
        if let Some(service) = service {
            service.stop().await;
        }
    }

    /// Runs the projections exactly while `leads()` says so, checking twice a second.
    pub(crate) fn follow(self: &Arc<Self>, leads: impl Fn() -> bool + Send + Sync + 'static) {
        let host = Arc::downgrade(self);
        let task = tokio::spawn(async move {
            loop {
                let Some(this) = host.upgrade() else { return };
                let running = this.handle().is_some();
                match (leads(), running) {
                    (true, false) => match this.run().await {
                        Ok(()) => tracing::info!("this node now runs the projections"),
                        Err(error) => {
                            tracing::warn!(%error, "cannot start the projections; retrying");
                        }
                    },
                    (false, true) => {
                        this.halt().await;
                        tracing::info!("another node runs the projections now");
                    }
                    _ => {}
                }
                drop(this);
                tokio::time::sleep(CHECK_EVERY).await;
            }
        });
        if let Ok(mut slot) = self.supervisor.lock() {
            *slot = Some(task);
        }
    }

    /// Stops following and halts.
    pub(crate) async fn shutdown(&self) {
        if let Ok(mut slot) = self.supervisor.lock()
            && let Some(task) = slot.take()
        {
            task.abort();
        }
        self.halt().await;
    }

    /// The running projections' handle (`None` while another node runs them).
    pub fn handle(&self) -> Option<ProjectionHandle> {
        self.handle.read().ok().and_then(|h| h.clone())
    }

    /// The status of every projection: from the running service here, else from the store
    /// (checkpoints and lag; failure counters live on the node that runs them).
    ///
    /// # Errors
    /// Store errors of the latter.
    pub async fn status(&self) -> projections::Result<Vec<ProjectionStatus>> {
        match self.handle() {
            Some(handle) => Ok(handle.status().await),
            None => {
                let names: Vec<&str> = self.projections.iter().map(|p| p.name()).collect();
                projections::stored_status(&self.store, self.tail.as_ref(), &names, BEHIND_CAP)
                    .await
            }
        }
    }

    /// The saga outbox's pending steps.
    ///
    /// # Errors
    /// Store errors.
    pub async fn saga_outbox(&self) -> projections::Result<projections::saga::OutboxStatus> {
        projections::saga::outbox_status(&self.store).await
    }

    /// Rebuilds `name` from zero: through the running service here, else by resetting its
    /// rows and checkpoint in the store (the node that runs it notices and rebuilds).
    ///
    /// # Errors
    /// [`projections::Error::UnknownProjection`]; store errors.
    pub async fn rebuild(&self, name: &str) -> projections::Result<()> {
        if let Some(handle) = self.handle() {
            return handle.rebuild(name).await;
        }
        projections::reset_named(&self.store, &self.projections, name).await
    }
}
