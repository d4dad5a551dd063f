//! Suspend, Reactivate, Deactivate, Delete and ExpireGracePeriod.

use chrono::TimeDelta;

use super::support::*;
use crate::domain::{
    DeactivationFeedback, DomainError, Effect, GRACE_PERIOD_TIMER, Plan, TenantCommand,
    TenantEvent, TenantScopeEvent, TenantStatus,
};

fn active() -> Vec<TenantScopeEvent> {
    vec![tenant_created(Plan::Gold)]
}

fn with(mut events: Vec<TenantScopeEvent>, more: TenantScopeEvent) -> Vec<TenantScopeEvent> {
    events.push(more);
    events
}

// ---- Suspend ----

#[test]
fn suspends_an_active_tenant_with_the_trimmed_reason() {
    let scope = given(active())
        .when_tenant(TenantCommand::Suspend {
            reason: "  unpaid invoices ".into(),
        })
        .then_events([te(TenantEvent::TenantSuspended {
            reason: "unpaid invoices".into(),
        })]);
    let t = scope.tenant().expect("tenant");
    assert_eq!(t.status, TenantStatus::Suspended);
    assert_eq!(t.suspension_reason.as_deref(), Some("unpaid invoices"));
}

#[test]
fn suspension_reason_rules() {
    given(active())
        .when_tenant(TenantCommand::Suspend {
            reason: String::new(),
        })
        .then_invalid(&["reason"]);
    given(active())
        .when_tenant(TenantCommand::Suspend {
            reason: " \n ".into(),
        })
        .then_invalid(&["reason"]);
    given(active())
        .when_tenant(TenantCommand::Suspend {
            reason: repeat('r', 501),
        })
        .then_invalid(&["reason"]);
    assert!(
        given(active())
            .when_tenant(TenantCommand::Suspend {
                reason: repeat('r', 500)
            })
            .result
            .is_ok()
    );
}

#[test]
fn suspending_twice_is_refused_as_suspended() {
    given(with(active(), suspended()))
        .when_tenant(TenantCommand::Suspend {
            reason: "again".into(),
        })
        .then_error(DomainError::TenantSuspended);
}

// ---- Reactivate ----

#[test]
fn reactivates_a_suspended_tenant_and_clears_the_reason() {
    let scope = given(with(active(), suspended()))
        .when_tenant(TenantCommand::Reactivate)
        .then_events([te(TenantEvent::TenantReactivated)]);
    let t = scope.tenant().expect("tenant");
    assert_eq!(t.status, TenantStatus::Active);
    assert_eq!(t.suspension_reason, None);
    assert_eq!(t.version, 3);
}

#[test]
fn reactivates_a_deactivated_tenant_before_the_grace_period_ends() {
    let scope = given(with(active(), deactivated(days(30))))
        .at(days(30) - TimeDelta::seconds(1))
        .when_tenant(TenantCommand::Reactivate)
        .then_events([te(TenantEvent::TenantReactivated)]);
    let t = scope.tenant().expect("tenant");
    assert_eq!(t.status, TenantStatus::Active);
    assert_eq!(t.grace_period_ends_at, None);
    assert_eq!(
        t.deactivation_feedback,
        Some(feedback()),
        "feedback is kept"
    );
}

#[test]
fn reactivation_after_the_grace_period_is_refused() {
    for now in [days(30), days(31)] {
        given(with(active(), deactivated(days(30))))
            .at(now)
            .when_tenant(TenantCommand::Reactivate)
            .then_invalid_state("GRACE_PERIOD_ENDED");
    }
}

#[test]
fn reactivating_an_active_tenant_is_refused() {
    given(active())
        .when_tenant(TenantCommand::Reactivate)
        .then_invalid_state("TENANT_ALREADY_ACTIVE");
}

#[test]
fn reactivation_clears_the_grace_timer() {
    assert_eq!(
        te(TenantEvent::TenantReactivated).effects(),
        vec![Effect::ClearTimer {
            kind: GRACE_PERIOD_TIMER.to_owned()
        }]
    );
}

// ---- Deactivate ----

fn deactivate(
    ends: chrono::DateTime<chrono::Utc>,
    feedback: DeactivationFeedback,
) -> TenantCommand {
    TenantCommand::Deactivate {
        grace_period_ends_at: ends,
        feedback,
    }
}

#[test]
fn deactivates_an_active_tenant() {
    let scope = given(active())
        .when_tenant(deactivate(days(30), feedback()))
        .then_events([deactivated(days(30))]);
    let t = scope.tenant().expect("tenant");
    assert_eq!(t.status, TenantStatus::Deactivated);
    assert_eq!(t.grace_period_ends_at, Some(days(30)));
    assert_eq!(t.deactivation_feedback, Some(feedback()));
}

#[test]
fn deactivates_a_suspended_tenant() {
    given(with(active(), suspended()))
        .when_tenant(deactivate(days(30), feedback()))
        .then_events([deactivated(days(30))]);
}

#[test]
fn deactivating_twice_is_refused_as_deactivated() {
    given(with(active(), deactivated(days(30))))
        .when_tenant(deactivate(days(40), feedback()))
        .then_error(DomainError::TenantDeactivated);
}

