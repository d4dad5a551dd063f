//! Evaluating role assignments: CheckPermission, ListEffectivePermissions, and the next step
//! of the onboarding saga.
//!
//! An assignment (role R, scope S) applies at the check scope C when:
//!
//! | S \ C             | Tenant | Organization(X)                  | Team(T) in organization O        |
//! |-------------------|--------|----------------------------------|----------------------------------|
//! | Tenant            | yes    | yes                              | yes                              |
//! | Organization(A)   | no     | A is X or an ancestor of X       | A is O or an ancestor of O       |
//! | Team(T')          | no     | no                               | T' = T                           |
//!
//! Only live organizations and teams take part (an assignment at a deleted one grants nothing),
//! and only built-in or live custom roles grant anything. A tenant that is not active
//! (suspended, deactivated, deleted) grants nothing to anyone, for CheckPermission and for its
//! users' commands; its users' reads of this service still go by their assignments
//! ([`TenantScope::assignments_allow`]). Ancestry is read from the current
//! tree, so a move changes the answers at once. Each evaluation walks the check scope's
//! ancestors once (at most [`crate::domain::MAX_DEPTH`]) and then looks at each of the user's
//! assignments: O(assignments × (depth + custom roles)), never O(users).

use super::{OnboardingStep, TenantScope};
use crate::domain::{
    access::{
        Assignment, BuiltinRole, Decision, EffectivePermission, Grants, PermissionPattern, Scope,
    },
    error::{DomainError, ResourceKind},
    ids::{OrganizationId, TeamId, UserId},
    tenant::TenantStatus,
    user::{User, UserStatus},
};

/// The check scope, resolved: its organization ancestry (nearest first) and its team.
struct Target {
    /// Organizations whose assignments reach the check scope, nearest first.
    chain: Vec<OrganizationId>,
    /// The team checked at, if any.
    team: Option<TeamId>,
}

impl Target {
    /// How an assignment at `scope` reaches this target: `(0, 0)` tenant, `(1, distance)`
    /// organization, `(2, 0)` team; `None` if it does not apply here.
    fn reach(&self, scope: Scope) -> Option<(u8, usize)> {
        match scope {
            Scope::Tenant => Some((0, 0)),
            Scope::Organization(a) => self.chain.iter().position(|&o| o == a).map(|d| (1, d)),
            Scope::Team(t) => (self.team == Some(t)).then_some((2, 0)),
        }
    }
}

impl TenantScope {
    /// What a role grants by name: a built-in role, or a live custom role.
    pub(super) fn grants_of(&self, name: &str) -> Option<Grants> {
        if let Some(builtin) = BuiltinRole::from_name(name) {
            return Some(builtin.grants());
        }
        self.live_role_named(name).map(|r| Grants {
            allow: r.permissions.clone(),
            except: vec![],
        })
    }

    /// Whether the role of that name (built-in, or live custom) covers a concrete permission;
    /// allocation-free, for the per-request check.
    fn role_covers(&self, name: &str, permission: &PermissionPattern) -> bool {
        match BuiltinRole::from_name(name) {
            Some(builtin) => builtin.static_grants().covers(permission),
            None => self
                .live_role_named(name)
                .is_some_and(|r| r.permissions.iter().any(|p| p.matches(permission))),
        }
    }

    /// The user, or NotFound.
    fn user_for_check(&self, id: UserId) -> Result<&User, DomainError> {
        self.user(id).ok_or_else(|| DomainError::NotFound {
            resource: ResourceKind::User,
            id: id.to_string(),
        })
    }

    /// Resolves a live check scope (NotFound for an organization or team that is not live).
    fn target(&self, scope: Scope) -> Result<Target, DomainError> {
        self.check_scope(scope)?;
        let (start, team) = match scope {
            Scope::Tenant => (None, None),
            Scope::Organization(o) => (Some(o), None),
            Scope::Team(t) => (self.live_team(t).map(|t| t.organization_id), Some(t)),
        };
        let mut chain = Vec::new();
        let mut current = start;
        // Bounded by the number of organizations, so even a corrupt state cannot loop.
        while let Some(o) = current.filter(|_| chain.len() <= self.organizations.len()) {
            let Some(org) = self.live(o) else { break };
            chain.push(o);
            current = org.parent_id;
        }
        Ok(Target { chain, team })
    }

    /// Whether an assignment's scope still exists (a live organization or team, or the tenant).
    fn scope_is_live(&self, scope: Scope) -> bool {
        self.check_scope(scope).is_ok()
    }

