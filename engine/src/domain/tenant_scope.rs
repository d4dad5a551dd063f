//! The tenant scope: one tenant with its organizations, teams, users and custom roles, decided
//! as one unit.
//!
//! Every rule here is tenant-wide (sibling-name uniqueness, forest shape and depth, the plan's
//! organization count, team entitlement and invitation quota, email uniqueness, assignments
//! whose roles and scopes must exist in the same tenant, the tenant's lifecycle gate), so one
//! serialization point decides them all: the tenant's actor holds this state. Each entity
//! still has its own event stream and version; a command may emit events on several streams
//! (a cascade delete, an invitation with roles, a role deletion revoking its assignments),
//! which the journal appends in one transaction; the target's stream is always the last.
//!
//! Layout: `*_decisions` decide one entity kind each, `evolve` folds events, `tree` answers
//! questions about the organization forest, `permissions` evaluates assignments
//! (CheckPermission, ListEffectivePermissions) and the onboarding saga's next step.

mod api_key_decisions;
mod claims;
mod client_decisions;
mod directory_decisions;
mod evolve;
mod organization_decisions;
mod permissions;
mod personal;
mod registration_decisions;
mod role_decisions;
mod sealed_form;
mod team_decisions;
mod tenant_decisions;
mod tree;
mod user_decisions;

pub use personal::{PersonalField, PersonalSlot};
pub use sealed_form::{SealValue, SealedUsers};

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use imbl::OrdMap;
use serde::{Deserialize, Serialize};

use super::{
    SecretHash,
    access::{Decision, EffectivePermission, Grants, PermissionPattern, Scope},
    api_key::{ApiKey, ApiKeyCommand, ApiKeyEvent},
    client::{Client, ClientCommand, ClientEvent},
    context::Context,
    directory::{Record, RecordCommand, RecordEvent, RecordKind},
    error::DomainError,
    ids::{ApiKeyId, ClientId, OrganizationId, RecordId, RoleId, TeamId, TenantId, UserId},
    organization::{Organization, OrganizationCommand, OrganizationEvent},
    registration::{
        REGISTRATION_DOMAIN_NAMESPACE, REGISTRATION_HOST_NAMESPACE, RegistrationCommand,
    },
    role::{RoleCommand, RoleDefinition, RoleEvent, RoleStatus},
    stream::{StreamId, StreamKind, claims_stream_id, claims_stream_user},
    team::{Team, TeamCommand, TeamEvent},
    tenant::{Tenant, TenantCommand, TenantEvent},
    user::{User, UserCommand, UserEvent, UserStatus},
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
    /// About one of its teams.
    Team(TeamCommand),
    /// About one of its users.
    User(UserCommand),
    /// About one of its custom roles.
    Role(RoleCommand),
    /// About one of its clients.
    Client(ClientCommand),
    /// About one of its directory records (departments, locations, contacts, partitions,
    /// partition groups).
    Record(RecordCommand),
    /// About one of its API keys.
    ApiKey(ApiKeyCommand),
    /// About its self-registration settings (on the tenant stream).
    Registration(RegistrationCommand),
}

impl TenantScopeCommand {
    /// What the command is about, as metrics label it (a fixed set).
    pub fn kind(&self) -> &'static str {
        match self {
            TenantScopeCommand::Tenant(_) => "tenant",
            TenantScopeCommand::Organization(_) => "organization",
            TenantScopeCommand::Team(_) => "team",
            TenantScopeCommand::User(_) => "user",
            TenantScopeCommand::Role(_) => "role",
            TenantScopeCommand::Client(_) => "client",
            TenantScopeCommand::Record(_) => "record",
            TenantScopeCommand::ApiKey(_) => "api_key",
            TenantScopeCommand::Registration(_) => "registration",
        }
    }

    /// The stream whose version `expected_version` and the reply refer to.
    pub fn target_stream(&self, tenant_id: TenantId) -> StreamId {
        match self {
            TenantScopeCommand::Tenant(_) | TenantScopeCommand::Registration(_) => {
                StreamId::new(StreamKind::Tenant, tenant_id.0)
            }
            TenantScopeCommand::Organization(c) => {
                StreamId::new(StreamKind::Organization, c.target().0)
            }
            TenantScopeCommand::Team(c) => StreamId::new(StreamKind::Team, c.target().0),
            TenantScopeCommand::User(c) => StreamId::new(StreamKind::User, c.target().0),
            TenantScopeCommand::Role(c) => StreamId::new(StreamKind::Role, c.target().0),
            TenantScopeCommand::Client(c) => StreamId::new(StreamKind::Client, c.target().0),
            TenantScopeCommand::Record(c) => StreamId::new(c.kind().stream_kind(), c.target().0),
            TenantScopeCommand::ApiKey(c) => StreamId::new(StreamKind::ApiKey, c.target().0),
        }
    }
}

