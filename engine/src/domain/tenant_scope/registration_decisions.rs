//! Decisions on self-registration: the tenant's settings and domains, and RegisterUser.
//!
//! Order of checks: the tenant gate (exists and active), input validation, then the rules each
//! decision lists. Whether a verified domain is free platform-wide is the journal's unique
//! claim, taken with RegistrationDomainVerified.

use super::{TenantScope, TenantScopeEvent};
use crate::domain::{
    access::Assignment,
    context::Context,
    error::{DomainError, ResourceKind},
    ids::UserId,
    registration::{
        DomainProof, RegistrationCommand, RegistrationDomain, TXT_RECORD_PREFIX, VerificationMethod,
    },
    tenant::{Tenant, TenantEvent, TenantStatus},
    user::UserEvent,
    validation,
};

type Decision = Result<Vec<TenantScopeEvent>, DomainError>;

fn tenant_event(event: TenantEvent) -> TenantScopeEvent {
    TenantScopeEvent::Tenant(event)
}

fn refused(reason: &'static str, message: String) -> DomainError {
    DomainError::InvalidState { reason, message }
}

fn domain_not_found(domain: &str) -> DomainError {
    DomainError::NotFound {
        resource: ResourceKind::RegistrationDomain,
        id: domain.to_owned(),
    }
}

impl TenantScope {
    /// Decides a registration-settings command.
    pub(super) fn decide_registration(
        &self,
        command: &RegistrationCommand,
        ctx: &Context,
    ) -> Decision {
        // A domain is given back whatever the tenant's status short of deleted (a suspended
        // tenant must not hold a domain it cannot release).
        let tenant = match (command, self.tenant.as_ref()) {
            (RegistrationCommand::RemoveDomain { .. }, Some(t))
                if t.status != TenantStatus::Deleted =>
            {
                t
            }
            _ => self.active_tenant()?,
        };
        let settings = &tenant.registration;
        match command {
            RegistrationCommand::Configure {
                enabled,
                auto_roles,
                custom_host,
            } => {
                let (auto_roles, host) =
                    validation::configure_registration(auto_roles, custom_host.as_deref())?;
                for a in &auto_roles {
                    self.check_assignment(a)?;
                }
                let mut events = Vec::new();
                if settings.enabled != *enabled || settings.auto_roles != auto_roles {
                    events.push(tenant_event(TenantEvent::RegistrationConfigured {
                        enabled: *enabled,
                        auto_roles,
                    }));
                }
                if let Some(h) = &host
                    && settings.custom_host.as_ref() != Some(h)
                    && !under_verified_domain(tenant, h)
                {
                    return Err(refused(
                        "HOST_NOT_VERIFIED",
                        format!(
                            "{h} is not a verified registration domain of tenant {} or a name \
                             under one; verify the domain first",
                            tenant.id
                        ),
                    ));
                }
                if settings.custom_host != host {
                    events.push(tenant_event(TenantEvent::RegistrationHostChanged {
                        from: settings.custom_host.clone(),
                        to: host,
                    }));
                }
                Ok(events)
            }
            RegistrationCommand::AddDomain {
                domain,
                client_id,
                txt_token,
            } => {
                // The cap counts the other domains: adding a listed one again stays a no-op.
                let listed = validation::email_domain::normalize_domain(domain);
                let others =
                    settings.domains.len() - usize::from(settings.domains.contains_key(&listed));
                let domain = validation::add_registration_domain(domain, txt_token, others)?;
                if let Some(existing) = settings.domains.get(&domain) {
                    return if existing.client_id == *client_id {
                        Ok(Vec::new())
                    } else {
                        Err(DomainError::AlreadyExists {
                            resource: ResourceKind::RegistrationDomain,
                            field: "domain",
                            value: domain,
                        })
                    };
                }
                if let Some(client) = client_id {
                    self.active_client(*client)?;
                }
                Ok(vec![tenant_event(TenantEvent::RegistrationDomainAdded {
                    domain,
                    client_id: *client_id,
                    txt_token: txt_token.clone(),
                })])
            }
            RegistrationCommand::VerifyDomain { domain, proof } => {
                let domain = validation::domain_name(domain)?;
                let entry = settings
                    .domains
                    .get(&domain)
                    .ok_or_else(|| domain_not_found(&domain))?;
                if entry.verified.is_some() {
                    return Ok(Vec::new());
                }
                let method = match proof {
                    DomainProof::Manual => VerificationMethod::Manual,
                    DomainProof::TxtRecords(records) => {
                        check_txt_proof(&domain, entry, records)?;
                        VerificationMethod::Dns
                    }
                };
                Ok(vec![tenant_event(
                    TenantEvent::RegistrationDomainVerified { domain, method },
                )])
            }
            RegistrationCommand::RemoveDomain { domain } => {
                let domain = validation::domain_name(domain)?;
                match settings.domains.contains_key(&domain) {
                    true => Ok(vec![tenant_event(TenantEvent::RegistrationDomainRemoved {
                        domain,
                    })]),
                    false => Ok(Vec::new()),
                }
            }
            RegistrationCommand::SyncClaims => Ok(self.claims_sync_batch(tenant, ctx)),
        }
    }

