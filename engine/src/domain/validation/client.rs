//! Input rules of the client commands (field rules only; the plan's client count and the
//! external id's uniqueness need the scope's state and live in the decider).

use super::{
    MAX_PROFILE_FIELD_CHARS, UPDATE_MASK_FIELD, Violations, check_line, check_name, check_slug,
    tenant::check_business_profile, user::check_email,
};
use crate::domain::{
    client::ProvisionedTenant,
    error::DomainError,
    ids::TenantId,
    tenant::{BusinessProfile, OnboardingPlan},
};

/// A client's fields, normalized (name trimmed, address country defaulted); `None` = unchanged
/// (updates only).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientFields {
    /// Name.
    pub name: Option<String>,
    /// External id.
    pub external_id: Option<String>,
    /// Business profile (`Some(None)` clears it).
    pub business_profile: Option<Option<BusinessProfile>>,
}

/// Validates CreateClient's fields (`name`, `external_id`, `business_profile`).
pub fn create_client(
    name: &str,
    external_id: &str,
    business_profile: Option<&BusinessProfile>,
) -> Result<ClientFields, DomainError> {
    client_fields(
        Some(name),
        Some(external_id),
        Some(business_profile),
        Violations::new(),
    )
}

/// Validates UpdateClient's fields; at least one must be set (`update_mask` otherwise).
pub fn update_client(
    name: Option<&str>,
    external_id: Option<&str>,
    business_profile: Option<Option<&BusinessProfile>>,
) -> Result<ClientFields, DomainError> {
    let mut v = Violations::new();
    if name.is_none() && external_id.is_none() && business_profile.is_none() {
        v.push(UPDATE_MASK_FIELD, "names no field to change");
    }
    client_fields(name, external_id, business_profile, v)
}

fn client_fields(
    name: Option<&str>,
    external_id: Option<&str>,
    business_profile: Option<Option<&BusinessProfile>>,
    mut v: Violations,
) -> Result<ClientFields, DomainError> {
    let name = name.map(|n| check_name(&mut v, "name", n));
    let external_id = external_id.map(|e| {
        let e = e.trim();
        check_line(&mut v, "external_id", e, MAX_PROFILE_FIELD_CHARS);
        e.to_owned()
    });
    let business_profile =
        business_profile.map(|p| p.map(|p| check_business_profile(&mut v, "business_profile", p)));
    v.into_result(ClientFields {
        name,
        external_id,
        business_profile,
    })
}

/// Longest reason recorded for a failed provisioning (a longer one is cut).
pub const MAX_PROVISIONING_FAILURE_CHARS: usize = 500;

/// Validates ProvisionClientTenant's tenant (`slug`, `owner_email` — named as in the request —
/// and a tenant id other than the provisioning tenant's own); returns it normalized (owner
/// email trimmed).
pub fn provisioned_tenant(
    tenant: &ProvisionedTenant,
    provisioning_tenant: TenantId,
) -> Result<ProvisionedTenant, DomainError> {
    let mut v = Violations::new();
    if tenant.tenant_id == provisioning_tenant {
        v.push(
            "tenant.tenant_id",
            "must differ from the provisioning tenant",
        );
    }
    check_slug(&mut v, "slug", &tenant.slug);
    let owner_email = check_email(&mut v, "owner_email", &tenant.onboarding.owner_email);
    v.into_result(ProvisionedTenant {
        onboarding: OnboardingPlan {
            owner_email,
            ..tenant.onboarding.clone()
        },
        ..tenant.clone()
    })
}

/// A provisioning failure's reason as recorded: single-line, at most
/// [`MAX_PROVISIONING_FAILURE_CHARS`] characters (the engine writes it; it is never refused).
pub fn provisioning_failure_reason(reason: &str) -> String {
    let single_line: String = reason
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_PROVISIONING_FAILURE_CHARS)
        .collect();
    single_line.trim().to_owned()
}
