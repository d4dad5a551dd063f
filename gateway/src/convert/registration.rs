//! Registration requests → commands, and registration settings and claims → their proto
//! messages.

use engine::domain::{
    ClientId, DomainProof, RegistrationCommand, RegistrationDomain, RegistrationSettings, Tenant,
    TenantId, UserClaims, UserCommand, UserId, VerificationMethod,
    validation::{
        self,
        email_domain::{email_domain, normalize_domain},
    },
};
use entity_proto::v1 as pb;
use tonic::Status;

use super::{
    Mutation, Violations, access::assignment_to_proto, complete, point_read, scoped, timestamp,
    user::status_to_proto,
};

/// ConfigureRegistration.
pub fn configure(req: pb::ConfigureRegistrationRequest) -> Result<Mutation, Status> {
    let (tenant_id, options, roles) = scoped(req.options, &req.tenant_id, |v| {
        let roles: Vec<_> = req
            .auto_roles
            .into_iter()
            .enumerate()
            .map(|(i, a)| v.assignment(&format!("auto_roles[{i}]"), Some(a)))
            .collect();
        roles.into_iter().collect::<Option<Vec<_>>>()
    })?;
    let command = RegistrationCommand::Configure {
        enabled: req.enabled,
        auto_roles: complete(roles)?,
        custom_host: (!req.custom_host.trim().is_empty()).then_some(req.custom_host),
    };
    Ok(Mutation::new(tenant_id, command, options))
}

/// AddRegistrationDomain, with the TXT token the gateway drew.
pub fn add_domain(
    req: pb::AddRegistrationDomainRequest,
    txt_token: String,
) -> Result<Mutation, Status> {
    let (tenant_id, options, client_id) = scoped(req.options, &req.tenant_id, |v| {
        v.required("domain", &req.domain);
        v.optional_id::<ClientId>("client_id", &req.client_id)
    })?;
    let command = RegistrationCommand::AddDomain {
        domain: req.domain,
        client_id: complete(client_id)?,
        txt_token,
    };
    Ok(Mutation::new(tenant_id, command, options))
}

/// VerifyRegistrationDomain's head: the tenant, the domain (normalized) and whether it is
/// manual; the proof is looked up by the service.
pub fn verify_domain(
    req: &pb::VerifyRegistrationDomainRequest,
) -> Result<(TenantId, String), Status> {
    let mut v = Violations::default();
    let tenant_id = v.id::<TenantId>("tenant_id", &req.tenant_id);
    v.required("domain", &req.domain);
    v.options(req.options.clone());
    v.finish()?;
    Ok((complete(tenant_id)?, normalize_domain(&req.domain)))
}

/// VerifyRegistrationDomain with its proof.
pub fn verify_domain_command(
    req: pb::VerifyRegistrationDomainRequest,
    proof: DomainProof,
) -> Result<Mutation, Status> {
    let (tenant_id, options, ()) = scoped(req.options, &req.tenant_id, |_| ())?;
    let command = RegistrationCommand::VerifyDomain {
        domain: req.domain,
        proof,
    };
    Ok(Mutation::new(tenant_id, command, options))
}

/// RemoveRegistrationDomain.
pub fn remove_domain(req: pb::RemoveRegistrationDomainRequest) -> Result<Mutation, Status> {
    let (tenant_id, options, ()) = scoped(req.options, &req.tenant_id, |v| {
        v.required("domain", &req.domain);
    })?;
    let command = RegistrationCommand::RemoveDomain { domain: req.domain };
    Ok(Mutation::new(tenant_id, command, options))
}

/// GetRegistrationSettings.
pub fn get_settings(req: &pb::GetRegistrationSettingsRequest) -> Result<TenantId, Status> {
    super::tenant_read(&req.tenant_id, "")
}

/// How a registration names its tenant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegistrationRoute {
    /// The request names it.
    Tenant(TenantId),
    /// The tenant holding this custom host.
    Host(String),
    /// The tenant that verified this email domain.
    Domain(String),
}

/// RegisterUser's head: how its tenant is found. The email's rules are the domain's.
pub fn register_route(req: &pb::RegisterUserRequest) -> Result<RegistrationRoute, Status> {
    let mut v = Violations::default();
    v.options(req.options.clone());
    let tenant = v.optional_id::<TenantId>("tenant_id", &req.tenant_id);
    v.required("email", &req.email);
    let domain = email_domain(&req.email);
    if !req.email.is_empty() && domain.as_deref().is_none_or(str::is_empty) {
        v.add(
            "email",
            "must be an address with a domain (name@example.com)",
        );
    }
    check_host(&mut v, &req.host);
    // The domain's own rules, before the tenant is looked up: a malformed email is
    // INVALID_ARGUMENT whether or not some tenant verified its domain.
    // (An empty email is already `required`; its rule would say so again.)
    v.absorb_except(
        validation::register_user(&req.email, &req.display_name),
        req.email.is_empty().then_some("email"),
    );
    v.finish()?;
    Ok(route(complete(tenant)?, &req.host, domain))
}

