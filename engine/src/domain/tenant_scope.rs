//! The tenant scope: one tenant with its organizations, decided as one unit.
//!
//! Every organization rule is tenant-wide (sibling-name uniqueness, forest shape and depth,
//! the plan's organization count, the tenant's lifecycle gate), so one serialization point
//! decides them all: the tenant's actor holds this state. Each entity still has its own
//! event stream and version; a command may emit events on several streams (a cascade delete),
//! which the journal appends in one transaction.

mod evolve;
mod organization_decisions;
mod tenant_decisions;
mod tree;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{
    context::Context,
    error::DomainError,
    ids::{OrganizationId, TenantId},
    organization::{Organization, OrganizationCommand, OrganizationEvent},
    stream::{StreamId, StreamKind},
    tenant::{Tenant, TenantCommand, TenantEvent},
};

/// A command addressed to a tenant scope.
#[allow(
    clippy::large_enum_variant,
    reason = "built once per request and moved, never stored in bulk; boxing would change the public type"
)]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TenantScopeCommand {
    /// About the tenant itself.
    Tenant(TenantCommand),
    /// About one of its organizations.
    Organization(OrganizationCommand),
}

impl TenantScopeCommand {
    /// The stream whose version `expected_version` and the reply refer to.
    pub fn target_stream(&self, tenant_id: TenantId) -> StreamId {
        match self {
            TenantScopeCommand::Tenant(_) => StreamId::new(StreamKind::Tenant, tenant_id.0),
            TenantScopeCommand::Organization(c) => {
                StreamId::new(StreamKind::Organization, c.target().0)
            }
        }
    }
}

/// An event of a tenant scope (on the tenant's stream or an organization's).
#[allow(
    clippy::large_enum_variant,
    reason = "built once per request and moved, never stored in bulk; boxing would change the public type"
)]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TenantScopeEvent {
    /// On the tenant stream.
    Tenant(TenantEvent),
    /// On an organization stream.
    Organization(OrganizationEvent),
}

/// Side effects the runtime carries out atomically with the events that imply them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Reserve `key` in `namespace` platform-wide (e.g. a tenant slug); the append fails if taken.
    ClaimUnique {
        /// Namespace, e.g. `tenant-slug`.
        namespace: &'static str,
        /// The unique key.
        key: String,
    },
    /// Schedule (or move) the tenant's timer of this kind.
    SetTimer {
        /// Timer kind, e.g. `grace-period`.
        kind: &'static str,
        /// When it fires.
        due_at: DateTime<Utc>,
    },
    /// Cancel the tenant's timer of this kind.
    ClearTimer {
        /// Timer kind.
        kind: &'static str,
    },
}

/// Timer kind that deletes a deactivated tenant when its grace period ends.
pub const GRACE_PERIOD_TIMER: &str = "grace-period";
/// Unique-claim namespace of tenant slugs.
pub const TENANT_SLUG_NAMESPACE: &str = "tenant-slug";

impl TenantScopeEvent {
    /// The stream this event is appended to.
    pub fn stream(&self, tenant_id: TenantId) -> StreamId {
        match self {
            TenantScopeEvent::Tenant(_) => StreamId::new(StreamKind::Tenant, tenant_id.0),
            TenantScopeEvent::Organization(e) => {
                StreamId::new(StreamKind::Organization, e.organization_id().0)
            }
        }
    }

    /// Type name stored in the journal.
    pub fn event_type(&self) -> &'static str {
        match self {
            TenantScopeEvent::Tenant(e) => e.event_type(),
            TenantScopeEvent::Organization(e) => e.event_type(),
        }
    }

    /// Current payload schema version.
    pub const SCHEMA_VERSION: i32 = 1;

    /// Rebuilds an event from its stored form; older schema versions are upcast here.
    pub fn from_stored(
        kind: StreamKind,
        _schema_version: i32,
        payload: serde_json::Value,
    ) -> Result<Self, serde_json::Error> {
        match kind {
            StreamKind::Tenant => serde_json::from_value(payload).map(TenantScopeEvent::Tenant),
            StreamKind::Organization => {
                serde_json::from_value(payload).map(TenantScopeEvent::Organization)
            }
        }
    }

    /// The effects that must commit together with this event.
    pub fn effects(&self) -> Vec<Effect> {
        match self {
            TenantScopeEvent::Tenant(TenantEvent::TenantCreated { slug, .. }) => {
                vec![Effect::ClaimUnique {
                    namespace: TENANT_SLUG_NAMESPACE,
                    key: slug.clone(),
                }]
            }
            TenantScopeEvent::Tenant(TenantEvent::TenantDeactivated {
                grace_period_ends_at,
                ..
            }) => vec![Effect::SetTimer {
                kind: GRACE_PERIOD_TIMER,
                due_at: *grace_period_ends_at,
            }],
            TenantScopeEvent::Tenant(
                TenantEvent::TenantReactivated | TenantEvent::TenantDeleted { .. },
            ) => vec![Effect::ClearTimer {
                kind: GRACE_PERIOD_TIMER,
            }],
            _ => Vec::new(),
        }
    }
}

