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
        ApiKeyId, DomainError, PermissionPattern, ResourceKind, Scope, SecretHash, TenantScope,
        UserId,
    },
};

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
}

impl PermissionRequirement {
    /// Checks the requirement against `state` at `now` with the domain's permission
    /// evaluation ([`TenantScope::check_permission`], [`TenantScope::key_allows`]).
    ///
    /// # Errors
    /// [`EngineError::KeyRefused`] for a key that does not verify;
    /// [`EngineError::PermissionDenied`] naming the first scope where the permission is not
    /// held (a subject that is not a user of the tenant holds nothing);
    /// [`DomainError::NotFound`] for a tenant that does not exist or a scope that is not a live
    /// organization or team of it.
    pub fn check(&self, state: &TenantScope, now: DateTime<Utc>) -> Result<()> {
        existing_tenant(state)?;
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
                Subject::ApiKey { .. } => Ok(()),
                // Users always name a permission; nothing to check is nothing granted.
                Subject::User(_) => Err(EngineError::Domain(DomainError::invalid(
                    "permission",
                    "a user's requirement names a permission",
                ))),
            };
        };
        for &scope in &self.scopes {
            let allowed = match (&self.subject, key) {
                (_, Some(key)) => state.key_allows(key, permission, scope)?,
                (Subject::User(user), None) => {
                    match state.check_permission(*user, permission, scope) {
                        Ok(decision) => decision.allowed,
                        // Not a user of this tenant: it holds nothing here.
                        Err(DomainError::NotFound {
                            resource: ResourceKind::User,
                            ..
                        }) => false,
                        Err(e) => return Err(e.into()),
                    }
                }
                (Subject::ApiKey { .. }, None) => false,
            };
            if !allowed {
                return Err(EngineError::PermissionDenied {
                    permission: permission.clone(),
                    scope,
                });
            }
        }
        Ok(())
    }
}
