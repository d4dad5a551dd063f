//! Input rules of the tenant commands.

use chrono::{DateTime, Utc};

use super::{
    DEFAULT_COUNTRY, MAX_FEEDBACK_CONTEXT_CHARS, MAX_FEEDBACK_REASON_CODE_CHARS,
    MAX_FEEDBACK_REQUESTED_BY_CHARS, MAX_FEEDBACK_TEXT_CHARS, MAX_PROFILE_FIELD_CHARS,
    MAX_SOCIAL_PROFILES, MAX_SUSPENSION_REASON_CHARS, RECOMMENDATION_SCORE,
    SESSION_EXPIRATION_SECONDS, UPDATE_MASK_FIELD, Violations, check_grace_period, check_line,
    check_multiline, check_name, check_products, check_range, check_slug, check_url,
    user::{check_email, check_token_hash},
};
use crate::domain::{
    error::DomainError,
    ids::TenantId,
    tenant::{
        Address, BusinessProfile, CreateTenant, DeactivationFeedback, OnboardingPlan,
        TenantSettings, UpdateTenant,
    },
};

/// Validates CreateTenant against the scope's tenant id; returns the normalized command
/// (trimmed name and owner email, address country defaulted). The onboarding plan's owner
/// email follows the user email rules and is reported as `owner_email`.
pub fn create_tenant(
    cmd: &CreateTenant,
    scope_tenant: TenantId,
) -> Result<CreateTenant, DomainError> {
    let mut v = Violations::new();
    if cmd.id != scope_tenant {
        v.push(
            "id",
            format!("must be the scope's tenant id {scope_tenant}"),
        );
    }
    let name = check_name(&mut v, "name", &cmd.name);
    check_slug(&mut v, "slug", &cmd.slug);
    check_settings(&mut v, "settings", &cmd.settings);
    check_products(&mut v, "products", &cmd.products);
    let business_profile = cmd
        .business_profile
        .as_ref()
        .map(|p| check_business_profile(&mut v, "business_profile", p));
    let owner_email = check_email(&mut v, "owner_email", &cmd.onboarding.owner_email);
    if let Some(hash) = &cmd.onboarding.owner_token_hash {
        check_token_hash(&mut v, "owner_token_hash", hash);
    }
    if let Some(key) = &cmd.bootstrap_key {
        check_token_hash(&mut v, "bootstrap_key.secret_hash", &key.secret.hash);
    }
    if cmd.parent.is_some_and(|p| p.tenant_id == cmd.id) {
        v.push("parent.tenant_id", "a tenant cannot be its own parent");
    }
    v.into_result(CreateTenant {
        name,
        business_profile,
        onboarding: OnboardingPlan {
            owner_email,
            ..cmd.onboarding.clone()
        },
        ..cmd.clone()
    })
}

/// Validates UpdateTenant; returns it normalized. At least one field must be set.
pub fn update_tenant(cmd: &UpdateTenant) -> Result<UpdateTenant, DomainError> {
    let mut v = Violations::new();
    if cmd.name.is_none()
        && cmd.settings.is_none()
        && cmd.products.is_none()
        && cmd.business_profile.is_none()
    {
        v.push(UPDATE_MASK_FIELD, "names no field to change");
    }
    let name = cmd.name.as_deref().map(|n| check_name(&mut v, "name", n));
    if let Some(settings) = &cmd.settings {
        check_settings(&mut v, "settings", settings);
    }
    if let Some(products) = &cmd.products {
        check_products(&mut v, "products", products);
    }
    let business_profile = cmd.business_profile.as_ref().map(|p| {
        p.as_ref()
            .map(|p| check_business_profile(&mut v, "business_profile", p))
    });
    v.into_result(UpdateTenant {
        name,
        settings: cmd.settings.clone(),
        products: cmd.products.clone(),
        business_profile,
    })
}

/// Validates a suspension reason (trimmed, non-empty, at most 500 characters); returns it trimmed.
pub fn suspend_reason(reason: &str) -> Result<String, DomainError> {
    let mut v = Violations::new();
    let trimmed = reason.trim();
    if trimmed.is_empty() {
        v.push("reason", "must not be empty");
    } else {
        check_line(&mut v, "reason", trimmed, MAX_SUSPENSION_REASON_CHARS);
    }
    v.into_result(trimmed.to_owned())
}

