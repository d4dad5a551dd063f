//! Decisions on users: invitations and their monthly quota, email uniqueness, organization
//! memberships and role assignments (whose roles and scopes must exist in this tenant).
//!
//! ```text
//!  Invite ─▶ invited ──Accept(token)──▶ active ⇄ (Deactivate / Reactivate) deactivated
//!              │ invitation: pending ─Revoke─▶ revoked
//!              │                      ─timer─▶ expired      Resend: pending|revoked|expired ─▶ pending
//! ```
//!
//! Order of checks: tenant gate (exists and active; ExpireInvitation is never gated), input
//! validation, then state rules in the order each decision lists them; the plan's invitation
//! quota comes last.

use chrono::{DateTime, Datelike, TimeDelta, Utc};

use super::{TenantScope, TenantScopeEvent, team_decisions::team_not_found};
use crate::domain::{
    SecretHash,
    access::{Assignment, BuiltinRole, Scope},
    context::Context,
    error::{DomainError, ResourceKind},
    ids::{OrganizationId, UserId},
    role::RoleStatus,
    tenant::{Tenant, TenantStatus},
    user::{InvitationState, User, UserCommand, UserEvent, UserStatus},
    validation,
};

type Decision = Result<Vec<TenantScopeEvent>, DomainError>;

fn one(event: UserEvent) -> Decision {
    Ok(vec![TenantScopeEvent::User(event)])
}

fn user_not_found(id: UserId) -> DomainError {
    DomainError::NotFound {
        resource: ResourceKind::User,
        id: id.to_string(),
    }
}

fn org_not_found(id: OrganizationId) -> DomainError {
    DomainError::NotFound {
        resource: ResourceKind::Organization,
        id: id.to_string(),
    }
}

fn invitation_not_found(id: UserId) -> DomainError {
    DomainError::NotFound {
        resource: ResourceKind::Invitation,
        id: id.to_string(),
    }
}

fn invalid_state(reason: &'static str, message: String) -> DomainError {
    DomainError::InvalidState { reason, message }
}

fn not_pending(id: UserId) -> DomainError {
    invalid_state(
        "INVITATION_NOT_PENDING",
        format!("user {id} has no invitation that can be changed"),
    )
}

fn erased(id: UserId) -> DomainError {
    invalid_state("USER_ERASED", format!("user {id} is erased"))
}

/// The calendar month of `t` as `yyyymm` (e.g. 202611): the key of the invitation quota.
pub(super) fn yyyymm(t: DateTime<Utc>) -> u32 {
    u32::try_from(t.year()).unwrap_or(0) * 100 + t.month()
}

/// `now` plus `days` days (validated to be 1-30; an unrepresentable result is refused).
fn expiry(now: DateTime<Utc>, days: u32) -> Result<DateTime<Utc>, DomainError> {
    now.checked_add_signed(TimeDelta::days(i64::from(days)))
        .ok_or_else(|| DomainError::invalid("expires_in_days", "expiry out of range"))
}

impl TenantScope {
    /// Whether `name` is a built-in role or a live custom role.
    pub(super) fn role_exists(&self, name: &str) -> bool {
        BuiltinRole::from_name(name).is_some() || self.live_role_named(name).is_some()
    }

    /// The refusal for an assignment whose role or scope does not exist here, if any.
    pub(super) fn check_assignment(&self, assignment: &Assignment) -> Result<(), DomainError> {
        if !self.role_exists(&assignment.role) {
            return Err(DomainError::NotFound {
                resource: ResourceKind::Role,
                id: assignment.role.clone(),
            });
        }
        self.check_scope(assignment.scope)
    }

    /// The refusal for a scope that is not the tenant or a live organization or team of it.
    pub(super) fn check_scope(&self, scope: Scope) -> Result<(), DomainError> {
        match scope {
            Scope::Tenant => Ok(()),
            Scope::Organization(o) if self.live(o).is_none() => Err(org_not_found(o)),
            Scope::Team(t) if self.live_team(t).is_none() => Err(team_not_found(t)),
            Scope::Organization(_) | Scope::Team(_) => Ok(()),
        }
    }

