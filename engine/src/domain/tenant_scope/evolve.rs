//! Folding events into state. Events are facts: applying never fails, and an event about an
//! entity the state does not know (impossible for a well-formed journal) is ignored.
//!
//! Every event bumps the version of exactly its own stream by one and stamps `updated_at`.
//!
//! Each entity kind of the history (tenant, organization, team, user, client, record) folds
//! its own stream's events with two pure functions of its own, `created` and `evolve`; the
//! scope calls them and adds what a tenant-wide index or rule needs (the email index, the
//! organization tree's depths, erasures that reach users and contacts). The analytics
//! projection folds one entity at a time with the same functions.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::{TenantScope, TenantScopeEvent, client_decisions, user_decisions::yyyymm};
use crate::domain::{
    api_key::{ApiKey, ApiKeyEvent},
    client::{Client, ClientEvent, ClientStatus},
    directory::{Record, RecordEvent, RecordFields},
    ids::{OrganizationId, TenantId, UserId},
    organization::{Organization, OrganizationEvent, OrganizationStatus},
    registration::{
        ClaimsCause, ClaimsSync, DomainVerification, RegistrationDomain, RegistrationSettings,
    },
    role::{RoleDefinition, RoleEvent, RoleStatus},
    small_set::SmallSet,
    team::{Team, TeamEvent, TeamStatus},
    tenant::{Onboarding, Tenant, TenantEvent, TenantStatus},
    user::{Invitation, InvitationState, User, UserEvent, UserStatus},
};

impl TenantScope {
    /// Applies one tenant-stream event: the tenant's own fold ([`Tenant::evolve`]), then what
    /// the event changes elsewhere in the scope (a claims re-synchronisation when products or
    /// the session expiration change while a user is active; every person and contact erased
    /// with the tenant).
    pub(super) fn apply_tenant(&mut self, event: &TenantEvent, at: DateTime<Utc>) {
        let version = self.tenant.as_ref().map_or(0, |t| t.version);
        if let Some(tenant) = Tenant::created(event, version, at) {
            self.tenant = Some(tenant);
            return;
        }
        // A tenant-wide claims change has someone to tell only if a user is active.
        let resync = matches!(event, TenantEvent::TenantUpdated { .. }) && self.any_active_user();
        let Some(tenant) = self.tenant.as_mut() else {
            return;
        };
        if resync && changes_claims(tenant, event) {
            // Every active user must hear of it, the newest change winning.
            tenant.claims_sync = Some(ClaimsSync::default());
        }
        tenant.evolve(event, at);
        if let TenantEvent::TenantErased = event {
            let ids: Vec<UserId> = self.users.keys().copied().collect();
            for id in ids {
                if let Some(user) = self.users.get_mut(&id)
                    && user.status != UserStatus::Erased
                {
                    let user = Arc::make_mut(user);
                    // The event is on the tenant's stream: user versions stay.
                    erase(user);
                    user.updated_at = at;
                }
            }
            self.users_by_email.clear();
            let ids: Vec<_> = self.records.keys().copied().collect();
            for id in ids {
                if let Some(record) = self.records.get_mut(&id) {
                    erase_contact(&mut record.fields);
                }
            }
        }
    }

    /// Applies one organization-stream event: the organization's own fold, and its depth
    /// (and its subtree's, when it moves) from the organization tree.
    pub(super) fn apply_organization(&mut self, event: &OrganizationEvent, at: DateTime<Utc>) {
        if let OrganizationEvent::OrganizationCreated { id, parent_id, .. } = event {
            let version = self.organizations.get(id).map_or(0, |o| o.version);
            let depth = self.parent_depth(*parent_id) + 1;
            if let Some(org) = Organization::created(self.tenant_id, event, depth, version, at) {
                self.organizations.insert(*id, org);
            }
            return;
        }
        if let OrganizationEvent::OrganizationMoved {
            id, to_parent_id, ..
        } = event
        {
            let depth = self.parent_depth(*to_parent_id) + 1;
            self.relevel_subtree(*id, depth);
        }
        if let Some(org) = self.organizations.get_mut(&event.organization_id()) {
            org.evolve(event, at);
        }
    }

