//! Projections: read models built from the gap-safe journal tail, and the List/search queries
//! over them (SPEC §4 reads, DESIGN §6).
//!
//! Which piece to use:
//! - Run the read models: [`ProjectionService::start`] with a [`ReadStore`], a
//!   [`JournalTail`](engine::journal::tail::JournalTail) (both from the journal the node runs
//!   on), the node's [`Vault`](engine::personal::Vault) (which opens personal values: read
//!   models and the Kafka publisher see plaintext, or "" once erased) and
//!   [`standard_projections`]. Stop with [`ProjectionService::stop`].
//! - Serve List/search RPCs: [`ReadModels`] (from the same store,
//!   [`with_projections`](ReadModels::with_projections) when the runner is in this process).
//!   Every query takes an optional consistency token and then reflects at least that write,
//!   or answers [`Error::Unavailable`].
//! - Operate: [`ProjectionHandle::status`] (lag in events and milliseconds, failures),
//!   [`ProjectionHandle::rebuild`] (from zero, while the service runs), or [`reset`] when the
//!   runner lives in another process.
//! - Write a new read model: implement [`Projection`]; its writes and checkpoint commit in one
//!   transaction ([`Tx`]).
//!
//! The projection logic and its SQL are backend-neutral: one text per statement for both
//! stores (`sql.rs` isolates how they differ), the queries in `query/sql/`, and the tables in
//! `migrations/*/0002_read_models.sql` (and `*_clients.sql`, `*_records.sql`).

mod error;
pub mod kafka;
mod models;
mod projection;
mod query;
mod runner;
pub mod saga;
mod sql;
mod store;

pub use error::{Error, Result};
pub use kafka::{KafkaConfig, KafkaMetrics, KafkaPublisher};
pub use models::SearchProjection;
pub use models::{AnalyticsProjection, AuditProjection};
pub use models::{
    ClientsProjection, OrganizationsProjection, RecordsProjection, RoleAssignmentsProjection,
    TeamsProjection, TenantDirectoryProjection, UsersProjection, names, standard_projections,
};
pub use projection::{Envelope, Projection};
pub use query::{
    ANALYTICS_SCAN_WINDOW, AnalyticsChange, AnalyticsFilter, AnalyticsKind, AnalyticsPage,
    COMMIT_SKEW, ChangeOperation, MAX_ANALYTICS_PAGE,
};
pub use query::{
    AuditFilter, AuditSelection, ClientFilter, DEFAULT_CONSISTENCY_TIMEOUT, DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE, MatchMode, OrganizationEntry, OrganizationFilter, OrganizationSelection,
    OwnerFilter, Page, PageRequest, ReadModels, RecordFilter, RoleAssignmentEntry,
    RoleAssignmentFilter, TeamEntry, TeamFilter, TeamMemberEntry, TeamMemberFilter, TenantEntry,
    TenantFilter, UserEntry, UserFilter,
};
pub use query::{EntryKind, MAX_FILTER_VALUES, SearchFilter, SearchHit, SearchScope};
pub use runner::{
    ProjectionHandle, ProjectionService, ProjectionStatus, RunnerConfig, reset, reset_named,
    stored_status,
};
pub use store::{Connection, ReadStore, Tx};