    /// Refuses a new invitation (or a resend) beyond the plan's monthly quota.
    fn check_invitation_quota(
        &self,
        tenant: &Tenant,
        now: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        if let Some(allowed) = tenant.plan.limits().invitations_per_month {
            let sent = u64::from(self.invitations_sent_in(yyyymm(now)));
            if sent >= allowed {
                return Err(DomainError::PlanLimitExceeded {
                    limit: "invitations_per_month",
                    plan: tenant.plan,
                    allowed,
                });
            }
        }
        Ok(())
    }

    /// Erase: allowed whatever the tenant's status short of deleted (a deleted tenant is erased
    /// whole, by EraseTenant); a no-op for an erased user.
    fn decide_erase(&self, id: UserId) -> Decision {
        match self.tenant.as_ref().map(|t| t.status) {
            None => self.active_tenant().map(|_| Vec::new()),
            Some(TenantStatus::Deleted) => Err(DomainError::TenantDeleted),
            Some(_) => match self.existing_user(id)?.status {
                UserStatus::Erased => Ok(Vec::new()),
                _ => one(UserEvent::UserErased { id }),
            },
        }
    }

    fn existing_user(&self, id: UserId) -> Result<&User, DomainError> {
        self.user(id).ok_or_else(|| user_not_found(id))
    }

    /// Decides a user command.
    pub(super) fn decide_user(&self, command: &UserCommand, ctx: &Context) -> Decision {
        if let UserCommand::ExpireInvitation { id } = command {
            // The engine's own timer: never gated, a no-op wherever it does not apply.
            if self.tenant.is_none() {
                self.active_tenant()?;
            }
            return Ok(self.invitation_expiry(*id, ctx));
        }
        if let UserCommand::Erase { id } = command {
            return self.decide_erase(*id);
        }
        let tenant = self.active_tenant()?;
        match command {
            UserCommand::Invite {
                id,
                email,
                display_name,
                roles,
                organization_id,
                expires_in_days,
                token_hash,
            } => {
                let invite = Invite {
                    id: *id,
                    email,
                    display_name,
                    roles,
                    organization_id: *organization_id,
                    expires_in_days: *expires_in_days,
                    token_hash: *token_hash,
                };
                self.decide_invite(tenant, &invite, ctx)
            }
            UserCommand::ResendInvitation {
                id,
                expires_in_days,
                token_hash,
            } => self.decide_resend(tenant, *id, *expires_in_days, *token_hash, ctx),
            UserCommand::RevokeInvitation { id } => {
                let user = self.existing_user(*id)?;
                let pending = user.status == UserStatus::Invited
                    && user
                        .invitation
                        .as_ref()
                        .is_some_and(|i| i.state == InvitationState::Pending);
                if !pending {
                    return Err(not_pending(*id));
                }
                one(UserEvent::InvitationRevoked { id: *id })
            }
            UserCommand::AcceptInvitation {
                id,
                token_hash,
                display_name,
            } => self.decide_accept(*id, *token_hash, display_name.as_deref(), ctx),
            UserCommand::Register {
                id,
                email,
                display_name,
            } => self.decide_register(tenant, *id, email, display_name),
            // Decided above, before the tenant gate.
            UserCommand::ExpireInvitation { .. } | UserCommand::Erase { .. } => Ok(vec![]),
            UserCommand::UpdateProfile { id, display_name } => {
                let name = validation::update_user_profile(display_name.as_deref())?;
                let user = self.existing_user(*id)?;
                if user.status == UserStatus::Erased {
                    return Err(erased(*id));
                }
                if user.display_name == name {
                    return Ok(vec![]);
                }
                one(UserEvent::UserProfileUpdated {
                    id: *id,
                    display_name: Some(name),
                })
            }
            UserCommand::SetClient { id, client_id } => {
                let user = self.existing_user(*id)?;
                if user.status == UserStatus::Erased {
                    return Err(erased(*id));
                }
                if let Some(client) = client_id {
                    self.active_client(*client)?;
                }
                if user.client_id == *client_id {
                    return Ok(vec![]);
                }
                one(UserEvent::UserClientChanged {
                    id: *id,
                    client_id: *client_id,
                })
            }
            UserCommand::Deactivate { id } => {
                let user = self.existing_user(*id)?;
                if user.status != UserStatus::Active {
                    return Err(invalid_state(
                        "USER_NOT_ACTIVE",
                        format!(
                            "user {id} is {}; only active users can be deactivated (revoke an invitation instead)",
                            status_name(user.status)
                        ),
                    ));
                }
                one(UserEvent::UserDeactivated { id: *id })
            }
            UserCommand::Reactivate { id } => {
                let user = self.existing_user(*id)?;
                if user.status != UserStatus::Deactivated {
                    return Err(invalid_state(
                        "USER_NOT_DEACTIVATED",
                        format!(
                            "user {id} is {}; only deactivated users can be reactivated",
                            status_name(user.status)
                        ),
                    ));
                }
                one(UserEvent::UserReactivated { id: *id })
            }
            UserCommand::AddToOrganization {
                id,
                organization_id,
            } => {
                let user = self.existing_user(*id)?;
                if user.status == UserStatus::Erased {
                    return Err(erased(*id));
                }
                if self.live(*organization_id).is_none() {
                    return Err(org_not_found(*organization_id));
                }
                if user.organizations.contains(organization_id) {
                    return Ok(vec![]);
                }
                one(UserEvent::MembershipAdded {
                    id: *id,
                    organization_id: *organization_id,
                })
            }
            UserCommand::RemoveFromOrganization {
                id,
                organization_id,
            } => {
                let user = self.existing_user(*id)?;
                if !user.organizations.contains(organization_id) {
                    return Ok(vec![]);
                }
                one(UserEvent::MembershipRemoved {
                    id: *id,
                    organization_id: *organization_id,
                })
            }
            UserCommand::AssignRole { id, assignment } => {
                validation::assign_role(assignment)?;
                let user = self.existing_user(*id)?;
                if user.status == UserStatus::Erased {
                    return Err(erased(*id));
                }
                self.check_assignment(assignment)?;
                if user.assignments.contains(assignment) {
                    return Ok(vec![]);
                }
                one(UserEvent::RoleAssigned {
                    id: *id,
                    assignment: assignment.clone(),
                })
            }
            UserCommand::RevokeRole { id, assignment } => {
                let user = self.existing_user(*id)?;
                if !user.assignments.contains(assignment) {
                    return Ok(vec![]);
                }
                one(UserEvent::RoleRevoked {
                    id: *id,
                    assignment: assignment.clone(),
                })
            }
        }
    }