    /// Applies one team-stream event.
    pub(super) fn apply_team(&mut self, event: &TeamEvent, at: DateTime<Utc>) {
        let id = event.team_id();
        let version = self.teams.get(&id).map_or(0, |t| t.version);
        if let Some(team) = Team::created(self.tenant_id, event, version, at) {
            self.teams.insert(id, team);
        } else if let Some(team) = self.teams.get_mut(&id) {
            team.evolve(event, at);
        }
    }

    /// Applies one user-stream (or claims-stream) event: the user's own fold, and what the
    /// scope keeps about users (the email index, the monthly invitation count, a tenant-wide
    /// claims re-synchronisation's cursor).
    pub(super) fn apply_user(&mut self, event: &UserEvent, at: DateTime<Utc>) {
        let id = event.user_id();
        let version = self.users.get(&id).map_or(0, |u| u.version);
        if let Some(user) = User::created(self.tenant_id, event, version, at) {
            if !user.email.is_empty() {
                self.users_by_email.insert(email_key(&user.email), id);
            }
            self.users.insert(id, Arc::new(user));
            if let UserEvent::UserInvited { .. } = event {
                *self.invitations_sent.entry(yyyymm(at)).or_default() += 1;
            }
            return;
        }
        if let UserEvent::ClaimsChanged {
            cause: ClaimsCause::TenantResync { last },
            ..
        } = event
            && let Some(tenant) = self.tenant.as_mut()
            && tenant.claims_sync.is_some()
        {
            tenant.claims_sync = (!last).then_some(ClaimsSync { after: Some(id) });
        }
        let Some(user) = self.users.get_mut(&id).map(Arc::make_mut) else {
            return;
        };
        let erased_email =
            matches!(event, UserEvent::UserErased { .. }).then(|| user.email.clone());
        user.evolve(event, at);
        // The address is free again: inviting it later makes a new person.
        if let Some(email) = erased_email
            && self.users_by_email.get(&email_key(&email)) == Some(&id)
        {
            self.users_by_email.remove(&email_key(&email));
        }
        if let UserEvent::InvitationResent { .. } = event {
            *self.invitations_sent.entry(yyyymm(at)).or_default() += 1;
        }
    }

    /// Applies one role-stream event (`PermissionPolicyChanged` only bumps the version: the
    /// role's own events already carry what changed).
    pub(super) fn apply_role(&mut self, event: &RoleEvent, at: DateTime<Utc>) {
        if let RoleEvent::RoleDefined {
            id,
            name,
            description,
            permissions,
        } = event
        {
            let version = self.roles.get(id).map_or(0, |r| r.version) + 1;
            self.live_roles.insert(name.clone(), *id);
            self.roles.insert(
                *id,
                RoleDefinition {
                    tenant_id: self.tenant_id,
                    id: *id,
                    name: name.clone(),
                    description: description.clone(),
                    permissions: permissions.clone(),
                    status: RoleStatus::Active,
                    version,
                    created_at: at,
                    updated_at: at,
                },
            );
            return;
        }
        let Some(role) = self.roles.get_mut(&event.role_id()) else {
            return;
        };
        match event {
            RoleEvent::RoleDefined { .. } | RoleEvent::PermissionPolicyChanged { .. } => {}
            RoleEvent::RoleUpdated {
                description,
                permissions,
                ..
            } => {
                if let Some(description) = description {
                    role.description.clone_from(description);
                }
                if let Some(permissions) = permissions {
                    role.permissions.clone_from(permissions);
                }
            }
            RoleEvent::RoleDeleted { .. } => {
                role.status = RoleStatus::Deleted;
                if self.live_roles.get(&role.name) == Some(&role.id) {
                    self.live_roles.remove(&role.name);
                }
            }
        }
        role.version += 1;
        role.updated_at = at;
    }

    /// Depth of a parent (0 for "no parent", i.e. the new organization is a root).
    fn parent_depth(&self, parent_id: Option<OrganizationId>) -> usize {
        parent_id
            .and_then(|p| self.organizations.get(&p))
            .map_or(0, |p| p.depth)
    }

    /// Sets `root`'s depth and re-levels every organization below it (breadth first).
    fn relevel_subtree(&mut self, root: OrganizationId, depth: usize) {
        for (id, depth) in Organization::subtree_depths(self.organizations.values(), root, depth) {
            if let Some(org) = self.organizations.get_mut(&id) {
                org.depth = depth;
            }
        }
    }