macro_rules! scope_command_from {
    ($($variant:ident($command:ty)),* $(,)?) => {$(
        impl From<$command> for TenantScopeCommand {
            fn from(command: $command) -> Self {
                TenantScopeCommand::$variant(command)
            }
        }
    )*};
}

scope_command_from!(
    Tenant(TenantCommand),
    Organization(OrganizationCommand),
    Team(TeamCommand),
    User(UserCommand),
    Role(RoleCommand),
    Client(ClientCommand),
    Record(RecordCommand),
    ApiKey(ApiKeyCommand),
    Registration(RegistrationCommand),
);

/// An event of a tenant scope (on the tenant's stream, or an organization's, team's, user's or
/// custom role's).
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
    /// On a team stream.
    Team(TeamEvent),
    /// On a user stream.
    User(UserEvent),
    /// On a role stream.
    Role(RoleEvent),
    /// On a client stream.
    Client(ClientEvent),
    /// On a department, location, contact, partition or partition group stream.
    Record(RecordEvent),
    /// On an API key's stream.
    ApiKey(ApiKeyEvent),
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
    /// Give up `key` in `namespace` if this entity holds it (nothing if it does not).
    ReleaseUnique {
        /// Namespace.
        namespace: &'static str,
        /// The unique key.
        key: String,
    },
    /// Schedule (or move) the tenant's timer of this kind.
    SetTimer {
        /// Timer kind, e.g. `grace-period` or `invitation/<user id>`.
        kind: String,
        /// When it fires.
        due_at: DateTime<Utc>,
    },
    /// Cancel the tenant's timer of this kind.
    ClearTimer {
        /// Timer kind.
        kind: String,
    },
    /// Destroy a person's data key (crypto-shredding), in the transaction of the event.
    ShredPersonKey {
        /// The person.
        subject: uuid::Uuid,
    },
    /// Destroy every key of the tenant, its index key included.
    ShredTenantKeys,
}

/// The next step of a tenant's onboarding saga, as the runtime must carry it out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OnboardingStep {
    /// Create the default organization (named [`DEFAULT_ORGANIZATION_NAME`], a root).
    CreateDefaultOrganization {
        /// Its id (chosen at CreateTenant).
        id: OrganizationId,
    },
    /// Invite the owner into the default organization with `tenant-owner` at tenant scope.
    InviteOwner {
        /// The owner's user id (chosen at CreateTenant).
        user_id: UserId,
        /// The owner's email.
        email: String,
        /// The default organization.
        organization_id: OrganizationId,
        /// The hash of a token issued before (a provisioned tenant's); `None`: issue one now.
        token_hash: Option<SecretHash>,
    },
    /// Record that onboarding is complete.
    Complete,
}

