//! Given/when/then harness and fixtures for the tenant scope.
//!
//! ```ignore
//! given([tenant_created(Plan::Gold)])
//!     .when_org(create_org(org(1), "Sales", None))
//!     .then_events([org_created(org(1), "Sales", None)]);
//! ```

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use uuid::Uuid;

use crate::domain::classification::{SocialPlatform, SocialProfile};
use crate::domain::{
    Assignment, BusinessProfile, ClientCommand, ClientEvent, ClientId, Context, CreateTenant,
    DeactivationFeedback, DomainError, OnboardingPlan, OrganizationCommand, OrganizationEvent,
    OrganizationId, PermissionPattern, Plan, ProvisionedTenant, RoleCommand, RoleEvent, RoleId,
    Scope, SecretHash, TeamCommand, TeamEvent, TeamId, TenantCommand, TenantEvent, TenantId,
    TenantKind, TenantScope, TenantScopeCommand, TenantScopeEvent, TenantSettings, UserCommand,
    UserEvent, UserId,
};

/// The scope's tenant.
pub fn tid() -> TenantId {
    TenantId(Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001))
}

/// Organization number `n`.
pub fn org(n: u128) -> OrganizationId {
    OrganizationId(Uuid::from_u128(
        0x0190_0000_0000_7000_8000_0000_0001_0000 + n,
    ))
}

/// Team number `n`.
pub fn team(n: u128) -> TeamId {
    TeamId(Uuid::from_u128(
        0x0190_0000_0000_7000_8000_0000_0002_0000 + n,
    ))
}

/// User number `n`.
pub fn user(n: u128) -> UserId {
    UserId(Uuid::from_u128(
        0x0190_0000_0000_7000_8000_0000_0003_0000 + n,
    ))
}

/// Custom role number `n`.
pub fn role(n: u128) -> RoleId {
    RoleId(Uuid::from_u128(
        0x0190_0000_0000_7000_8000_0000_0004_0000 + n,
    ))
}

/// The fixed "now" of every test unless told otherwise.
/// Client number `n`.
pub fn client(n: u128) -> ClientId {
    ClientId(Uuid::from_u128(
        0x0190_0000_0000_7000_8000_0000_000c_0000 + n,
    ))
}

/// ClientCreated with an empty external id and no profile.
pub fn client_created(id: ClientId, name: &str) -> TenantScopeEvent {
    TenantScopeEvent::Client(ClientEvent::ClientCreated {
        id,
        name: name.into(),
        external_id: String::new(),
        business_profile: None,
    })
}

/// CreateClient with an empty external id and no profile.
pub fn create_client(id: ClientId, name: &str) -> ClientCommand {
    ClientCommand::Create {
        id,
        name: name.into(),
        external_id: String::new(),
        business_profile: None,
    }
}

/// The tenant number `n` a client would be provisioned with (slug `client-<n>`).
pub fn provisioned(n: u128) -> ProvisionedTenant {
    ProvisionedTenant {
        tenant_id: TenantId(Uuid::from_u128(
            0x0190_0000_0000_7000_8000_0000_0000_0100 + n,
        )),
        slug: format!("client-{n}"),
        plan: Plan::Silver,
        onboarding: OnboardingPlan {
            default_organization_id: org(100 + n),
            owner_user_id: user(100 + n),
            owner_email: format!("owner{n}@client.test"),
            owner_token_hash: Some(hash(100 + n)),
        },
    }
}

/// A client-stream event.
pub fn ce(e: ClientEvent) -> TenantScopeEvent {
    TenantScopeEvent::Client(e)
}

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 1, 12, 0, 0)
        .single()
        .expect("valid time")
}

/// `t0` plus some days.
pub fn days(n: i64) -> DateTime<Utc> {
    t0() + TimeDelta::days(n)
}