    /// Applies one client-stream event.
    pub(super) fn apply_client(&mut self, event: &ClientEvent, at: DateTime<Utc>) {
        let id = event.client_id();
        let version = self.clients.get(&id).map_or(0, |c| c.version);
        if let Some(client) = Client::created(self.tenant_id, event, version, at) {
            self.clients.insert(id, client);
        } else if let Some(client) = self.clients.get_mut(&id) {
            client.evolve(event, at);
        }
    }

    /// Applies one record-stream event.
    pub(super) fn apply_record(&mut self, event: &RecordEvent, at: DateTime<Utc>) {
        let id = event.record_id();
        let version = self.records.get(&id).map_or(0, |r| r.version);
        if let Some(record) = Record::created(self.tenant_id, event, version, at) {
            self.records.insert(id, record);
        } else if let Some(record) = self.records.get_mut(&id) {
            record.evolve(event, at);
        }
    }

    /// Applies one API-key event.
    pub(super) fn apply_api_key(&mut self, event: &ApiKeyEvent, at: DateTime<Utc>) {
        if let ApiKeyEvent::ApiKeyCreated {
            id,
            partition_id,
            client_id,
            name,
            scopes,
            foreign_key,
            secret_hash,
            hint,
            expires_at,
            rotated_from,
        } = event
        {
            let version = self.api_keys.get(id).map_or(0, |k| k.version) + 1;
            self.api_keys.insert(
                *id,
                ApiKey {
                    tenant_id: self.tenant_id,
                    id: *id,
                    partition_id: *partition_id,
                    client_id: *client_id,
                    name: name.clone(),
                    scopes: scopes.clone(),
                    foreign_key: foreign_key.clone(),
                    secret_hash: *secret_hash,
                    hint: hint.clone(),
                    expires_at: *expires_at,
                    revoked: None,
                    rotated_from: *rotated_from,
                    replaced_by: None,
                    version,
                    created_at: at,
                    updated_at: at,
                },
            );
            return;
        }
        let Some(key) = self.api_keys.get_mut(&event.key_id()) else {
            return;
        };
        match event {
            ApiKeyEvent::ApiKeyCreated { .. } => {}
            ApiKeyEvent::ApiKeyRotated {
                replaced_by,
                expires_at,
                ..
            } => {
                key.replaced_by = Some(*replaced_by);
                key.expires_at = Some(*expires_at);
            }
            ApiKeyEvent::ApiKeyRevoked { reason, .. } => key.revoked = Some((at, *reason)),
        }
        key.version += 1;
        key.updated_at = at;
    }
}

/// Dispatches an event to its stream's fold.
pub(super) fn apply(scope: &mut TenantScope, event: &TenantScopeEvent, at: DateTime<Utc>) {
    match event {
        TenantScopeEvent::Tenant(e) => scope.apply_tenant(e, at),
        TenantScopeEvent::Organization(e) => scope.apply_organization(e, at),
        TenantScopeEvent::Team(e) => scope.apply_team(e, at),
        TenantScopeEvent::User(e) => scope.apply_user(e, at),
        TenantScopeEvent::Role(e) => scope.apply_role(e, at),
        TenantScopeEvent::Client(e) => scope.apply_client(e, at),
        TenantScopeEvent::Record(e) => scope.apply_record(e, at),
        TenantScopeEvent::ApiKey(e) => scope.apply_api_key(e, at),
    }
}

/// The key of the email index: trimmed and lower-cased.
pub(super) fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Whether a `TenantUpdated` changes what users' claims hold (products, session expiration).
fn changes_claims(tenant: &Tenant, event: &TenantEvent) -> bool {
    let TenantEvent::TenantUpdated {
        settings, products, ..
    } = event
    else {
        return false;
    };
    products.as_ref().is_some_and(|p| *p != tenant.products)
        || settings.as_ref().is_some_and(|s| {
            s.session_expiration_seconds != tenant.settings.session_expiration_seconds
        })
}

