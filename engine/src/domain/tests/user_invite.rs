//! InviteUser: events, email rules and uniqueness, lifetimes, token hashes, the organization
//! and the roles granted with the invitation.

use super::support::*;
use crate::domain::{
    DomainError, Effect, InvitationState, ResourceKind, RoleEvent, Scope, TenantScopeEvent,
    UserCommand, UserEvent, UserStatus, invitation_timer,
};

fn invite_with(f: impl FnOnce(&mut UserCommand)) -> UserCommand {
    let mut c = invite(1);
    f(&mut c);
    c
}

fn set_email(e: &str) -> UserCommand {
    invite_with(|c| {
        if let UserCommand::Invite { email, .. } = c {
            *email = e.into();
        }
    })
}

fn set_roles(r: Vec<crate::domain::Assignment>) -> UserCommand {
    invite_with(|c| {
        if let UserCommand::Invite { roles, .. } = c {
            *roles = r;
        }
    })
}

#[test]
fn invites_a_user_with_an_organization_and_roles() {
    let command = UserCommand::Invite {
        id: user(1),
        email: " Ada@Acme.Test ".into(),
        display_name: " Ada ".into(),
        roles: vec![
            assignment("org-admin", Scope::Organization(org(2))),
            assignment("member", Scope::Tenant),
            assignment("org-admin", Scope::Organization(org(2))),
            assignment("team-member", Scope::Team(team(1))),
        ],
        organization_id: Some(org(2)),
        expires_in_days: 14,
        token_hash: hash(1),
    };
    let scope = given(world()).when_user(command).then_events([
        ue(UserEvent::UserInvited {
            id: user(1),
            email: "Ada@Acme.Test".into(),
            display_name: "Ada".into(),
            token_hash: hash(1),
            expires_at: days(14),
        }),
        ue(UserEvent::MembershipAdded {
            id: user(1),
            organization_id: org(2),
        }),
        assigned(1, "org-admin", Scope::Organization(org(2))),
        assigned(1, "member", Scope::Tenant),
        assigned(1, "team-member", Scope::Team(team(1))),
    ]);
    let u = scope.user(user(1)).expect("invited");
    assert_eq!(
        (u.tenant_id, u.status, u.version),
        (tid(), UserStatus::Invited, 5)
    );
    assert_eq!(u.email, "Ada@Acme.Test");
    assert_eq!(u.assignments.len(), 3);
    assert!(u.organizations.contains(&org(2)));
    let i = u.invitation.as_ref().expect("invitation");
    assert_eq!(
        (i.state, i.token_hash, i.expires_at, i.sent_at),
        (InvitationState::Pending, hash(1), days(14), t0())
    );
    assert_eq!(
        scope.user_by_email("ada@acme.test").map(|u| u.id),
        Some(user(1))
    );
    assert_eq!(scope.invitations_sent_in(202_501), 1);
}

#[test]
fn an_invitation_sets_its_expiry_timer() {
    assert_eq!(
        invited(1).effects(),
        vec![Effect::SetTimer {
            kind: invitation_timer(user(1)),
            due_at: days(7),
        }]
    );
}

#[test]
fn refuses_an_existing_id() {
    given(world_and([invited(1)]))
        .when_user(set_email("other@acme.test"))
        .then_error(DomainError::AlreadyExists {
            resource: ResourceKind::User,
            field: "id",
            value: user(1).to_string(),
        });
}

#[test]
fn emails_are_unique_case_insensitively_and_never_reused() {
    let taken = |value: &str| DomainError::AlreadyExists {
        resource: ResourceKind::User,
        field: "email",
        value: value.into(),
    };
    let mut other = invite(2);
    if let UserCommand::Invite { email, .. } = &mut other {
        *email = " USER1@acme.TEST".into();
    }
    given(world_and([invited(1)]))
        .when_user(other.clone())
        .then_error(taken("USER1@acme.TEST"));
    // Still taken once its user was deactivated.
    given(world_and(cat([
        active_user(1),
        vec![ue(UserEvent::UserDeactivated { id: user(1) })],
    ])))
    .when_user(other)
    .then_error(taken("USER1@acme.TEST"));
}

