//! Folding tenant and organization events: versions, timestamps, status fields.

use super::support::*;
use crate::domain::{
    OrganizationEvent, OrganizationStatus, Plan, StreamId, StreamKind, TenantEvent, TenantScope,
    TenantStatus,
};

#[test]
fn tenant_version_and_timestamps_follow_its_events() {
    let mut scope = TenantScope::new(tid());
    let stream = StreamId::new(StreamKind::Tenant, tid().0);
    assert_eq!(scope.version_of(stream), 0);
    let history = [
        (tenant_created(Plan::Bronze), days(0)),
        (
            te(TenantEvent::TenantPlanChanged {
                from: Plan::Bronze,
                to: Plan::Silver,
            }),
            days(1),
        ),
        (suspended(), days(2)),
        (deactivated(days(40)), days(3)),
        (te(TenantEvent::TenantReactivated), days(4)),
        (deleted(), days(5)),
    ];
    for (i, (event, at)) in history.iter().enumerate() {
        scope.apply(event, *at);
        let t = scope.tenant().expect("tenant");
        assert_eq!(t.version, i as i64 + 1);
        assert_eq!(scope.version_of(stream), i as i64 + 1);
        assert_eq!(t.created_at, days(0));
        assert_eq!(t.updated_at, *at);
    }
    let t = scope.tenant().expect("tenant");
    assert_eq!(t.plan, Plan::Silver);
    assert_eq!(t.status, TenantStatus::Deleted);
    assert_eq!(t.deactivation_feedback, Some(feedback()));
    assert_eq!(t.suspension_reason, None);
    assert_eq!(t.grace_period_ends_at, None);
}

#[test]
fn suspension_reason_is_kept_through_deactivation_and_cleared_on_reactivation() {
    let mut scope = given([
        tenant_created(Plan::Gold),
        suspended(),
        deactivated(days(30)),
    ])
    .scope;
    let t = scope.tenant().expect("tenant");
    assert_eq!(t.status, TenantStatus::Deactivated);
    assert_eq!(t.grace_period_ends_at, Some(days(30)));
    scope.apply(&te(TenantEvent::TenantReactivated), days(1));
    let t = scope.tenant().expect("tenant");
    assert_eq!(
        (t.suspension_reason.clone(), t.grace_period_ends_at),
        (None, None)
    );
}

#[test]
fn organization_streams_are_versioned_independently() {
    let mut scope = given([tenant_created(Plan::Gold)]).scope;
    scope.apply(&org_created(org(1), "A", None), days(1));
    scope.apply(&org_created(org(2), "B", None), days(2));
    scope.apply(
        &oe(OrganizationEvent::OrganizationUpdated {
            id: org(1),
            name: Some("A2".into()),
            description: Some("d".into()),
        }),
        days(3),
    );
    scope.apply(
        &oe(OrganizationEvent::OrganizationMoved {
            id: org(1),
            from_parent_id: None,
            to_parent_id: Some(org(2)),
        }),
        days(4),
    );
    scope.apply(&org_deleted(org(1), None), days(5));

    let a = scope.organization(org(1)).expect("tombstone kept");
    assert_eq!(a.version, 4);
    assert_eq!(a.tenant_id, tid());
    assert_eq!((a.name.as_str(), a.description.as_str()), ("A2", "d"));
    assert_eq!(a.parent_id, Some(org(2)));
    assert_eq!(a.status, OrganizationStatus::Deleted);
    assert_eq!((a.created_at, a.updated_at), (days(1), days(5)));
    let b = scope.organization(org(2)).expect("b");
    assert_eq!(b.version, 1);
    assert_eq!(
        scope.version_of(StreamId::new(StreamKind::Organization, org(1).0)),
        4
    );
    assert_eq!(
        scope.version_of(StreamId::new(StreamKind::Organization, org(9).0)),
        0
    );
    assert_eq!(
        scope.tenant().map(|t| t.version),
        Some(1),
        "tenant stream untouched"
    );
}

#[test]
fn depth_of_live_organizations_only() {
    let mut events = vec![tenant_created(Plan::Gold)];
    events.extend(chain(5));
    events.push(org_created(org(10), "Other", None));
    let scope = given(events.clone()).scope;
    for i in 1..=5 {
        assert_eq!(scope.depth_of(org(i)), Some(i as usize));
    }
    assert_eq!(scope.depth_of(org(10)), Some(1));
    assert_eq!(scope.depth_of(org(77)), None);
    events.push(org_deleted(org(10), None));
    assert_eq!(given(events).scope.depth_of(org(10)), None);
}

#[test]
fn events_about_unknown_entities_are_ignored() {
    let mut scope = TenantScope::new(tid());
    scope.apply(&suspended(), t0());
    scope.apply(&org_deleted(org(1), None), t0());
    assert_eq!(scope, TenantScope::new(tid()));
}

#[test]
fn onboarding_events_set_and_complete_the_saga() {
    let mut scope = given([tenant_created(Plan::Gold)]).scope;
    assert_eq!(scope.tenant().and_then(|t| t.onboarding.clone()), None);
    scope.apply(&onboarding_started(), days(1));
    let t = scope.tenant().expect("tenant");
    assert_eq!(
        t.onboarding,
        Some(crate::domain::Onboarding {
            plan: onboarding_plan(),
            completed: false
        })
    );
    assert_eq!((t.version, t.updated_at), (2, days(1)));
    scope.apply(&te(TenantEvent::OnboardingCompleted), days(2));
    let t = scope.tenant().expect("tenant");
    assert!(t.onboarding.as_ref().is_some_and(|o| o.completed));
    assert_eq!((t.version, t.updated_at), (3, days(2)));
}

#[test]
fn team_user_and_role_streams_count_their_own_events() {
    let mut scope = given([tenant_created(Plan::Gold), org_created(org(1), "A", None)]).scope;
    let history = cat([
        vec![team_created(team(1), org(1), "Red")],
        role_defined(role(1), "auditor", &["invoice:read"]),
        active_user(1),
        vec![
            assigned(1, "auditor", crate::domain::Scope::Team(team(1))),
            team_deleted(team(1), None),
        ],
    ]);
    for (i, e) in history.iter().enumerate() {
        scope.apply(e, days(i as i64));
    }
    let stream = |kind, id| scope.version_of(StreamId::new(kind, id));
    assert_eq!(stream(StreamKind::Team, team(1).0), 2);
    assert_eq!(stream(StreamKind::Role, role(1).0), 2);
    assert_eq!(stream(StreamKind::User, user(1).0), 3);
    assert_eq!(stream(StreamKind::Organization, org(1).0), 1);
    assert_eq!(stream(StreamKind::Tenant, tid().0), 1);
    let u = scope.user(user(1)).expect("user");
    assert_eq!((u.created_at, u.updated_at), (days(3), days(5)));
    let t = scope.team(team(1)).expect("team");
    assert_eq!((t.created_at, t.updated_at), (days(0), days(6)));
}
