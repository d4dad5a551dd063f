//! Permission requirements checked inside the tenant's actor.
//!
//! A caller's right to run a command depends on the tenant's role assignments, which live in
//! the tenant's actor. Checking them in one message and running the command in another costs
//! two visits and leaves a window between them (a role revoked in between would not stop the
//! command). So a command can carry a [`PermissionRequirement`] in its [`RequestMeta`]: the
//! actor checks it in the message that decides the command, against the very state the
//! decision reads, before anything else (idempotent replays and version checks included).
//!
//! ```text
//! Execute { command, meta.authorization } ─▶ tenant actor: check requirement ─▶ replay? ─▶
//!                                             │ PermissionDenied                 version ─▶ decide
//!                                             └─▶ reply (nothing written)
//! ```
//! Reads that need a permission check use [`Engine::authorize`] (one visit for every scope).
//!
//! [`RequestMeta`]: super::RequestMeta
//! [`Engine::authorize`]: super::Engine::authorize

use chrono::{DateTime, Utc};

use super::existing_tenant;
use crate::{
    EngineError, Result,
    domain::{
        ApiKey, ApiKeyId, Assignment, DomainError, Grants, PermissionPattern, ResourceKind, Scope,
        SecretHash, TenantScope, UserId,
    },
};

/// The permission giving a role at a scope needs there, besides the role's own permissions.
const ROLE_ASSIGN: &str = "role:assign";

/// Who must hold a permission.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Subject {
    /// A user of the tenant (through their role assignments).
    User(UserId),
    /// An API key of the tenant (through its scopes), presented with this hash: the actor
    /// verifies the key again with the permission, so a key revoked or expired just before a
    /// command always stops it.
    ApiKey {
        /// The key's id.
        id: ApiKeyId,
        /// SHA-256 of the presented key.
        hash: SecretHash,
    },
}

/// "`subject` must hold `permission` at every one of `scopes`" (organization-subtree
/// inheritance applies to users, as for CheckPermission; keys act tenant-wide).
///
/// Callers resolve what needs no tenant state before building one (platform administrators,
/// "a user may always act on themself"): a requirement is only the part that needs the
/// tenant's role assignments.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PermissionRequirement {
    /// The caller.
    pub subject: Subject,
    /// A concrete permission (`resource:action`; wildcards are refused as invalid); `None`:
    /// only the key must be valid (an API key calling an RPC open to every caller of its
    /// tenant).
    pub permission: Option<PermissionPattern>,
    /// Where it must be held; checked in order, the first failing scope is the one reported.
    pub scopes: Vec<Scope>,
    /// What the command gives away, which `subject` must hold itself where it is given: no
    /// caller grants more than it holds (Kubernetes RBAC's escalation rule). Absent from the
    /// peer encoding when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub confers: Vec<Conferral>,
}

/// Something a command gives away: checked by [`PermissionRequirement::check`] against what its
/// subject holds.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Conferral {
    /// A role at a scope (AssignRole, an invitation's roles, registration's automatic roles):
    /// the subject must hold `role:assign` there and everything the role grants.
    Role(Assignment),
    /// A custom role's permissions (DefineRole, UpdateRole): the subject must hold them at
    /// tenant scope, since the role may be assigned anywhere.
    Permissions(Vec<PermissionPattern>),
    /// The roles an invitation carries (ResendInvitation: the new token goes to the caller,
    /// and whoever accepts it gets them), each as [`Conferral::Role`].
    InvitationOf(UserId),
}

/// What a requirement is checked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Purpose {
    /// A command: a tenant that is not active takes none from its users.
    Command,
    /// A read: a tenant that is not active still answers its users, by their assignments.
    Read,
}

impl PermissionRequirement {
    /// Checks the requirement for a command against `state` at `now` with the domain's
    /// permission evaluation ([`TenantScope::check_permission`], [`TenantScope::key_allows`]).
    ///
    /// # Errors
    /// [`EngineError::KeyRefused`] for a key that does not verify; for a user of a tenant that
    /// is not active, the domain's [`DomainError::TenantSuspended`],
    /// [`DomainError::TenantDeactivated`] or [`DomainError::TenantDeleted`] (its own roles are
    /// suspended with it: a platform administrator reactivates or deletes it);
    /// [`EngineError::PermissionDenied`] naming the first scope where the permission is not
    /// held (a subject that is not a user of the tenant holds nothing), or `role:assign` at
    /// the scope of a role it confers; [`EngineError::GrantExceedsCaller`] for a conferral
    /// beyond what the subject holds; [`DomainError::NotFound`] for a tenant that does not
    /// exist or a scope that is not a live organization or team of it.
    pub fn check(&self, state: &TenantScope, now: DateTime<Utc>) -> Result<()> {
        self.check_for(state, now, Purpose::Command)
    }