#[test]
fn email_rules() {
    for bad in [
        "",
        "  ",
        "a@",
        "ab",
        "@acme.test",
        "ada@acme",
        "ada@.test",
        "ada@acme.",
        "ada@@acme.test",
        "ada@acme@test.io",
        "a da@acme.test",
        "ada@acme.te\tst",
        "ada\u{7f}@acme.test",
    ] {
        given(world())
            .when_user(set_email(bad))
            .then_invalid(&["email"]);
    }
    given(world())
        .when_user(set_email(&format!("{}@acme.test", repeat('a', 245))))
        .then_invalid(&["email"]);
    for good in ["a@b.c", "ada.lovelace+x@mail.acme.test", "émile@acme.test"] {
        assert!(
            given(world()).when_user(set_email(good)).result.is_ok(),
            "{good}"
        );
    }
}

#[test]
fn display_name_and_lifetime_rules() {
    let bad = UserCommand::Invite {
        id: user(1),
        email: email(1),
        display_name: repeat('n', 201),
        roles: vec![assignment("Not A Role", Scope::Tenant)],
        organization_id: None,
        expires_in_days: 0,
        token_hash: hash(1),
    };
    given(world()).when_user(bad).then_invalid(&[
        "display_name",
        "roles[0].role",
        "expires_in_days",
    ]);
    for days in [0, 31, 365] {
        let c = invite_with(|c| {
            if let UserCommand::Invite {
                expires_in_days, ..
            } = c
            {
                *expires_in_days = days;
            }
        });
        given(world())
            .when_user(c)
            .then_invalid(&["expires_in_days"]);
    }
    for days in [1, 7, 30] {
        let c = invite_with(|c| {
            if let UserCommand::Invite {
                expires_in_days, ..
            } = c
            {
                *expires_in_days = days;
            }
        });
        assert!(given(world()).when_user(c).result.is_ok(), "{days}");
    }
    let c = invite_with(|c| {
        if let UserCommand::Invite { display_name, .. } = c {
            *display_name = "Ada\nLovelace".into();
        }
    });
    given(world()).when_user(c).then_invalid(&["display_name"]);
}

#[test]
fn the_organization_must_be_live() {
    let c = invite_with(|c| {
        if let UserCommand::Invite {
            organization_id, ..
        } = c
        {
            *organization_id = Some(org(3));
        }
    });
    given(world_and([org_deleted(org(3), None)]))
        .when_user(c)
        .then_error(DomainError::NotFound {
            resource: ResourceKind::Organization,
            id: org(3).to_string(),
        });
}

#[test]
fn roles_must_exist_at_live_scopes_of_this_tenant() {
    given(world())
        .when_user(set_roles(vec![assignment("auditor", Scope::Tenant)]))
        .then_error(DomainError::NotFound {
            resource: ResourceKind::Role,
            id: "auditor".into(),
        });
    given(world())
        .when_user(set_roles(vec![assignment(
            "member",
            Scope::Organization(org(77)),
        )]))
        .then_error(DomainError::NotFound {
            resource: ResourceKind::Organization,
            id: org(77).to_string(),
        });
    given(world())
        .when_user(set_roles(vec![assignment("member", Scope::Team(team(77)))]))
        .then_error(DomainError::NotFound {
            resource: ResourceKind::Team,
            id: team(77).to_string(),
        });
    let with_role = world_and(role_defined(role(1), "auditor", &["invoice:read"]));
    given(with_role.clone())
        .when_user(set_roles(vec![assignment("auditor", Scope::Tenant)]))
        .then_events([invited(1), assigned(1, "auditor", Scope::Tenant)]);
    let deleted: Vec<TenantScopeEvent> =
        cat([with_role, vec![re(RoleEvent::RoleDeleted { id: role(1) })]]);
    given(deleted)
        .when_user(set_roles(vec![assignment("auditor", Scope::Tenant)]))
        .then_error(DomainError::NotFound {
            resource: ResourceKind::Role,
            id: "auditor".into(),
        });
}

#[test]
fn nothing_is_recorded_on_a_refusal_midway() {
    // A valid first role, an unknown second: the whole invitation is refused.
    let then = given(world()).when_user(set_roles(vec![
        assignment("member", Scope::Tenant),
        assignment("ghost", Scope::Tenant),
    ]));
    assert!(then.result.is_err());
    assert!(then.after.user(user(1)).is_none());
    assert_eq!(then.after.invitations_sent_in(202_501), 0);
}