/// Name of the organization every tenant starts with.
pub const DEFAULT_ORGANIZATION_NAME: &str = "Default";
/// Prefix of the timer kind that expires a user's invitation: `invitation/<user id>`.
pub const INVITATION_TIMER_PREFIX: &str = "invitation/";

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
            TenantScopeEvent::Team(e) => StreamId::new(StreamKind::Team, e.team_id().0),
            TenantScopeEvent::User(UserEvent::ClaimsChanged { id, .. }) => {
                StreamId::new(StreamKind::Claims, claims_stream_id(id.0))
            }
            TenantScopeEvent::User(e) => StreamId::new(StreamKind::User, e.user_id().0),
            TenantScopeEvent::Role(e) => StreamId::new(StreamKind::Role, e.role_id().0),
            TenantScopeEvent::Client(e) => StreamId::new(StreamKind::Client, e.client_id().0),
            TenantScopeEvent::Record(e) => StreamId::new(e.kind().stream_kind(), e.record_id().0),
            TenantScopeEvent::ApiKey(e) => StreamId::new(StreamKind::ApiKey, e.key_id().0),
        }
    }

    /// Whether this event erases people (their keys are shredded with it): a user's erasure,
    /// the tenant's, or a contact's deletion.
    pub fn is_erasure(&self) -> bool {
        match self {
            TenantScopeEvent::User(UserEvent::UserErased { .. })
            | TenantScopeEvent::Tenant(TenantEvent::TenantErased) => true,
            TenantScopeEvent::Record(e) => e.erases_contact(),
            _ => false,
        }
    }

    /// Type name stored in the journal.
    pub fn event_type(&self) -> &'static str {
        match self {
            TenantScopeEvent::Tenant(e) => e.event_type(),
            TenantScopeEvent::Organization(e) => e.event_type(),
            TenantScopeEvent::Team(e) => e.event_type(),
            TenantScopeEvent::User(e) => e.event_type(),
            TenantScopeEvent::Role(e) => e.event_type(),
            TenantScopeEvent::Client(e) => e.event_type(),
            TenantScopeEvent::Record(e) => e.event_type(),
            TenantScopeEvent::ApiKey(e) => e.event_type(),
        }
    }

    /// Current payload schema version. Version 2: personal values are stored sealed (see
    /// [`TenantScopeEvent::personal_fields_mut`]); version 1 payloads hold them in plaintext.
    pub const SCHEMA_VERSION: i32 = 2;

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
            StreamKind::Team => serde_json::from_value(payload).map(TenantScopeEvent::Team),
            StreamKind::User | StreamKind::Claims => {
                serde_json::from_value(payload).map(TenantScopeEvent::User)
            }
            StreamKind::Role => serde_json::from_value(payload).map(TenantScopeEvent::Role),
            StreamKind::Client => serde_json::from_value(payload).map(TenantScopeEvent::Client),
            StreamKind::Department
            | StreamKind::Location
            | StreamKind::Contact
            | StreamKind::Partition
            | StreamKind::PartitionGroup => {
                serde_json::from_value(payload).map(TenantScopeEvent::Record)
            }
            StreamKind::ApiKey => serde_json::from_value(payload).map(TenantScopeEvent::ApiKey),
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
                kind: GRACE_PERIOD_TIMER.to_owned(),
                due_at: *grace_period_ends_at,
            }],
            TenantScopeEvent::Tenant(
                TenantEvent::TenantReactivated | TenantEvent::TenantDeleted { .. },
            ) => vec![Effect::ClearTimer {
                kind: GRACE_PERIOD_TIMER.to_owned(),
            }],
            TenantScopeEvent::User(
                UserEvent::UserInvited { id, expires_at, .. }
                | UserEvent::InvitationResent { id, expires_at, .. },
            ) => vec![Effect::SetTimer {
                kind: invitation_timer(*id),
                due_at: *expires_at,
            }],
            TenantScopeEvent::User(
                UserEvent::UserActivated { id, .. }
                | UserEvent::InvitationRevoked { id }
                | UserEvent::InvitationExpired { id },
            ) => vec![Effect::ClearTimer {
                kind: invitation_timer(*id),
            }],
            TenantScopeEvent::User(UserEvent::UserErased { id }) => vec![
                Effect::ShredPersonKey { subject: id.0 },
                Effect::ClearTimer {
                    kind: invitation_timer(*id),
                },
            ],
            TenantScopeEvent::Tenant(TenantEvent::TenantErased) => vec![Effect::ShredTenantKeys],
            TenantScopeEvent::Tenant(TenantEvent::RegistrationDomainVerified {
                domain, ..
            }) => {
                vec![Effect::ClaimUnique {
                    namespace: REGISTRATION_DOMAIN_NAMESPACE,
                    key: domain.clone(),
                }]
            }
            TenantScopeEvent::Tenant(TenantEvent::RegistrationDomainRemoved { domain }) => {
                vec![Effect::ReleaseUnique {
                    namespace: REGISTRATION_DOMAIN_NAMESPACE,
                    key: domain.clone(),
                }]
            }
            TenantScopeEvent::Tenant(TenantEvent::RegistrationHostChanged { from, to }) => from
                .iter()
                .map(|key| Effect::ReleaseUnique {
                    namespace: REGISTRATION_HOST_NAMESPACE,
                    key: key.clone(),
                })
                .chain(to.iter().map(|key| Effect::ClaimUnique {
                    namespace: REGISTRATION_HOST_NAMESPACE,
                    key: key.clone(),
                }))
                .collect(),
            TenantScopeEvent::Record(e) if e.erases_contact() => vec![Effect::ShredPersonKey {
                subject: e.record_id().0,
            }],
            _ => Vec::new(),
        }
    }
}

/// The timer kind that expires a user's invitation.
pub fn invitation_timer(user_id: UserId) -> String {
    format!("{INVITATION_TIMER_PREFIX}{user_id}")
}

