//! The query API over the read models: list and search with keyset pages and consistency
//! tokens. What the gateway's List/search RPCs call.
//!
//! Every query takes an optional [`CommitToken`] (the consistency token of a write). With one,
//! the query first waits until every projection it reads has passed that write (bounded by
//! [`ReadModels::with_consistency_timeout`], 5 s by default), and answers
//! [`Error::Unavailable`] naming the lag if it has not: the answer then reflects at least that
//! write. Without one, it answers from the read models as they are.
//!
//! Waiting uses the local runner when there is one ([`ReadModels::with_projections`]: woken
//! by each commit, and it nudges the runner to look at the tail at once), then confirms with
//! the stored checkpoint (one key lookup; a rebuild started by another process resets it
//! before the local runner notices); without a local runner it polls the
//! `projection_checkpoints` table, which works on a node that does not run the projections.
//!
//! The audit trail reads the journal itself, so any token is already satisfied there.

mod analytics;
mod audit;
pub(crate) mod decode;
mod lists;
mod page;
pub(crate) mod params;
mod search;
mod statements;
mod types;

use std::time::Duration;

use engine::journal::CommitToken;
use tokio::time::Instant;

pub use analytics::{
    ANALYTICS_SCAN_WINDOW, AnalyticsChange, AnalyticsFilter, AnalyticsKind, AnalyticsPage,
    COMMIT_SKEW, ChangeOperation, MAX_ANALYTICS_PAGE,
};
pub use page::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page, PageRequest};
pub use search::{EntryKind, MAX_FILTER_VALUES, SearchFilter, SearchHit, SearchScope};
pub use types::{
    AuditFilter, AuditSelection, ClientFilter, MatchMode, OrganizationEntry, OrganizationFilter,
    OrganizationSelection, OwnerFilter, RecordFilter, RoleAssignmentEntry, RoleAssignmentFilter,
    TeamEntry, TeamFilter, TeamMemberEntry, TeamMemberFilter, TenantEntry, TenantFilter, UserEntry,
    UserFilter,
};

use crate::{Error, ProjectionHandle, Result, store::ReadStore};

/// Default bound on waiting for a consistency token.
pub const DEFAULT_CONSISTENCY_TIMEOUT: Duration = Duration::from_secs(5);

/// Read-model queries. Cheap to clone.
#[derive(Clone, Debug)]
pub struct ReadModels {
    store: ReadStore,
    projections: Option<ProjectionHandle>,
    consistency_timeout: Duration,
}

impl ReadModels {
    /// Queries on `store`; consistency waits poll the checkpoint table.
    pub fn new(store: ReadStore) -> Self {
        Self {
            store,
            projections: None,
            consistency_timeout: DEFAULT_CONSISTENCY_TIMEOUT,
        }
    }

    /// Waits on the projections running in this process instead of polling (faster, and it
    /// wakes an idle runner at once).
    pub fn with_projections(mut self, projections: ProjectionHandle) -> Self {
        self.projections = Some(projections);
        self
    }

    /// Sets how long a query waits for its consistency token.
    pub fn with_consistency_timeout(mut self, timeout: Duration) -> Self {
        self.consistency_timeout = timeout;
        self
    }

    /// The store queried.
    pub fn store(&self) -> &ReadStore {
        &self.store
    }

    /// Waits until every projection in `names` has passed `token` (no-op without one).
    ///
    /// # Errors
    /// [`Error::Unavailable`] when one has not within the consistency timeout.
    pub async fn ensure_consistent(
        &self,
        names: &[&str],
        token: Option<CommitToken>,
    ) -> Result<()> {
        let Some(token) = token else {
            return Ok(());
        };
        let deadline = Instant::now() + self.consistency_timeout;
        for name in names {
            let left = deadline.saturating_duration_since(Instant::now());
            match &self.projections {
                Some(local) if local.names().iter().any(|n| n == name) => {
                    local.wait_for(name, token, left).await?;
                    // The stored checkpoint has the last word: another process may have reset
                    // it for a rebuild that the local runner has not noticed yet.
                    self.poll_checkpoint(name, token, deadline).await?;
                }
                _ => self.poll_checkpoint(name, token, deadline).await?,
            }
        }
        Ok(())
    }

    /// Polls the stored checkpoint of `name` until it passes `token` or `deadline`.
    async fn poll_checkpoint(
        &self,
        name: &str,
        token: CommitToken,
        deadline: Instant,
    ) -> Result<()> {
        let mut delay = Duration::from_millis(5);
        loop {
            let at = self.store.checkpoint(name).await?;
            if at.is_some_and(|at| at >= token) {
                return Ok(());
            }
            let now = Instant::now();
            if now >= deadline {
                let at = at.map_or_else(|| "never run".to_owned(), |at| at.to_string());
                return Err(Error::Unavailable(format!(
                    "read model {name} has not reached consistency token {token} within {} ms \
                     (it is at {at}); retry later",
                    self.consistency_timeout.as_millis()
                )));
            }
            tokio::time::sleep(delay.min(deadline - now)).await;
            delay = (delay * 2).min(Duration::from_millis(50));
        }
    }
}