impl Tenant {
    /// The tenant a `TenantCreated` describes (`None` for any other event) at version
    /// `version + 1`: `version` is that of a tenant already held under its id (0 for none; a
    /// second creation cannot be decided, but a stream never restarts).
    pub fn created(event: &TenantEvent, version: i64, at: DateTime<Utc>) -> Option<Tenant> {
        let TenantEvent::TenantCreated {
            id,
            name,
            slug,
            kind,
            plan,
            settings,
            products,
            business_profile,
            parent,
        } = event
        else {
            return None;
        };
        Some(Tenant {
            onboarding: None,
            id: *id,
            name: name.clone(),
            slug: slug.clone(),
            kind: *kind,
            plan: *plan,
            status: TenantStatus::Active,
            settings: settings.clone(),
            products: products.clone(),
            business_profile: business_profile.clone(),
            suspension_reason: None,
            grace_period_ends_at: None,
            deactivation_feedback: None,
            erased_at: None,
            parent: *parent,
            registration: RegistrationSettings::default(),
            claims_sync: None,
            version: version + 1,
            created_at: at,
            updated_at: at,
        })
    }

    /// Folds one event of the tenant's stream other than its creation (which it ignores):
    /// what the event changes of the tenant itself, with the version bumped and `updated_at`
    /// stamped. What it changes elsewhere in the scope (its users and contacts on
    /// `TenantErased`, the claims re-synchronisation a `TenantUpdated` may start) is
    /// [`TenantScope::apply`]'s.
    pub fn evolve(&mut self, event: &TenantEvent, at: DateTime<Utc>) {
        let tenant = self;
        match event {
            TenantEvent::TenantCreated { .. } => return,
            TenantEvent::OnboardingStarted { plan } => {
                tenant.onboarding = Some(Onboarding {
                    plan: plan.clone(),
                    completed: false,
                });
            }
            TenantEvent::OnboardingCompleted => {
                if let Some(onboarding) = tenant.onboarding.as_mut() {
                    onboarding.completed = true;
                }
            }
            TenantEvent::TenantUpdated {
                name,
                settings,
                products,
                business_profile,
            } => {
                if let Some(name) = name {
                    tenant.name.clone_from(name);
                }
                if let Some(settings) = settings {
                    tenant.settings.clone_from(settings);
                }
                if let Some(products) = products {
                    tenant.products.clone_from(products);
                }
                if let Some(profile) = business_profile {
                    tenant.business_profile.clone_from(profile);
                }
            }
            TenantEvent::TenantPlanChanged { to, .. } => tenant.plan = *to,
            TenantEvent::TenantSuspended { reason } => {
                tenant.status = TenantStatus::Suspended;
                tenant.suspension_reason = Some(reason.clone());
            }
            TenantEvent::TenantReactivated => {
                tenant.status = TenantStatus::Active;
                tenant.suspension_reason = None;
                tenant.grace_period_ends_at = None;
            }
            TenantEvent::TenantDeactivated {
                grace_period_ends_at,
                feedback,
            } => {
                tenant.status = TenantStatus::Deactivated;
                tenant.grace_period_ends_at = Some(*grace_period_ends_at);
                tenant.deactivation_feedback = Some(feedback.clone());
            }
            TenantEvent::TenantDeleted { .. } => tenant.status = TenantStatus::Deleted,
            TenantEvent::RegistrationConfigured {
                enabled,
                auto_roles,
            } => {
                tenant.registration.enabled = *enabled;
                tenant.registration.auto_roles.clone_from(auto_roles);
            }
            TenantEvent::RegistrationHostChanged { to, .. } => {
                tenant.registration.custom_host.clone_from(to);
            }
            TenantEvent::RegistrationDomainAdded {
                domain,
                client_id,
                txt_token,
            } => {
                tenant.registration.domains.insert(
                    domain.clone(),
                    RegistrationDomain {
                        client_id: *client_id,
                        txt_token: txt_token.clone(),
                        added_at: at,
                        verified: None,
                    },
                );
            }
            TenantEvent::RegistrationDomainVerified { domain, method } => {
                if let Some(entry) = tenant.registration.domains.get_mut(domain) {
                    entry.verified = Some(DomainVerification {
                        at,
                        method: *method,
                    });
                }
            }
            TenantEvent::RegistrationDomainRemoved { domain } => {
                tenant.registration.domains.remove(domain);
            }
            TenantEvent::ClaimsResyncEnded => tenant.claims_sync = None,
            TenantEvent::TenantErased => {
                tenant.erased_at = Some(at);
                if let Some(onboarding) = tenant.onboarding.as_mut() {
                    onboarding.plan.owner_email.clear();
                }
                if let Some(feedback) = tenant.deactivation_feedback.as_mut() {
                    feedback.requested_by.clear();
                }
            }
        }
        tenant.version += 1;
        tenant.updated_at = at;
    }
}