/// State of one tenant scope: the tenant (once created), its organizations, teams, users,
/// custom roles and clients (deleted ones kept as tombstones), and the indexes tenant-wide rules need.
///
/// The per-entity maps are persistent B-trees ([`imbl::OrdMap`]): a clone shares every node
/// and costs O(1), and a later change copies only the path it touches. The runtime clones
/// the scope to encode its snapshot on another thread while the actor goes on deciding
/// (issue 14). They iterate in key order and serialize exactly as `BTreeMap`s do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantScope {
    tenant_id: TenantId,
    tenant: Option<Tenant>,
    organizations: OrdMap<OrganizationId, Organization>,
    teams: OrdMap<TeamId, Team>,
    /// Each user behind an `Arc`: a change to a copy of the scope copies the map's path, and
    /// a copied leaf then clones up to 16 pointers, not 16 users (only the changed user is
    /// cloned, by [`Arc::make_mut`]).
    users: OrdMap<UserId, Arc<User>>,
    roles: OrdMap<RoleId, RoleDefinition>,
    clients: OrdMap<ClientId, Client>,
    /// Departments, locations, contacts, partitions and partition groups (deleted ones kept
    /// as tombstones).
    records: OrdMap<RecordId, Record>,
    /// API keys (revoked and expired ones kept: verification names why they fail).
    api_keys: OrdMap<ApiKeyId, ApiKey>,
    /// Lower-cased email → user, for every user not erased. Derived from `users` (never
    /// stored: a snapshot holds no plaintext email; see [`TenantScope::rebuild_indexes`]).
    #[serde(skip)]
    users_by_email: OrdMap<String, UserId>,
    /// Name → id of each live custom role. Derived from `roles` (never stored; see
    /// [`TenantScope::rebuild_indexes`]): a permission check finds a role by name in
    /// O(log roles), however many roles were defined and deleted before.
    #[serde(skip)]
    live_roles: OrdMap<String, RoleId>,
    /// Invitations sent per calendar month (`yyyymm` → count), for the plan's quota.
    invitations_sent: BTreeMap<u32, u32>,
}

impl TenantScope {
    /// The empty scope of a tenant that does not exist yet.
    pub fn new(tenant_id: TenantId) -> Self {
        Self {
            tenant_id,
            tenant: None,
            organizations: OrdMap::new(),
            teams: OrdMap::new(),
            users: OrdMap::new(),
            roles: OrdMap::new(),
            clients: OrdMap::new(),
            records: OrdMap::new(),
            api_keys: OrdMap::new(),
            users_by_email: OrdMap::new(),
            live_roles: OrdMap::new(),
            invitations_sent: BTreeMap::new(),
        }
    }

    /// A team, deleted ones included.
    pub fn team(&self, id: TeamId) -> Option<&Team> {
        self.teams.get(&id)
    }

    /// All teams, deleted ones included, by id.
    pub fn teams(&self) -> impl Iterator<Item = &Team> {
        self.teams.values()
    }

    /// A user, any status.
    pub fn user(&self, id: UserId) -> Option<&User> {
        self.users.get(&id).map(Arc::as_ref)
    }

    /// All users, by id.
    pub fn users(&self) -> impl Iterator<Item = &User> {
        self.users.values().map(Arc::as_ref)
    }

    /// Rebuilds the derived indexes after the state was decoded from a snapshot.
    pub fn rebuild_indexes(&mut self) {
        self.users_by_email = self
            .users
            .values()
            .filter(|u| !u.email.is_empty() && u.status != UserStatus::Erased)
            .map(|u| (evolve::email_key(&u.email), u.id))
            .collect();
        self.live_roles = self
            .roles
            .values()
            .filter(|r| r.status == RoleStatus::Active)
            .map(|r| (r.name.clone(), r.id))
            .collect();
    }

    /// The user holding an email (compared case-insensitively).
    pub fn user_by_email(&self, email: &str) -> Option<&User> {
        self.users_by_email
            .get(&email.trim().to_lowercase())
            .and_then(|id| self.user(*id))
    }

    /// A custom role, deleted ones included.
    pub fn role(&self, id: RoleId) -> Option<&RoleDefinition> {
        self.roles.get(&id)
    }

    /// All custom roles, deleted ones included, by id.
    pub fn roles(&self) -> impl Iterator<Item = &RoleDefinition> {
        self.roles.values()
    }

    /// A client, deleted ones included.
    pub fn client(&self, id: ClientId) -> Option<&Client> {
        self.clients.get(&id)
    }

