//! The claims an identity provider puts in tokens, and ClaimsChanged: one for each active user
//! whose claims a decision changes, none for invited users; a tenant-wide change (products,
//! session expiration) is re-synchronised in batches, and an unchanged product list changes
//! nothing.

use super::support::*;
use crate::domain::{
    CLAIMS_SYNC_BATCH, ClaimsCause, DEFAULT_SESSION_EXPIRATION_SECONDS, RegistrationCommand, Scope,
    TenantCommand, TenantScope, TenantScopeCommand, TenantScopeEvent, TenantSettings, UpdateTenant,
    UserClaims, UserCommand, UserEvent, UserStatus,
};

fn claims_changed(
    events: &[TenantScopeEvent],
) -> Vec<(crate::domain::UserId, UserClaims, ClaimsCause)> {
    events
        .iter()
        .filter_map(|e| match e {
            TenantScopeEvent::User(UserEvent::ClaimsChanged { id, claims, cause }) => {
                Some((*id, claims.clone(), *cause))
            }
            _ => None,
        })
        .collect()
}

fn products(list: &[&str]) -> TenantCommand {
    TenantCommand::Update(UpdateTenant {
        products: Some(list.iter().map(|p| (*p).to_owned()).collect()),
        ..UpdateTenant::default()
    })
}

/// Runs the claims re-synchronisation to its end, as the runtime does; the batches' events.
fn sync(mut scope: TenantScope) -> (TenantScope, Vec<Vec<TenantScopeEvent>>) {
    let mut batches = Vec::new();
    while scope.claims_sync_pending() {
        let events = given_scope(scope.clone())
            .when(TenantScopeCommand::Registration(
                RegistrationCommand::SyncClaims,
            ))
            .result
            .unwrap();
        assert!(!events.is_empty(), "a pending sync makes progress");
        for e in &events {
            scope.apply(e, t0());
        }
        batches.push(events);
    }
    (scope, batches)
}

#[test]
fn claims_carry_tenant_client_roles_products_session_and_status() {
    let scope = given(cat([
        world(),
        active_user(1),
        vec![assigned(1, "viewer", Scope::Team(team(2)))],
    ]))
    .scope;
    let claims = scope.user_claims(user(1)).unwrap();
    assert_eq!(
        claims,
        UserClaims {
            tenant_id: tid(),
            user_id: user(1),
            client_id: None,
            roles: vec![assignment("viewer", Scope::Team(team(2)))],
            products: create_tenant(crate::domain::Plan::Gold).products,
            session_expiration_seconds: DEFAULT_SESSION_EXPIRATION_SECONDS,
            status: UserStatus::Active,
        }
    );
}

#[test]
fn a_role_change_of_an_active_user_yields_one_claims_changed() {
    let then = given(cat([world(), active_user(1)])).when_user(UserCommand::AssignRole {
        id: user(1),
        assignment: assignment("member", Scope::Tenant),
    });
    let events = then.result.clone().unwrap();
    let changes = claims_changed(&events);
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].0, user(1));
    assert_eq!(
        changes[0].1.roles,
        vec![assignment("member", Scope::Tenant)]
    );
    assert_eq!(changes[0].2, ClaimsCause::User);
    assert!(
        matches!(
            events.last(),
            Some(TenantScopeEvent::User(UserEvent::ClaimsChanged { .. }))
        ),
        "after the change it reports"
    );
}

#[test]
fn invited_users_get_none_until_they_accept() {
    let mut command = invite(1);
    if let UserCommand::Invite { roles, .. } = &mut command {
        roles.push(assignment("member", Scope::Tenant));
    }
    let then = given(world()).when_user(command);
    assert!(claims_changed(&then.result.unwrap()).is_empty());
    let then = given(cat([world(), vec![invited(1)]])).when_user(UserCommand::AcceptInvitation {
        id: user(1),
        token_hash: hash(1),
        display_name: None,
    });
    let changes = claims_changed(&then.result.unwrap());
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].1.status, UserStatus::Active);
}

#[test]
fn deactivation_tells_the_identity_provider_once() {
    let then =
        given(cat([world(), active_user(1)])).when_user(UserCommand::Deactivate { id: user(1) });
    let changes = claims_changed(&then.result.unwrap());
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].1.status, UserStatus::Deactivated);
}

#[test]
fn a_change_that_leaves_claims_as_they_were_yields_none() {
    let then = given(cat([world(), active_user(1)])).when_user(UserCommand::UpdateProfile {
        id: user(1),
        display_name: Some("Jo".into()),
    });
    assert!(claims_changed(&then.result.unwrap()).is_empty());
}

