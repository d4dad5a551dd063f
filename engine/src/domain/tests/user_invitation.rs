//! The invitation's life: ResendInvitation, RevokeInvitation, AcceptInvitation and the
//! engine's ExpireInvitation timer.

use super::support::*;
use crate::domain::{
    DomainError, Effect, InvitationState, Plan, ResourceKind, TenantScopeEvent, UserCommand,
    UserEvent, UserStatus, invitation_timer,
};

fn resend(n: u128, token: u128) -> UserCommand {
    UserCommand::ResendInvitation {
        id: user(n),
        expires_in_days: 3,
        token_hash: hash(token),
    }
}

fn accept(n: u128, token: u128) -> UserCommand {
    UserCommand::AcceptInvitation {
        id: user(n),
        token_hash: hash(token),
        display_name: None,
    }
}

fn expire(n: u128) -> UserCommand {
    UserCommand::ExpireInvitation { id: user(n) }
}

fn revoked_invitation(n: u128) -> TenantScopeEvent {
    ue(UserEvent::InvitationRevoked { id: user(n) })
}

fn expired_invitation(n: u128) -> TenantScopeEvent {
    ue(UserEvent::InvitationExpired { id: user(n) })
}

fn invitation_not_found(n: u128) -> DomainError {
    DomainError::NotFound {
        resource: ResourceKind::Invitation,
        id: user(n).to_string(),
    }
}

// ---- resend ----

#[test]
fn resends_a_pending_revoked_or_expired_invitation_with_a_new_token() {
    for history in [
        vec![invited(1)],
        vec![invited(1), revoked_invitation(1)],
        vec![invited(1), expired_invitation(1)],
    ] {
        let scope = given(world_and(history))
            .at(days(2))
            .when_user(resend(1, 101))
            .then_events([ue(UserEvent::InvitationResent {
                id: user(1),
                token_hash: hash(101),
                expires_at: days(5),
            })]);
        let i = scope
            .user(user(1))
            .and_then(|u| u.invitation.clone())
            .expect("invitation");
        assert_eq!(
            (i.state, i.token_hash, i.expires_at, i.sent_at),
            (InvitationState::Pending, hash(101), days(5), days(2))
        );
        assert_eq!(scope.invitations_sent_in(202_501), 2);
    }
}

#[test]
fn a_resend_moves_the_expiry_timer() {
    let e = ue(UserEvent::InvitationResent {
        id: user(1),
        token_hash: hash(101),
        expires_at: days(5),
    });
    assert_eq!(
        e.effects(),
        vec![Effect::SetTimer {
            kind: invitation_timer(user(1)),
            due_at: days(5),
        }]
    );
}

#[test]
fn only_invited_users_get_a_new_invitation() {
    given(world_and(active_user(1)))
        .when_user(resend(1, 101))
        .then_invalid_state("INVITATION_NOT_PENDING");
    given(world_and(cat([
        active_user(1),
        vec![ue(UserEvent::UserDeactivated { id: user(1) })],
    ])))
    .when_user(resend(1, 101))
    .then_invalid_state("INVITATION_NOT_PENDING");
    given(world())
        .when_user(resend(1, 101))
        .then_error(DomainError::NotFound {
            resource: ResourceKind::User,
            id: user(1).to_string(),
        });
}

#[test]
fn resend_input_rules() {
    given(world_and([invited(1)]))
        .when_user(UserCommand::ResendInvitation {
            id: user(1),
            expires_in_days: 31,
            token_hash: hash(2),
        })
        .then_invalid(&["expires_in_days"]);
}

// ---- revoke ----

#[test]
fn revokes_a_pending_invitation_and_clears_its_timer() {
    let scope = given(world_and([invited(1)]))
        .when_user(UserCommand::RevokeInvitation { id: user(1) })
        .then_events([revoked_invitation(1)]);
    let u = scope.user(user(1)).expect("user");
    assert_eq!(u.status, UserStatus::Invited);
    assert_eq!(
        u.invitation.as_ref().map(|i| i.state),
        Some(InvitationState::Revoked)
    );
    assert_eq!(
        revoked_invitation(1).effects(),
        vec![Effect::ClearTimer {
            kind: invitation_timer(user(1))
        }]
    );
}

#[test]
fn only_pending_invitations_are_revoked() {
    for history in [
        vec![invited(1), revoked_invitation(1)],
        vec![invited(1), expired_invitation(1)],
        active_user(1),
    ] {
        given(world_and(history))
            .when_user(UserCommand::RevokeInvitation { id: user(1) })
            .then_invalid_state("INVITATION_NOT_PENDING");
    }
}

#[test]
fn revoking_or_resending_the_invitation_of_an_unknown_user_is_not_found() {
    let missing = DomainError::NotFound {
        resource: ResourceKind::User,
        id: user(99).to_string(),
    };
    // Another user's invitation exists; the unknown user's id must not reach it.
    for c in [
        UserCommand::RevokeInvitation { id: user(99) },
        resend(99, 101),
    ] {
        given(world_and([invited(1)]))
            .when_user(c.clone())
            .then_error(missing.clone());
        given(world()).when_user(c).then_error(missing.clone());
    }
}

// ---- accept ----

#[test]
fn accepting_activates_the_user() {
    let scope = given(world_and([invited(1)]))
        .at(days(1))
        .when_user(UserCommand::AcceptInvitation {
            id: user(1),
            token_hash: hash(1),
            display_name: Some("  Ada Lovelace ".into()),
        })
        .then_events([ue(UserEvent::UserActivated {
            id: user(1),
            display_name: Some("Ada Lovelace".into()),
        })]);
    let u = scope.user(user(1)).expect("user");
    assert_eq!(u.status, UserStatus::Active);
    assert_eq!(u.display_name, "Ada Lovelace");
    assert_eq!(
        u.invitation.as_ref().map(|i| i.state),
        Some(InvitationState::Accepted)
    );
    assert_eq!((u.version, u.updated_at), (2, days(1)));
    assert_eq!(
        activated(1).effects(),
        vec![Effect::ClearTimer {
            kind: invitation_timer(user(1))
        }]
    );
}

