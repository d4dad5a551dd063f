//! The single-node actor runtime: one shard region per node, one shard actor per shard, one
//! entity actor per live tenant scope. [`Engine`] is the handle callers use.

use std::{sync::Arc, time::Duration};

use crate::{
    Result,
    domain::{Organization, OrganizationId, Tenant, TenantId, TenantScopeCommand},
    journal::{AuditActor, CommitToken, GroupCommitConfig, Journal},
};

/// Runtime tuning. Defaults suit one node of the 2-core reference machine.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Number of shards (fixed for the life of a cluster).
    pub shard_count: u32,
    /// An entity actor idle this long is passivated.
    pub idle_timeout: Duration,
    /// Live entity actors per shard at most; the least recently used is passivated beyond it.
    pub max_active_per_shard: usize,
    /// Take a snapshot after this many events since the last one.
    pub snapshot_every: u32,
    /// Entity recoveries running at once on the node (no thundering herd after a restart).
    pub recovery_concurrency: usize,
    /// How often due timers (grace periods) are looked for.
    pub timer_poll_interval: Duration,
    /// Commands in flight per shard before new ones are refused with `Overloaded`.
    pub max_in_flight_per_shard: usize,
    /// How long a caller waits for an entity's answer.
    pub ask_timeout: Duration,
    /// Group-commit writer tuning.
    pub group_commit: GroupCommitConfig,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            shard_count: 256,
            idle_timeout: Duration::from_secs(300),
            max_active_per_shard: 4096,
            snapshot_every: 100,
            recovery_concurrency: 16,
            timer_poll_interval: Duration::from_secs(5),
            max_in_flight_per_shard: 1024,
            ask_timeout: Duration::from_secs(10),
            group_commit: GroupCommitConfig::default(),
        }
    }
}

/// Per-request information that travels with a command into the journal.
#[derive(Clone, Debug, Default)]
pub struct RequestMeta {
    /// Idempotency key.
    pub request_id: Option<String>,
    /// Optimistic concurrency check on the target entity.
    pub expected_version: Option<i64>,
    /// Who is calling (audit).
    pub actor: AuditActor,
    /// Trace id for the audit trail.
    pub trace_id: Option<String>,
}

/// The entity a command targeted, as it is after the command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntityView {
    /// A tenant.
    Tenant(Tenant),
    /// An organization.
    Organization(Organization),
}

/// The answer to an accepted command.
#[derive(Clone, Debug)]
pub struct CommandOutcome {
    /// The target entity after the command.
    pub view: EntityView,
    /// The target entity's version after the command.
    pub version: i64,
    /// Names the write (or, when nothing was written, the entity's latest write).
    pub token: CommitToken,
    /// True when this answers a retried `request_id`.
    pub replayed: bool,
}

/// Handle to a running node runtime. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    _journal: Arc<dyn Journal>,
}

impl Engine {
    /// Starts the runtime on `journal`.
    pub async fn start(journal: Arc<dyn Journal>, config: EngineConfig) -> Result<Self> {
        let _ = config;
        Ok(Self { _journal: journal })
    }

    /// Runs a command on its tenant's actor; resolves after its events are committed.
    pub async fn execute(
        &self,
        tenant_id: TenantId,
        command: TenantScopeCommand,
        meta: RequestMeta,
    ) -> Result<CommandOutcome> {
        let _ = (tenant_id, command, meta);
        unimplemented!("runtime in progress")
    }

    /// The tenant (any status), or `NotFound`.
    pub async fn get_tenant(&self, tenant_id: TenantId) -> Result<Tenant> {
        let _ = tenant_id;
        unimplemented!("runtime in progress")
    }

    /// An organization of the tenant (deleted ones too), or `NotFound`.
    pub async fn get_organization(
        &self,
        tenant_id: TenantId,
        organization_id: OrganizationId,
    ) -> Result<Organization> {
        let _ = (tenant_id, organization_id);
        unimplemented!("runtime in progress")
    }

    /// Live organizations of the tenant (only children of `parent` when given), by id.
    pub async fn list_organizations(
        &self,
        tenant_id: TenantId,
        parent: Option<OrganizationId>,
    ) -> Result<Vec<Organization>> {
        let _ = (tenant_id, parent);
        unimplemented!("runtime in progress")
    }

    /// Stops accepting work, passivates every entity (saving snapshots) and stops the writer.
    pub async fn shutdown(&self) {}
}
