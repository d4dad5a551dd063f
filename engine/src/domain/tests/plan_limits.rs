//! Plan entitlements (SPEC §3) on teams and invitations, and downgrades that only block new
//! consumption.

use chrono::{TimeZone, Utc};

use super::support::*;
use crate::domain::{
    DomainError, Plan, TeamCommand, TeamRole, TenantCommand, TenantEvent, TenantScope,
    TenantScopeCommand, UserCommand,
};

fn quota(plan: Plan, allowed: u64) -> DomainError {
    DomainError::PlanLimitExceeded {
        limit: "invitations_per_month",
        plan,
        allowed,
    }
}

/// Decides and applies, panicking on a refusal.
fn accept(scope: &mut TenantScope, command: TenantScopeCommand, now: chrono::DateTime<Utc>) {
    let events = scope
        .decide(&command, &crate::domain::Context::at(now))
        .unwrap_or_else(|e| panic!("{command:?} refused: {e}"));
    for e in &events {
        scope.apply(e, now);
    }
}

#[test]
fn teams_are_not_available_on_bronze_but_are_on_silver_and_gold() {
    for (plan, ok) in [
        (Plan::Bronze, false),
        (Plan::Silver, true),
        (Plan::Gold, true),
    ] {
        let then = given([tenant_created(plan), org_created(org(1), "A", None)])
            .when_team(create_team(team(1), org(1), "Red"));
        assert_eq!(then.result.is_ok(), ok, "{plan:?}");
    }
}

#[test]
fn a_downgrade_to_bronze_keeps_existing_teams_usable() {
    let events = world_and(cat([
        active_user(1),
        vec![te(TenantEvent::TenantPlanChanged {
            from: Plan::Gold,
            to: Plan::Bronze,
        })],
    ]));
    let scope = given(events.clone()).scope;
    assert_eq!(scope.tenant().map(|t| t.plan), Some(Plan::Bronze));
    assert!(scope.team(team(1)).is_some(), "no team was deleted");
    given(events.clone())
        .when_team(create_team(team(9), org(1), "New"))
        .then_error(DomainError::PlanLimitExceeded {
            limit: "teams",
            plan: Plan::Bronze,
            allowed: 0,
        });
    for command in [
        TeamCommand::Update {
            id: team(1),
            name: Some("Crimson".into()),
            description: None,
        },
        TeamCommand::AddMember {
            id: team(1),
            user_id: user(1),
            role: TeamRole::Member,
        },
        TeamCommand::Delete { id: team(1) },
    ] {
        let then = given(events.clone()).when_team(command.clone());
        assert!(
            then.result.as_ref().is_ok_and(|e| e.len() == 1),
            "{command:?}: {:?}",
            then.result
        );
    }
    given(events)
        .when_user(UserCommand::AssignRole {
            id: user(1),
            assignment: assignment("member", crate::domain::Scope::Team(team(1))),
        })
        .then_events([assigned(1, "member", crate::domain::Scope::Team(team(1)))]);
}

#[test]
fn bronze_sends_ten_invitations_a_month_then_refuses_until_the_month_rolls_over() {
    let mut scope = given([tenant_created(Plan::Bronze)]).scope;
    let jan = |day| {
        Utc.with_ymd_and_hms(2025, 1, day, 9, 0, 0)
            .single()
            .expect("time")
    };
    for n in 1..=10 {
        accept(
            &mut scope,
            TenantScopeCommand::User(invite(n)),
            jan(n as u32),
        );
    }
    assert_eq!(scope.invitations_sent_in(202_501), 10);
    given_scope(scope.clone())
        .at(jan(31))
        .when_user(invite(11))
        .then_error(quota(Plan::Bronze, 10));
    // Resending is sending too.
    given_scope(scope.clone())
        .at(jan(31))
        .when_user(UserCommand::ResendInvitation {
            id: user(1),
            expires_in_days: 7,
            token_hash: hash(101),
        })
        .then_error(quota(Plan::Bronze, 10));
    let feb = Utc
        .with_ymd_and_hms(2025, 2, 1, 0, 0, 0)
        .single()
        .expect("time");
    let scope = given_scope(scope)
        .at(feb)
        .when_user(invite(11))
        .then_events([ue(crate::domain::UserEvent::UserInvited {
            id: user(11),
            email: email(11),
            display_name: String::new(),
            token_hash: hash(11),
            expires_at: feb + chrono::TimeDelta::days(7),
        })]);
    assert_eq!(scope.invitations_sent_in(202_502), 1);
    assert_eq!(scope.invitations_sent_in(202_501), 10);
}

#[test]
fn resends_count_against_the_quota() {
    let mut scope = given([tenant_created(Plan::Bronze)]).scope;
    accept(&mut scope, TenantScopeCommand::User(invite(1)), t0());
    for i in 0..9 {
        accept(
            &mut scope,
            TenantScopeCommand::User(UserCommand::ResendInvitation {
                id: user(1),
                expires_in_days: 7,
                token_hash: hash(100 + i),
            }),
            t0(),
        );
    }
    assert_eq!(scope.invitations_sent_in(202_501), 10);
    given_scope(scope)
        .when_user(invite(2))
        .then_error(quota(Plan::Bronze, 10));
}

#[test]
fn silver_sends_a_hundred_and_gold_is_unlimited() {
    for (plan, limit) in [(Plan::Silver, Some(100)), (Plan::Gold, None)] {
        let mut scope = given([tenant_created(plan)]).scope;
        for n in 1..=100 {
            accept(&mut scope, TenantScopeCommand::User(invite(n)), t0());
        }
        let then = given_scope(scope).when_user(invite(101));
        match limit {
            Some(allowed) => then.then_error(quota(plan, allowed)),
            None => assert!(then.result.is_ok()),
        }
    }
}

#[test]
fn a_downgrade_blocks_new_invitations_beyond_the_smaller_quota() {
    let mut scope = given([tenant_created(Plan::Gold)]).scope;
    for n in 1..=12 {
        accept(&mut scope, TenantScopeCommand::User(invite(n)), t0());
    }
    accept(
        &mut scope,
        TenantScopeCommand::Tenant(TenantCommand::ChangePlan { plan: Plan::Bronze }),
        t0(),
    );
    assert_eq!(scope.users().count(), 12, "nobody was removed");
    given_scope(scope)
        .when_user(invite(13))
        .then_error(quota(Plan::Bronze, 10));
}
