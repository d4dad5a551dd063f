//! Status gates: what a suspended, deactivated or deleted tenant refuses (tenant and
//! organization commands alike), checked before anything else.

use super::support::*;
use crate::domain::{
    ClientCommand, DomainError, OrganizationCommand, Plan, ResourceKind, RoleCommand, Scope,
    TeamCommand, TeamRole, TenantCommand, TenantScopeCommand, TenantScopeEvent, UpdateTenant,
    UserCommand,
};

/// Commands a blocked tenant must refuse, with deliberately invalid input where possible so
/// that the test also proves the gate comes before validation.
fn gated_commands() -> Vec<TenantScopeCommand> {
    let t = TenantScopeCommand::Tenant;
    let o = TenantScopeCommand::Organization;
    vec![
        t(TenantCommand::Create(create_tenant(Plan::Gold))),
        t(TenantCommand::Update(UpdateTenant {
            name: Some(String::new()),
            ..Default::default()
        })),
        t(TenantCommand::Update(UpdateTenant::default())),
        t(TenantCommand::ChangePlan { plan: Plan::Silver }),
        t(TenantCommand::Suspend {
            reason: String::new(),
        }),
        o(create_org(org(5), "", None)),
        o(create_org(org(5), "New", None)),
        o(OrganizationCommand::Update {
            id: org(1),
            name: Some("X".into()),
            description: None,
        }),
        o(OrganizationCommand::Move {
            id: org(2),
            new_parent_id: None,
        }),
        o(OrganizationCommand::Delete {
            id: org(1),
            cascade: true,
        }),
        o(OrganizationCommand::Delete {
            id: org(99),
            cascade: false,
        }),
        TenantScopeCommand::Tenant(TenantCommand::CompleteOnboarding),
        TenantScopeCommand::Team(create_team(team(1), org(1), "")),
        TenantScopeCommand::Team(TeamCommand::Update {
            id: team(99),
            name: Some(String::new()),
            description: None,
        }),
        TenantScopeCommand::Team(TeamCommand::Delete { id: team(99) }),
        TenantScopeCommand::Team(TeamCommand::AddMember {
            id: team(99),
            user_id: user(99),
            role: TeamRole::Lead,
        }),
        TenantScopeCommand::Team(TeamCommand::RemoveMember {
            id: team(99),
            user_id: user(99),
        }),
        TenantScopeCommand::User(invite(1)),
        TenantScopeCommand::User(UserCommand::ResendInvitation {
            id: user(99),
            expires_in_days: 0,
            token_hash: hash(99),
        }),
        TenantScopeCommand::User(UserCommand::RevokeInvitation { id: user(99) }),
        TenantScopeCommand::User(UserCommand::AcceptInvitation {
            id: user(1),
            token_hash: hash(1),
            display_name: None,
        }),
        TenantScopeCommand::User(UserCommand::UpdateProfile {
            id: user(99),
            display_name: Some(repeat('x', 201)),
        }),
        TenantScopeCommand::User(UserCommand::AssignRole {
            id: user(99),
            assignment: assignment("", Scope::Tenant),
        }),
        TenantScopeCommand::User(UserCommand::RevokeRole {
            id: user(99),
            assignment: assignment("", Scope::Tenant),
        }),
        TenantScopeCommand::User(UserCommand::SetClient {
            id: user(99),
            client_id: Some(client(99)),
        }),
        TenantScopeCommand::User(UserCommand::Deactivate { id: user(99) }),
        TenantScopeCommand::User(UserCommand::Reactivate { id: user(99) }),
        TenantScopeCommand::User(UserCommand::AddToOrganization {
            id: user(99),
            organization_id: org(99),
        }),
        TenantScopeCommand::User(UserCommand::RemoveFromOrganization {
            id: user(99),
            organization_id: org(99),
        }),
        TenantScopeCommand::Role(define_role(role(1), "", &["team:read"])),
        TenantScopeCommand::Role(RoleCommand::Update {
            id: role(99),
            description: Some(repeat('x', 5000)),
            permissions: Some(vec![]),
        }),
        TenantScopeCommand::Role(RoleCommand::Delete { id: role(99) }),
        TenantScopeCommand::Client(create_client(client(1), "Globex")),
        TenantScopeCommand::Client(ClientCommand::Update {
            id: client(99),
            name: Some(String::new()),
            external_id: None,
            business_profile: None,
        }),
        TenantScopeCommand::Client(ClientCommand::Disable { id: client(99) }),
        TenantScopeCommand::Client(ClientCommand::Enable { id: client(99) }),
        TenantScopeCommand::Client(ClientCommand::Delete { id: client(99) }),
        TenantScopeCommand::Client(ClientCommand::ProvisionTenant {
            id: client(99),
            tenant: provisioned(2),
        }),
        TenantScopeCommand::Record(crate::domain::RecordCommand::Create {
            id: rec(1),
            client_id: None,
            fields: crate::domain::RecordFields::Department(crate::domain::Department::default()),
        }),
        TenantScopeCommand::Record(crate::domain::RecordCommand::Update {
            id: rec(99),
            fields: crate::domain::RecordFields::Department(crate::domain::Department::default()),
            active: false,
            mask: vec![],
        }),
        TenantScopeCommand::Record(crate::domain::RecordCommand::Delete {
            id: rec(99),
            kind: crate::domain::RecordKind::Contact,
        }),
        TenantScopeCommand::User(UserCommand::Register {
            id: user(9),
            email: "jo@acme.com".into(),
            display_name: String::new(),
        }),
        TenantScopeCommand::Registration(crate::domain::RegistrationCommand::Configure {
            enabled: true,
            auto_roles: vec![],
            custom_host: None,
        }),
        TenantScopeCommand::Registration(crate::domain::RegistrationCommand::AddDomain {
            domain: "acme.com".into(),
            client_id: None,
            txt_token: "AbCdEfGhIjKlMnOpQrStUvWxYz012345".into(),
        }),
        TenantScopeCommand::Registration(crate::domain::RegistrationCommand::VerifyDomain {
            domain: "acme.com".into(),
            proof: crate::domain::DomainProof::Manual,
        }),
    ]
}