impl Organization {
    /// The organization an `OrganizationCreated` describes (`None` for any other event), of
    /// `tenant_id`, at `depth` (its parent's depth + 1, from the tree) and version
    /// `version + 1` (see [`Tenant::created`]).
    pub fn created(
        tenant_id: TenantId,
        event: &OrganizationEvent,
        depth: usize,
        version: i64,
        at: DateTime<Utc>,
    ) -> Option<Organization> {
        let OrganizationEvent::OrganizationCreated {
            id,
            name,
            description,
            parent_id,
        } = event
        else {
            return None;
        };
        Some(Organization {
            tenant_id,
            id: *id,
            name: name.clone(),
            description: description.clone(),
            parent_id: *parent_id,
            depth,
            status: OrganizationStatus::Active,
            version: version + 1,
            created_at: at,
            updated_at: at,
        })
    }

    /// Folds one event of the organization's stream other than its creation (ignored), with
    /// the version bumped and `updated_at` stamped. The depth is the tree's: a move re-levels
    /// the subtree ([`Organization::subtree_depths`]).
    pub fn evolve(&mut self, event: &OrganizationEvent, at: DateTime<Utc>) {
        match event {
            OrganizationEvent::OrganizationCreated { .. } => return,
            OrganizationEvent::OrganizationUpdated {
                name, description, ..
            } => {
                if let Some(name) = name {
                    self.name.clone_from(name);
                }
                if let Some(description) = description {
                    self.description.clone_from(description);
                }
            }
            OrganizationEvent::OrganizationMoved { to_parent_id, .. } => {
                self.parent_id = *to_parent_id;
            }
            OrganizationEvent::OrganizationDeleted { .. } => {
                self.status = OrganizationStatus::Deleted;
            }
        }
        self.version += 1;
        self.updated_at = at;
    }

    /// The depth of `root` and of every organization below it in `forest` once `root` is at
    /// `depth` (breadth first, `root` first). A journal can only hold a forest (moves into a
    /// subtree are refused), but this never loops: it visits at most as many organizations as
    /// `forest` holds.
    pub fn subtree_depths<'a>(
        forest: impl IntoIterator<Item = &'a Organization>,
        root: OrganizationId,
        depth: usize,
    ) -> Vec<(OrganizationId, usize)> {
        let mut children: BTreeMap<OrganizationId, Vec<OrganizationId>> = BTreeMap::new();
        let mut budget = 0;
        for o in forest {
            budget += 1;
            if let Some(parent) = o.parent_id {
                children.entry(parent).or_default().push(o.id);
            }
        }
        let mut depths = Vec::new();
        let mut queue = VecDeque::from([(root, depth)]);
        while let Some((id, depth)) = queue.pop_front() {
            if budget == 0 {
                break;
            }
            budget -= 1;
            depths.push((id, depth));
            for child in children.get(&id).into_iter().flatten() {
                queue.push_back((*child, depth + 1));
            }
        }
        depths
    }
}

impl Team {
    /// The team a `TeamCreated` describes (`None` for any other event), of `tenant_id`, at
    /// version `version + 1` (see [`Tenant::created`]).
    pub fn created(
        tenant_id: TenantId,
        event: &TeamEvent,
        version: i64,
        at: DateTime<Utc>,
    ) -> Option<Team> {
        let TeamEvent::TeamCreated {
            id,
            organization_id,
            name,
            description,
        } = event
        else {
            return None;
        };
        Some(Team {
            tenant_id,
            id: *id,
            organization_id: *organization_id,
            name: name.clone(),
            description: description.clone(),
            members: BTreeMap::new(),
            status: TeamStatus::Active,
            version: version + 1,
            created_at: at,
            updated_at: at,
        })
    }