    /// As [`check`](Self::check), for a read: a user of a tenant that is suspended or
    /// deactivated still reads what their assignments allow
    /// ([`TenantScope::assignments_allow`]).
    ///
    /// # Errors
    /// As [`check`](Self::check), but for the tenant's status.
    pub fn check_read(&self, state: &TenantScope, now: DateTime<Utc>) -> Result<()> {
        self.check_for(state, now, Purpose::Read)
    }

    fn check_for(&self, state: &TenantScope, now: DateTime<Utc>, purpose: Purpose) -> Result<()> {
        existing_tenant(state)?;
        if purpose == Purpose::Command && matches!(self.subject, Subject::User(_)) {
            state.ensure_active()?;
        }
        let key = match &self.subject {
            Subject::ApiKey { id, hash } => Some(
                state
                    .verify_api_key(*id, hash, now)
                    .map_err(EngineError::KeyRefused)?,
            ),
            Subject::User(_) => None,
        };
        let Some(permission) = &self.permission else {
            return match self.subject {
                Subject::ApiKey { .. } => self
                    .confers
                    .iter()
                    .try_for_each(|c| self.check_conferral(state, key, c)),
                // Users always name a permission; nothing to check is nothing granted.
                Subject::User(_) => Err(EngineError::Domain(DomainError::invalid(
                    "permission",
                    "a user's requirement names a permission",
                ))),
            };
        };
        for &scope in &self.scopes {
            if !self.holds(state, key, permission, scope, purpose)? {
                return Err(EngineError::PermissionDenied {
                    permission: permission.clone(),
                    scope,
                });
            }
        }
        for conferral in &self.confers {
            self.check_conferral(state, key, conferral)?;
        }
        Ok(())
    }

    /// Whether the subject (`key` when it is a key, verified) holds `permission` at `scope`.
    fn holds(
        &self,
        state: &TenantScope,
        key: Option<&ApiKey>,
        permission: &PermissionPattern,
        scope: Scope,
        purpose: Purpose,
    ) -> Result<bool> {
        Ok(match (&self.subject, key) {
            (_, Some(key)) => state.key_allows(key, permission, scope)?,
            (Subject::User(user), None) => {
                let allowed = match purpose {
                    Purpose::Command => state
                        .check_permission(*user, permission, scope)
                        .map(|d| d.allowed),
                    Purpose::Read => state.assignments_allow(*user, permission, scope),
                };
                match allowed {
                    Ok(allowed) => allowed,
                    // Not a user of this tenant: it holds nothing here.
                    Err(DomainError::NotFound {
                        resource: ResourceKind::User,
                        ..
                    }) => false,
                    Err(e) => return Err(e.into()),
                }
            }
            (Subject::ApiKey { .. }, None) => false,
        })
    }

    /// Refuses `conferral` unless the subject holds what it gives, where it gives it. A role
    /// that does not exist is left to the command's decision, which refuses it as NOT_FOUND.
    fn check_conferral(
        &self,
        state: &TenantScope,
        key: Option<&ApiKey>,
        conferral: &Conferral,
    ) -> Result<()> {
        let (granted, wanted, scope) = match conferral {
            Conferral::Role(assignment) => {
                let Some(wanted) = state.role_grants(&assignment.role) else {
                    return Ok(());
                };
                let assign: PermissionPattern = ROLE_ASSIGN
                    .parse()
                    .map_err(|_| EngineError::Internal("role:assign does not parse".into()))?;
                if !self.holds(state, key, &assign, assignment.scope, Purpose::Command)? {
                    return Err(EngineError::PermissionDenied {
                        permission: assign,
                        scope: assignment.scope,
                    });
                }
                (
                    format!("role {}", assignment.role),
                    wanted,
                    assignment.scope,
                )
            }
            Conferral::Permissions(allow) => (
                "the role".to_owned(),
                Grants {
                    allow: allow.clone(),
                    except: Vec::new(),
                },
                Scope::Tenant,
            ),
            Conferral::InvitationOf(user) => {
                let Some(invited) = state.user(*user) else {
                    return Ok(());
                };
                // An assignment at an organization or team deleted since grants nothing.
                return invited.assignments.iter().try_for_each(|assignment| {
                    match self.check_conferral(state, key, &Conferral::Role(assignment.clone())) {
                        Err(EngineError::Domain(DomainError::NotFound { .. })) => Ok(()),
                        other => other,
                    }
                });
            }
        };
        let unheld = match (&self.subject, key) {
            (_, Some(key)) => state.unheld_by_key(key, &wanted, scope)?,
            (Subject::User(user), None) => match state.unheld_by_user(*user, &wanted, scope) {
                Ok(unheld) => unheld,
                Err(DomainError::NotFound {
                    resource: ResourceKind::User,
                    ..
                }) => wanted.allow.first().cloned(),
                Err(e) => return Err(e.into()),
            },
            (Subject::ApiKey { .. }, None) => wanted.allow.first().cloned(),
        };
        match unheld {
            None => Ok(()),
            Some(permission) => Err(EngineError::GrantExceedsCaller {
                granted,
                permission,
                scope,
            }),
        }
    }
}
