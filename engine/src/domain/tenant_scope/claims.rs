//! The claims an identity provider puts in a user's tokens, and the ClaimsChanged events that
//! tell it when they change.
//!
//! Every decision passes through [`TenantScope::with_claims_changes`]: the users whose streams
//! the decision touches are compared before and after it, and each whose claims differ gets a
//! ClaimsChanged in the same append, if it is active before or after (invited users hold no
//! tokens). ClaimsChanged goes on the user's claims stream ([`StreamKind::Claims`](crate::domain::StreamKind::Claims)), so the
//! user's own version moves only with the user's own events. A tenant-wide change (its products, its session expiration) instead starts a
//! re-synchronisation (see `evolve`), which the runtime drives one [`CLAIMS_SYNC_BATCH`] of
//! active users at a time, in user-id order, so a tenant of 100,000 users neither blocks its
//! actor nor writes one huge transaction.

use std::collections::BTreeSet;
use std::ops::Bound;

use super::{TenantScope, TenantScopeEvent};
use crate::domain::{
    access::Scope,
    context::Context,
    error::{DomainError, ResourceKind},
    ids::UserId,
    organization::OrganizationEvent,
    registration::{
        CLAIMS_SYNC_BATCH, ClaimsCause, DEFAULT_SESSION_EXPIRATION_SECONDS, UserClaims,
    },
    team::TeamEvent,
    tenant::{Tenant, TenantEvent},
    user::{User, UserEvent, UserStatus},
};

impl TenantScope {
    /// The claims of a user (any status), as of every acknowledged write.
    ///
    /// # Errors
    /// [`DomainError::NotFound`] for an unknown user or a scope without a tenant.
    pub fn user_claims(&self, id: UserId) -> Result<UserClaims, DomainError> {
        let not_found = |resource: ResourceKind, id: String| DomainError::NotFound { resource, id };
        let tenant = self
            .tenant
            .as_ref()
            .ok_or_else(|| not_found(ResourceKind::Tenant, self.tenant_id.to_string()))?;
        let user = self
            .users
            .get(&id)
            .ok_or_else(|| not_found(ResourceKind::User, id.to_string()))?;
        Ok(self.claims(tenant, user))
    }

    /// Whether a tenant-wide re-synchronisation is under way (its next step writes a batch,
    /// or ends it when nobody is left).
    pub fn claims_sync_pending(&self) -> bool {
        self.tenant
            .as_ref()
            .is_some_and(|t| t.claims_sync.is_some())
    }

    /// `events` followed by a ClaimsChanged for each user they change the claims of.
    pub(super) fn with_claims_changes(
        &self,
        events: Vec<TenantScopeEvent>,
        ctx: &Context,
    ) -> Vec<TenantScopeEvent> {
        let mut touched: BTreeSet<UserId> = events
            .iter()
            .filter_map(|e| match e {
                TenantScopeEvent::User(UserEvent::ClaimsChanged { .. }) => None,
                TenantScopeEvent::User(e) => Some(e.user_id()),
                _ => None,
            })
            .collect();
        // A deleted organization or team takes the assignments at it out of the claims of
        // whoever holds one (no event of theirs says so).
        let gone: BTreeSet<Scope> = events
            .iter()
            .filter_map(|e| match e {
                TenantScopeEvent::Organization(OrganizationEvent::OrganizationDeleted {
                    id,
                    ..
                }) => Some(Scope::Organization(*id)),
                TenantScopeEvent::Team(TeamEvent::TeamDeleted { id, .. }) => Some(Scope::Team(*id)),
                _ => None,
            })
            .collect();
        if !gone.is_empty() {
            touched.extend(
                self.users
                    .values()
                    .filter(|u| u.assignments.iter().any(|a| gone.contains(&a.scope)))
                    .map(|u| u.id),
            );
        }
        if touched.is_empty() {
            return events;
        }
        let mut after = self.clone();
        for event in &events {
            after.apply(event, ctx.now);
        }
        let (Some(tenant_before), Some(tenant_after)) = (&self.tenant, &after.tenant) else {
            return events;
        };
        let mut changes = Vec::new();
        for id in touched {
            let before = self.users.get(&id);
            let Some(now) = after.users.get(&id) else {
                continue;
            };
            let was_active = before.is_some_and(|u| u.status == UserStatus::Active);
            if !was_active && now.status != UserStatus::Active {
                continue;
            }
            let claims_now = after.claims(tenant_after, now);
            if before.map(|u| self.claims(tenant_before, u)).as_ref() != Some(&claims_now) {
                changes.push(TenantScopeEvent::User(UserEvent::ClaimsChanged {
                    id,
                    claims: claims_now,
                    cause: ClaimsCause::User,
                }));
            }
        }
        // Right after the users' own events: whatever follows (a deleted role's own events)
        // stays last, with the command's target.
        let at = events
            .iter()
            .rposition(|e| matches!(e, TenantScopeEvent::User(_)))
            .map_or(events.len(), |i| i + 1);
        let mut events = events;
        events.splice(at..at, changes);
        events
    }

    /// The next batch of a tenant-wide re-synchronisation: a ClaimsChanged for each of the
    /// next [`CLAIMS_SYNC_BATCH`] active users, the last one marked when no active user is
    /// left after it. Nothing when no re-synchronisation is under way.
    pub(super) fn claims_sync_batch(
        &self,
        tenant: &Tenant,
        _ctx: &Context,
    ) -> Vec<TenantScopeEvent> {
        let Some(sync) = tenant.claims_sync else {
            return Vec::new();
        };
        let batch: Vec<&User> = self
            .active_after(sync.after)
            .take(CLAIMS_SYNC_BATCH)
            .collect();
        let Some(last) = batch.last().map(|u| u.id) else {
            return vec![TenantScopeEvent::Tenant(TenantEvent::ClaimsResyncEnded)];
        };
        let done = self.next_active_after(Some(last)).is_none();
        batch
            .into_iter()
            .map(|user| {
                TenantScopeEvent::User(UserEvent::ClaimsChanged {
                    id: user.id,
                    claims: self.claims(tenant, user),
                    cause: ClaimsCause::TenantResync {
                        last: done && user.id == last,
                    },
                })
            })
            .collect()
    }

    /// Active users after `after` (all with `None`), in id order.
    fn active_after(&self, after: Option<UserId>) -> impl Iterator<Item = &User> {
        let start = match after {
            Some(id) => Bound::Excluded(id),
            None => Bound::Unbounded,
        };
        self.users
            .range((start, Bound::Unbounded))
            .map(|(_, u)| u.as_ref())
            .filter(|u| u.status == UserStatus::Active)
    }

    fn next_active_after(&self, after: Option<UserId>) -> Option<&User> {
        self.active_after(after).next()
    }

    /// Whether any user is active (a re-synchronisation has someone to tell).
    pub(super) fn any_active_user(&self) -> bool {
        self.next_active_after(None).is_some()
    }
}

impl TenantScope {
    /// A user's claims under its tenant: the assignments whose role and scope still exist
    /// (what CheckPermission honours).
    fn claims(&self, tenant: &Tenant, user: &User) -> UserClaims {
        UserClaims {
            tenant_id: tenant.id,
            user_id: user.id,
            client_id: user.client_id,
            roles: user
                .assignments
                .iter()
                .filter(|a| self.check_assignment(a).is_ok())
                .cloned()
                .collect(),
            products: tenant.products.clone(),
            session_expiration_seconds: tenant
                .settings
                .session_expiration_seconds
                .unwrap_or(DEFAULT_SESSION_EXPIRATION_SECONDS),
            status: user.status,
        }
    }
}
