//! Input rules of self-registration: registration settings, domains and RegisterUser.

use super::{
    Violations, check_display_name, check_email, check_role_reference,
    email_domain::{check_registration_domain, email_domain},
};
use crate::domain::{
    access::Assignment,
    error::DomainError,
    registration::{MAX_AUTO_ROLES, MAX_REGISTRATION_DOMAINS},
};

/// Characters of a TXT verification token (drawn by the gateway, base62).
pub const TXT_TOKEN_CHARS: std::ops::RangeInclusive<usize> = 16..=64;

/// Validates ConfigureRegistration: at most [`MAX_AUTO_ROLES`] well-formed role references
/// (duplicates dropped) and a well-formed custom host (normalized), if any.
pub fn configure_registration(
    auto_roles: &[Assignment],
    custom_host: Option<&str>,
) -> Result<(Vec<Assignment>, Option<String>), DomainError> {
    let mut v = Violations::new();
    if auto_roles.len() > MAX_AUTO_ROLES {
        v.push(
            "auto_roles",
            format!("at most {MAX_AUTO_ROLES} automatic roles allowed"),
        );
    }
    let mut roles: Vec<Assignment> = Vec::with_capacity(auto_roles.len());
    for (i, a) in auto_roles.iter().enumerate() {
        check_role_reference(&mut v, &format!("auto_roles[{i}].role"), &a.role);
        if !roles.contains(a) {
            roles.push(a.clone());
        }
    }
    let host = custom_host
        .filter(|h| !h.trim().is_empty())
        .map(|h| check_registration_domain(&mut v, "custom_host", h));
    v.into_result((roles, host))
}

/// Validates AddRegistrationDomain: the domain (normalized; not a public email provider's) and
/// the TXT token.
pub fn add_registration_domain(
    domain: &str,
    txt_token: &str,
    listed: usize,
) -> Result<String, DomainError> {
    let mut v = Violations::new();
    let domain = check_registration_domain(&mut v, "domain", domain);
    let token_ok = TXT_TOKEN_CHARS.contains(&txt_token.len())
        && txt_token.bytes().all(|b| b.is_ascii_alphanumeric());
    if !token_ok {
        v.push(
            "txt_token",
            "must be 16 to 64 ASCII letters and digits".to_owned(),
        );
    }
    if listed >= MAX_REGISTRATION_DOMAINS {
        v.push(
            "domain",
            format!("a tenant lists at most {MAX_REGISTRATION_DOMAINS} registration domains"),
        );
    }
    v.into_result(domain)
}

/// Validates a domain named by VerifyRegistrationDomain or RemoveRegistrationDomain (its
/// syntax only); returns it normalized.
pub fn domain_name(domain: &str) -> Result<String, DomainError> {
    let mut v = Violations::new();
    let domain = super::email_domain::check_host_name(&mut v, "domain", domain);
    v.into_result(domain)
}

/// A person registering: the email (trimmed), the display name (normalized) and the email's
/// domain (lower case).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewRegistration {
    /// Email as given, trimmed.
    pub email: String,
    /// Display name.
    pub display_name: String,
    /// The email's domain.
    pub domain: String,
}

/// Validates RegisterUser's email and display name.
pub fn register_user(email: &str, display_name: &str) -> Result<NewRegistration, DomainError> {
    let mut v = Violations::new();
    let email = check_email(&mut v, "email", email);
    let display_name = check_display_name(&mut v, "display_name", display_name);
    let domain = email_domain(&email).unwrap_or_default();
    v.into_result(NewRegistration {
        email,
        display_name,
        domain,
    })
}
