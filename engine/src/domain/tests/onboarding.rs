//! The onboarding saga: CreateTenant starts it; the runtime follows `next_onboarding_step`
//! (default organization, owner invitation with `tenant-owner`) and ends it with
//! CompleteOnboarding.

use super::support::*;
use crate::domain::{
    Assignment, BuiltinRole, Context, DEFAULT_INVITATION_DAYS, DEFAULT_ORGANIZATION_NAME,
    DomainError, OnboardingStep, OrganizationCommand, Plan, ResourceKind, Scope, TenantCommand,
    TenantEvent, TenantScope, TenantScopeCommand, UserCommand,
};

/// The command the runtime issues for a step (mirrors `runtime::onboarding`).
fn command_for(step: &OnboardingStep) -> TenantScopeCommand {
    match step {
        OnboardingStep::CreateDefaultOrganization { id } => {
            TenantScopeCommand::Organization(OrganizationCommand::Create {
                id: *id,
                name: DEFAULT_ORGANIZATION_NAME.to_owned(),
                description: String::new(),
                parent_id: None,
            })
        }
        OnboardingStep::InviteOwner {
            user_id,
            email,
            organization_id,
            ..
        } => TenantScopeCommand::User(UserCommand::Invite {
            id: *user_id,
            email: email.clone(),
            display_name: String::new(),
            roles: vec![Assignment {
                role: BuiltinRole::TenantOwner.name().to_owned(),
                scope: Scope::Tenant,
            }],
            organization_id: Some(*organization_id),
            expires_in_days: DEFAULT_INVITATION_DAYS,
            token_hash: hash(900),
        }),
        OnboardingStep::Complete => TenantScopeCommand::Tenant(TenantCommand::CompleteOnboarding),
    }
}

fn created(plan: Plan) -> TenantScope {
    given([])
        .when_tenant(TenantCommand::Create(create_tenant(plan)))
        .then_events([tenant_created(plan), onboarding_started()])
}

/// Runs the saga to its end, returning the steps taken.
fn run_saga(scope: &mut TenantScope) -> Vec<OnboardingStep> {
    let mut steps = Vec::new();
    while let Some(step) = scope.next_onboarding_step() {
        assert!(steps.len() < 5, "the saga does not end: {steps:?}");
        let events = scope
            .decide(&command_for(&step), &Context::at(t0()))
            .unwrap_or_else(|e| panic!("{step:?} refused: {e}"));
        assert!(!events.is_empty(), "{step:?} changed nothing");
        for e in &events {
            scope.apply(e, t0());
        }
        steps.push(step);
    }
    steps
}

#[test]
fn no_step_without_a_tenant_or_an_onboarding() {
    assert_eq!(given([]).scope.next_onboarding_step(), None);
    assert_eq!(
        given([tenant_created(Plan::Gold)])
            .scope
            .next_onboarding_step(),
        None
    );
}

#[test]
fn the_steps_follow_the_state() {
    let scope = created(Plan::Gold);
    assert_eq!(
        scope.next_onboarding_step(),
        Some(OnboardingStep::CreateDefaultOrganization { id: org(900) })
    );
    let scope = given([
        tenant_created(Plan::Gold),
        onboarding_started(),
        org_created(org(900), DEFAULT_ORGANIZATION_NAME, None),
    ])
    .scope;
    assert_eq!(
        scope.next_onboarding_step(),
        Some(OnboardingStep::InviteOwner {
            user_id: user(900),
            email: "owner@acme.test".into(),
            organization_id: org(900),
            token_hash: None,
        })
    );
}

#[test]
fn a_saga_runs_to_its_end_once() {
    let mut scope = created(Plan::Gold);
    let steps = run_saga(&mut scope);
    assert_eq!(steps.len(), 3);
    assert_eq!(steps.last(), Some(&OnboardingStep::Complete));
    let t = scope.tenant().expect("tenant");
    assert!(t.onboarding.as_ref().is_some_and(|o| o.completed));
    assert_eq!(t.version, 3);
    let default = scope.organization(org(900)).expect("default organization");
    assert_eq!(
        (default.name.as_str(), default.parent_id),
        (DEFAULT_ORGANIZATION_NAME, None)
    );
    let owner = scope.user(user(900)).expect("owner");
    assert_eq!(owner.email, "owner@acme.test");
    assert!(owner.organizations.contains(&org(900)));
    assert!(
        owner
            .assignments
            .contains(&assignment("tenant-owner", Scope::Tenant))
    );
    assert_eq!(scope.next_onboarding_step(), None);
}

