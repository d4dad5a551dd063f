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

use super::existing_tenant;
use crate::{
    EngineError, Result,
    domain::{DomainError, PermissionPattern, ResourceKind, Scope, TenantScope, UserId},
};

/// "User `user` must hold `permission` at every one of `scopes`" (organization-subtree
/// inheritance applies, as for CheckPermission).
///
/// Callers resolve what needs no tenant state before building one (platform administrators,
/// "a user may always act on themself"): a requirement is only the part that needs the
/// tenant's role assignments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PermissionRequirement {
    /// The calling user.
    pub user: UserId,
    /// A concrete permission (`resource:action`; wildcards are refused as invalid).
    pub permission: PermissionPattern,
    /// Where it must be held; checked in order, the first failing scope is the one reported.
    pub scopes: Vec<Scope>,
}

impl PermissionRequirement {
    /// Checks the requirement against `state` with the domain's permission evaluation
    /// ([`TenantScope::check_permission`]).
    ///
    /// # Errors
    /// [`EngineError::PermissionDenied`] naming the first scope where the permission is not
    /// held (a subject that is not a user of the tenant holds nothing);
    /// [`DomainError::NotFound`] for a tenant that does not exist or a scope that is not a live
    /// organization or team of it.
    pub fn check(&self, state: &TenantScope) -> Result<()> {
        existing_tenant(state)?;
        for &scope in &self.scopes {
            let allowed = match state.check_permission(self.user, &self.permission, scope) {
                Ok(decision) => decision.allowed,
                // Not a user of this tenant: it holds nothing here.
                Err(DomainError::NotFound {
                    resource: ResourceKind::User,
                    ..
                }) => false,
                Err(e) => return Err(e.into()),
            };
            if !allowed {
                return Err(EngineError::PermissionDenied {
                    permission: self.permission.clone(),
                    scope,
                });
            }
        }
        Ok(())
    }
}
