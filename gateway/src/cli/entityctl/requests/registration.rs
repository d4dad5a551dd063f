//! `entityctl registration …` requests.

use entity_proto::v1 as pb;

use super::{assignment_proto, one, options, written};
use crate::cli::entityctl::{
    Failure, Services,
    args::{DomainName, RegistrationCommand},
    render::{AddedDomain, Rendered, Resolved},
};

writes! { DomainName => pb::RemoveRegistrationDomainRequest { domain } }

/// The request of a registration command.
#[derive(Debug)]
enum Call {
    Configure(pb::ConfigureRegistrationRequest),
    Get(pb::GetRegistrationSettingsRequest),
    AddDomain(pb::AddRegistrationDomainRequest),
    VerifyDomain(pb::VerifyRegistrationDomainRequest),
    RemoveDomain(pb::RemoveRegistrationDomainRequest),
    Resolve(pb::ResolveRegistrationRequest),
}

/// Runs a registration command. A person no tenant accepts is an answer of `resolve`, not a
/// failure (exit code 0).
pub(super) async fn run(
    services: &mut Services,
    command: RegistrationCommand,
) -> Result<Rendered, Failure> {
    let c = &mut services.registration;
    let rendered = match call(command) {
        Call::Configure(request) => written("configured", c.configure_registration(request).await?),
        Call::Get(request) => one(c.get_registration_settings(request).await?),
        Call::AddDomain(request) => {
            let domain = normalized(&request.domain);
            let verb = format!("added domain {domain} to");
            let answer = c.add_registration_domain(request).await?;
            written(verb, answer.map(|answer| AddedDomain { domain, answer }))
        }
        Call::VerifyDomain(request) => {
            let verb = format!("verified domain {} of", normalized(&request.domain));
            written(verb, c.verify_registration_domain(request).await?)
        }
        Call::RemoveDomain(request) => {
            let verb = format!("removed domain {} from", normalized(&request.domain));
            written(verb, c.remove_registration_domain(request).await?)
        }
        Call::Resolve(request) => Rendered::new(Resolved(
            c.resolve_registration(request).await?.into_inner(),
        )),
    };
    Ok(rendered)
}

/// The request `command` sends.
fn call(command: RegistrationCommand) -> Call {
    match command {
        RegistrationCommand::Configure {
            tenant,
            enabled,
            disabled: _,
            auto_roles,
            custom_host,
            write,
        } => Call::Configure(pb::ConfigureRegistrationRequest {
            options: options(write),
            tenant_id: tenant,
            // clap requires exactly one of --enabled and --disabled
            enabled,
            auto_roles: auto_roles.into_iter().map(assignment_proto).collect(),
            custom_host: custom_host.unwrap_or_default(),
        }),
        RegistrationCommand::Get { tenant } => {
            Call::Get(pb::GetRegistrationSettingsRequest { tenant_id: tenant })
        }
        RegistrationCommand::AddDomain {
            tenant,
            domain,
            client,
            write,
        } => Call::AddDomain(pb::AddRegistrationDomainRequest {
            options: options(write),
            tenant_id: tenant,
            domain,
            client_id: client.unwrap_or_default(),
        }),
        RegistrationCommand::VerifyDomain {
            tenant,
            domain,
            manual,
            write,
        } => Call::VerifyDomain(pb::VerifyRegistrationDomainRequest {
            options: options(write),
            tenant_id: tenant,
            domain,
            manual,
        }),
        RegistrationCommand::RemoveDomain(w) => Call::RemoveDomain(w.into()),
        RegistrationCommand::Resolve { email, host } => {
            Call::Resolve(pb::ResolveRegistrationRequest {
                email: email.unwrap_or_default(),
                host: host.unwrap_or_default(),
            })
        }
    }
}