#[test]
fn accepting_without_a_display_name_keeps_the_invited_one() {
    let mut e = invited(1);
    if let TenantScopeEvent::User(UserEvent::UserInvited { display_name, .. }) = &mut e {
        *display_name = "Ada".into();
    }
    let scope = given(world_and([e]))
        .when_user(accept(1, 1))
        .then_events([activated(1)]);
    assert_eq!(
        scope.user(user(1)).map(|u| u.display_name.as_str()),
        Some("Ada")
    );
}

#[test]
fn a_wrong_token_reveals_nothing() {
    // Whatever the invitation's state, a token that is not its current one is "not found".
    for history in [
        vec![invited(1)],
        vec![invited(1), revoked_invitation(1)],
        vec![invited(1), expired_invitation(1)],
        active_user(1),
    ] {
        given(world_and(history))
            .when_user(accept(1, 2))
            .then_error(invitation_not_found(1));
    }
    given(world())
        .when_user(accept(1, 1))
        .then_error(invitation_not_found(1));
}

#[test]
fn a_resent_invitation_retires_the_old_token() {
    let events = world_and([
        invited(1),
        ue(UserEvent::InvitationResent {
            id: user(1),
            token_hash: hash(101),
            expires_at: days(7),
        }),
    ]);
    given(events.clone())
        .when_user(accept(1, 1))
        .then_error(invitation_not_found(1));
    given(events)
        .when_user(accept(1, 101))
        .then_events([activated(1)]);
}

#[test]
fn revoked_expired_and_accepted_invitations_say_why() {
    given(world_and([invited(1), revoked_invitation(1)]))
        .when_user(accept(1, 1))
        .then_invalid_state("INVITATION_REVOKED");
    given(world_and([invited(1), expired_invitation(1)]))
        .when_user(accept(1, 1))
        .then_invalid_state("INVITATION_EXPIRED");
    given(world_and(active_user(1)))
        .when_user(accept(1, 1))
        .then_invalid_state("INVITATION_ALREADY_ACCEPTED");
}

#[test]
fn a_pending_invitation_past_its_expiry_is_expired() {
    // Invited at t0 for 7 days: the timer may not have fired yet.
    given(world_and([invited(1)]))
        .at(days(7))
        .when_user(accept(1, 1))
        .then_invalid_state("INVITATION_EXPIRED");
    let just_before = days(7) - chrono::TimeDelta::seconds(1);
    given(world_and([invited(1)]))
        .at(just_before)
        .when_user(accept(1, 1))
        .then_events([activated(1)]);
}

#[test]
fn accept_input_rules() {
    given(world_and([invited(1)]))
        .when_user(UserCommand::AcceptInvitation {
            id: user(1),
            token_hash: hash(1),
            display_name: Some(repeat('x', 201)),
        })
        .then_invalid(&["display_name"]);
}

#[test]
fn a_suspended_tenant_cannot_onboard_users() {
    given(world_and([invited(1), suspended()]))
        .when_user(accept(1, 1))
        .then_error(DomainError::TenantSuspended);
    given(world_and([invited(1), deactivated(days(30))]))
        .when_user(accept(1, 1))
        .then_error(DomainError::TenantDeactivated);
}

// ---- expire (the engine's timer) ----

#[test]
fn the_timer_expires_a_pending_invitation_that_is_due() {
    let scope = given(world_and([invited(1)]))
        .at(days(7))
        .when_user(expire(1))
        .then_events([expired_invitation(1)]);
    let u = scope.user(user(1)).expect("user");
    assert_eq!(
        u.invitation.as_ref().map(|i| i.state),
        Some(InvitationState::Expired)
    );
    assert_eq!(u.status, UserStatus::Invited);
    assert_eq!(
        expired_invitation(1).effects(),
        vec![Effect::ClearTimer {
            kind: invitation_timer(user(1))
        }]
    );
}

#[test]
fn the_timer_is_a_no_op_wherever_it_does_not_apply() {
    given(world_and([invited(1)]))
        .at(days(6))
        .when_user(expire(1))
        .then_nothing();
    given(world_and(active_user(1)))
        .at(days(8))
        .when_user(expire(1))
        .then_nothing();
    given(world_and([invited(1), revoked_invitation(1)]))
        .at(days(8))
        .when_user(expire(1))
        .then_nothing();
    given(world())
        .at(days(8))
        .when_user(expire(1))
        .then_nothing();
}

#[test]
fn the_timer_is_never_gated() {
    for status in [suspended(), deactivated(days(30)), deleted()] {
        given(world_and([invited(1), status]))
            .at(days(7))
            .when_user(expire(1))
            .then_events([expired_invitation(1)]);
    }
}

#[test]
fn other_invitation_commands_are_gated() {
    for c in [
        resend(1, 101),
        UserCommand::RevokeInvitation { id: user(1) },
    ] {
        given(world_and([invited(1), suspended()]))
            .when_user(c)
            .then_error(DomainError::TenantSuspended);
    }
}

#[test]
fn bronze_quota_applies_to_resends_too() {
    let mut events = vec![tenant_created(Plan::Bronze)];
    for n in 1..=10 {
        events.push(invited(n));
    }
    given(events)
        .when_user(resend(1, 101))
        .then_error(DomainError::PlanLimitExceeded {
            limit: "invitations_per_month",
            plan: Plan::Bronze,
            allowed: 10,
        });
}
