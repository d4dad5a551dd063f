//! `entity.v1.RegistrationService`: a tenant's self-registration settings and domains, and
//! ResolveRegistration. TXT tokens are drawn here; DNS is looked up here, through the node's
//! [`TxtResolver`](crate::dns::TxtResolver), and what it found goes to the tenant's actor,
//! which decides whether it proves the domain.

use engine::{
    domain::{
        DomainProof, REGISTRATION_DOMAIN_NAMESPACE, REGISTRATION_HOST_NAMESPACE, TenantId,
        TenantStatus,
    },
    runtime::{CommandOutcome, EntityView},
    secrets::api_key::random_base62,
};
use entity_proto::v1::{self as pb, registration_service_server::RegistrationService};
use tonic::{Code, Request, Response, Status};

use super::{Answer, Shared, strip};
use crate::{
    auth::{Caller, Target},
    convert::{
        self,
        registration::{self as reg, RegistrationRoute},
    },
    status,
};

/// Characters of a drawn TXT token (190 bits).
const TXT_TOKEN_CHARS: usize = 32;

/// The RegistrationService implementation.
#[derive(Clone)]
pub struct RegistrationApi {
    shared: Shared,
}

impl RegistrationApi {
    pub(super) fn new(shared: Shared) -> Self {
        Self { shared }
    }
}

impl Answer for pb::RegistrationSettingsResponse {
    fn answer(outcome: &CommandOutcome) -> Option<Self> {
        let EntityView::Tenant(tenant) = &outcome.view else {
            return None;
        };
        Some(pb::RegistrationSettingsResponse {
            settings: Some(reg::settings_to_proto(tenant)),
            result: Some(convert::write_result(outcome)),
        })
    }
}

type SettingsResult = Result<Response<pb::RegistrationSettingsResponse>, Status>;

/// The tenant a registration route names: itself, or the holder of the host or the verified
/// domain (`None` when nobody holds it).
pub(super) async fn route_tenant(
    shared: &Shared,
    route: &RegistrationRoute,
) -> Result<Option<TenantId>, Status> {
    let (namespace, key) = match route {
        RegistrationRoute::Tenant(tenant) => return Ok(Some(*tenant)),
        RegistrationRoute::Host(host) => (REGISTRATION_HOST_NAMESPACE, host),
        RegistrationRoute::Domain(domain) => (REGISTRATION_DOMAIN_NAMESPACE, domain),
    };
    shared
        .engine
        .registration_owner(namespace, key)
        .await
        .map_err(|e| status::from_engine_error(e, ""))
}

/// FAILED_PRECONDITION DOMAIN_NOT_ALLOWED: no tenant holds the route's domain or host.
pub(super) fn nobody_accepts(route: &RegistrationRoute) -> Status {
    let message = match route {
        RegistrationRoute::Host(host) => format!("no tenant registers through host {host}"),
        RegistrationRoute::Domain(domain) => {
            format!("no tenant accepts registrations from {domain} (or it is not verified)")
        }
        RegistrationRoute::Tenant(tenant) => format!("tenant {tenant} does not accept this"),
    };
    status::refusal(Code::FailedPrecondition, "DOMAIN_NOT_ALLOWED", message)
}

#[tonic::async_trait]
impl RegistrationService for RegistrationApi {
    async fn configure_registration(
        &self,
        request: Request<pb::ConfigureRegistrationRequest>,
    ) -> SettingsResult {
        self.shared.mutate(request, "", reg::configure).await
    }

    async fn get_registration_settings(
        &self,
        request: Request<pb::GetRegistrationSettingsRequest>,
    ) -> Result<Response<pb::RegistrationSettings>, Status> {
        let tenant_id = reg::get_settings(request.get_ref())?;
        let tenant = self
            .shared
            .read_engine(request, Target::tenant(tenant_id), |e| {
                e.get_tenant(tenant_id)
            })
            .await?;
        Ok(Response::new(reg::settings_to_proto(&tenant)))
    }

    async fn add_registration_domain(
        &self,
        request: Request<pb::AddRegistrationDomainRequest>,
    ) -> SettingsResult {
        let token = random_base62(TXT_TOKEN_CHARS).map_err(|e| {
            tracing::error!(error = %e, "no randomness for a TXT token");
            Status::unavailable("cannot draw a token right now; retry")
        })?;
        self.shared
            .mutate(request, "", |r| reg::add_domain(r, token))
            .await
    }

    async fn verify_registration_domain(
        &self,
        request: Request<pb::VerifyRegistrationDomainRequest>,
    ) -> SettingsResult {
        let (tenant_id, domain) = reg::verify_domain(request.get_ref())?;
        let proof = if request.get_ref().manual {
            let admin = request
                .extensions()
                .get::<Caller>()
                .is_some_and(|c| c.platform_admin);
            if !admin {
                return Err(status::permission_denied(
                    "VerifyRegistrationDomain",
                    "platform-admin",
                    None,
                ));
            }
            DomainProof::Manual
        } else {
            // Authorized before any lookup: a caller without the permission makes no DNS query.
            let head =
                Request::from_parts(request.metadata().clone(), request.extensions().clone(), ());
            let target = Target::tenant(tenant_id);
            let pending = self
                .shared
                .read_engine(head, target, |e| e.get_tenant(tenant_id))
                .await?
                .registration
                .domains
                .get(&domain)
                .map(|d| (domain.clone(), d.verified.is_none()));
            match pending {
                // Pending: what DNS says goes to the actor. Verified or unknown: the actor
                // answers (nothing to do, or NOT_FOUND) without a lookup.
                Some((domain, true)) => {
                    let records = self.shared.resolver.txt(&domain).await.map_err(|e| {
                        status::retryable(
                            Code::Unavailable,
                            "DNS_LOOKUP_FAILED",
                            &format!("{e}; retry"),
                        )
                    })?;
                    DomainProof::TxtRecords(records)
                }
                _ => DomainProof::TxtRecords(Vec::new()),
            }
        };
        self.shared
            .mutate(request, "", |r| reg::verify_domain_command(r, proof))
            .await
    }

    async fn remove_registration_domain(
        &self,
        request: Request<pb::RemoveRegistrationDomainRequest>,
    ) -> SettingsResult {
        self.shared.mutate(request, "", reg::remove_domain).await
    }

    async fn resolve_registration(
        &self,
        request: Request<pb::ResolveRegistrationRequest>,
    ) -> Result<Response<pb::ResolveRegistrationResponse>, Status> {
        let route = reg::resolve(request.get_ref())?;
        self.shared
            .authorize(strip(request), Target::default())
            .await?;
        let refused = |reason: &str| pb::ResolveRegistrationResponse {
            reason: reason.to_owned(),
            ..Default::default()
        };
        let Some(tenant_id) = route_tenant(&self.shared, &route).await? else {
            return Ok(Response::new(refused("DOMAIN_NOT_ALLOWED")));
        };
        let answer = self
            .shared
            .engine
            .get_tenant(tenant_id)
            .await
            .map(
                |tenant| match (tenant.status, tenant.registration.enabled) {
                    (TenantStatus::Active, true) => pb::ResolveRegistrationResponse {
                        accepted: true,
                        tenant_id: tenant.id.to_string(),
                        tenant_name: tenant.name,
                        reason: String::new(),
                    },
                    (TenantStatus::Active, false) => refused("REGISTRATION_DISABLED"),
                    _ => refused("TENANT_NOT_ACTIVE"),
                },
            )
            .map_err(|e| status::from_engine_error(e, ""))?;
        Ok(Response::new(answer))
    }
}
