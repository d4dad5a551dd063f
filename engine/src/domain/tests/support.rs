//! Given/when/then harness and fixtures for the tenant scope.
//!
//! ```ignore
//! given([tenant_created(Plan::Gold)])
//!     .when_org(create_org(org(1), "Sales", None))
//!     .then_events([org_created(org(1), "Sales", None)]);
//! ```

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use uuid::Uuid;

use crate::domain::{
    BusinessProfile, Context, CreateTenant, DeactivationFeedback, DomainError, OrganizationCommand,
    OrganizationEvent, OrganizationId, Plan, TenantCommand, TenantEvent, TenantId, TenantKind,
    TenantScope, TenantScopeCommand, TenantScopeEvent, TenantSettings,
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

/// The fixed "now" of every test unless told otherwise.
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
    }
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
        social_profiles: vec!["https://social.test/acme".into()],
        ..BusinessProfile::default()
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
}

/// The outcome of a scenario.
pub struct Then {
    /// What decide returned.
    pub result: Result<Vec<TenantScopeEvent>, DomainError>,
    /// The state after applying the events (unchanged on a refusal).
    pub after: TenantScope,
}

impl Then {
    /// Asserts exactly these events; returns the state after them.
    pub fn then_events(self, expected: impl IntoIterator<Item = TenantScopeEvent>) -> TenantScope {
        let expected: Vec<_> = expected.into_iter().collect();
        assert_eq!(self.result, Ok(expected));
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