    /// Why nobody of this tenant holds any permission now: a tenant that is not active
    /// (suspended, in its grace period, deleted) grants nothing, whatever its assignments say.
    fn tenant_denial(&self) -> Option<&'static str> {
        match self.tenant.as_ref().map(|t| t.status) {
            Some(TenantStatus::Active) => None,
            Some(TenantStatus::Suspended) => Some("TENANT_SUSPENDED"),
            Some(TenantStatus::Deactivated) => Some("TENANT_DEACTIVATED"),
            Some(TenantStatus::Deleted) => Some("TENANT_DELETED"),
            None => Some("TENANT_NOT_FOUND"),
        }
    }

    /// CheckPermission; see [`TenantScope::check_permission`].
    pub(super) fn evaluate_permission(
        &self,
        user: UserId,
        permission: &PermissionPattern,
        scope: Scope,
    ) -> Result<Decision, DomainError> {
        self.decide_permission(user, permission, scope, true)
    }

    /// As [`Self::evaluate_permission`]; with `tenant_gate` false, a tenant that is not active
    /// still lets its users' assignments answer ([`TenantScope::assignments_allow`]).
    pub(super) fn decide_permission(
        &self,
        user: UserId,
        permission: &PermissionPattern,
        scope: Scope,
        tenant_gate: bool,
    ) -> Result<Decision, DomainError> {
        if !permission.is_exact() {
            return Err(DomainError::invalid(
                "permission",
                "must be one concrete permission `resource:action`, without '*'",
            ));
        }
        let user = self.user_for_check(user)?;
        let target = self.target(scope)?;
        if let Some(reason) = self.tenant_denial().filter(|_| tenant_gate) {
            return Ok(Decision {
                allowed: false,
                granted_by: None,
                denial_reason: Some(reason),
            });
        }
        if user.status != UserStatus::Active {
            return Ok(Decision {
                allowed: false,
                granted_by: None,
                denial_reason: Some("USER_NOT_ACTIVE"),
            });
        }
        let best = user
            .assignments
            .iter()
            .filter_map(|a| target.reach(a.scope).map(|rank| (rank, a)))
            .filter(|(_, a)| self.role_covers(&a.role, permission))
            .min_by(|(r1, a1), (r2, a2)| (r1, &a1.role).cmp(&(r2, &a2.role)));
        Ok(match best {
            Some((_, a)) => Decision {
                allowed: true,
                granted_by: Some(a.clone()),
                denial_reason: None,
            },
            None => Decision {
                allowed: false,
                granted_by: None,
                denial_reason: Some("NO_MATCHING_ASSIGNMENT"),
            },
        })
    }

    /// What a user must hold to give `wanted` away; see [`TenantScope::unheld_by_user`].
    pub(super) fn first_unheld_by_user(
        &self,
        user: UserId,
        wanted: &Grants,
        scope: Scope,
    ) -> Result<Option<PermissionPattern>, DomainError> {
        let user = self.user_for_check(user)?;
        let target = self.target(scope)?;
        let holds_any = user.status == UserStatus::Active && self.tenant_denial().is_none();
        let held: Vec<Grants> = if holds_any {
            user.assignments
                .iter()
                .filter(|a| target.reach(a.scope).is_some())
                .filter_map(|a| self.grants_of(&a.role))
                .collect()
        } else {
            Vec::new()
        };
        Ok(wanted.first_outside(&held).cloned())
    }

    /// ListEffectivePermissions; see [`TenantScope::effective_permissions`].
    pub(super) fn list_effective_permissions(
        &self,
        user: UserId,
        scope: Option<Scope>,
    ) -> Result<Vec<EffectivePermission>, DomainError> {
        let user = self.user_for_check(user)?;
        let target = scope.map(|s| self.target(s)).transpose()?;
        if user.status != UserStatus::Active || self.tenant_denial().is_some() {
            return Ok(vec![]);
        }
        let applies = |a: &Assignment| match &target {
            Some(t) => t.reach(a.scope).is_some(),
            None => self.scope_is_live(a.scope),
        };
        let mut out: Vec<EffectivePermission> = user
            .assignments
            .iter()
            .filter(|a| applies(a))
            .filter_map(|a| self.grants_of(&a.role).map(|g| (a, g)))
            .flat_map(|(a, g)| {
                g.allow
                    .into_iter()
                    .map(move |permission| EffectivePermission {
                        permission,
                        except: g.except.clone(),
                        granted_by: a.clone(),
                    })
            })
            .collect();
        out.sort_by(|x, y| {
            (&x.permission, &x.granted_by.role, x.granted_by.scope).cmp(&(
                &y.permission,
                &y.granted_by.role,
                y.granted_by.scope,
            ))
        });
        out.dedup();
        Ok(out)
    }

    /// The onboarding saga's next step; see [`TenantScope::next_onboarding_step`].
    pub(super) fn onboarding_step(&self) -> Option<OnboardingStep> {
        let onboarding = self.tenant.as_ref()?.onboarding.as_ref()?;
        if onboarding.completed {
            return None;
        }
        let plan = &onboarding.plan;
        // Existence, not status: a step that happened never repeats, whatever followed it.
        Some(
            if !self
                .organizations
                .contains_key(&plan.default_organization_id)
            {
                OnboardingStep::CreateDefaultOrganization {
                    id: plan.default_organization_id,
                }
            } else if !self.users.contains_key(&plan.owner_user_id) {
                OnboardingStep::InviteOwner {
                    user_id: plan.owner_user_id,
                    email: plan.owner_email.clone(),
                    organization_id: plan.default_organization_id,
                    token_hash: plan.owner_token_hash,
                }
            } else {
                OnboardingStep::Complete
            },
        )
    }
}