    /// Invite: new id, free email, live organization, existing roles at live scopes, quota.
    fn decide_invite(&self, tenant: &Tenant, c: &Invite<'_>, ctx: &Context) -> Decision {
        let new = validation::invite_user(c.email, c.display_name, c.roles, c.expires_in_days)?;
        let expires_at = expiry(ctx.now, c.expires_in_days)?;
        if self.users.contains_key(&c.id) {
            return Err(DomainError::AlreadyExists {
                resource: ResourceKind::User,
                field: "id",
                value: c.id.to_string(),
            });
        }
        if self.users_by_email.contains_key(&new.email.to_lowercase()) {
            return Err(DomainError::AlreadyExists {
                resource: ResourceKind::User,
                field: "email",
                value: new.email,
            });
        }
        if let Some(o) = c.organization_id
            && self.live(o).is_none()
        {
            return Err(org_not_found(o));
        }
        let mut roles: Vec<&Assignment> = Vec::with_capacity(c.roles.len());
        for a in c.roles {
            self.check_assignment(a)?;
            if !roles.contains(&a) {
                roles.push(a);
            }
        }
        self.check_invitation_quota(tenant, ctx.now)?;
        let mut events = vec![TenantScopeEvent::User(UserEvent::UserInvited {
            id: c.id,
            email: new.email,
            display_name: new.display_name,
            token_hash: c.token_hash,
            expires_at,
        })];
        if let Some(organization_id) = c.organization_id {
            events.push(TenantScopeEvent::User(UserEvent::MembershipAdded {
                id: c.id,
                organization_id,
            }));
        }
        events.extend(roles.into_iter().map(|a| {
            TenantScopeEvent::User(UserEvent::RoleAssigned {
                id: c.id,
                assignment: a.clone(),
            })
        }));
        Ok(events)
    }