/// A valid CreateTenant for the scope's tenant.
pub fn create_tenant(plan: Plan) -> CreateTenant {
    CreateTenant {
        id: tid(),
        name: "Acme".into(),
        slug: "acme".into(),
        kind: TenantKind::Business,
        plan,
        settings: TenantSettings::default(),
        products: vec![],
        business_profile: None,
        onboarding: onboarding_plan(),
        bootstrap_key: None,
        parent: None,
    }
}

/// The onboarding plan of `create_tenant`: default organization `org(900)`, owner `user(900)`.
pub fn onboarding_plan() -> OnboardingPlan {
    OnboardingPlan {
        default_organization_id: org(900),
        owner_user_id: user(900),
        owner_email: "owner@acme.test".into(),
        owner_token_hash: None,
    }
}

/// OnboardingStarted with `onboarding_plan()`.
pub fn onboarding_started() -> TenantScopeEvent {
    te(TenantEvent::OnboardingStarted {
        plan: onboarding_plan(),
    })
}

/// The event a valid `create_tenant(plan)` produces.
pub fn tenant_created(plan: Plan) -> TenantScopeEvent {
    let c = create_tenant(plan);
    TenantScopeEvent::Tenant(TenantEvent::TenantCreated {
        id: c.id,
        name: c.name,
        slug: c.slug,
        kind: c.kind,
        plan: c.plan,
        settings: c.settings,
        products: c.products,
        business_profile: c.business_profile,
        parent: None,
    })
}

/// A tenant-stream event.
pub fn te(e: TenantEvent) -> TenantScopeEvent {
    TenantScopeEvent::Tenant(e)
}

/// An organization-stream event.
pub fn oe(e: OrganizationEvent) -> TenantScopeEvent {
    TenantScopeEvent::Organization(e)
}

/// TenantSuspended.
pub fn suspended() -> TenantScopeEvent {
    te(TenantEvent::TenantSuspended {
        reason: "unpaid".into(),
    })
}

/// TenantDeactivated with a grace period ending `ends`.
pub fn deactivated(ends: DateTime<Utc>) -> TenantScopeEvent {
    te(TenantEvent::TenantDeactivated {
        grace_period_ends_at: ends,
        feedback: feedback(),
    })
}

/// TenantDeleted (explicit).
pub fn deleted() -> TenantScopeEvent {
    te(TenantEvent::TenantDeleted {
        grace_period_expired: false,
    })
}

/// Valid feedback.
pub fn feedback() -> DeactivationFeedback {
    DeactivationFeedback {
        reason_code: "too-expensive".into(),
        text: "We found something cheaper.".into(),
        recommendation_score: Some(7),
        context: "annual review".into(),
        requested_by: "ceo@acme.test".into(),
    }
}

/// A valid business profile.
pub fn profile() -> BusinessProfile {
    BusinessProfile {
        legal_name: "Acme Inc.".into(),
        logo_url: "https://acme.test/logo.png".into(),
        social_profiles: vec![social(
            SocialPlatform::Linkedin,
            "https://www.linkedin.com/company/acme",
        )],
        ..BusinessProfile::default()
    }
}

/// A link to a social profile.
pub fn social(platform: SocialPlatform, url: &str) -> SocialProfile {
    SocialProfile {
        platform: Some(platform),
        url: url.into(),
    }
}

/// OrganizationCreated with an empty description.
pub fn org_created(
    id: OrganizationId,
    name: &str,
    parent: Option<OrganizationId>,
) -> TenantScopeEvent {
    oe(OrganizationEvent::OrganizationCreated {
        id,
        name: name.into(),
        description: String::new(),
        parent_id: parent,
    })
}

/// OrganizationDeleted.
pub fn org_deleted(id: OrganizationId, cascaded_from: Option<OrganizationId>) -> TenantScopeEvent {
    oe(OrganizationEvent::OrganizationDeleted { id, cascaded_from })
}

