//! EraseUser and EraseTenant: what erasure decides and what it leaves in the state, and which
//! values the domain declares personal.

use super::support::*;
use crate::domain::{
    DomainError, Effect, PersonalField, Plan, Scope, TenantCommand, TenantEvent, TenantScopeEvent,
    TenantStatus, UserCommand, UserEvent, UserStatus,
};

fn erase(n: u128) -> UserCommand {
    UserCommand::Erase { id: user(n) }
}

fn erased(n: u128) -> TenantScopeEvent {
    ue(UserEvent::UserErased { id: user(n) })
}

#[test]
fn erasing_a_user_clears_their_personal_values_for_good() {
    let scope = given(world_and(cat([
        active_user(1),
        vec![assigned(1, "member", Scope::Tenant)],
    ])))
    .when_user(erase(1))
    .then_events([erased(1)]);
    let user1 = scope.user(user(1)).expect("kept as a tombstone");
    assert_eq!(user1.status, UserStatus::Erased);
    assert_eq!(
        (user1.email.as_str(), user1.display_name.as_str()),
        ("", "")
    );
    assert!(user1.invitation.is_none());
    assert!(scope.user_by_email(&email(1)).is_none());
    // Erased users hold no permission.
    let check = scope.check_permission(user(1), &perm("organization:read"), Scope::Tenant);
    assert!(check.is_ok_and(|d| !d.allowed));
}

#[test]
fn erasure_is_a_no_op_the_second_time_and_final() {
    let world = world_and(cat([active_user(1), vec![erased(1)]]));
    given(world.clone()).when_user(erase(1)).then_nothing();
    for command in [
        UserCommand::Reactivate { id: user(1) },
        UserCommand::Deactivate { id: user(1) },
        UserCommand::UpdateProfile {
            id: user(1),
            display_name: Some("Back".into()),
        },
    ] {
        let refused = given(world.clone()).when_user(command).result;
        assert!(refused.is_err(), "{refused:?}");
    }
}

#[test]
fn an_erased_email_may_be_invited_again_as_a_new_person() {
    let world = world_and(cat([active_user(1), vec![erased(1)]]));
    let mut again = invite(2);
    if let UserCommand::Invite { email: e, .. } = &mut again {
        *e = email(1);
    }
    let then = given(world).when_user(again);
    assert!(then.result.is_ok(), "{:?}", then.result);
    let scope = then.after;
    assert_eq!(scope.user_by_email(&email(1)).map(|u| u.id), Some(user(2)));
    assert_eq!(
        scope.user(user(1)).map(|u| u.status),
        Some(UserStatus::Erased)
    );
}

#[test]
fn erasure_works_in_blocked_tenants_but_not_deleted_ones() {
    given(cat([world_and(active_user(1)), vec![suspended()]]))
        .when_user(erase(1))
        .then_events([erased(1)]);
    given(cat([
        world_and(active_user(1)),
        vec![deactivated(days(30))],
    ]))
    .when_user(erase(1))
    .then_events([erased(1)]);
    given(cat([world_and(active_user(1)), vec![deleted()]]))
        .when_user(erase(1))
        .then_error(DomainError::TenantDeleted);
    let missing = given(world()).when_user(erase(9)).result;
    assert!(matches!(missing, Err(DomainError::NotFound { .. })));
}

#[test]
fn a_user_erasure_shreds_the_persons_key_and_ends_the_invitation_timer() {
    let effects = erased(1).effects();
    assert!(effects.contains(&Effect::ShredPersonKey { subject: user(1).0 }));
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::ClearTimer { kind } if kind.starts_with("invitation/")))
    );
    assert_eq!(
        te(TenantEvent::TenantErased).effects(),
        vec![Effect::ShredTenantKeys]
    );
}

#[test]
fn only_a_deleted_tenant_can_be_erased_and_it_erases_everyone() {
    let live = world_and(cat([
        vec![onboarding_started()],
        active_user(1),
        vec![invited(2)],
    ]));
    assert_eq!(
        given(live.clone())
            .when_tenant(TenantCommand::Erase)
            .then_invalid_state("TENANT_NOT_DELETED"),
        "only a deleted tenant can be erased; delete it first"
    );
    let gone = cat([live, vec![deleted()]]);
    let scope = given(gone.clone())
        .when_tenant(TenantCommand::Erase)
        .then_events([te(TenantEvent::TenantErased)]);
    let tenant = scope.tenant().expect("tenant");
    assert_eq!(tenant.status, TenantStatus::Deleted);
    assert!(tenant.erased_at.is_some());
    assert_eq!(
        tenant
            .onboarding
            .as_ref()
            .map(|o| o.plan.owner_email.as_str()),
        Some("")
    );
    for u in scope.users() {
        assert_eq!(u.status, UserStatus::Erased);
        assert!(u.email.is_empty() && u.display_name.is_empty());
        // Versions are those of the users' own streams: untouched by a tenant event.
    }
    assert_eq!(scope.user(user(2)).map(|u| u.version), Some(1));
    given(cat([gone, vec![te(TenantEvent::TenantErased)]]))
        .when_tenant(TenantCommand::Erase)
        .then_nothing();
}

#[test]
fn personal_values_are_declared_for_events_and_state() {
    let mut event = invited(1);
    if let TenantScopeEvent::User(UserEvent::UserInvited { display_name, .. }) = &mut event {
        *display_name = "Ada".into();
    }
    let fields: Vec<_> = event
        .personal_fields_mut(tid().0)
        .into_iter()
        .map(|s| (s.subject, s.field, s.value.clone()))
        .collect();
    assert_eq!(
        fields,
        vec![
            (user(1).0, PersonalField::Email, email(1)),
            (user(1).0, PersonalField::DisplayName, "Ada".to_owned()),
        ]
    );
    let mut onboarding = onboarding_started();
    let owner = onboarding.personal_fields_mut(tid().0);
    assert_eq!(owner.len(), 1);
    assert_eq!(owner[0].field, PersonalField::Email);
    let mut dereg = deactivated(days(3));
    assert_eq!(dereg.personal_fields_mut(tid().0)[0].subject, tid().0);
    assert!(erased(1).personal_fields_mut(tid().0).is_empty());

    // The state: every user's two values plus the onboarding owner's email.
    let mut scope = given(cat([
        vec![tenant_created(Plan::Gold), onboarding_started()],
        active_user(1),
        vec![invited(2)],
    ]))
    .scope;
    let mut visited = 0;
    let _ = scope.try_for_each_personal_field(|slot| {
        visited += 1;
        slot.value.insert_str(0, "sealed:");
        Ok::<(), ()>(())
    });
    assert_eq!(visited, 1 + 2 * 2);
    assert!(scope.users().all(|u| u.email.starts_with("sealed:")));
}
