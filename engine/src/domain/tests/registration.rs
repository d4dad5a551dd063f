//! Self-registration by verified domain: the settings' rules, domain verification by TXT
//! record (present, absent, wrong) or by hand, RegisterUser's refusals and automatic roles,
//! and the release of domains with the tenant.

use super::support::*;
use crate::domain::{
    Assignment, ClientEvent, DomainError, DomainProof, Effect, REGISTRATION_DOMAIN_NAMESPACE,
    REGISTRATION_HOST_NAMESPACE, RegistrationCommand, ResourceKind, Scope, TenantCommand,
    TenantEvent, TenantScopeCommand, TenantScopeEvent, UserCommand, UserEvent, UserStatus,
    VerificationMethod,
};

const TOKEN: &str = "AbCdEfGhIjKlMnOpQrStUvWxYz012345";

fn reg(command: RegistrationCommand) -> TenantScopeCommand {
    TenantScopeCommand::Registration(command)
}

fn add(domain: &str) -> TenantScopeCommand {
    reg(RegistrationCommand::AddDomain {
        domain: domain.into(),
        client_id: None,
        txt_token: TOKEN.into(),
    })
}

fn added(domain: &str) -> TenantScopeEvent {
    te(TenantEvent::RegistrationDomainAdded {
        domain: domain.into(),
        client_id: None,
        txt_token: TOKEN.into(),
    })
}

fn verified(domain: &str) -> TenantScopeEvent {
    te(TenantEvent::RegistrationDomainVerified {
        domain: domain.into(),
        method: VerificationMethod::Manual,
    })
}

fn configured(enabled: bool, roles: Vec<Assignment>) -> TenantScopeEvent {
    te(TenantEvent::RegistrationConfigured {
        enabled,
        auto_roles: roles,
    })
}

fn verify_with(records: &[&str]) -> TenantScopeCommand {
    reg(RegistrationCommand::VerifyDomain {
        domain: "acme.com".into(),
        proof: DomainProof::TxtRecords(records.iter().map(|r| (*r).to_owned()).collect()),
    })
}

fn register(n: u128, email: &str) -> UserCommand {
    UserCommand::Register {
        id: user(n),
        email: email.into(),
        display_name: "Jo".into(),
    }
}

/// A gold tenant (organizations 1-5, teams) with acme.com verified and registration open,
/// granting `member` tenant-wide and `org-admin` in organization 2.
fn open_world() -> Vec<TenantScopeEvent> {
    world_and([
        added("acme.com"),
        verified("acme.com"),
        configured(
            true,
            vec![
                assignment("member", Scope::Tenant),
                assignment("org-admin", Scope::Organization(org(2))),
            ],
        ),
    ])
}

// ---- settings ----

#[test]
fn consumer_mail_domains_are_refused_as_registration_domains() {
    for domain in ["gmail.com", "outlook.com", "yahoo.com", "mail.gmail.com"] {
        given(world()).when(add(domain)).then_invalid(&["domain"]);
    }
}

#[test]
fn malformed_domains_and_tokens_are_refused_with_every_field() {
    given(world())
        .when(reg(RegistrationCommand::AddDomain {
            domain: "192.168.0.1".into(),
            client_id: None,
            txt_token: "short".into(),
        }))
        .then_invalid(&["domain", "txt_token"]);
}

#[test]
fn a_domain_is_added_pending_lower_case_and_adding_it_again_is_a_no_op() {
    let after = given(world())
        .when(add("ACME.com."))
        .then_events([added("acme.com")]);
    let tenant = after.tenant().unwrap();
    let entry = &tenant.registration.domains["acme.com"];
    assert!(entry.verified.is_none(), "pending until verified");
    assert_eq!(
        entry.txt_record(),
        format!("entity-engine-verification={TOKEN}")
    );
    given_scope(after).when(add("acme.com")).then_nothing();
}

#[test]
fn a_domain_may_register_into_an_active_client_only() {
    let into_client = |c| {
        reg(RegistrationCommand::AddDomain {
            domain: "acme.com".into(),
            client_id: Some(c),
            txt_token: TOKEN.into(),
        })
    };
    given(world())
        .when(into_client(client(1)))
        .then_error(DomainError::NotFound {
            resource: ResourceKind::Client,
            id: client(1).to_string(),
        });
    given(world_and([
        client_created(client(1), "Globex"),
        ce(ClientEvent::ClientDisabled {
            id: client(1),
            provisioned_tenant_id: None,
        }),
    ]))
    .when(into_client(client(1)))
    .then_invalid_state("CLIENT_DISABLED");
}

#[test]
fn automatic_roles_must_exist_at_live_scopes() {
    let configure = |role: &str, scope| {
        reg(RegistrationCommand::Configure {
            enabled: true,
            auto_roles: vec![assignment(role, scope)],
            custom_host: None,
        })
    };
    given(world())
        .when(configure("no-such-role", Scope::Tenant))
        .then_error(DomainError::NotFound {
            resource: ResourceKind::Role,
            id: "no-such-role".into(),
        });
    given(world())
        .when(configure("member", Scope::Organization(org(99))))
        .then_error(DomainError::NotFound {
            resource: ResourceKind::Organization,
            id: org(99).to_string(),
        });
    given(world())
        .when(configure("member", Scope::Team(team(1))))
        .then_events([configured(
            true,
            vec![assignment("member", Scope::Team(team(1)))],
        )]);
}

