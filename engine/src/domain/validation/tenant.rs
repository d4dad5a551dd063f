//! Input rules of the tenant commands.

use chrono::{DateTime, Utc};

use super::{
    DEFAULT_COUNTRY, MAX_FEEDBACK_CONTEXT_CHARS, MAX_FEEDBACK_REASON_CODE_CHARS,
    MAX_FEEDBACK_REQUESTED_BY_CHARS, MAX_FEEDBACK_TEXT_CHARS, MAX_PROFILE_FIELD_CHARS,
    MAX_SUSPENSION_REASON_CHARS, RECOMMENDATION_SCORE, SESSION_EXPIRATION_SECONDS,
    UPDATE_MASK_FIELD, Violations, check_grace_period, check_line, check_multiline, check_name,
    check_products, check_range, check_slug, check_url, user::check_email,
};
use crate::domain::{
    classification::{Classified, Code, SocialProfile, url_host},
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

/// Checks a business profile and returns it normalized: address country defaulted to `US`,
/// the sector filled in from the industry group when only the group is given.
/// Classification fields take codes only (free text stored before classification reads back
/// as unclassified, but a command cannot set it).
pub(super) fn check_business_profile(
    v: &mut Violations,
    prefix: &str,
    p: &BusinessProfile,
) -> BusinessProfile {
    for (name, value) in [
        ("legal_name", &p.legal_name),
        ("external_id", &p.external_id),
    ] {
        check_line(
            v,
            &format!("{prefix}.{name}"),
            value,
            MAX_PROFILE_FIELD_CHARS,
        );
    }
    check_code(v, &format!("{prefix}.industry_sector"), &p.industry_sector);
    check_code(v, &format!("{prefix}.industry_group"), &p.industry_group);
    check_code(v, &format!("{prefix}.legal_form"), &p.legal_form);
    check_code(v, &format!("{prefix}.size_range"), &p.size_range);
    let mut industry_sector = p.industry_sector.clone();
    if let Some(group) = p.industry_group.code() {
        match p.industry_sector {
            Classified::Unset => industry_sector = Classified::Code(group.sector()),
            Classified::Code(sector) if sector != group.sector() => v.push(
                format!("{prefix}.industry_group"),
                format!("{group} is in sector {}, not {sector}", group.sector()),
            ),
            _ => {}
        }
    }
    if !p.logo_url.is_empty() {
        check_url(v, &format!("{prefix}.logo_url"), &p.logo_url);
    }
    let mut platforms = Vec::new();
    for (i, profile) in p.social_profiles.iter().enumerate() {
        check_social_profile(v, &format!("{prefix}.social_profiles[{i}]"), profile);
        if let Some(platform) = profile.platform {
            if platforms.contains(&platform) {
                v.push(
                    format!("{prefix}.social_profiles[{i}].platform"),
                    format!("{platform} is linked already: one profile per platform"),
                );
            }
            platforms.push(platform);
        }
    }
    let address = p
        .address
        .as_ref()
        .map(|a| check_address(v, &format!("{prefix}.address"), a));
    BusinessProfile {
        industry_sector,
        address,
        ..p.clone()
    }
}

/// A classification field of a command: unset or one of the codes.
fn check_code<T: Code>(v: &mut Violations, field: &str, value: &Classified<T>) {
    if let Classified::Unclassified(_) = value {
        let codes: Vec<&str> = T::ALL.iter().map(|c| c.code()).collect();
        v.push(field, format!("must be one of: {}", codes.join(", ")));
    }
}

/// A social profile: a platform, and an https URL on one of that platform's hosts.
fn check_social_profile(v: &mut Violations, prefix: &str, profile: &SocialProfile) {
    let url_field = format!("{prefix}.url");
    check_url(v, &url_field, &profile.url);
    let Some(platform) = profile.platform else {
        v.push(format!("{prefix}.platform"), "required");
        return;
    };
    if !profile.url.starts_with("https://") {
        v.push(&url_field, "must start with https://");
    }
    if !url_host(&profile.url).is_some_and(|host| platform.serves(&host)) {
        v.push(
            url_field,
            format!(
                "must be a {} address (host {} or a name under it)",
                platform.label(),
                platform.hosts().join(" or ")
            ),
        );
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