/// CreateOrganization with an empty description.
pub fn create_org(
    id: OrganizationId,
    name: &str,
    parent: Option<OrganizationId>,
) -> OrganizationCommand {
    OrganizationCommand::Create {
        id,
        name: name.into(),
        description: String::new(),
        parent_id: parent,
    }
}

/// A team-stream event.
pub fn tme(e: TeamEvent) -> TenantScopeEvent {
    TenantScopeEvent::Team(e)
}

/// A user-stream event.
pub fn ue(e: UserEvent) -> TenantScopeEvent {
    TenantScopeEvent::User(e)
}

/// A role-stream event.
pub fn re(e: RoleEvent) -> TenantScopeEvent {
    TenantScopeEvent::Role(e)
}

/// TeamCreated with an empty description.
pub fn team_created(id: TeamId, organization: OrganizationId, name: &str) -> TenantScopeEvent {
    tme(TeamEvent::TeamCreated {
        id,
        organization_id: organization,
        name: name.into(),
        description: String::new(),
    })
}

/// TeamDeleted.
pub fn team_deleted(id: TeamId, cascaded_from: Option<OrganizationId>) -> TenantScopeEvent {
    tme(TeamEvent::TeamDeleted { id, cascaded_from })
}

/// CreateTeam with an empty description.
pub fn create_team(id: TeamId, organization: OrganizationId, name: &str) -> TeamCommand {
    TeamCommand::Create {
        id,
        organization_id: organization,
        name: name.into(),
        description: String::new(),
    }
}

/// A token hash whose last 16 bytes are `n`.
pub fn hash(n: u128) -> SecretHash {
    let mut bytes = [0; 32];
    bytes[16..].copy_from_slice(&n.to_be_bytes());
    SecretHash::from_bytes(bytes)
}

/// Email of user `n`.
pub fn email(n: u128) -> String {
    format!("user{n}@acme.test")
}

/// UserInvited for user `n` (email `email(n)`, token `hash(n)`, sent at `t0`, 7 days).
pub fn invited(n: u128) -> TenantScopeEvent {
    ue(UserEvent::UserInvited {
        id: user(n),
        email: email(n),
        display_name: String::new(),
        token_hash: hash(n),
        expires_at: days(7),
    })
}

/// UserActivated without a display name.
pub fn activated(n: u128) -> TenantScopeEvent {
    ue(UserEvent::UserActivated {
        id: user(n),
        display_name: None,
    })
}

/// An invited and accepted user `n`.
pub fn active_user(n: u128) -> Vec<TenantScopeEvent> {
    vec![invited(n), activated(n)]
}

/// An assignment.
pub fn assignment(role: &str, scope: Scope) -> Assignment {
    Assignment {
        role: role.into(),
        scope,
    }
}

/// RoleAssigned.
pub fn assigned(n: u128, role: &str, scope: Scope) -> TenantScopeEvent {
    ue(UserEvent::RoleAssigned {
        id: user(n),
        assignment: assignment(role, scope),
    })
}

/// RoleRevoked.
pub fn revoked(n: u128, role: &str, scope: Scope) -> TenantScopeEvent {
    ue(UserEvent::RoleRevoked {
        id: user(n),
        assignment: assignment(role, scope),
    })
}

/// InviteUser for user `n` (email `email(n)`, token `hash(n)`, 7 days, no roles, no
/// organization).
pub fn invite(n: u128) -> UserCommand {
    UserCommand::Invite {
        id: user(n),
        email: email(n),
        display_name: String::new(),
        roles: vec![],
        organization_id: None,
        expires_in_days: 7,
        token_hash: hash(n),
    }
}

/// A permission (pattern).
pub fn perm(p: &str) -> PermissionPattern {
    p.parse().expect("well-formed permission")
}

/// Permissions (patterns).
pub fn perms(list: &[&str]) -> Vec<PermissionPattern> {
    list.iter().map(|p| perm(p)).collect()
}