#[test]
fn deactivation_schedules_the_grace_timer() {
    assert_eq!(
        deactivated(days(30)).effects(),
        vec![Effect::SetTimer {
            kind: GRACE_PERIOD_TIMER.to_owned(),
            due_at: days(30)
        }]
    );
}

#[test]
fn grace_period_must_be_within_the_next_365_days() {
    for bad in [
        t0(),
        t0() - TimeDelta::seconds(1),
        days(-10),
        days(365) + TimeDelta::seconds(1),
        days(10_000),
    ] {
        given(active())
            .when_tenant(deactivate(bad, feedback()))
            .then_invalid(&["grace_period_ends_at"]);
    }
    for ok in [t0() + TimeDelta::seconds(1), days(365)] {
        assert!(
            given(active())
                .when_tenant(deactivate(ok, feedback()))
                .result
                .is_ok()
        );
    }
}

#[test]
fn feedback_rules() {
    let check = |f: DeactivationFeedback, field: &str| {
        given(active())
            .when_tenant(deactivate(days(30), f))
            .then_invalid(&[field]);
    };
    check(
        DeactivationFeedback {
            recommendation_score: Some(11),
            ..feedback()
        },
        "feedback.recommendation_score",
    );
    check(
        DeactivationFeedback {
            recommendation_score: Some(-1),
            ..feedback()
        },
        "feedback.recommendation_score",
    );
    check(
        DeactivationFeedback {
            reason_code: repeat('c', 65),
            ..feedback()
        },
        "feedback.reason_code",
    );
    check(
        DeactivationFeedback {
            text: repeat('t', 2001),
            ..feedback()
        },
        "feedback.text",
    );
    check(
        DeactivationFeedback {
            context: repeat('x', 501),
            ..feedback()
        },
        "feedback.context",
    );
    check(
        DeactivationFeedback {
            requested_by: repeat('r', 201),
            ..feedback()
        },
        "feedback.requested_by",
    );
    for ok in [
        DeactivationFeedback::default(),
        DeactivationFeedback {
            recommendation_score: Some(0),
            ..feedback()
        },
        DeactivationFeedback {
            recommendation_score: Some(10),
            ..feedback()
        },
        DeactivationFeedback {
            reason_code: repeat('c', 64),
            text: repeat('t', 2000),
            recommendation_score: None,
            context: repeat('x', 500),
            requested_by: repeat('r', 200),
        },
    ] {
        assert!(
            given(active())
                .when_tenant(deactivate(days(30), ok))
                .result
                .is_ok()
        );
    }
}

#[test]
fn all_deactivation_violations_are_reported_together() {
    let f = DeactivationFeedback {
        recommendation_score: Some(11),
        reason_code: repeat('c', 65),
        ..feedback()
    };
    given(active())
        .when_tenant(deactivate(days(-1), f))
        .then_invalid(&[
            "grace_period_ends_at",
            "feedback.recommendation_score",
            "feedback.reason_code",
        ]);
}

// ---- Delete ----

#[test]
fn deletes_from_every_live_status() {
    for events in [
        active(),
        with(active(), suspended()),
        with(active(), deactivated(days(30))),
    ] {
        let scope = given(events)
            .when_tenant(TenantCommand::Delete)
            .then_events([deleted()]);
        assert_eq!(
            scope.tenant().map(|t| t.status),
            Some(TenantStatus::Deleted)
        );
    }
}

#[test]
fn deleting_twice_is_refused() {
    given(with(active(), deleted()))
        .when_tenant(TenantCommand::Delete)
        .then_error(DomainError::TenantDeleted);
}

#[test]
fn deletion_clears_the_grace_timer() {
    assert_eq!(
        deleted().effects(),
        vec![Effect::ClearTimer {
            kind: GRACE_PERIOD_TIMER.to_owned()
        }]
    );
}

// ---- ExpireGracePeriod ----

#[test]
fn the_engine_deletes_when_the_grace_period_has_ended() {
    for now in [days(30), days(31)] {
        let scope = given(with(active(), deactivated(days(30))))
            .at(now)
            .when_tenant(TenantCommand::ExpireGracePeriod)
            .then_events([te(TenantEvent::TenantDeleted {
                grace_period_expired: true,
            })]);
        assert_eq!(
            scope.tenant().map(|t| t.status),
            Some(TenantStatus::Deleted)
        );
    }
}

#[test]
fn expiry_is_a_no_op_everywhere_else() {
    given(with(active(), deactivated(days(30))))
        .at(days(30) - TimeDelta::seconds(1))
        .when_tenant(TenantCommand::ExpireGracePeriod)
        .then_nothing();
    for events in [
        active(),
        with(active(), suspended()),
        with(active(), deleted()),
    ] {
        given(events)
            .at(days(400))
            .when_tenant(TenantCommand::ExpireGracePeriod)
            .then_nothing();
    }
    // Reactivated in time: the stale timer must not delete.
    let events = with(
        with(active(), deactivated(days(30))),
        te(TenantEvent::TenantReactivated),
    );
    given(events)
        .at(days(31))
        .when_tenant(TenantCommand::ExpireGracePeriod)
        .then_nothing();
}