/// Every team, user and role command a blocked tenant must refuse: all of them but the
/// engine's own invitation timer (`the_invitation_timer_is_never_gated`). Naming each variant
/// here makes a new command fail to compile until its gate is tested.
#[test]
fn the_gated_list_covers_every_team_user_and_role_command() {
    let mut seen = std::collections::BTreeSet::new();
    for c in gated_commands() {
        let name = match c {
            TenantScopeCommand::Team(c) => match c {
                TeamCommand::Create { .. } => "team create",
                TeamCommand::Update { .. } => "team update",
                TeamCommand::Delete { .. } => "team delete",
                TeamCommand::AddMember { .. } => "team add member",
                TeamCommand::RemoveMember { .. } => "team remove member",
            },
            TenantScopeCommand::User(c) => match c {
                UserCommand::Invite { .. } => "user invite",
                UserCommand::ResendInvitation { .. } => "user resend",
                UserCommand::RevokeInvitation { .. } => "user revoke invitation",
                UserCommand::AcceptInvitation { .. } => "user accept",
                UserCommand::ExpireInvitation { .. } => "user expire (never gated)",
                UserCommand::UpdateProfile { .. } => "user update",
                UserCommand::SetClient { .. } => "user set client",
                UserCommand::Deactivate { .. } => "user deactivate",
                UserCommand::Reactivate { .. } => "user reactivate",
                UserCommand::AddToOrganization { .. } => "user add to organization",
                UserCommand::RemoveFromOrganization { .. } => "user remove from organization",
                UserCommand::AssignRole { .. } => "user assign role",
                UserCommand::RevokeRole { .. } => "user revoke role",
                UserCommand::Erase { .. } => "user erase (gated by deletion only)",
                UserCommand::Register { .. } => "user register",
            },
            TenantScopeCommand::Registration(c) => match c {
                crate::domain::RegistrationCommand::Configure { .. } => "registration configure",
                crate::domain::RegistrationCommand::AddDomain { .. } => "registration add domain",
                crate::domain::RegistrationCommand::VerifyDomain { .. } => "registration verify",
                crate::domain::RegistrationCommand::RemoveDomain { .. } => {
                    "registration remove (gated by deletion only)"
                }
                crate::domain::RegistrationCommand::SyncClaims => "claims sync (engine's own)",
            },
            TenantScopeCommand::Role(c) => match c {
                RoleCommand::Define { .. } => "role define",
                RoleCommand::Update { .. } => "role update",
                RoleCommand::Delete { .. } => "role delete",
            },
            TenantScopeCommand::Client(c) => match c {
                ClientCommand::Create { .. } => "client create",
                ClientCommand::Update { .. } => "client update",
                ClientCommand::Disable { .. } => "client disable",
                ClientCommand::Enable { .. } => "client enable",
                ClientCommand::Delete { .. } => "client delete",
                ClientCommand::ProvisionTenant { .. } => "client provision tenant",
                ClientCommand::RecordProvisioningFailure { .. } => {
                    "client provisioning failure (never gated)"
                }
            },
            TenantScopeCommand::Record(c) => match c {
                crate::domain::RecordCommand::Create { .. } => "record create",
                crate::domain::RecordCommand::Update { .. } => "record update",
                crate::domain::RecordCommand::Delete { .. } => "record delete",
            },
            _ => continue,
        };
        seen.insert(name);
    }
    assert!(!seen.contains("user expire (never gated)"));
    assert!(!seen.contains("user erase (gated by deletion only)"));
    assert!(!seen.contains("client provisioning failure (never gated)"));
    assert!(!seen.contains("registration remove (gated by deletion only)"));
    assert_eq!(seen.len(), 5 + 13 + 3 + 6 + 3 + 3, "{seen:?}");
}