/// RoleDefined and its PermissionPolicyChanged, with an empty description.
pub fn role_defined(id: RoleId, name: &str, permissions: &[&str]) -> Vec<TenantScopeEvent> {
    vec![
        re(RoleEvent::RoleDefined {
            id,
            name: name.into(),
            description: String::new(),
            permissions: perms(permissions),
        }),
        re(RoleEvent::PermissionPolicyChanged {
            id,
            name: name.into(),
            permissions: perms(permissions),
        }),
    ]
}

/// DefineRole with an empty description.
pub fn define_role(id: RoleId, name: &str, permissions: &[&str]) -> RoleCommand {
    RoleCommand::Define {
        id,
        name: name.into(),
        description: String::new(),
        permissions: perms(permissions),
    }
}

/// Concatenates event lists.
pub fn cat(parts: impl IntoIterator<Item = Vec<TenantScopeEvent>>) -> Vec<TenantScopeEvent> {
    parts.into_iter().flatten().collect()
}

/// A gold tenant with this forest and these teams (used by team, user and permission tests):
///
/// ```text
/// A(1) ─┬─ B(2) ── C(3)        team(1) "Red", team(2) "Blue" in B
///       └─ D(4)                team(3) "Green" in D
/// E(5)                         team(4) "Gray" in A, team(5) "Pink" in E
/// ```
pub fn world() -> Vec<TenantScopeEvent> {
    vec![
        tenant_created(Plan::Gold),
        org_created(org(1), "A", None),
        org_created(org(2), "B", Some(org(1))),
        org_created(org(3), "C", Some(org(2))),
        org_created(org(4), "D", Some(org(1))),
        org_created(org(5), "E", None),
        team_created(team(1), org(2), "Red"),
        team_created(team(2), org(2), "Blue"),
        team_created(team(3), org(4), "Green"),
        team_created(team(4), org(1), "Gray"),
        team_created(team(5), org(5), "Pink"),
    ]
}

/// `world()` followed by `more`.
pub fn world_and(more: impl IntoIterator<Item = TenantScopeEvent>) -> Vec<TenantScopeEvent> {
    let mut events = world();
    events.extend(more);
    events
}

/// Events of a chain org(1) ⊃ org(2) ⊃ … ⊃ org(n), named "L1" … "Ln".
pub fn chain(n: u128) -> Vec<TenantScopeEvent> {
    (1..=n)
        .map(|i| org_created(org(i), &format!("L{i}"), (i > 1).then(|| org(i - 1))))
        .collect()
}

/// A scope after `events` (all applied at `t0`).
pub fn given(events: impl IntoIterator<Item = TenantScopeEvent>) -> Given {
    let mut scope = TenantScope::new(tid());
    for e in events {
        scope.apply(&e, t0());
    }
    Given { scope, now: t0() }
}

/// A scenario continuing from `scope` (decided at `t0`).
pub fn given_scope(scope: TenantScope) -> Given {
    Given { scope, now: t0() }
}

/// The state of a scenario before the command.
pub struct Given {
    /// State.
    pub scope: TenantScope,
    now: DateTime<Utc>,
}

impl Given {
    /// Decide at another time.
    pub fn at(mut self, now: DateTime<Utc>) -> Self {
        self.now = now;
        self
    }

    /// Decides any command.
    pub fn when(self, command: TenantScopeCommand) -> Then {
        let before = self.scope.clone();
        let result = self.scope.decide(&command, &Context::at(self.now));
        assert_eq!(before, self.scope, "decide must not change the state");
        let mut after = self.scope;
        if let Ok(events) = &result {
            for e in events {
                after.apply(e, self.now);
            }
        }
        Then { result, after }
    }

    /// Decides a tenant command.
    pub fn when_tenant(self, command: TenantCommand) -> Then {
        self.when(TenantScopeCommand::Tenant(command))
    }