/// A domain as the server stores it (lower case, no final dot): how the answer names it.
fn normalized(domain: &str) -> String {
    let mut domain = domain.trim().to_ascii_lowercase();
    if domain.ends_with('.') {
        domain.pop();
    }
    domain
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::entityctl::args::{Cli, Command};

    fn call_of(line: &str) -> Call {
        match Cli::try_parse_from(line.split(' ')).map(|c| c.command) {
            Ok(Command::Registration(command)) => call(command),
            other => panic!("{line}: parsed as {other:?}"),
        }
    }

    #[test]
    fn configure_requests_carry_the_state_roles_and_host() {
        let Call::Configure(request) = call_of(
            "entityctl registration configure T --enabled --auto-role viewer \
             --auto-role org-admin@org:O --custom-host signup.acme.com --request-id r1 \
             --expected-version 3",
        ) else {
            panic!("not a configure");
        };
        assert_eq!(request.tenant_id, "T");
        assert!(request.enabled);
        let roles: Vec<_> = request
            .auto_roles
            .iter()
            .map(|a| {
                let scope = a.scope.clone().unwrap_or_default();
                (a.role.as_str(), scope.kind, scope.id)
            })
            .collect();
        assert_eq!(
            roles,
            [
                ("viewer", pb::ScopeKind::Tenant as i32, String::new()),
                ("org-admin", pb::ScopeKind::Organization as i32, "O".into()),
            ]
        );
        assert_eq!(request.custom_host, "signup.acme.com");
        let options = request.options.unwrap_or_default();
        assert_eq!(
            (options.request_id.as_str(), options.expected_version),
            ("r1", Some(3))
        );
        let Call::Configure(closed) = call_of("entityctl registration configure T --disabled")
        else {
            panic!("not a configure");
        };
        assert!(!closed.enabled && closed.auto_roles.is_empty());
        assert_eq!(closed.custom_host, "", "no host");
    }

    #[test]
    fn domain_requests() {
        let Call::AddDomain(add) =
            call_of("entityctl registration add-domain T acme.com --client C --request-id r")
        else {
            panic!("not an add");
        };
        assert_eq!(
            (
                add.tenant_id.as_str(),
                add.domain.as_str(),
                add.client_id.as_str()
            ),
            ("T", "acme.com", "C")
        );
        assert_eq!(add.options.unwrap_or_default().request_id, "r");
        let Call::AddDomain(add) = call_of("entityctl registration add-domain T acme.com") else {
            panic!("not an add");
        };
        assert_eq!(add.client_id, "", "the tenant itself");
        let Call::VerifyDomain(verify) =
            call_of("entityctl registration verify-domain T acme.com --manual")
        else {
            panic!("not a verification");
        };
        assert_eq!((verify.domain.as_str(), verify.manual), ("acme.com", true));
        let Call::VerifyDomain(verify) = call_of("entityctl registration verify-domain T acme.com")
        else {
            panic!("not a verification");
        };
        assert!(!verify.manual, "by DNS");
        let Call::RemoveDomain(remove) =
            call_of("entityctl registration remove-domain T acme.com --expected-version 7")
        else {
            panic!("not a removal");
        };
        assert_eq!(
            (remove.tenant_id.as_str(), remove.domain.as_str()),
            ("T", "acme.com")
        );
        assert_eq!(remove.options.unwrap_or_default().expected_version, Some(7));
        let Call::Get(get) = call_of("entityctl registration get T") else {
            panic!("not a get");
        };
        assert_eq!(get.tenant_id, "T");
    }

    #[test]
    fn resolve_requests_carry_one_of_email_and_host() {
        let Call::Resolve(by_email) = call_of("entityctl registration resolve --email a@acme.com")
        else {
            panic!("not a resolve");
        };
        assert_eq!(
            (by_email.email.as_str(), by_email.host.as_str()),
            ("a@acme.com", "")
        );
        let Call::Resolve(by_host) = call_of("entityctl registration resolve --host s.acme.com")
        else {
            panic!("not a resolve");
        };
        assert_eq!(
            (by_host.email.as_str(), by_host.host.as_str()),
            ("", "s.acme.com")
        );
    }

    #[test]
    fn domains_are_named_as_stored() {
        assert_eq!(normalized(" Acme.COM. "), "acme.com");
        assert_eq!(normalized("acme.com"), "acme.com");
    }
}