    /// Folds one event of the team's stream other than its creation (ignored), with the
    /// version bumped and `updated_at` stamped.
    pub fn evolve(&mut self, event: &TeamEvent, at: DateTime<Utc>) {
        match event {
            TeamEvent::TeamCreated { .. } => return,
            TeamEvent::TeamUpdated {
                name, description, ..
            } => {
                if let Some(name) = name {
                    self.name.clone_from(name);
                }
                if let Some(description) = description {
                    self.description.clone_from(description);
                }
            }
            TeamEvent::TeamDeleted { .. } => self.status = TeamStatus::Deleted,
            TeamEvent::MembershipAdded { user_id, role, .. } => {
                self.members.insert(*user_id, *role);
            }
            TeamEvent::MembershipRemoved { user_id, .. } => {
                self.members.remove(user_id);
            }
        }
        self.version += 1;
        self.updated_at = at;
    }
}

impl User {
    /// The user a `UserInvited` (invited, with a pending invitation) or `UserRegistered`
    /// (active) describes (`None` for any other event), of `tenant_id`, at version
    /// `version + 1` (see [`Tenant::created`]).
    pub fn created(
        tenant_id: TenantId,
        event: &UserEvent,
        version: i64,
        at: DateTime<Utc>,
    ) -> Option<User> {
        let (id, email, display_name) = match event {
            UserEvent::UserInvited {
                id,
                email,
                display_name,
                ..
            }
            | UserEvent::UserRegistered {
                id,
                email,
                display_name,
                ..
            } => (*id, email, display_name),
            _ => return None,
        };
        let mut user = User {
            tenant_id,
            id,
            email: email.clone(),
            display_name: display_name.clone(),
            status: UserStatus::Invited,
            invitation: None,
            organizations: SmallSet::new(),
            assignments: SmallSet::new(),
            client_id: None,
            claims_version: 0,
            version: version + 1,
            created_at: at,
            updated_at: at,
        };
        match event {
            UserEvent::UserRegistered { client_id, .. } => {
                user.status = UserStatus::Active;
                user.client_id = *client_id;
            }
            UserEvent::UserInvited {
                token_hash,
                expires_at,
                ..
            } => {
                user.invitation = Some(Invitation {
                    token_hash: *token_hash,
                    expires_at: *expires_at,
                    state: InvitationState::Pending,
                    sent_at: at,
                });
            }
            _ => {}
        }
        Some(user)
    }

    /// Folds one event of the user's stream other than its creation (ignored), with the
    /// version bumped and `updated_at` stamped; a `ClaimsChanged` (on the user's claims
    /// stream) bumps only `claims_version`. An erasure drops the personal values and closes
    /// the account for good.
    pub fn evolve(&mut self, event: &UserEvent, at: DateTime<Utc>) {
        let user = self;
        let set_invitation = |user: &mut User, state: InvitationState| {
            if let Some(invitation) = user.invitation.as_mut() {
                invitation.state = state;
            }
        };
        match event {
            UserEvent::UserInvited { .. } | UserEvent::UserRegistered { .. } => return,
            UserEvent::ClaimsChanged { .. } => {
                // On the user's claims stream: the user's own version and time stay.
                user.claims_version += 1;
                return;
            }
            UserEvent::InvitationResent {
                token_hash,
                expires_at,
                ..
            } => {
                user.invitation = Some(Invitation {
                    token_hash: *token_hash,
                    expires_at: *expires_at,
                    state: InvitationState::Pending,
                    sent_at: at,
                });
            }
            UserEvent::InvitationRevoked { .. } => set_invitation(user, InvitationState::Revoked),
            UserEvent::InvitationExpired { .. } => set_invitation(user, InvitationState::Expired),
            UserEvent::UserActivated { display_name, .. } => {
                user.status = UserStatus::Active;
                set_invitation(user, InvitationState::Accepted);
                if let Some(name) = display_name {
                    user.display_name.clone_from(name);
                }
            }
            UserEvent::UserProfileUpdated { display_name, .. } => {
                if let Some(name) = display_name {
                    user.display_name.clone_from(name);
                }
            }
            UserEvent::UserClientChanged { client_id, .. } => user.client_id = *client_id,
            UserEvent::UserDeactivated { .. } => user.status = UserStatus::Deactivated,
            UserEvent::UserReactivated { .. } => user.status = UserStatus::Active,
            UserEvent::MembershipAdded {
                organization_id, ..
            } => {
                user.organizations.insert(*organization_id);
            }
            UserEvent::MembershipRemoved {
                organization_id, ..
            } => {
                user.organizations.remove(organization_id);
            }
            UserEvent::RoleAssigned { assignment, .. } => {
                user.assignments.insert(assignment.clone());
            }
            UserEvent::RoleRevoked { assignment, .. } => {
                user.assignments.remove(assignment);
            }
            UserEvent::UserErased { .. } => erase(user),
        }
        user.version += 1;
        user.updated_at = at;
    }
}

