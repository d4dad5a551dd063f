//! Tenant: the isolation boundary. State, commands, events and plan entitlements.
//!
//! Lifecycle (SPEC §2):
//! ```text
//!            Suspend               Deactivate(grace)         Delete / grace ends
//!   active ──────────▶ suspended ───────────────▶ deactivated ─────────────────▶ deleted (final)
//!     ▲  ◀──────────── Reactivate                   │   ▲
//!     │                                             │   │ Deactivate (from active)
//!     └──────────── Reactivate (before grace end) ◀─┘
//! ```
//! A suspended or deactivated tenant refuses every command but reads, reactivation and deletion.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{
    SecretHash,
    access::Assignment,
    classification::{
        Classified, IndustryGroup, IndustrySector, LegalForm, SizeRange, SocialProfile,
    },
    ids::{ClientId, OrganizationId, TenantId, UserId},
    registration::{ClaimsSync, RegistrationSettings, VerificationMethod},
};

/// Commercial plan; decides the entitlements of SPEC §3.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Plan {
    /// Smallest plan.
    Bronze,
    /// Middle plan.
    Silver,
    /// Largest plan.
    Gold,
}

/// What a plan allows. `None` means unlimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlanLimits {
    /// Live organizations at most.
    pub max_organizations: Option<u64>,
    /// Whether teams are available at all.
    pub teams_available: bool,
    /// Invitations per calendar month at most.
    pub invitations_per_month: Option<u64>,
    /// Live (active or disabled) clients at most.
    pub max_clients: Option<u64>,
    /// Requests per second per tenant.
    pub requests_per_second: u32,
}

impl Plan {
    /// The plan's entitlements (SPEC §3).
    pub fn limits(self) -> PlanLimits {
        match self {
            Plan::Bronze => PlanLimits {
                max_organizations: Some(1),
                teams_available: false,
                invitations_per_month: Some(10),
                max_clients: Some(10),
                requests_per_second: 50,
            },
            Plan::Silver => PlanLimits {
                max_organizations: Some(10),
                teams_available: true,
                invitations_per_month: Some(100),
                max_clients: Some(250),
                requests_per_second: 500,
            },
            Plan::Gold => PlanLimits {
                max_organizations: None,
                teams_available: true,
                invitations_per_month: None,
                max_clients: None,
                requests_per_second: 5_000,
            },
        }
    }
}

/// Business or consumer tenant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TenantKind {
    /// A company; has a business profile.
    Business,
    /// A consumer-facing tenant.
    Consumer,
}

/// Lifecycle status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TenantStatus {
    /// Normal operation.
    Active,
    /// Temporarily blocked; reads, reactivation and deletion only.
    Suspended,
    /// In its grace period before deletion.
    Deactivated,
    /// Final.
    Deleted,
}

/// Per-tenant settings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantSettings {
    /// Session lifetime for the tenant's users; `None` = platform default.
    pub session_expiration_seconds: Option<i64>,
}

/// Postal address.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    /// First line.
    pub line1: String,
    /// Second line.
    pub line2: String,
    /// City.
    pub city: String,
    /// Region or state.
    pub region: String,
    /// Postal code.
    pub postal_code: String,
    /// ISO 3166-1 alpha-2 country code ("US" when not given).
    pub country: String,
}

/// Customer record of a business tenant (SPEC §5.6).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessProfile {
    /// Registered legal name.
    pub legal_name: String,
    /// GICS sector.
    pub industry_sector: Classified<IndustrySector>,
    /// GICS industry group (within the sector, when both are given).
    pub industry_group: Classified<IndustryGroup>,
    /// Legal form.
    pub legal_form: Classified<LegalForm>,
    /// Size range by employees.
    pub size_range: Classified<SizeRange>,
    /// Id in an external system.
    pub external_id: String,
    /// http(s) URL of the logo.
    pub logo_url: String,
    /// Links to social profiles, at most one per platform.
    pub social_profiles: Vec<SocialProfile>,
    /// Headquarters address.
    pub address: Option<Address>,
}

/// Why a tenant left (given with DeactivateTenant).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeactivationFeedback {
    /// Machine-readable reason code.
    pub reason_code: String,
    /// Free text.
    pub text: String,
    /// 0-10 recommendation score.
    pub recommendation_score: Option<i32>,
    /// Free-form context.
    pub context: String,
    /// Who asked for the deactivation.
    pub requested_by: String,
}

/// What onboarding creates, fixed at CreateTenant (ids chosen by the gateway).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnboardingPlan {
    /// Id of the default organization.
    pub default_organization_id: OrganizationId,
    /// Id of the owner's user.
    pub owner_user_id: UserId,
    /// The owner's email (invited with `tenant-owner`).
    pub owner_email: String,
    /// Hex SHA-256 of the owner's invitation token when the caller issued it (a provisioned
    /// tenant: the token was shown to whoever provisioned it); `None`: the engine issues one
    /// during onboarding.
    #[serde(default)]
    pub owner_token_hash: Option<SecretHash>,
}