    /// RegisterUser: open registration, the email's domain listed and verified, the email
    /// free; the user is active at once with the automatic roles still valid (a role or
    /// scope deleted since the settings were made is skipped).
    pub(super) fn decide_register(
        &self,
        tenant: &Tenant,
        id: UserId,
        email: &str,
        display_name: &str,
    ) -> Decision {
        let new = validation::register_user(email, display_name)?;
        let settings = &tenant.registration;
        if !settings.enabled {
            return Err(refused(
                "REGISTRATION_DISABLED",
                format!("tenant {} does not accept self-registration", tenant.id),
            ));
        }
        let Some(domain) = settings.domains.get(&new.domain) else {
            return Err(refused(
                "DOMAIN_NOT_ALLOWED",
                format!(
                    "{} is not a registration domain of tenant {}",
                    new.domain, tenant.id
                ),
            ));
        };
        if domain.verified.is_none() {
            return Err(refused(
                "DOMAIN_NOT_VERIFIED",
                format!("registration domain {} is not verified yet", new.domain),
            ));
        }
        if let Some(client) = domain.client_id
            && self.active_client(client).is_err()
        {
            return Err(refused(
                "REGISTRATION_DISABLED",
                format!(
                    "the client {client} that {} registers into is not active",
                    new.domain
                ),
            ));
        }
        if self.users.contains_key(&id) {
            return Err(DomainError::AlreadyExists {
                resource: ResourceKind::User,
                field: "id",
                value: id.to_string(),
            });
        }
        if self.user_by_email(&new.email).is_some() {
            return Err(DomainError::AlreadyExists {
                resource: ResourceKind::User,
                field: "email",
                value: new.email,
            });
        }
        let roles = settings
            .auto_roles
            .iter()
            .filter(|a| self.check_assignment(a).is_ok())
            .map(|a: &Assignment| {
                TenantScopeEvent::User(UserEvent::RoleAssigned {
                    id,
                    assignment: a.clone(),
                })
            });
        let mut events = vec![TenantScopeEvent::User(UserEvent::UserRegistered {
            id,
            email: new.email,
            display_name: new.display_name,
            domain: new.domain,
            client_id: domain.client_id,
        })];
        events.extend(roles);
        Ok(events)
    }

    /// The events that release every registration domain and the custom host of a tenant
    /// being deleted (so another tenant may claim them).
    pub(super) fn registration_release(&self, tenant: &Tenant) -> Vec<TenantScopeEvent> {
        let settings = &tenant.registration;
        let domains = settings.domains.keys().map(|domain| {
            tenant_event(TenantEvent::RegistrationDomainRemoved {
                domain: domain.clone(),
            })
        });
        let host = settings.custom_host.as_ref().map(|host| {
            tenant_event(TenantEvent::RegistrationHostChanged {
                from: Some(host.clone()),
                to: None,
            })
        });
        domains.chain(host).collect()
    }
}

/// Whether `host` is one of the tenant's verified registration domains or a name under one
/// (so that a custom sign-up host is proven like a domain, never claimed first come).
fn under_verified_domain(tenant: &Tenant, host: &str) -> bool {
    tenant
        .registration
        .domains
        .iter()
        .filter(|(_, entry)| entry.verified.is_some())
        .any(|(domain, _)| {
            host == domain
                || host
                    .strip_suffix(domain.as_str())
                    .is_some_and(|prefix| prefix.ends_with('.'))
        })
}

/// Whether the TXT records found at `domain` carry its token (DOMAIN_VERIFICATION_FAILED,
/// naming what was found, otherwise).
fn check_txt_proof(
    domain: &str,
    entry: &RegistrationDomain,
    records: &[String],
) -> Result<(), DomainError> {
    let expected = entry.txt_record();
    if records.iter().any(|r| r.trim() == expected) {
        return Ok(());
    }
    let ours = records
        .iter()
        .filter(|r| r.trim().starts_with(TXT_RECORD_PREFIX))
        .count();
    let message = match (records.len(), ours) {
        (0, _) => format!("no TXT record found at {domain}; publish \"{expected}\""),
        (_, 0) => format!(
            "the TXT records at {domain} hold no verification record; publish \"{expected}\""
        ),
        _ => format!(
            "the verification TXT record at {domain} carries another token; publish \"{expected}\""
        ),
    };
    Err(refused("DOMAIN_VERIFICATION_FAILED", message))
}