    /// All clients, deleted ones included, by id.
    pub fn clients(&self) -> impl Iterator<Item = &Client> {
        self.clients.values()
    }

    /// A directory record of this kind, deleted ones included.
    pub fn record(&self, kind: RecordKind, id: RecordId) -> Option<&Record> {
        self.records.get(&id).filter(|r| r.kind() == kind)
    }

    /// All directory records, deleted ones included, by id.
    pub fn records(&self) -> impl Iterator<Item = &Record> {
        self.records.values()
    }

    /// An API key, revoked and expired ones included.
    pub fn api_key(&self, id: ApiKeyId) -> Option<&ApiKey> {
        self.api_keys.get(&id)
    }

    /// All API keys, revoked and expired ones included, by id.
    pub fn api_keys(&self) -> impl Iterator<Item = &ApiKey> {
        self.api_keys.values()
    }

    /// Invitations sent in a calendar month (`yyyymm`, e.g. 202611).
    pub fn invitations_sent_in(&self, month: u32) -> u32 {
        self.invitations_sent.get(&month).copied().unwrap_or(0)
    }

    /// What a role (built-in, or live custom role) grants, by name; `None` if no such role.
    pub fn role_grants(&self, name: &str) -> Option<Grants> {
        self.grants_of(name)
    }

    /// Answers "may `user` do `permission` at `scope`?" from the current state, naming the
    /// assignment that allowed it. Only active users hold permissions.
    ///
    /// # Errors
    /// [`DomainError::Invalid`] for a wildcard `permission`; [`DomainError::NotFound`] for an
    /// unknown user, or a scope that is not a live organization or team of this tenant.
    pub fn check_permission(
        &self,
        user: UserId,
        permission: &PermissionPattern,
        scope: Scope,
    ) -> Result<Decision, DomainError> {
        self.evaluate_permission(user, permission, scope)
    }

    /// Whether `user`'s own assignments allow `permission` at `scope`, whatever the tenant's
    /// status: what the tenant's users may still read of a tenant that is suspended or
    /// deactivated (it "rejects every command but reads"). CheckPermission, which other
    /// services ask, still denies everything there ([`TenantScope::check_permission`]).
    ///
    /// # Errors
    /// As [`TenantScope::check_permission`].
    pub fn assignments_allow(
        &self,
        user: UserId,
        permission: &PermissionPattern,
        scope: Scope,
    ) -> Result<bool, DomainError> {
        self.decide_permission(user, permission, scope, false)
            .map(|d| d.allowed)
    }

    /// `Ok` for an active tenant, else why it takes no command from its own users:
    /// [`DomainError::TenantSuspended`], [`DomainError::TenantDeactivated`],
    /// [`DomainError::TenantDeleted`], or NOT_FOUND.
    ///
    /// # Errors
    /// As above.
    pub fn ensure_active(&self) -> Result<(), DomainError> {
        self.active_tenant().map(drop)
    }

    /// The first of `wanted`'s patterns that `user` does not hold at `scope`, or `None` when
    /// they hold them all: what a user must hold to give `wanted` away there (a role at a
    /// scope, a custom role's permissions). Each pattern must be within one role of an
    /// assignment that reaches `scope`, and each exception of that role touching it must be
    /// one of `wanted`'s too. A user that is not active, of a tenant that is not active,
    /// holds nothing.
    ///
    /// # Errors
    /// [`DomainError::NotFound`] for an unknown user, or a scope that is not a live
    /// organization or team of this tenant.
    pub fn unheld_by_user(
        &self,
        user: UserId,
        wanted: &Grants,
        scope: Scope,
    ) -> Result<Option<PermissionPattern>, DomainError> {
        self.first_unheld_by_user(user, wanted, scope)
    }

    /// Every permission pattern the user holds that applies at `scope` (or, with `None`, every
    /// assignment expanded), with the assignment granting it. Empty for users that are not
    /// active.
    ///
    /// # Errors
    /// [`DomainError::NotFound`] for an unknown user or scope.
    pub fn effective_permissions(
        &self,
        user: UserId,
        scope: Option<Scope>,
    ) -> Result<Vec<EffectivePermission>, DomainError> {
        self.list_effective_permissions(user, scope)
    }