/// Where a provisioned tenant comes from: the tenant and client it was provisioned for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantParent {
    /// The parent tenant.
    pub tenant_id: TenantId,
    /// The parent tenant's client this tenant belongs to.
    pub client_id: ClientId,
}

/// A tenant's onboarding saga.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Onboarding {
    /// What it creates.
    pub plan: OnboardingPlan,
    /// Whether OnboardingCompleted was recorded.
    pub completed: bool,
}

/// A tenant's current state, as rebuilt from its events.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    /// Id.
    pub id: TenantId,
    /// Display name.
    pub name: String,
    /// Platform-unique slug.
    pub slug: String,
    /// Business or consumer.
    pub kind: TenantKind,
    /// Current plan.
    pub plan: Plan,
    /// Lifecycle status.
    pub status: TenantStatus,
    /// Settings.
    pub settings: TenantSettings,
    /// Products the tenant uses.
    pub products: Vec<String>,
    /// Business profile (business tenants).
    pub business_profile: Option<BusinessProfile>,
    /// Why it is suspended (while suspended).
    pub suspension_reason: Option<String>,
    /// When the engine deletes it (while deactivated).
    pub grace_period_ends_at: Option<DateTime<Utc>>,
    /// Feedback given with the last deactivation.
    pub deactivation_feedback: Option<DeactivationFeedback>,
    /// The onboarding saga (from OnboardingStarted).
    pub onboarding: Option<Onboarding>,
    /// When every person of the (deleted) tenant was erased.
    #[serde(default)]
    pub erased_at: Option<DateTime<Utc>>,
    /// The tenant and client it was provisioned for, if any.
    #[serde(default)]
    pub parent: Option<TenantParent>,
    /// Self-registration settings and domains.
    #[serde(default)]
    pub registration: RegistrationSettings,
    /// A tenant-wide claims re-synchronisation under way (after a products or session change).
    #[serde(default)]
    pub claims_sync: Option<ClaimsSync>,
    /// Event sequence number of the tenant stream.
    pub version: i64,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Time of the last change.
    pub updated_at: DateTime<Utc>,
}

/// CreateTenant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateTenant {
    /// Id chosen by the caller of the domain (the gateway generates a UUIDv7).
    pub id: TenantId,
    /// Display name.
    pub name: String,
    /// Slug, `[a-z0-9-]{3,63}`.
    pub slug: String,
    /// Kind.
    pub kind: TenantKind,
    /// Plan.
    pub plan: Plan,
    /// Settings.
    pub settings: TenantSettings,
    /// Products.
    pub products: Vec<String>,
    /// Business profile.
    pub business_profile: Option<BusinessProfile>,
    /// The default organization and the owner to invite (the onboarding saga).
    pub onboarding: OnboardingPlan,
    /// A bootstrap admin key to issue on the tenant's `default` partition, created with the
    /// tenant (seed 001 feature 15): its id and secret hash, drawn by the gateway, which shows
    /// the key once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bootstrap_key: Option<BootstrapKey>,
    /// The tenant and client it is provisioned for (set by the client-cascade saga only).
    #[serde(default)]
    pub parent: Option<TenantParent>,
}

/// The bootstrap key of a new tenant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BootstrapKey {
    /// The key's id.
    pub id: crate::domain::ApiKeyId,
    /// Its hash and hint.
    pub secret: crate::domain::KeySecret,
}

/// UpdateTenant: `Some` fields change (the field mask, resolved by the gateway).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateTenant {
    /// New name.
    pub name: Option<String>,
    /// New settings.
    pub settings: Option<TenantSettings>,
    /// New product list.
    pub products: Option<Vec<String>>,
    /// New business profile (`Some(None)` clears it).
    pub business_profile: Option<Option<BusinessProfile>>,
}

/// Commands on the tenant itself.
#[allow(
    clippy::large_enum_variant,
    reason = "built once per request and moved, never stored in bulk; boxing would change the public type"
)]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TenantCommand {
    /// Create the tenant.
    Create(CreateTenant),
    /// Change name/settings/products/profile.
    Update(UpdateTenant),
    /// Move to another plan (downgrades block new consumption only).
    ChangePlan {
        /// Target plan.
        plan: Plan,
    },
    /// Block the tenant.
    Suspend {
        /// Why (required).
        reason: String,
    },
    /// Back to active from suspended, or from deactivated before the grace period ends.
    Reactivate,
    /// Start the grace period before deletion.
    Deactivate {
        /// When the engine deletes the tenant; must be in the future.
        grace_period_ends_at: DateTime<Utc>,
        /// Why the customer left.
        feedback: DeactivationFeedback,
    },
    /// Delete now (final).
    Delete,
    /// Issued by the engine's timer: delete if the grace period has ended; otherwise nothing.
    ExpireGracePeriod,
    /// Issued by the runtime when the onboarding saga's other steps are done.
    CompleteOnboarding,
    /// Erase every person of a deleted tenant (GDPR): all its keys are destroyed. A no-op once
    /// erased.
    Erase,
}

