//! Client: a tenant's own customer (seed 001's client, B2B2C), with its business profile and
//! external id. Decided inside the tenant scope: the plan's client count and the external id's
//! uniqueness are tenant-wide facts, and so will be the departments, locations and contacts a
//! client owns.
//!
//! ```text
//!  CreateClient ─▶ active ──DisableClient──▶ disabled ──EnableClient──▶ active
//!                     └──────────DeleteClient (from either)──────────▶ deleted (final)
//! ```
//! A disabled client refuses every change but enabling and deletion.
//!
//! ProvisionClientTenant gives an active client a business tenant of its own (at most one),
//! created by the client-cascade saga ([`super::saga`]) with a link back to this tenant and
//! client; the client's disabling, enabling and deletion then cascade to that tenant. The
//! events that cascade name the provisioned tenant, so the saga needs nothing but the event.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{
    ids::{ClientId, TenantId},
    tenant::{BusinessProfile, OnboardingPlan, Plan},
};

/// The tenant ProvisionClientTenant creates for a client (ids chosen by the gateway).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvisionedTenant {
    /// The new tenant's id.
    pub tenant_id: TenantId,
    /// Its platform-unique slug.
    pub slug: String,
    /// Its plan.
    pub plan: Plan,
    /// Its onboarding: default organization and owner (the owner's invitation token is issued
    /// by the gateway, shown once to the caller, and carried as its hash).
    pub onboarding: OnboardingPlan,
}

/// Lifecycle status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientStatus {
    /// Normal operation.
    Active,
    /// Blocked: refuses changes but enabling and deletion.
    Disabled,
    /// Deleted (tombstone, final).
    Deleted,
}

/// A client's current state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Client {
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// Id.
    pub id: ClientId,
    /// Display name.
    pub name: String,
    /// Id in an external system (CRM, billing); unique among the tenant's live clients when
    /// set.
    pub external_id: String,
    /// Business profile (the tenant's fields).
    pub business_profile: Option<BusinessProfile>,
    /// Status.
    pub status: ClientStatus,
    /// The tenant provisioned for this client, if any.
    pub provisioned_tenant_id: Option<TenantId>,
    /// Event sequence number of the client's stream.
    pub version: i64,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Time of the last change.
    pub updated_at: DateTime<Utc>,
}

/// Commands on clients.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClientCommand {
    /// Create a client (counts against the plan's clients).
    Create {
        /// Id chosen by the gateway (UUIDv7).
        id: ClientId,
        /// Name (1-200 chars).
        name: String,
        /// External id (≤ 200 chars, may be empty).
        external_id: String,
        /// Business profile.
        business_profile: Option<BusinessProfile>,
    },
    /// Change fields (`Some` ones; the field mask, resolved by the gateway).
    Update {
        /// Target.
        id: ClientId,
        /// New name.
        name: Option<String>,
        /// New external id.
        external_id: Option<String>,
        /// New business profile (`Some(None)` clears it).
        business_profile: Option<Option<BusinessProfile>>,
    },
    /// Block the client.
    Disable {
        /// Target.
        id: ClientId,
    },
    /// Unblock the client.
    Enable {
        /// Target.
        id: ClientId,
    },
    /// Delete the client (final).
    Delete {
        /// Target.
        id: ClientId,
    },
    /// Provision a tenant of the client's own (an active client without one).
    ProvisionTenant {
        /// Target.
        id: ClientId,
        /// What to create.
        tenant: ProvisionedTenant,
    },
    /// Issued by the client-cascade saga when the provisioned tenant could not be created:
    /// the link is dropped (a no-op unless the client still names that tenant).
    RecordProvisioningFailure {
        /// Target.
        id: ClientId,
        /// The tenant that was not created.
        tenant_id: TenantId,
        /// Why.
        reason: String,
    },
}

impl ClientCommand {
    /// The client the command is about.
    pub fn target(&self) -> ClientId {
        match self {
            ClientCommand::Create { id, .. }
            | ClientCommand::Update { id, .. }
            | ClientCommand::Disable { id }
            | ClientCommand::Enable { id }
            | ClientCommand::Delete { id }
            | ClientCommand::ProvisionTenant { id, .. }
            | ClientCommand::RecordProvisioningFailure { id, .. } => *id,
        }
    }
}

/// Events of a client's stream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ClientEvent {
    /// Created.
    ClientCreated {
        /// Id.
        id: ClientId,
        /// Name.
        name: String,
        /// External id.
        external_id: String,
        /// Business profile.
        business_profile: Option<BusinessProfile>,
    },
    /// Some fields changed (only the changed ones are `Some`).
    ClientUpdated {
        /// Id.
        id: ClientId,
        /// New name.
        name: Option<String>,
        /// New external id.
        external_id: Option<String>,
        /// New business profile (`Some(None)` cleared it).
        #[serde(flatten, with = "super::profile_change")]
        business_profile: Option<Option<BusinessProfile>>,
    },
    /// Disabled (its provisioned tenant is suspended by the saga).
    ClientDisabled {
        /// Id.
        id: ClientId,
        /// The client's provisioned tenant at the time.
        #[serde(default)]
        provisioned_tenant_id: Option<TenantId>,
    },
    /// Enabled again (its provisioned tenant is reactivated by the saga).
    ClientEnabled {
        /// Id.
        id: ClientId,
        /// The client's provisioned tenant at the time.
        #[serde(default)]
        provisioned_tenant_id: Option<TenantId>,
    },
    /// Deleted (its provisioned tenant is deleted by the saga).
    ClientDeleted {
        /// Id.
        id: ClientId,
        /// The client's provisioned tenant at the time.
        #[serde(default)]
        provisioned_tenant_id: Option<TenantId>,
    },
    /// A tenant of the client's own was asked for (the saga creates it).
    ClientTenantProvisioned {
        /// Id.
        id: ClientId,
        /// What to create.
        tenant: ProvisionedTenant,
        /// The tenant's name (the client's).
        name: String,
        /// The tenant's business profile (the client's).
        business_profile: Option<BusinessProfile>,
    },
    /// The provisioned tenant could not be created; the client names none again.
    ClientTenantProvisioningFailed {
        /// Id.
        id: ClientId,
        /// The tenant that was not created.
        tenant_id: TenantId,
        /// Why.
        reason: String,
    },
}

impl ClientEvent {
    /// The client whose stream the event belongs to.
    pub fn client_id(&self) -> ClientId {
        match self {
            ClientEvent::ClientCreated { id, .. }
            | ClientEvent::ClientUpdated { id, .. }
            | ClientEvent::ClientDisabled { id, .. }
            | ClientEvent::ClientEnabled { id, .. }
            | ClientEvent::ClientDeleted { id, .. }
            | ClientEvent::ClientTenantProvisioned { id, .. }
            | ClientEvent::ClientTenantProvisioningFailed { id, .. } => *id,
        }
    }

    /// The event's type name as stored in the journal.
    pub fn event_type(&self) -> &'static str {
        match self {
            ClientEvent::ClientCreated { .. } => "ClientCreated",
            ClientEvent::ClientUpdated { .. } => "ClientUpdated",
            ClientEvent::ClientDisabled { .. } => "ClientDisabled",
            ClientEvent::ClientEnabled { .. } => "ClientEnabled",
            ClientEvent::ClientDeleted { .. } => "ClientDeleted",
            ClientEvent::ClientTenantProvisioned { .. } => "ClientTenantProvisioned",
            ClientEvent::ClientTenantProvisioningFailed { .. } => "ClientTenantProvisioningFailed",
        }
    }
}
