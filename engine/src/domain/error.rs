//! Typed refusals of the domain. Each maps to one gRPC status and one stable reason.

use thiserror::Error;

use super::{static_name::StableName, tenant::Plan};

/// One invalid input field: the field's path (as named in the command) and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FieldViolation {
    /// Dotted path of the field, e.g. `name` or `settings.session_expiration_seconds`.
    pub field: String,
    /// Human-readable explanation.
    pub description: String,
}

impl FieldViolation {
    /// Builds a violation.
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            description: description.into(),
        }
    }
}

/// The kind of resource a refusal is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ResourceKind {
    /// A tenant.
    Tenant,
    /// An organization.
    Organization,
    /// A team.
    Team,
    /// A user.
    User,
    /// A role (built-in or custom).
    Role,
    /// A pending invitation.
    Invitation,
    /// A client of a tenant.
    Client,
    /// A department of a tenant or client.
    Department,
    /// A location of a tenant or client.
    Location,
    /// A contact of a tenant or client.
    Contact,
    /// A data partition of a tenant or client.
    Partition,
    /// A partition group of a tenant or client.
    PartitionGroup,
    /// An API key of a partition.
    ApiKey,
    /// A tenant's registration domain.
    RegistrationDomain,
}

impl ResourceKind {
    /// Lower-case name used in messages and error metadata.
    pub fn as_str(&self) -> &'static str {
        match self {
            ResourceKind::Tenant => "tenant",
            ResourceKind::Organization => "organization",
            ResourceKind::Team => "team",
            ResourceKind::User => "user",
            ResourceKind::Role => "role",
            ResourceKind::Invitation => "invitation",
            ResourceKind::Client => "client",
            ResourceKind::Department => "department",
            ResourceKind::Location => "location",
            ResourceKind::Contact => "contact",
            ResourceKind::Partition => "partition",
            ResourceKind::PartitionGroup => "partition_group",
            ResourceKind::ApiKey => "api_key",
            ResourceKind::RegistrationDomain => "registration_domain",
        }
    }
}

/// Why the domain refused a command. Never a fault: the state is unchanged.
#[derive(Clone, Debug, PartialEq, Eq, Error, serde::Serialize, serde::Deserialize)]
pub enum DomainError {
    /// Input is malformed (INVALID_ARGUMENT with BadRequest field violations).
    #[error("invalid argument: {}", describe(.0))]
    Invalid(Vec<FieldViolation>),
    /// The resource does not exist, or is deleted (NOT_FOUND).
    #[error("{} {id} not found", .resource.as_str())]
    NotFound {
        /// What was looked for.
        resource: ResourceKind,
        /// The id asked for.
        id: String,
    },
    /// A uniqueness rule refused it (ALREADY_EXISTS).
    #[error("{} with {field} {value:?} already exists", .resource.as_str())]
    AlreadyExists {
        /// Kind of the resource that would clash.
        resource: ResourceKind,
        /// The unique field (`id`, `slug`, `name`).
        #[serde(deserialize_with = "super::static_name::read")]
        field: StableName,
        /// The clashing value.
        value: String,
    },
    /// The move would put an organization under itself or a descendant (FAILED_PRECONDITION).
    #[error("moving organization {organization} under {new_parent} would create a cycle")]
    HierarchyCycle {
        /// The organization being moved.
        organization: String,
        /// The requested parent.
        new_parent: String,
    },
    /// The change would make the organization tree deeper than allowed (FAILED_PRECONDITION).
    #[error("organization hierarchy would be {depth} levels deep; at most {max} allowed")]
    HierarchyTooDeep {
        /// Resulting depth.
        depth: usize,
        /// Allowed depth.
        max: usize,
    },
    /// The tenant's plan does not allow more (FAILED_PRECONDITION).
    #[error("plan limit exceeded: {limit} (plan {plan:?} allows {allowed})")]
    PlanLimitExceeded {
        /// Which limit: `organizations`, `teams`, `invitations_per_month`.
        #[serde(deserialize_with = "super::static_name::read")]
        limit: StableName,
        /// The tenant's plan.
        plan: Plan,
        /// How many the plan allows (0 = not available on the plan).
        allowed: u64,
    },
    /// The tenant is suspended and the command is not a read, reactivation or deletion.
    #[error("tenant is suspended")]
    TenantSuspended,
    /// The tenant is deactivated (grace period) and the command is not a read, reactivation or deletion.
    #[error("tenant is deactivated")]
    TenantDeactivated,
    /// The tenant is deleted; nothing may change any more.
    #[error("tenant is deleted")]
    TenantDeleted,
    /// The command does not apply in the entity's current state (FAILED_PRECONDITION).
    #[error("{message}")]
    InvalidState {
        /// Stable reason code, e.g. `TENANT_NOT_SUSPENDED`, `GRACE_PERIOD_ENDED`, `HAS_CHILDREN`.
        #[serde(deserialize_with = "super::static_name::read")]
        reason: StableName,
        /// Human-readable explanation.
        message: String,
    },
}

impl DomainError {
    /// Stable machine-readable reason for `google.rpc.ErrorInfo`.
    pub fn reason(&self) -> &'static str {
        match self {
            DomainError::Invalid(_) => "INVALID_ARGUMENT",
            DomainError::NotFound { .. } => "NOT_FOUND",
            DomainError::AlreadyExists { .. } => "ALREADY_EXISTS",
            DomainError::HierarchyCycle { .. } => "HIERARCHY_CYCLE",
            DomainError::HierarchyTooDeep { .. } => "HIERARCHY_TOO_DEEP",
            DomainError::PlanLimitExceeded { .. } => "PLAN_LIMIT_EXCEEDED",
            DomainError::TenantSuspended => "TENANT_SUSPENDED",
            DomainError::TenantDeactivated => "TENANT_DEACTIVATED",
            DomainError::TenantDeleted => "TENANT_DELETED",
            DomainError::InvalidState { reason, .. } => reason,
        }
    }

    /// Shorthand for a single-field [`DomainError::Invalid`].
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> Self {
        DomainError::Invalid(vec![FieldViolation::new(field, description)])
    }
}

fn describe(violations: &[FieldViolation]) -> String {
    violations
        .iter()
        .map(|v| format!("{}: {}", v.field, v.description))
        .collect::<Vec<_>>()
        .join("; ")
}
