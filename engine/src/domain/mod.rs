//! The pure domain: deciders and state for every entity. No I/O, no clock, no randomness:
//! everything from outside arrives in [`Context`] or in the command itself.
//!
//! Use [`TenantScope::decide`] to turn a command into events (or a typed [`DomainError`]) and
//! [`TenantScope::apply`] to fold events into state.

mod context;
mod error;
mod ids;
mod organization;
mod stream;
mod tenant;
mod tenant_scope;
pub mod validation;

#[cfg(test)]
mod tests;

pub use context::Context;
pub use error::{DomainError, FieldViolation, ResourceKind};
pub use ids::{OrganizationId, TenantId};
pub use organization::{
    MAX_DEPTH, Organization, OrganizationCommand, OrganizationEvent, OrganizationStatus,
};
pub use stream::{StreamId, StreamKind};
pub use tenant::{
    Address, BusinessProfile, CreateTenant, DeactivationFeedback, Plan, PlanLimits, Tenant,
    TenantCommand, TenantEvent, TenantKind, TenantSettings, TenantStatus, UpdateTenant,
};
pub use tenant_scope::{
    Effect, GRACE_PERIOD_TIMER, TENANT_SLUG_NAMESPACE, TenantScope, TenantScopeCommand,
    TenantScopeEvent,
};