/// RegisterUser's route without its `tenant_id`: the custom host's, else the email domain's.
pub fn route_by_claims(req: &pb::RegisterUserRequest) -> RegistrationRoute {
    route(None, &req.host, email_domain(&req.email))
}

/// The route of a request naming (optionally) a tenant, a host and an email domain.
fn route(tenant: Option<TenantId>, host: &str, domain: Option<String>) -> RegistrationRoute {
    match (tenant, host.trim()) {
        (Some(tenant), _) => RegistrationRoute::Tenant(tenant),
        (None, "") => RegistrationRoute::Domain(domain.unwrap_or_default()),
        (None, host) => RegistrationRoute::Host(normalize_domain(host)),
    }
}

/// A custom sign-up host, if given, must read as a DNS name (INVALID_ARGUMENT `host`).
fn check_host(v: &mut Violations, host: &str) {
    if host.trim().is_empty() {
        return;
    }
    let mut rules = validation::Violations::new();
    validation::email_domain::check_host_name(&mut rules, "host", host);
    v.absorb(rules.into_result(()));
}

/// RegisterUser on the tenant found, with the user id the gateway drew.
pub fn register(
    req: pb::RegisterUserRequest,
    tenant_id: TenantId,
    id: UserId,
) -> Result<Mutation, Status> {
    let mut v = Violations::default();
    let options = v.options(req.options);
    v.finish()?;
    let command = UserCommand::Register {
        id,
        email: req.email,
        display_name: req.display_name,
    };
    Ok(Mutation::new(tenant_id, command, options))
}

/// ResolveRegistration: exactly one of `email` and `host`.
pub fn resolve(req: &pb::ResolveRegistrationRequest) -> Result<RegistrationRoute, Status> {
    let mut v = Violations::default();
    let (email, host) = (req.email.trim(), req.host.trim());
    let domain = email_domain(email);
    match (email.is_empty(), host.is_empty()) {
        (true, true) => v.add("email", "give an email or a host"),
        (false, false) => v.add("host", "give an email or a host, not both"),
        (false, true) if domain.as_deref().is_none_or(str::is_empty) => v.add(
            "email",
            "must be an address with a domain (name@example.com)",
        ),
        (false, true) => v.absorb(validation::register_user(email, "")),
        (true, false) => check_host(&mut v, host),
    }
    v.finish()?;
    Ok(route(None, host, domain))
}

/// GetUserClaims.
pub fn get_claims(req: &pb::GetUserClaimsRequest) -> Result<(TenantId, UserId), Status> {
    point_read(&req.tenant_id, ("user_id", &req.user_id), "")
}

/// The proto message of a tenant's registration settings.
pub fn settings_to_proto(tenant: &Tenant) -> pb::RegistrationSettings {
    let s: &RegistrationSettings = &tenant.registration;
    pb::RegistrationSettings {
        tenant_id: tenant.id.to_string(),
        enabled: s.enabled,
        auto_roles: s.auto_roles.iter().map(assignment_to_proto).collect(),
        custom_host: s.custom_host.clone().unwrap_or_default(),
        domains: s
            .domains
            .iter()
            .map(|(name, d)| domain_to_proto(name, d))
            .collect(),
        version: tenant.version,
    }
}

fn domain_to_proto(name: &str, d: &RegistrationDomain) -> pb::RegistrationDomain {
    pb::RegistrationDomain {
        domain: name.to_owned(),
        status: match d.verified {
            Some(_) => pb::DomainStatus::Verified,
            None => pb::DomainStatus::Pending,
        } as i32,
        txt_record: d.txt_record(),
        client_id: d.client_id.map(|c| c.to_string()).unwrap_or_default(),
        add_time: Some(timestamp(d.added_at)),
        verify_time: d.verified.map(|v| timestamp(v.at)),
        verification_method: match d.verified.map(|v| v.method) {
            None => pb::VerificationMethod::Unspecified,
            Some(VerificationMethod::Dns) => pb::VerificationMethod::Dns,
            Some(VerificationMethod::Manual) => pb::VerificationMethod::Manual,
        } as i32,
    }
}

/// The proto message of a user's claims.
pub fn claims_to_proto(c: &UserClaims) -> pb::UserClaims {
    pb::UserClaims {
        tenant_id: c.tenant_id.to_string(),
        user_id: c.user_id.to_string(),
        client_id: c.client_id.map(|id| id.to_string()).unwrap_or_default(),
        roles: c.roles.iter().map(assignment_to_proto).collect(),
        products: c.products.clone(),
        session_expiration_seconds: c.session_expiration_seconds,
        status: status_to_proto(c.status) as i32,
    }
}