    /// The next step of the onboarding saga, or `None` when there is none (not started, or
    /// complete). Deterministic: after a crash, the same state yields the same step.
    pub fn next_onboarding_step(&self) -> Option<OnboardingStep> {
        self.onboarding_step()
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
            StreamKind::Team => self.teams.get(&TeamId(stream.id)).map_or(0, |t| t.version),
            StreamKind::User => self.users.get(&UserId(stream.id)).map_or(0, |u| u.version),
            StreamKind::Claims => self
                .users
                .get(&UserId(claims_stream_user(stream.id)))
                .map_or(0, |u| u.claims_version),
            StreamKind::Role => self.roles.get(&RoleId(stream.id)).map_or(0, |r| r.version),
            StreamKind::Client => self
                .clients
                .get(&ClientId(stream.id))
                .map_or(0, |c| c.version),
            StreamKind::Department
            | StreamKind::Location
            | StreamKind::Contact
            | StreamKind::Partition
            | StreamKind::PartitionGroup => self
                .records
                .get(&RecordId(stream.id))
                .filter(|r| r.kind().stream_kind() == stream.kind)
                .map_or(0, |r| r.version),
            StreamKind::ApiKey => self
                .api_keys
                .get(&ApiKeyId(stream.id))
                .map_or(0, |k| k.version),
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
    /// in order with [`TenantScope::apply`]. A cascade delete returns, for each deleted
    /// organization (deepest first, the target last), its teams' deletions and then its own,
    /// each on its own stream. CreateTenant returns TenantCreated and OnboardingStarted;
    /// InviteUser returns UserInvited, then MembershipAdded and RoleAssigned events; DeleteRole
    /// returns a RoleRevoked for every assignment of it, then RoleDeleted and
    /// PermissionPolicyChanged.
    ///
    /// # Errors
    ///
    /// Checked in this order, the first failing check wins:
    /// 1. no tenant yet: [`DomainError::NotFound`] (tenant) for everything but CreateTenant;
    /// 2. the tenant's status gate: [`DomainError::TenantDeleted`],
    ///    [`DomainError::TenantSuspended`] or [`DomainError::TenantDeactivated`]
    ///    (ExpireGracePeriod and ExpireInvitation are never gated: they are no-ops wherever
    ///    they do not apply; AcceptInvitation is gated like every other command);
    /// 3. input rules: one [`DomainError::Invalid`] listing every bad field (CreateTenant on an
    ///    existing tenant is [`DomainError::AlreadyExists`] whatever its input);
    /// 4. the command's state rules: [`DomainError::AlreadyExists`], [`DomainError::NotFound`]
    ///    (organization, team, user, role, invitation), [`DomainError::HierarchyCycle`],
    ///    [`DomainError::HierarchyTooDeep`], [`DomainError::PlanLimitExceeded`] (`organizations`,
    ///    `teams`, `invitations_per_month`), [`DomainError::InvalidState`]
    ///    (`TENANT_ALREADY_ACTIVE`, `GRACE_PERIOD_ENDED`, `HAS_CHILDREN`, `USER_NOT_ELIGIBLE`,
    ///    `USER_NOT_ACTIVE`, `USER_NOT_DEACTIVATED`, `USER_ERASED`, `INVITATION_NOT_PENDING`,
    ///    `INVITATION_REVOKED`, `INVITATION_EXPIRED`, `INVITATION_ALREADY_ACCEPTED`).
    pub fn decide(
        &self,
        command: &TenantScopeCommand,
        ctx: &Context,
    ) -> Result<Vec<TenantScopeEvent>, DomainError> {
        match command {
            TenantScopeCommand::Tenant(c) => self.decide_tenant(c, ctx),
            TenantScopeCommand::Organization(c) => self.decide_organization(c, ctx),
            TenantScopeCommand::Team(c) => self.decide_team(c, ctx),
            TenantScopeCommand::User(c) => self.decide_user(c, ctx),
            TenantScopeCommand::Role(c) => self.decide_role(c, ctx),
            TenantScopeCommand::Client(c) => self.decide_client(c, ctx),
            TenantScopeCommand::Record(c) => self.decide_record(c),
            TenantScopeCommand::ApiKey(c) => self.decide_api_key(c, ctx),
            TenantScopeCommand::Registration(c) => self.decide_registration(c, ctx),
        }
        .map(|events| self.with_claims_changes(events, ctx))
    }

    /// Applies one event that happened at `at`. Never fails: events are facts.
    ///
    /// Bumps the version of the event's own stream by one and stamps `updated_at` (and
    /// `created_at` on creation) with `at`.
    pub fn apply(&mut self, event: &TenantScopeEvent, at: DateTime<Utc>) {
        evolve::apply(self, event, at);
    }
}