#[test]
fn the_owner_may_do_everything_once_they_accept() {
    let mut scope = created(Plan::Gold);
    run_saga(&mut scope);
    let scope = given_scope(scope)
        .when_user(UserCommand::AcceptInvitation {
            id: user(900),
            token_hash: hash(900),
            display_name: Some("Olive Owner".into()),
        })
        .then_events([ue(crate::domain::UserEvent::UserActivated {
            id: user(900),
            display_name: Some("Olive Owner".into()),
        })]);
    let d = scope
        .check_permission(user(900), &perm("tenant:delete"), Scope::Tenant)
        .expect("checked");
    assert!(d.allowed);
    assert_eq!(
        d.granted_by,
        Some(assignment("tenant-owner", Scope::Tenant))
    );
}

#[test]
fn on_bronze_the_default_organization_uses_the_only_organization_slot() {
    let mut scope = created(Plan::Bronze);
    run_saga(&mut scope);
    given_scope(scope)
        .when_org(create_org(org(1), "Second", None))
        .then_error(DomainError::PlanLimitExceeded {
            limit: "organizations",
            plan: Plan::Bronze,
            allowed: 1,
        });
}

#[test]
fn a_step_that_happened_is_never_repeated() {
    // The default organization was deleted after it was created: the saga goes on.
    let scope = given([
        tenant_created(Plan::Gold),
        onboarding_started(),
        org_created(org(900), DEFAULT_ORGANIZATION_NAME, None),
        org_deleted(org(900), None),
    ])
    .scope;
    assert!(matches!(
        scope.next_onboarding_step(),
        Some(OnboardingStep::InviteOwner { .. })
    ));
    // The owner exists (whatever became of them): only completion is left.
    let scope = given([
        tenant_created(Plan::Gold),
        onboarding_started(),
        org_created(org(900), DEFAULT_ORGANIZATION_NAME, None),
        ue(crate::domain::UserEvent::UserInvited {
            id: user(900),
            email: "owner@acme.test".into(),
            display_name: String::new(),
            token_hash: hash(900),
            expires_at: days(7),
        }),
        ue(crate::domain::UserEvent::InvitationRevoked { id: user(900) }),
    ])
    .scope;
    assert_eq!(scope.next_onboarding_step(), Some(OnboardingStep::Complete));
}

#[test]
fn complete_onboarding_records_completion_once() {
    let scope = given([tenant_created(Plan::Gold), onboarding_started()])
        .when_tenant(TenantCommand::CompleteOnboarding)
        .then_events([te(TenantEvent::OnboardingCompleted)]);
    assert_eq!(scope.next_onboarding_step(), None);
    given_scope(scope)
        .when_tenant(TenantCommand::CompleteOnboarding)
        .then_nothing();
    // A tenant without an onboarding saga has nothing to complete.
    given([tenant_created(Plan::Gold)])
        .when_tenant(TenantCommand::CompleteOnboarding)
        .then_nothing();
}

#[test]
fn complete_onboarding_is_gated_like_every_command() {
    given([
        tenant_created(Plan::Gold),
        onboarding_started(),
        suspended(),
    ])
    .when_tenant(TenantCommand::CompleteOnboarding)
    .then_error(DomainError::TenantSuspended);
    given([])
        .when_tenant(TenantCommand::CompleteOnboarding)
        .then_error(DomainError::NotFound {
            resource: ResourceKind::Tenant,
            id: tid().to_string(),
        });
}

#[test]
fn a_suspended_tenant_stops_the_saga_until_it_is_reactivated() {
    let mut scope = given([
        tenant_created(Plan::Gold),
        onboarding_started(),
        suspended(),
    ])
    .scope;
    let step = scope.next_onboarding_step().expect("a step");
    assert_eq!(
        scope.decide(&command_for(&step), &Context::at(t0())),
        Err(DomainError::TenantSuspended)
    );
    scope.apply(&te(TenantEvent::TenantReactivated), t0());
    assert_eq!(run_saga(&mut scope).len(), 3);
}