impl Client {
    /// The client a `ClientCreated` describes (`None` for any other event), of `tenant_id`,
    /// at version `version + 1` (see [`Tenant::created`]).
    pub fn created(
        tenant_id: TenantId,
        event: &ClientEvent,
        version: i64,
        at: DateTime<Utc>,
    ) -> Option<Client> {
        let ClientEvent::ClientCreated {
            id,
            name,
            external_id,
            business_profile,
        } = event
        else {
            return None;
        };
        Some(Client {
            tenant_id,
            id: *id,
            name: name.clone(),
            external_id: external_id.clone(),
            business_profile: business_profile.clone(),
            status: ClientStatus::Active,
            provisioned_tenant_id: None,
            version: version + 1,
            created_at: at,
            updated_at: at,
        })
    }

    /// Folds one event of the client's stream other than its creation (ignored), with the
    /// version bumped and `updated_at` stamped.
    pub fn evolve(&mut self, event: &ClientEvent, at: DateTime<Utc>) {
        let client = self;
        match event {
            ClientEvent::ClientCreated { .. } => return,
            ClientEvent::ClientUpdated {
                name,
                external_id,
                business_profile,
                ..
            } => {
                if let Some(name) = name {
                    client.name.clone_from(name);
                }
                if let Some(external_id) = external_id {
                    client.external_id.clone_from(external_id);
                }
                client_decisions::updated_profile(&mut client.business_profile, business_profile);
            }
            ClientEvent::ClientTenantProvisioned { tenant, .. } => {
                client.provisioned_tenant_id = Some(tenant.tenant_id);
            }
            ClientEvent::ClientTenantProvisioningFailed { tenant_id, .. } => {
                if client.provisioned_tenant_id == Some(*tenant_id) {
                    client.provisioned_tenant_id = None;
                }
            }
            ClientEvent::ClientDisabled { .. } => client.status = ClientStatus::Disabled,
            ClientEvent::ClientEnabled { .. } => client.status = ClientStatus::Active,
            ClientEvent::ClientDeleted { .. } => client.status = ClientStatus::Deleted,
        }
        client.version += 1;
        client.updated_at = at;
    }
}

impl Record {
    /// The record a `RecordCreated` describes (`None` for any other event), of `tenant_id`,
    /// at version `version + 1` (see [`Tenant::created`]).
    pub fn created(
        tenant_id: TenantId,
        event: &RecordEvent,
        version: i64,
        at: DateTime<Utc>,
    ) -> Option<Record> {
        let RecordEvent::RecordCreated {
            id,
            client_id,
            fields,
        } = event
        else {
            return None;
        };
        Some(Record {
            tenant_id,
            id: *id,
            client_id: *client_id,
            fields: fields.clone(),
            active: true,
            deleted: false,
            version: version + 1,
            created_at: at,
            updated_at: at,
        })
    }

    /// Folds one event of the record's stream other than its creation (ignored), with the
    /// version bumped and `updated_at` stamped. A deletion leaves a tombstone without a
    /// contact's personal values.
    pub fn evolve(&mut self, event: &RecordEvent, at: DateTime<Utc>) {
        match event {
            RecordEvent::RecordCreated { .. } => return,
            RecordEvent::RecordUpdated { fields, active, .. } => {
                self.fields.clone_from(fields);
                self.active = *active;
            }
            RecordEvent::RecordDeleted { .. } => {
                self.deleted = true;
                self.active = false;
                erase_contact(&mut self.fields);
            }
        }
        self.version += 1;
        self.updated_at = at;
    }
}

/// Drops a person's personal values and closes the account for good.
fn erase(user: &mut User) {
    user.email.clear();
    user.display_name.clear();
    user.status = UserStatus::Erased;
    user.invitation = None;
}

/// Drops a contact's personal values (its deletion destroys its key; its tombstone keeps none).
fn erase_contact(fields: &mut RecordFields) {
    if let RecordFields::Contact(contact) = fields {
        contact.name.clear();
        contact.email.clear();
        contact.phone.clear();
    }
}
