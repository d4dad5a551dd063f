//! Bad RegistrationService input, and bad UserService.RegisterUser and GetUserClaims input.

use super::*;

const TENANT: i32 = pb::ScopeKind::Tenant as i32;

fn tenant_role(role: &str) -> pb::RoleAssignment {
    pb::RoleAssignment {
        role: role.into(),
        scope: Some(pb::Scope {
            kind: TENANT,
            id: String::new(),
        }),
    }
}

fn configure(tenant: &str) -> pb::ConfigureRegistrationRequest {
    pb::ConfigureRegistrationRequest {
        tenant_id: tenant.into(),
        enabled: true,
        ..Default::default()
    }
}

fn add_domain(tenant: &str, domain: &str) -> pb::AddRegistrationDomainRequest {
    pb::AddRegistrationDomainRequest {
        tenant_id: tenant.into(),
        domain: domain.into(),
        ..Default::default()
    }
}

fn register(tenant: &str, email: &str) -> pb::RegisterUserRequest {
    pb::RegisterUserRequest {
        tenant_id: tenant.into(),
        email: email.into(),
        ..Default::default()
    }
}

pub(super) fn cases(c: &Clients, f: &Fixtures) -> Vec<Case> {
    let unknown = uuid::Uuid::now_v7().to_string();
    let (t, u) = (f.tenant.clone(), f.user.clone());
    vec![
        // ConfigureRegistration
        Case {
            label: "configure registration: malformed tenant",
            call: call!(c.registration, configure_registration, configure("t")),
            expect: Expect::Invalid(&["tenant_id"]),
        },
        Case {
            label: "configure registration: malformed auto role name",
            call: call!(
                c.registration,
                configure_registration,
                pb::ConfigureRegistrationRequest {
                    auto_roles: vec![tenant_role("Admin!")],
                    ..configure(&t)
                }
            ),
            expect: Expect::Invalid(&["auto_roles[0].role"]),
        },
        Case {
            label: "configure registration: empty auto role, unknown scope kind",
            call: call!(
                c.registration,
                configure_registration,
                pb::ConfigureRegistrationRequest {
                    auto_roles: vec![
                        tenant_role("viewer"),
                        tenant_role(""),
                        pb::RoleAssignment {
                            role: "viewer".into(),
                            scope: Some(pb::Scope {
                                kind: 9,
                                id: String::new(),
                            }),
                        },
                    ],
                    ..configure(&t)
                }
            ),
            expect: Expect::Invalid(&["auto_roles[1].role", "auto_roles[2].scope.kind"]),
        },
        Case {
            label: "configure registration: malformed custom host",
            call: call!(
                c.registration,
                configure_registration,
                pb::ConfigureRegistrationRequest {
                    custom_host: "https://signup acme.com/".into(),
                    ..configure(&t)
                }
            ),
            expect: Expect::Invalid(&["custom_host"]),
        },
        Case {
            label: "configure registration: custom host an IP address",
            call: call!(
                c.registration,
                configure_registration,
                pb::ConfigureRegistrationRequest {
                    custom_host: "10.0.0.1".into(),
                    ..configure(&t)
                }
            ),
            expect: Expect::Invalid(&["custom_host"]),
        },
        Case {
            label: "configure registration: 21 automatic roles",
            call: call!(
                c.registration,
                configure_registration,
                pb::ConfigureRegistrationRequest {
                    auto_roles: (0..21).map(|i| tenant_role(&format!("role-{i}"))).collect(),
                    ..configure(&t)
                }
            ),
            expect: Expect::Invalid(&["auto_roles"]),
        },
        Case {
            label: "configure registration: unknown auto role",
            call: call!(
                c.registration,
                configure_registration,
                pb::ConfigureRegistrationRequest {
                    auto_roles: vec![tenant_role("no-such-role")],
                    ..configure(&t)
                }
            ),
            expect: Expect::NotFound,
        },
        Case {
            label: "configure registration: unknown tenant",
            call: call!(c.registration, configure_registration, configure(&unknown)),
            expect: Expect::NotFound,
        },
        Case {
            label: "configure registration: non-ASCII request id",
            call: call!(
                c.registration,
                configure_registration,
                pb::ConfigureRegistrationRequest {
                    options: opts("clé", None),
                    ..configure(&t)
                }
            ),
            expect: Expect::Invalid(&["options.request_id"]),
        },
        Case {
            label: "configure registration: malformed auto role name and custom host",
            call: call!(
                c.registration,
                configure_registration,
                pb::ConfigureRegistrationRequest {
                    auto_roles: vec![tenant_role("Admin!")],
                    custom_host: "signup..acme.example".into(),
                    ..configure(&t)
                }
            ),
            expect: Expect::Invalid(&["auto_roles[0].role", "custom_host"]),
        },
        // GetRegistrationSettings
        Case {
            label: "get registration settings: malformed tenant",
            call: call!(
                c.registration,
                get_registration_settings,
                pb::GetRegistrationSettingsRequest {
                    tenant_id: "t".into()
                }
            ),
            expect: Expect::Invalid(&["tenant_id"]),
        },
        Case {
            label: "get registration settings: no tenant",
            call: call!(
                c.registration,
                get_registration_settings,
                pb::GetRegistrationSettingsRequest::default()
            ),
            expect: Expect::Invalid(&["tenant_id"]),
        },
        Case {
            label: "get registration settings: unknown tenant",
            call: call!(
                c.registration,
                get_registration_settings,
                pb::GetRegistrationSettingsRequest {
                    tenant_id: unknown.clone()
                }
            ),
            expect: Expect::NotFound,
        },
        // AddRegistrationDomain
        Case {
            label: "add domain: a public email provider's (gmail.com)",
            call: call!(
                c.registration,
                add_registration_domain,
                add_domain(&t, "gmail.com")
            ),
            expect: Expect::Invalid(&["domain"]),
        },
        Case {
            label: "add domain: a subdomain of a public email provider's",
            call: call!(
                c.registration,
                add_registration_domain,
                add_domain(&t, "Mail.Outlook.com.")
            ),
            expect: Expect::Invalid(&["domain"]),
        },
        Case {
            label: "add domain: an IP address",
            call: call!(
                c.registration,
                add_registration_domain,
                add_domain(&t, "192.168.0.1")
            ),
            expect: Expect::Invalid(&["domain"]),
        },
        Case {
            label: "add domain: empty",
            call: call!(c.registration, add_registration_domain, add_domain(&t, "")),
            expect: Expect::Invalid(&["domain"]),
        },
        Case {
            label: "add domain: blank",
            call: call!(
                c.registration,
                add_registration_domain,
                add_domain(&t, "   ")
            ),
            expect: Expect::Invalid(&["domain"]),
        },
        Case {
            label: "add domain: one label",
            call: call!(
                c.registration,
                add_registration_domain,
                add_domain(&t, "localhost")
            ),
            expect: Expect::Invalid(&["domain"]),
        },
        Case {
            label: "add domain: empty label",
            call: call!(
                c.registration,
                add_registration_domain,
                add_domain(&t, "acme..com")
            ),
            expect: Expect::Invalid(&["domain"]),
        },
        Case {
            label: "add domain: not ASCII",
            call: call!(
                c.registration,
                add_registration_domain,
                add_domain(&t, "bücher.example")
            ),
            expect: Expect::Invalid(&["domain"]),
        },
        Case {
            label: "add domain: an email address",
            call: call!(
                c.registration,
                add_registration_domain,
                add_domain(&t, "ivy@acme.example")
            ),
            expect: Expect::Invalid(&["domain"]),
        },
        Case {
            label: "add domain: 300 characters",
            call: call!(
                c.registration,
                add_registration_domain,
                add_domain(&t, &format!("{}.example", "a.".repeat(146)))
            ),
            expect: Expect::Invalid(&["domain"]),
        },
        Case {
            label: "add domain: malformed tenant and client",
            call: call!(
                c.registration,
                add_registration_domain,
                pb::AddRegistrationDomainRequest {
                    client_id: "c".into(),
                    ..add_domain("t", "acme.example")
                }
            ),
            expect: Expect::Invalid(&["tenant_id", "client_id"]),
        },
        Case {
            label: "add domain: malformed client",
            call: call!(
                c.registration,
                add_registration_domain,
                pb::AddRegistrationDomainRequest {
                    client_id: "globex".into(),
                    ..add_domain(&t, "acme.example")
                }
            ),
            expect: Expect::Invalid(&["client_id"]),
        },
        Case {
            label: "add domain: unknown client",
            call: call!(
                c.registration,
                add_registration_domain,
                pb::AddRegistrationDomainRequest {
                    client_id: unknown.clone(),
                    ..add_domain(&t, "acme.example")
                }
            ),
            expect: Expect::NotFound,
        },
        Case {
            label: "add domain: unknown tenant",
            call: call!(
                c.registration,
                add_registration_domain,
                add_domain(&unknown, "acme.example")
            ),
            expect: Expect::NotFound,
        },
        // VerifyRegistrationDomain
        Case {
            label: "verify domain: no domain",
            call: call!(
                c.registration,
                verify_registration_domain,
                pb::VerifyRegistrationDomainRequest {
                    tenant_id: t.clone(),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["domain"]),
        },
        Case {
            label: "verify domain by hand: no domain, malformed tenant",
            call: call!(
                c.registration,
                verify_registration_domain,
                pb::VerifyRegistrationDomainRequest {
                    tenant_id: "t".into(),
                    manual: true,
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["tenant_id", "domain"]),
        },
        Case {
            label: "verify domain: 129-char request id",
            call: call!(
                c.registration,
                verify_registration_domain,
                pb::VerifyRegistrationDomainRequest {
                    options: opts(&"r".repeat(129), None),
                    tenant_id: t.clone(),
                    domain: "acme.example".into(),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["options.request_id"]),
        },
        Case {
            label: "verify domain: not listed",
            call: call!(
                c.registration,
                verify_registration_domain,
                pb::VerifyRegistrationDomainRequest {
                    tenant_id: t.clone(),
                    domain: "unlisted.example".into(),
                    ..Default::default()
                }
            ),
            expect: Expect::NotFound,
        },
        Case {
            label: "verify domain by hand: not listed",
            call: call!(
                c.registration,
                verify_registration_domain,
                pb::VerifyRegistrationDomainRequest {
                    tenant_id: t.clone(),
                    domain: "unlisted.example".into(),
                    manual: true,
                    ..Default::default()
                }
            ),
            expect: Expect::NotFound,
        },
        // RemoveRegistrationDomain
        Case {
            label: "remove domain: no domain",
            call: call!(
                c.registration,
                remove_registration_domain,
                pb::RemoveRegistrationDomainRequest {
                    tenant_id: t.clone(),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["domain"]),
        },
        Case {
            label: "remove domain: no domain, malformed tenant",
            call: call!(
                c.registration,
                remove_registration_domain,
                pb::RemoveRegistrationDomainRequest {
                    tenant_id: "t".into(),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["tenant_id", "domain"]),
        },
        // ResolveRegistration
        Case {
            label: "resolve registration: neither email nor host",
            call: call!(
                c.registration,
                resolve_registration,
                pb::ResolveRegistrationRequest::default()
            ),
            expect: Expect::Invalid(&["email"]),
        },
        Case {
            label: "resolve registration: blank email and host",
            call: call!(
                c.registration,
                resolve_registration,
                pb::ResolveRegistrationRequest {
                    email: " ".into(),
                    host: "  ".into(),
                }
            ),
            expect: Expect::Invalid(&["email"]),
        },
        Case {
            label: "resolve registration: both email and host",
            call: call!(
                c.registration,
                resolve_registration,
                pb::ResolveRegistrationRequest {
                    email: "ivy@acme.example".into(),
                    host: "signup.acme.example".into(),
                }
            ),
            expect: Expect::Invalid(&["host"]),
        },
        Case {
            label: "resolve registration: email without a domain",
            call: call!(
                c.registration,
                resolve_registration,
                pb::ResolveRegistrationRequest {
                    email: "not-an-email".into(),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["email"]),
        },
        Case {
            label: "resolve registration: malformed host",
            call: call!(
                c.registration,
                resolve_registration,
                pb::ResolveRegistrationRequest {
                    host: "bad host!".into(),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["host"]),
        },
        Case {
            label: "resolve registration: malformed email with a domain",
            call: call!(
                c.registration,
                resolve_registration,
                pb::ResolveRegistrationRequest {
                    email: "a b@acme.example".into(),
                    ..Default::default()
                }
            ),
            expect: Expect::Invalid(&["email"]),
        },
        Case {
            label: "register user: malformed host",
            call: call!(
                c.users,
                register_user,
                pb::RegisterUserRequest {
                    host: "-join.acme.example".into(),
                    ..register("", "ivy4@acme.example")
                }
            ),
            expect: Expect::Invalid(&["host"]),
        },
        // RegisterUser
        Case {
            label: "register user: no email",
            call: call!(c.users, register_user, register(&t, "")),
            expect: Expect::Invalid(&["email"]),
        },
        Case {
            label: "register user: no email, no tenant",
            call: call!(c.users, register_user, register("", "")),
            expect: Expect::Invalid(&["email"]),
        },
        Case {
            label: "register user: malformed email",
            call: call!(c.users, register_user, register(&t, "not-an-email")),
            expect: Expect::Invalid(&["email"]),
        },
        Case {
            label: "register user: malformed email, no tenant",
            call: call!(c.users, register_user, register("", "not-an-email")),
            expect: Expect::Invalid(&["email"]),
        },
        Case {
            label: "register user: email ending in @",
            call: call!(c.users, register_user, register("", "ivy@")),
            expect: Expect::Invalid(&["email"]),
        },
        Case {
            label: "register user: email with two @",
            call: call!(c.users, register_user, register(&t, "a@b@acme.example")),
            expect: Expect::Invalid(&["email"]),
        },
        // Without a tenant, too: a malformed email is refused before any tenant is looked up
        // (whether or not a tenant verified its domain).
        Case {
            label: "register user: email with two @, no tenant",
            call: call!(c.users, register_user, register("", "a@b@acme.example")),
            expect: Expect::Invalid(&["email"]),
        },
        Case {
            label: "register user: email with a space, no tenant",
            call: call!(c.users, register_user, register("", "a b@acme.example")),
            expect: Expect::Invalid(&["email"]),
        },
        Case {
            label: "register user: 255-char email, no tenant",
            call: call!(
                c.users,
                register_user,
                register("", &format!("{}@acme.example", "a".repeat(242)))
            ),
            expect: Expect::Invalid(&["email"]),
        },
        Case {
            label: "register user: 201-char display name, no tenant",
            call: call!(
                c.users,
                register_user,
                pb::RegisterUserRequest {
                    display_name: "n".repeat(201),
                    ..register("", "ivy3@acme.example")
                }
            ),
            expect: Expect::Invalid(&["display_name"]),
        },
        Case {
            label: "register user: 255-char email",
            call: call!(
                c.users,
                register_user,
                register(&t, &format!("{}@acme.example", "a".repeat(242)))
            ),
            expect: Expect::Invalid(&["email"]),
        },
        Case {
            label: "register user: malformed tenant",
            call: call!(
                c.users,
                register_user,
                register("tenant-1", "ivy@acme.example")
            ),
            expect: Expect::Invalid(&["tenant_id"]),
        },
        Case {
            label: "register user: malformed tenant and email, bad request id",
            call: call!(
                c.users,
                register_user,
                pb::RegisterUserRequest {
                    options: opts("clé", None),
                    ..register("t", "nobody")
                }
            ),
            expect: Expect::Invalid(&["tenant_id", "email", "options.request_id"]),
        },
        Case {
            label: "register user: 201-char display name",
            call: call!(
                c.users,
                register_user,
                pb::RegisterUserRequest {
                    display_name: "n".repeat(201),
                    ..register(&t, "ivy2@acme.example")
                }
            ),
            expect: Expect::Invalid(&["display_name"]),
        },
        Case {
            label: "register user: unknown tenant",
            call: call!(
                c.users,
                register_user,
                register(&unknown, "ivy3@acme.example")
            ),
            expect: Expect::NotFound,
        },
        // GetUserClaims
        Case {
            label: "get user claims: malformed tenant and user",
            call: call!(
                c.users,
                get_user_claims,
                pb::GetUserClaimsRequest {
                    tenant_id: "t".into(),
                    user_id: "me".into(),
                }
            ),
            expect: Expect::Invalid(&["tenant_id", "user_id"]),
        },
        Case {
            label: "get user claims: no user",
            call: call!(
                c.users,
                get_user_claims,
                pb::GetUserClaimsRequest {
                    tenant_id: t.clone(),
                    user_id: String::new(),
                }
            ),
            expect: Expect::Invalid(&["user_id"]),
        },
        Case {
            label: "get user claims: malformed tenant",
            call: call!(
                c.users,
                get_user_claims,
                pb::GetUserClaimsRequest {
                    tenant_id: "acme".into(),
                    user_id: u.clone(),
                }
            ),
            expect: Expect::Invalid(&["tenant_id"]),
        },
        Case {
            label: "get user claims: unknown user",
            call: call!(
                c.users,
                get_user_claims,
                pb::GetUserClaimsRequest {
                    tenant_id: t.clone(),
                    user_id: unknown.clone(),
                }
            ),
            expect: Expect::NotFound,
        },
    ]
}