#[test]
fn a_custom_host_must_lie_under_a_verified_domain() {
    let host = |h: &str| {
        reg(RegistrationCommand::Configure {
            enabled: true,
            auto_roles: vec![],
            custom_host: Some(h.into()),
        })
    };
    given(world_and([added("acme.com")]))
        .when(host("join.acme.com"))
        .then_invalid_state("HOST_NOT_VERIFIED");
    given(world_and([added("acme.com"), verified("acme.com")]))
        .when(host("join.evil.com"))
        .then_invalid_state("HOST_NOT_VERIFIED");
    given(world_and([added("acme.com"), verified("acme.com")]))
        .when(host("notacme.com"))
        .then_invalid_state("HOST_NOT_VERIFIED");
    for ok in ["acme.com", "join.acme.com", "a.b.acme.com"] {
        given(world_and([added("acme.com"), verified("acme.com")]))
            .when(host(ok))
            .then_events_any();
    }
}

#[test]
fn a_custom_host_is_claimed_platform_wide_and_a_new_one_releases_the_old() {
    let host = |h: Option<&str>| {
        reg(RegistrationCommand::Configure {
            enabled: false,
            auto_roles: vec![],
            custom_host: h.map(str::to_owned),
        })
    };
    let after = given(world_and([added("acme.com"), verified("acme.com")]))
        .when(host(Some("Join.Acme.com")))
        .then_events([te(TenantEvent::RegistrationHostChanged {
            from: None,
            to: Some("join.acme.com".into()),
        })]);
    let then = given_scope(after).when(host(Some("signup.acme.com")));
    let events = then.result.clone().unwrap();
    assert_eq!(
        events[0].effects(),
        vec![
            Effect::ReleaseUnique {
                namespace: REGISTRATION_HOST_NAMESPACE,
                key: "join.acme.com".into()
            },
            Effect::ClaimUnique {
                namespace: REGISTRATION_HOST_NAMESPACE,
                key: "signup.acme.com".into()
            },
        ]
    );
}

// ---- verification ----

#[test]
fn a_txt_record_carrying_the_token_verifies_and_claims_the_domain() {
    let record = format!("entity-engine-verification={TOKEN}");
    let then = given(world_and([added("acme.com")])).when(verify_with(&["v=spf1 -all", &record]));
    let events = then.result.clone().unwrap();
    assert_eq!(
        events,
        vec![te(TenantEvent::RegistrationDomainVerified {
            domain: "acme.com".into(),
            method: VerificationMethod::Dns,
        })]
    );
    assert_eq!(
        events[0].effects(),
        vec![Effect::ClaimUnique {
            namespace: REGISTRATION_DOMAIN_NAMESPACE,
            key: "acme.com".into()
        }],
        "one tenant per domain: the journal refuses a second claim"
    );
    let tenant = then.after.tenant().unwrap().clone();
    assert!(tenant.registration.domains["acme.com"].verified.is_some());
}

#[test]
fn no_txt_record_does_not_verify() {
    let message = given(world_and([added("acme.com")]))
        .when(verify_with(&[]))
        .then_invalid_state("DOMAIN_VERIFICATION_FAILED");
    assert!(message.contains("no TXT record"), "{message}");
}

#[test]
fn txt_records_without_the_token_do_not_verify() {
    let message = given(world_and([added("acme.com")]))
        .when(verify_with(&["v=spf1 -all"]))
        .then_invalid_state("DOMAIN_VERIFICATION_FAILED");
    assert!(message.contains("hold no verification record"), "{message}");
    let message = given(world_and([added("acme.com")]))
        .when(verify_with(&[
            "entity-engine-verification=SomeoneElsesToken0123456789",
        ]))
        .then_invalid_state("DOMAIN_VERIFICATION_FAILED");
    assert!(message.contains("another token"), "{message}");
}

#[test]
fn a_manual_verification_needs_no_record_and_an_unlisted_domain_is_not_found() {
    given(world_and([added("acme.com")]))
        .when(reg(RegistrationCommand::VerifyDomain {
            domain: "acme.com".into(),
            proof: DomainProof::Manual,
        }))
        .then_events([verified("acme.com")]);
    given(world())
        .when(verify_with(&[]))
        .then_error(DomainError::NotFound {
            resource: ResourceKind::RegistrationDomain,
            id: "acme.com".into(),
        });
    // Verified already: nothing to do, whatever DNS says now.
    given(world_and([added("acme.com"), verified("acme.com")]))
        .when(verify_with(&[]))
        .then_nothing();
}