/// State of one tenant scope: the tenant (once created) and all its organizations
/// (deleted ones kept as tombstones).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantScope {
    tenant_id: TenantId,
    tenant: Option<Tenant>,
    organizations: BTreeMap<OrganizationId, Organization>,
}

impl TenantScope {
    /// The empty scope of a tenant that does not exist yet.
    pub fn new(tenant_id: TenantId) -> Self {
        Self {
            tenant_id,
            tenant: None,
            organizations: BTreeMap::new(),
        }
    }

    /// The scope's tenant id.
    pub fn tenant_id(&self) -> TenantId {
        self.tenant_id
    }

    /// The tenant, once created.
    pub fn tenant(&self) -> Option<&Tenant> {
        self.tenant.as_ref()
    }

    /// An organization, deleted ones included.
    pub fn organization(&self, id: OrganizationId) -> Option<&Organization> {
        self.organizations.get(&id)
    }

    /// All organizations, deleted ones included, by id.
    pub fn organizations(&self) -> impl Iterator<Item = &Organization> {
        self.organizations.values()
    }

    /// Version of a stream of this scope (0 when it has no events).
    pub fn version_of(&self, stream: StreamId) -> i64 {
        match stream.kind {
            StreamKind::Tenant if stream.id == self.tenant_id.0 => {
                self.tenant.as_ref().map_or(0, |t| t.version)
            }
            StreamKind::Organization => self
                .organizations
                .get(&OrganizationId(stream.id))
                .map_or(0, |o| o.version),
            StreamKind::Tenant => 0,
        }
    }

    /// Depth of a live organization (1 for a root); `None` if unknown or deleted.
    pub fn depth_of(&self, id: OrganizationId) -> Option<usize> {
        self.live_depth(id)
    }

    /// Decides a command: the events it causes (empty when it changes nothing), or why not.
    ///
    /// Pure: the state is not touched, so a refusal changes nothing. Apply the returned events
    /// in order with [`TenantScope::apply`]. A cascade delete returns one event per deleted
    /// organization (deepest first, the target last), each on its own stream.
    ///
    /// # Errors
    ///
    /// Checked in this order, the first failing check wins:
    /// 1. no tenant yet: [`DomainError::NotFound`] (tenant) for everything but CreateTenant;
    /// 2. the tenant's status gate: [`DomainError::TenantDeleted`],
    ///    [`DomainError::TenantSuspended`] or [`DomainError::TenantDeactivated`]
    ///    (ExpireGracePeriod is never gated: it is a no-op wherever it does not apply);
    /// 3. input rules: one [`DomainError::Invalid`] listing every bad field (CreateTenant on an
    ///    existing tenant is [`DomainError::AlreadyExists`] whatever its input);
    /// 4. the command's state rules: [`DomainError::AlreadyExists`], [`DomainError::NotFound`]
    ///    (organization), [`DomainError::HierarchyCycle`], [`DomainError::HierarchyTooDeep`],
    ///    [`DomainError::PlanLimitExceeded`], [`DomainError::InvalidState`]
    ///    (`TENANT_ALREADY_ACTIVE`, `GRACE_PERIOD_ENDED`, `HAS_CHILDREN`).
    pub fn decide(
        &self,
        command: &TenantScopeCommand,
        ctx: &Context,
    ) -> Result<Vec<TenantScopeEvent>, DomainError> {
        match command {
            TenantScopeCommand::Tenant(c) => self.decide_tenant(c, ctx),
            TenantScopeCommand::Organization(c) => self.decide_organization(c, ctx),
        }
    }

    /// Applies one event that happened at `at`. Never fails: events are facts.
    ///
    /// Bumps the version of the event's own stream by one and stamps `updated_at` (and
    /// `created_at` on creation) with `at`.
    pub fn apply(&mut self, event: &TenantScopeEvent, at: DateTime<Utc>) {
        evolve::apply(self, event, at);
    }
}