#[test]
fn a_products_change_resyncs_every_active_user_once_in_batches() {
    let users = (CLAIMS_SYNC_BATCH as u128) * 2 + 7;
    let mut events = world();
    for n in 1..=users {
        events.extend(active_user(n));
    }
    events.push(invited(users + 1)); // invited: holds no token
    let after = given(events)
        .when_tenant(products(&["crm", "billing", "analytics"]))
        .then_events_any();
    assert!(after.claims_sync_pending());
    let (after, batches) = sync(after);
    assert_eq!(
        batches.len(),
        3,
        "{} users in batches of {CLAIMS_SYNC_BATCH}",
        users
    );
    let changes: Vec<_> = batches.iter().flat_map(|b| claims_changed(b)).collect();
    assert_eq!(changes.len() as u128, users, "one each");
    let mut ids: Vec<_> = changes.iter().map(|c| c.0).collect();
    ids.dedup();
    assert_eq!(ids.len() as u128, users, "never twice");
    assert!(
        changes
            .iter()
            .all(|c| c.1.products == ["crm", "billing", "analytics"])
    );
    assert_eq!(
        changes
            .iter()
            .filter(|c| c.2 == ClaimsCause::TenantResync { last: true })
            .count(),
        1
    );
    assert!(!after.claims_sync_pending());
    assert!(after.tenant().unwrap().claims_sync.is_none());
}

#[test]
fn an_unchanged_product_list_or_a_tenant_without_active_users_starts_nothing() {
    let current = create_tenant(crate::domain::Plan::Gold).products;
    let current: Vec<&str> = current.iter().map(String::as_str).collect();
    given(cat([world(), active_user(1)]))
        .when_tenant(products(&current))
        .then_nothing();
    let after = given(cat([world(), vec![invited(1)]]))
        .when_tenant(products(&["crm"]))
        .then_events_any();
    assert!(!after.claims_sync_pending());
}

#[test]
fn a_session_expiration_change_resyncs_with_the_new_value() {
    let after = given(cat([world(), active_user(1), active_user(2)]))
        .when_tenant(TenantCommand::Update(UpdateTenant {
            settings: Some(TenantSettings {
                session_expiration_seconds: Some(3600),
            }),
            ..UpdateTenant::default()
        }))
        .then_events_any();
    let (_, batches) = sync(after);
    let changes: Vec<_> = batches.iter().flat_map(|b| claims_changed(b)).collect();
    assert_eq!(changes.len(), 2);
    assert!(
        changes
            .iter()
            .all(|c| c.1.session_expiration_seconds == 3600)
    );
}

#[test]
fn a_new_products_change_during_a_resync_starts_it_over() {
    let mut events = world();
    for n in 1..=(CLAIMS_SYNC_BATCH as u128 + 1) {
        events.extend(active_user(n));
    }
    let after = given(events)
        .when_tenant(products(&["a"]))
        .then_events_any();
    let first = given_scope(after.clone())
        .when(TenantScopeCommand::Registration(
            RegistrationCommand::SyncClaims,
        ))
        .then_events_any();
    assert!(first.claims_sync_pending(), "one user left");
    let restarted = given_scope(first)
        .when_tenant(products(&["b"]))
        .then_events_any();
    let (_, batches) = sync(restarted);
    let changes: Vec<_> = batches.iter().flat_map(|b| claims_changed(b)).collect();
    assert_eq!(changes.len(), CLAIMS_SYNC_BATCH + 1, "everyone hears of b");
    assert!(changes.iter().all(|c| c.1.products == ["b"]));
}

#[test]
fn a_resync_whose_remaining_users_left_ends_with_nobody_told() {
    let mut events = world();
    for n in 1..=(CLAIMS_SYNC_BATCH as u128 + 1) {
        events.extend(active_user(n));
    }
    let after = given(events)
        .when_tenant(products(&["a"]))
        .then_events_any();
    let first = given_scope(after)
        .when(TenantScopeCommand::Registration(
            RegistrationCommand::SyncClaims,
        ))
        .then_events_any();
    // The one user left is deactivated before the next batch (and told so, as a user).
    let last = CLAIMS_SYNC_BATCH as u128 + 1;
    let left = given_scope(first)
        .when_user(UserCommand::Deactivate { id: user(last) })
        .then_events_any();
    assert!(left.claims_sync_pending());
    let ended = given_scope(left)
        .when(TenantScopeCommand::Registration(
            RegistrationCommand::SyncClaims,
        ))
        .then_events([TenantScopeEvent::Tenant(
            crate::domain::TenantEvent::ClaimsResyncEnded,
        )]);
    assert!(!ended.claims_sync_pending());
    assert!(ended.tenant().unwrap().claims_sync.is_none());
}

#[test]
fn deleting_an_organization_takes_its_assignments_out_of_the_claims_of_their_holders() {
    let scope = Scope::Organization(org(5));
    let then = given(cat([
        world(),
        active_user(1),
        vec![invited(2)],
        vec![
            assigned(1, "org-admin", scope),
            assigned(1, "member", Scope::Tenant),
            assigned(2, "org-admin", scope),
        ],
    ]))
    .when_org(crate::domain::OrganizationCommand::Delete {
        id: org(5),
        cascade: true,
    });
    let changes = claims_changed(&then.result.unwrap());
    assert_eq!(changes.len(), 1, "the active holder only: {changes:?}");
    assert_eq!(changes[0].0, user(1));
    assert_eq!(
        changes[0].1.roles,
        vec![assignment("member", Scope::Tenant)]
    );
    assert_eq!(
        then.after.user_claims(user(1)).unwrap().roles,
        vec![assignment("member", Scope::Tenant)]
    );
}