fn with_orgs(status_event: Option<TenantScopeEvent>) -> Vec<TenantScopeEvent> {
    let mut events = vec![
        tenant_created(Plan::Gold),
        org_created(org(1), "A", None),
        org_created(org(2), "B", Some(org(1))),
    ];
    events.extend(status_event);
    events
}

#[test]
fn a_suspended_tenant_refuses_everything_but_reactivation_deactivation_and_deletion() {
    for c in gated_commands() {
        let outcome = given(with_orgs(Some(suspended()))).when(c.clone());
        assert_eq!(outcome.result, Err(DomainError::TenantSuspended), "{c:?}");
    }
    let deactivate = TenantCommand::Deactivate {
        grace_period_ends_at: days(30),
        feedback: feedback(),
    };
    for c in [TenantCommand::Reactivate, TenantCommand::Delete, deactivate] {
        assert!(
            given(with_orgs(Some(suspended())))
                .when_tenant(c)
                .result
                .is_ok()
        );
    }
}

#[test]
fn a_deactivated_tenant_refuses_everything_but_reactivation_and_deletion() {
    let mut commands = gated_commands();
    commands.push(TenantScopeCommand::Tenant(TenantCommand::Deactivate {
        grace_period_ends_at: days(40),
        feedback: feedback(),
    }));
    commands.push(TenantScopeCommand::Tenant(TenantCommand::Suspend {
        reason: "x".into(),
    }));
    for c in commands {
        let outcome = given(with_orgs(Some(deactivated(days(30))))).when(c.clone());
        assert_eq!(outcome.result, Err(DomainError::TenantDeactivated), "{c:?}");
    }
    for c in [
        TenantCommand::Reactivate,
        TenantCommand::Delete,
        TenantCommand::ExpireGracePeriod,
    ] {
        assert!(
            given(with_orgs(Some(deactivated(days(30)))))
                .when_tenant(c)
                .result
                .is_ok()
        );
    }
}

#[test]
fn a_deleted_tenant_refuses_everything() {
    let mut commands = gated_commands();
    commands.extend(
        [
            TenantCommand::Reactivate,
            TenantCommand::Delete,
            TenantCommand::Deactivate {
                grace_period_ends_at: days(30),
                feedback: feedback(),
            },
        ]
        .map(TenantScopeCommand::Tenant),
    );
    for c in commands {
        let outcome = given(with_orgs(Some(deleted()))).when(c.clone());
        assert_eq!(outcome.result, Err(DomainError::TenantDeleted), "{c:?}");
    }
    given(with_orgs(Some(deleted())))
        .when_tenant(TenantCommand::ExpireGracePeriod)
        .then_nothing();
}

#[test]
fn organization_team_user_and_role_commands_need_a_tenant() {
    let missing = DomainError::NotFound {
        resource: ResourceKind::Tenant,
        id: tid().to_string(),
    };
    let mut commands = gated_commands();
    commands.push(TenantScopeCommand::User(UserCommand::ExpireInvitation {
        id: user(1),
    }));
    for c in commands
        .into_iter()
        .filter(|c| !matches!(c, TenantScopeCommand::Tenant(_)))
    {
        assert_eq!(
            given([]).when(c.clone()).result,
            Err(missing.clone()),
            "{c:?}"
        );
    }
}

#[test]
fn organizations_survive_tenant_deletion_as_they_were() {
    let scope = given(with_orgs(None))
        .when_tenant(TenantCommand::Delete)
        .then_events([deleted()]);
    assert_eq!(scope.depth_of(org(2)), Some(2));
    assert_eq!(scope.organizations().count(), 2);
}

#[test]
fn the_invitation_timer_is_never_gated() {
    for status in [suspended(), deactivated(days(30)), deleted()] {
        given(with_orgs(Some(status)))
            .when_user(UserCommand::ExpireInvitation { id: user(1) })
            .then_nothing();
    }
}