    /// Resend: an invited user whose invitation is pending, revoked or expired; quota.
    fn decide_resend(
        &self,
        tenant: &Tenant,
        id: UserId,
        expires_in_days: u32,
        token_hash: SecretHash,
        ctx: &Context,
    ) -> Decision {
        validation::resend_invitation(expires_in_days)?;
        let expires_at = expiry(ctx.now, expires_in_days)?;
        let user = self.existing_user(id)?;
        let reopenable = user.status == UserStatus::Invited
            && user.invitation.as_ref().is_some_and(|i| {
                matches!(
                    i.state,
                    InvitationState::Pending | InvitationState::Revoked | InvitationState::Expired
                )
            });
        if !reopenable {
            return Err(not_pending(id));
        }
        self.check_invitation_quota(tenant, ctx.now)?;
        one(UserEvent::InvitationResent {
            id,
            token_hash,
            expires_at,
        })
    }

    /// Accept: the token's hash must be the current invitation's; only then is its state told.
    fn decide_accept(
        &self,
        id: UserId,
        token_hash: SecretHash,
        display_name: Option<&str>,
        ctx: &Context,
    ) -> Decision {
        let display_name = validation::accept_invitation(display_name)?;
        let invitation = self
            .users
            .get(&id)
            .and_then(|u| u.invitation.as_ref())
            .filter(|i| i.token_hash.matches(&token_hash))
            .ok_or_else(|| invitation_not_found(id))?;
        match invitation.state {
            InvitationState::Revoked => Err(invalid_state(
                "INVITATION_REVOKED",
                format!("the invitation of user {id} was revoked"),
            )),
            InvitationState::Accepted => Err(invalid_state(
                "INVITATION_ALREADY_ACCEPTED",
                format!("the invitation of user {id} was already accepted"),
            )),
            InvitationState::Expired => Err(expired(id, invitation.expires_at)),
            InvitationState::Pending if ctx.now >= invitation.expires_at => {
                Err(expired(id, invitation.expires_at))
            }
            InvitationState::Pending => one(UserEvent::UserActivated { id, display_name }),
        }
    }

    /// The timer's expiry: a pending invitation whose time has come; nothing otherwise.
    fn invitation_expiry(&self, id: UserId, ctx: &Context) -> Vec<TenantScopeEvent> {
        let due = self.users.get(&id).is_some_and(|u| {
            u.status == UserStatus::Invited
                && u.invitation
                    .as_ref()
                    .is_some_and(|i| i.state == InvitationState::Pending && ctx.now >= i.expires_at)
        });
        if due {
            vec![TenantScopeEvent::User(UserEvent::InvitationExpired { id })]
        } else {
            vec![]
        }
    }

    /// The live custom role named `name`.
    pub(super) fn live_role_named(&self, name: &str) -> Option<&crate::domain::RoleDefinition> {
        self.live_roles
            .get(name)
            .and_then(|id| self.roles.get(id))
            .filter(|r| r.status == RoleStatus::Active)
    }
}

fn expired(id: UserId, at: DateTime<Utc>) -> DomainError {
    invalid_state(
        "INVITATION_EXPIRED",
        format!("the invitation of user {id} expired at {at}"),
    )
}

/// Lower-case name of a user status, for messages.
pub(super) fn status_name(status: UserStatus) -> &'static str {
    match status {
        UserStatus::Invited => "invited",
        UserStatus::Active => "active",
        UserStatus::Deactivated => "deactivated",
        UserStatus::Erased => "erased",
    }
}

/// InviteUser's fields, borrowed.
struct Invite<'a> {
    id: UserId,
    email: &'a str,
    display_name: &'a str,
    roles: &'a [Assignment],
    organization_id: Option<OrganizationId>,
    expires_in_days: u32,
    token_hash: SecretHash,
}