/// Validates DeactivateTenant's grace period (after `now`, at most 365 days later) and feedback.
pub fn deactivation(
    grace_period_ends_at: DateTime<Utc>,
    feedback: &DeactivationFeedback,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    let mut v = Violations::new();
    check_grace_period(&mut v, "grace_period_ends_at", grace_period_ends_at, now);
    check_line(
        &mut v,
        "feedback.reason_code",
        &feedback.reason_code,
        MAX_FEEDBACK_REASON_CODE_CHARS,
    );
    check_multiline(
        &mut v,
        "feedback.text",
        &feedback.text,
        MAX_FEEDBACK_TEXT_CHARS,
    );
    check_line(
        &mut v,
        "feedback.context",
        &feedback.context,
        MAX_FEEDBACK_CONTEXT_CHARS,
    );
    check_line(
        &mut v,
        "feedback.requested_by",
        &feedback.requested_by,
        MAX_FEEDBACK_REQUESTED_BY_CHARS,
    );
    if let Some(score) = feedback.recommendation_score {
        check_range(
            &mut v,
            "feedback.recommendation_score",
            score,
            &RECOMMENDATION_SCORE,
        );
    }
    v.into_result(())
}

fn check_settings(v: &mut Violations, prefix: &str, settings: &TenantSettings) {
    if let Some(seconds) = settings.session_expiration_seconds {
        check_range(
            v,
            &format!("{prefix}.session_expiration_seconds"),
            seconds,
            &SESSION_EXPIRATION_SECONDS,
        );
    }
}

/// Checks a business profile and returns it normalized (address country defaulted to `US`).
pub(super) fn check_business_profile(
    v: &mut Violations,
    prefix: &str,
    p: &BusinessProfile,
) -> BusinessProfile {
    let plain = [
        ("legal_name", &p.legal_name),
        ("industry_sector", &p.industry_sector),
        ("industry_group", &p.industry_group),
        ("legal_form", &p.legal_form),
        ("size_range", &p.size_range),
        ("external_id", &p.external_id),
    ];
    for (name, value) in plain {
        check_line(
            v,
            &format!("{prefix}.{name}"),
            value,
            MAX_PROFILE_FIELD_CHARS,
        );
    }
    if !p.logo_url.is_empty() {
        check_url(v, &format!("{prefix}.logo_url"), &p.logo_url);
    }
    if p.social_profiles.len() > MAX_SOCIAL_PROFILES {
        v.push(
            format!("{prefix}.social_profiles"),
            format!("at most {MAX_SOCIAL_PROFILES} social profiles allowed"),
        );
    }
    for (i, url) in p.social_profiles.iter().enumerate() {
        check_url(v, &format!("{prefix}.social_profiles[{i}]"), url);
    }
    let address = p
        .address
        .as_ref()
        .map(|a| check_address(v, &format!("{prefix}.address"), a));
    BusinessProfile {
        address,
        ..p.clone()
    }
}

pub(super) fn check_address(v: &mut Violations, prefix: &str, a: &Address) -> Address {
    let plain = [
        ("line1", &a.line1),
        ("line2", &a.line2),
        ("city", &a.city),
        ("region", &a.region),
        ("postal_code", &a.postal_code),
    ];
    for (name, value) in plain {
        check_line(
            v,
            &format!("{prefix}.{name}"),
            value,
            MAX_PROFILE_FIELD_CHARS,
        );
    }
    let country = if a.country.is_empty() {
        DEFAULT_COUNTRY.to_owned()
    } else {
        let ok = a.country.len() == 2 && a.country.bytes().all(|b| b.is_ascii_uppercase());
        if !ok {
            v.push(
                format!("{prefix}.country"),
                "must be an ISO 3166-1 alpha-2 code (two upper-case letters)",
            );
        }
        a.country.clone()
    };
    Address {
        country,
        ..a.clone()
    }
}