#[test]
fn removing_a_domain_releases_its_claim_and_deleting_the_tenant_releases_all() {
    let then = given(open_world()).when(reg(RegistrationCommand::RemoveDomain {
        domain: "acme.com".into(),
    }));
    let events = then.result.clone().unwrap();
    assert_eq!(
        events[0].effects(),
        vec![Effect::ReleaseUnique {
            namespace: REGISTRATION_DOMAIN_NAMESPACE,
            key: "acme.com".into()
        }]
    );
    given(open_world())
        .when_tenant(TenantCommand::Delete)
        .then_events([
            te(TenantEvent::RegistrationDomainRemoved {
                domain: "acme.com".into(),
            }),
            te(TenantEvent::TenantDeleted {
                grace_period_expired: false,
            }),
        ]);
}

// ---- RegisterUser ----

#[test]
fn a_person_of_a_verified_domain_becomes_active_with_the_automatic_roles_at_their_scopes() {
    let after = given(open_world())
        .when_user(register(7, "Jo@Acme.com"))
        .then_events([
            ue(UserEvent::UserRegistered {
                id: user(7),
                email: "Jo@Acme.com".into(),
                display_name: "Jo".into(),
                domain: "acme.com".into(),
                client_id: None,
            }),
            assigned(7, "member", Scope::Tenant),
            assigned(7, "org-admin", Scope::Organization(org(2))),
        ]);
    let jo = after.user(user(7)).unwrap();
    assert_eq!(jo.status, UserStatus::Active);
    let decision = after
        .check_permission(
            user(7),
            &perm("organization:update"),
            Scope::Organization(org(3)),
        )
        .unwrap();
    assert!(decision.allowed, "org-admin of B reaches C");
    let decision = after
        .check_permission(
            user(7),
            &perm("organization:update"),
            Scope::Organization(org(4)),
        )
        .unwrap();
    assert!(!decision.allowed, "but not D");
}

#[test]
fn each_refusal_names_its_reason() {
    given(world_and([added("acme.com"), verified("acme.com")]))
        .when_user(register(7, "jo@acme.com"))
        .then_invalid_state("REGISTRATION_DISABLED");
    given(open_world())
        .when_user(register(7, "jo@globex.com"))
        .then_invalid_state("DOMAIN_NOT_ALLOWED");
    given(world_and([added("acme.com"), configured(true, vec![])]))
        .when_user(register(7, "jo@acme.com"))
        .then_invalid_state("DOMAIN_NOT_VERIFIED");
    given(cat([open_world(), active_user(1)]))
        .when_user(register(7, "USER1@acme.test"))
        .then_invalid_state("DOMAIN_NOT_ALLOWED");
    given(cat([
        open_world(),
        vec![ue(UserEvent::UserRegistered {
            id: user(1),
            email: "jo@acme.com".into(),
            display_name: String::new(),
            domain: "acme.com".into(),
            client_id: None,
        })],
    ]))
    .when_user(register(7, "JO@acme.com"))
    .then_error(DomainError::AlreadyExists {
        resource: ResourceKind::User,
        field: "email",
        value: "JO@acme.com".into(),
    });
    given(open_world())
        .when_user(register(7, "not-an-email"))
        .then_invalid(&["email"]);
}

#[test]
fn a_domain_bound_to_a_client_registers_its_people_into_it() {
    let after = given(world_and([
        client_created(client(1), "Globex"),
        te(TenantEvent::RegistrationDomainAdded {
            domain: "globex.com".into(),
            client_id: Some(client(1)),
            txt_token: TOKEN.into(),
        }),
        te(TenantEvent::RegistrationDomainVerified {
            domain: "globex.com".into(),
            method: VerificationMethod::Dns,
        }),
        configured(true, vec![]),
    ]))
    .when_user(register(7, "ann@globex.com"))
    .then_events_any();
    assert_eq!(after.user(user(7)).unwrap().client_id, Some(client(1)));
}

#[test]
fn an_automatic_role_whose_scope_was_deleted_since_is_skipped() {
    given(cat([
        open_world(),
        vec![org_deleted(org(3), None), org_deleted(org(2), None)],
    ]))
    .when_user(register(7, "jo@acme.com"))
    .then_events([
        ue(UserEvent::UserRegistered {
            id: user(7),
            email: "jo@acme.com".into(),
            display_name: "Jo".into(),
            domain: "acme.com".into(),
            client_id: None,
        }),
        assigned(7, "member", Scope::Tenant),
    ]);
}

#[test]
fn a_blocked_tenant_still_gives_its_domains_back() {
    let remove = || {
        reg(RegistrationCommand::RemoveDomain {
            domain: "acme.com".into(),
        })
    };
    let removed = te(TenantEvent::RegistrationDomainRemoved {
        domain: "acme.com".into(),
    });
    given(cat([open_world(), vec![suspended()]]))
        .when(remove())
        .then_events([removed.clone()]);
    given(cat([open_world(), vec![deactivated(days(30))]]))
        .when(remove())
        .then_events([removed]);
    given(cat([open_world(), vec![deleted()]]))
        .when(remove())
        .then_error(DomainError::TenantDeleted);
}

#[test]
fn a_suspended_tenant_registers_nobody() {
    given(cat([open_world(), vec![suspended()]]))
        .when_user(register(7, "jo@acme.com"))
        .then_error(DomainError::TenantSuspended);
}