    /// Decides an organization command.
    pub fn when_org(self, command: OrganizationCommand) -> Then {
        self.when(TenantScopeCommand::Organization(command))
    }

    /// Decides a team command.
    pub fn when_team(self, command: TeamCommand) -> Then {
        self.when(TenantScopeCommand::Team(command))
    }

    /// Decides a user command.
    pub fn when_user(self, command: UserCommand) -> Then {
        self.when(TenantScopeCommand::User(command))
    }

    /// Decides a role command.
    pub fn when_role(self, command: RoleCommand) -> Then {
        self.when(TenantScopeCommand::Role(command))
    }

    /// Decides a client command.
    pub fn when_client(self, command: ClientCommand) -> Then {
        self.when(TenantScopeCommand::Client(command))
    }
}

/// The outcome of a scenario.
pub struct Then {
    /// What decide returned.
    pub result: Result<Vec<TenantScopeEvent>, DomainError>,
    /// The state after applying the events (unchanged on a refusal).
    pub after: TenantScope,
}

impl Then {
    /// Asserts exactly these events, leaving out the ClaimsChanged events that follow a change
    /// of an active user's claims (`claims.rs` asserts those); returns the state after them.
    pub fn then_events(self, expected: impl IntoIterator<Item = TenantScopeEvent>) -> TenantScope {
        let expected: Vec<_> = expected.into_iter().collect();
        let without_claims = self.result.clone().map(|events| {
            events
                .into_iter()
                .filter(|e| !matches!(e, TenantScopeEvent::User(UserEvent::ClaimsChanged { .. })))
                .collect::<Vec<_>>()
        });
        assert_eq!(without_claims, Ok(expected));
        self.after
    }

    /// Asserts the command was accepted (whatever its events); returns the state after them.
    pub fn then_events_any(self) -> TenantScope {
        assert!(
            self.result.is_ok(),
            "expected events, got {:?}",
            self.result
        );
        self.after
    }

    /// Asserts an accepted no-op.
    pub fn then_nothing(self) -> TenantScope {
        self.then_events([])
    }

    /// Asserts this exact refusal.
    pub fn then_error(self, expected: DomainError) {
        assert_eq!(self.result, Err(expected));
    }

    /// Asserts an InvalidState refusal with this reason; returns its message.
    pub fn then_invalid_state(self, reason: &str) -> String {
        match self.result {
            Err(DomainError::InvalidState { reason: r, message }) if r == reason => message,
            other => panic!("expected InvalidState {reason}, got {other:?}"),
        }
    }

    /// Asserts an Invalid refusal naming exactly these fields (order and repeats ignored).
    pub fn then_invalid(self, fields: &[&str]) {
        assert_invalid_fields(&self.result, fields);
    }
}

/// Asserts an Invalid result naming exactly these fields (order and repeats ignored).
pub fn assert_invalid_fields<T: std::fmt::Debug>(result: &Result<T, DomainError>, fields: &[&str]) {
    match result {
        Err(DomainError::Invalid(violations)) => {
            let mut got: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
            got.sort_unstable();
            got.dedup();
            let mut want = fields.to_vec();
            want.sort_unstable();
            want.dedup();
            assert_eq!(got, want, "violations: {violations:?}");
            assert!(violations.iter().all(|v| !v.description.is_empty()));
        }
        other => panic!("expected Invalid({fields:?}), got {other:?}"),
    }
}

/// A string of `n` copies of `c`.
pub fn repeat(c: char, n: usize) -> String {
    std::iter::repeat_n(c, n).collect()
}

/// A directory record id.
pub fn rec(n: u128) -> crate::domain::RecordId {
    crate::domain::RecordId(uuid::Uuid::from_u128(0x5000 + n))
}

/// A record-stream event.
pub fn rce(e: crate::domain::RecordEvent) -> TenantScopeEvent {
    TenantScopeEvent::Record(e)
}