/// Events of the tenant stream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum TenantEvent {
    /// The tenant was created.
    TenantCreated {
        /// Id.
        id: TenantId,
        /// Name.
        name: String,
        /// Slug.
        slug: String,
        /// Kind.
        kind: TenantKind,
        /// Plan.
        plan: Plan,
        /// Settings.
        settings: TenantSettings,
        /// Products.
        products: Vec<String>,
        /// Business profile.
        business_profile: Option<BusinessProfile>,
        /// The tenant and client it was provisioned for.
        #[serde(default)]
        parent: Option<TenantParent>,
    },
    /// Some fields changed (only the changed ones are `Some`).
    TenantUpdated {
        /// New name.
        name: Option<String>,
        /// New settings.
        settings: Option<TenantSettings>,
        /// New products.
        products: Option<Vec<String>>,
        /// New business profile (`Some(None)` cleared it).
        #[serde(flatten, with = "super::profile_change")]
        business_profile: Option<Option<BusinessProfile>>,
    },
    /// The plan changed.
    TenantPlanChanged {
        /// Old plan.
        from: Plan,
        /// New plan.
        to: Plan,
    },
    /// The tenant was suspended.
    TenantSuspended {
        /// Why.
        reason: String,
    },
    /// The tenant is active again.
    TenantReactivated,
    /// The grace period started.
    TenantDeactivated {
        /// When it ends.
        grace_period_ends_at: DateTime<Utc>,
        /// Feedback.
        feedback: DeactivationFeedback,
    },
    /// The onboarding saga started (recorded with TenantCreated).
    OnboardingStarted {
        /// What it creates.
        plan: OnboardingPlan,
    },
    /// The onboarding saga finished.
    OnboardingCompleted,
    /// The tenant was deleted.
    TenantDeleted {
        /// True when the engine deleted it because its grace period ended.
        grace_period_expired: bool,
    },
    /// Every person of the (deleted) tenant was erased: all its keys are destroyed with this
    /// event.
    TenantErased,
    /// Registration was opened or closed, or its automatic roles changed.
    RegistrationConfigured {
        /// Open or closed.
        enabled: bool,
        /// Roles granted at registration.
        auto_roles: Vec<Assignment>,
    },
    /// The custom registration host changed (the old one is released, the new one claimed).
    RegistrationHostChanged {
        /// The host before.
        from: Option<String>,
        /// The host now.
        to: Option<String>,
    },
    /// A registration domain was added, pending verification.
    RegistrationDomainAdded {
        /// The domain.
        domain: String,
        /// The client its people register into.
        client_id: Option<ClientId>,
        /// The token its TXT record must carry.
        txt_token: String,
    },
    /// A registration domain was verified (and claimed platform-wide).
    RegistrationDomainVerified {
        /// The domain.
        domain: String,
        /// How.
        method: VerificationMethod,
    },
    /// A registration domain was removed (its claim released).
    RegistrationDomainRemoved {
        /// The domain.
        domain: String,
    },
    /// A claims re-synchronisation ended with no user left to tell (the users after its last
    /// batch were deactivated meanwhile); a batch that reaches the last user ends it itself.
    ClaimsResyncEnded,
}

impl TenantEvent {
    /// The event's type name as stored in the journal (`TenantCreated`, …).
    pub fn event_type(&self) -> &'static str {
        match self {
            TenantEvent::TenantCreated { .. } => "TenantCreated",
            TenantEvent::TenantUpdated { .. } => "TenantUpdated",
            TenantEvent::TenantPlanChanged { .. } => "TenantPlanChanged",
            TenantEvent::TenantSuspended { .. } => "TenantSuspended",
            TenantEvent::TenantReactivated => "TenantReactivated",
            TenantEvent::TenantDeactivated { .. } => "TenantDeactivated",
            TenantEvent::TenantDeleted { .. } => "TenantDeleted",
            TenantEvent::OnboardingStarted { .. } => "OnboardingStarted",
            TenantEvent::OnboardingCompleted => "OnboardingCompleted",
            TenantEvent::TenantErased => "TenantErased",
            TenantEvent::RegistrationConfigured { .. } => "RegistrationConfigured",
            TenantEvent::RegistrationHostChanged { .. } => "RegistrationHostChanged",
            TenantEvent::RegistrationDomainAdded { .. } => "RegistrationDomainAdded",
            TenantEvent::RegistrationDomainVerified { .. } => "RegistrationDomainVerified",
            TenantEvent::RegistrationDomainRemoved { .. } => "RegistrationDomainRemoved",
            TenantEvent::ClaimsResyncEnded => "ClaimsResyncEnded",
        }
    }
}
