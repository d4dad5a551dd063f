//! The pure domain: deciders and state for every entity. No I/O, no clock, no randomness:
//! everything from outside arrives in [`Context`] or in the command itself.
//!
//! Use [`TenantScope::decide`] to turn a command into events (or a typed [`DomainError`]) and
//! [`TenantScope::apply`] to fold events into state.

mod access;
mod api_key;
pub mod classification;
mod client;
mod context;
mod directory;
mod error;
mod ids;
mod organization;
mod profile_change;
mod registration;
mod role;
pub mod saga;
mod secret_hash;
mod small_set;
pub(crate) mod static_name;
mod stream;
mod team;
mod tenant;
mod tenant_scope;
mod user;
pub mod validation;

#[cfg(test)]
mod tests;

pub use access::{
    Assignment, BuiltinRole, Decision, EffectivePermission, Grants, PermissionPattern,
    PermissionSyntaxError, Scope,
};
pub use api_key::{
    ApiKey, ApiKeyCommand, ApiKeyEvent, DEFAULT_ROTATION_OVERLAP_SECONDS, KeyExpiry, KeyIssuer,
    KeyRefusal, KeyScopes, KeySecret, MAX_LIVE_KEYS_PER_PARTITION, Revocation,
};
pub use client::{Client, ClientCommand, ClientEvent, ClientStatus, ProvisionedTenant};
pub use context::Context;
pub use directory::{
    CONTACT_TYPES, Contact, DEFAULT_PARTITION_NAME, Department, Location, PARTITION_NAMES,
    Partition, PartitionGroup, Record, RecordCommand, RecordEvent, RecordFields, RecordKind,
    RecordOwner, default_partition_id, headquarters_at, headquarters_id,
};
pub use error::{DomainError, FieldViolation, ResourceKind};
pub use ids::{ApiKeyId, ClientId, OrganizationId, RecordId, RoleId, TeamId, TenantId, UserId};
pub use organization::{
    MAX_DEPTH, Organization, OrganizationCommand, OrganizationEvent, OrganizationStatus,
};
pub use registration::{
    CLAIMS_SYNC_BATCH, ClaimsCause, ClaimsSync, DEFAULT_SESSION_EXPIRATION_SECONDS, DomainProof,
    DomainVerification, MAX_AUTO_ROLES, MAX_REGISTRATION_DOMAINS, REGISTRATION_DOMAIN_NAMESPACE,
    REGISTRATION_HOST_NAMESPACE, RegistrationCommand, RegistrationDomain, RegistrationSettings,
    TXT_RECORD_PREFIX, UserClaims, VerificationMethod,
};
pub use role::{MAX_CUSTOM_ROLES, RoleCommand, RoleDefinition, RoleEvent, RoleStatus};
pub use secret_hash::SecretHash;
pub use small_set::SmallSet;
pub use stream::{StreamId, StreamKind, claims_stream_id, claims_stream_user};
pub use team::{Team, TeamCommand, TeamEvent, TeamRole, TeamStatus};
pub use tenant::{
    Address, BootstrapKey, BusinessProfile, CreateTenant, DeactivationFeedback, Onboarding,
    OnboardingPlan, Plan, PlanLimits, Tenant, TenantCommand, TenantEvent, TenantKind, TenantParent,
    TenantSettings, TenantStatus, UpdateTenant,
};
pub use tenant_scope::{
    DEFAULT_ORGANIZATION_NAME, Effect, GRACE_PERIOD_TIMER, INVITATION_TIMER_PREFIX, OnboardingStep,
    PersonalField, PersonalSlot, SealValue, SealedUsers, TENANT_SLUG_NAMESPACE, TenantScope,
    TenantScopeCommand, TenantScopeEvent, invitation_timer,
};
pub use user::{
    DEFAULT_INVITATION_DAYS, INVITATION_DAYS, Invitation, InvitationState, User, UserCommand,
    UserEvent, UserStatus,
};
