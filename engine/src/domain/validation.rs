//! Input rules shared by every command (names, slugs, lengths, URLs, ranges).
//!
//! Every rule reports into a [`Violations`] collector instead of returning at the first
//! problem, so that a command with several bad fields is refused with *all* of them in one
//! [`DomainError::Invalid`]. Field names are the command's own field paths (`name`,
//! `products[2]`, `settings.session_expiration_seconds`, `business_profile.logo_url`, …).
//!
//! Use the command-level validators ([`create_tenant`], [`update_tenant`], [`suspend_reason`],
//! [`deactivation`], [`create_organization`], [`update_organization`], [`create_team`],
//! [`update_team`], [`invite_user`], [`resend_invitation`], [`accept_invitation`],
//! [`update_user_profile`], [`assign_role`], [`define_role`], [`update_role`]) from deciders; they
//! return the *normalized* input (trimmed names, country defaulted to `US`) that the events
//! carry. The primitive checks (`check_*`) are public so other entity kinds can reuse them.
//!
//! Lengths are counted in Unicode scalar values (`char`s), never in bytes. Every stored string
//! obeys the text rules of [`entity_text`] (no control, bidirectional or invisible characters;
//! line feeds and tabs only in multi-line text), the same rules the request codec applies to
//! every request, so a command built elsewhere (a saga, a test) is held to them too. Names are
//! stored trimmed and in Unicode NFC.
//!
//! # Errors
//!
//! Every command-level validator fails only with [`DomainError::Invalid`], carrying at least
//! one [`FieldViolation`].

use std::ops::RangeInclusive;

use chrono::{DateTime, TimeDelta, Utc};
pub use entity_text::TextKind;

use super::error::{DomainError, FieldViolation};

mod api_key;
mod client;
mod directory;
pub mod email_domain;
mod organization;
mod registration;
mod role;
mod team;
mod tenant;
mod user;

pub use api_key::{NewApiKey, create_api_key, rotate_api_key};
pub use client::{
    ClientFields, MAX_PROVISIONING_FAILURE_CHARS, create_client, provisioned_tenant,
    provisioning_failure_reason, update_client,
};
pub use directory::{ACTIVE_PATH, MAX_CONTACT_TYPE_CHARS, PHONE_CHARS, record_fields, record_mask};
pub use organization::{NewOrganization, create_organization, update_organization};
pub use registration::{
    NewRegistration, TXT_TOKEN_CHARS, add_registration_domain, configure_registration, domain_name,
    register_user,
};
pub use role::{ROLE_PERMISSIONS, check_permissions, check_role_name, define_role, update_role};
pub use team::{NewTeam, create_team, update_team};
pub use tenant::{create_tenant, deactivation, suspend_reason, update_tenant};
pub use user::{
    EMAIL_CHARS, NewInvitation, accept_invitation, assign_role, check_display_name, check_email,
    check_invitation_days, check_role_reference, invite_user, is_role_name, resend_invitation,
    update_user_profile,
};

/// Longest tenant or organization name, in characters (after trimming).
pub const MAX_NAME_CHARS: usize = 200;
/// Allowed slug lengths (ASCII `[a-z0-9-]`).
pub const SLUG_LENGTH: RangeInclusive<usize> = 3..=63;
/// Most products a tenant may list.
pub const MAX_PRODUCTS: usize = 50;
/// Longest product name, in characters.
pub const MAX_PRODUCT_CHARS: usize = 64;
/// Allowed `settings.session_expiration_seconds` (one minute to 365 days).
pub const SESSION_EXPIRATION_SECONDS: RangeInclusive<i64> = 60..=31_536_000;
/// Longest plain business-profile string (legal name, sector, address lines, …).
pub const MAX_PROFILE_FIELD_CHARS: usize = 200;
/// Longest URL (logo, social profiles).
pub const MAX_URL_CHARS: usize = 2048;
/// Country an address gets when none is given.
pub const DEFAULT_COUNTRY: &str = "US";
/// Longest organization description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 2000;
/// Longest suspension reason, in characters (after trimming).
pub const MAX_SUSPENSION_REASON_CHARS: usize = 500;
/// Longest deactivation feedback reason code.
pub const MAX_FEEDBACK_REASON_CODE_CHARS: usize = 64;
/// Longest deactivation feedback text.
pub const MAX_FEEDBACK_TEXT_CHARS: usize = 2000;
/// Longest deactivation feedback context.
pub const MAX_FEEDBACK_CONTEXT_CHARS: usize = 500;
/// Longest deactivation feedback `requested_by`.
pub const MAX_FEEDBACK_REQUESTED_BY_CHARS: usize = 200;
/// Allowed recommendation scores.
pub const RECOMMENDATION_SCORE: RangeInclusive<i32> = 0..=10;
/// Longest grace period after a deactivation, in days from now.
pub const MAX_GRACE_PERIOD_DAYS: i64 = 365;
/// Field reported when an update names no field to change.
pub const UPDATE_MASK_FIELD: &str = "update_mask";

/// Collects the field violations of one command.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Violations(Vec<FieldViolation>);

impl Violations {
    /// No violations yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one violation.
    pub fn push(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push(FieldViolation::new(field, description));
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The recorded violations, in the order found.
    pub fn as_slice(&self) -> &[FieldViolation] {
        &self.0
    }

    /// `Ok(value)` when nothing was recorded, else [`DomainError::Invalid`] with everything.
    pub fn into_result<T>(self, value: T) -> Result<T, DomainError> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(DomainError::Invalid(self.0))
        }
    }
}

/// Whether `s` is longer than `max` characters (stops counting at `max + 1`).
pub fn exceeds_chars(s: &str, max: usize) -> bool {
    s.chars().nth(max).is_some()
}

/// Records the first way `s` breaks the text rules of `kind` (see [`entity_text`]: control,
/// bidirectional and invisible characters), if any.
pub fn check_text(v: &mut Violations, field: &str, s: &str, kind: TextKind) {
    if let Err(violation) = entity_text::check(s, kind) {
        v.push(field, violation.to_string());
    }
}

/// A display name: trimmed, in Unicode NFC, non-empty, at most [`MAX_NAME_CHARS`], single-line
/// text. Returns the normalized form (what is stored).
pub fn check_name(v: &mut Violations, field: &str, raw: &str) -> String {
    let name = entity_text::normalize_name(raw);
    if name.is_empty() {
        v.push(field, "must not be empty");
    } else {
        check_line(v, field, &name, MAX_NAME_CHARS);
    }
    name
}

/// A slug: exactly `^[a-z0-9-]{3,63}$` (ASCII only).
pub fn check_slug(v: &mut Violations, field: &str, slug: &str) {
    let len_ok = SLUG_LENGTH.contains(&slug.len());
    let chars_ok = slug
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !len_ok || !chars_ok {
        v.push(
            field,
            format!(
                "must be {} to {} characters of a-z, 0-9 and '-'",
                SLUG_LENGTH.start(),
                SLUG_LENGTH.end()
            ),
        );
    }
}

/// Single-line text ([`TextKind::SingleLine`]) of at most `max` characters.
pub fn check_line(v: &mut Violations, field: &str, s: &str, max: usize) {
    check_length_and_text(v, field, s, max, TextKind::SingleLine);
}

/// Multi-line text ([`TextKind::MultiLine`]: descriptions, free-form feedback) of at most `max`
/// characters.
pub fn check_multiline(v: &mut Violations, field: &str, s: &str, max: usize) {
    check_length_and_text(v, field, s, max, TextKind::MultiLine);
}

fn check_length_and_text(v: &mut Violations, field: &str, s: &str, max: usize, kind: TextKind) {
    if exceeds_chars(s, max) {
        v.push(field, format!("must be at most {max} characters"));
    }
    check_text(v, field, s, kind);
}

/// A product list: at most [`MAX_PRODUCTS`], each 1 to [`MAX_PRODUCT_CHARS`] characters of
/// single-line text, no duplicates (exact comparison; the later copy is reported).
pub fn check_products(v: &mut Violations, field: &str, products: &[String]) {
    if products.len() > MAX_PRODUCTS {
        v.push(field, format!("at most {MAX_PRODUCTS} products allowed"));
    }
    let mut seen = std::collections::BTreeSet::new();
    for (i, p) in products.iter().enumerate() {
        let item = format!("{field}[{i}]");
        if p.is_empty() {
            v.push(item.clone(), "must not be empty");
        } else {
            check_line(v, &item, p, MAX_PRODUCT_CHARS);
        }
        if !seen.insert(p.as_str()) {
            v.push(item, format!("duplicate product {p:?}"));
        }
    }
}

/// An http(s) URL: starts with `https://` or `http://`, something after the scheme, no
/// whitespace, single-line text, at most [`MAX_URL_CHARS`].
pub fn check_url(v: &mut Violations, field: &str, url: &str) {
    if exceeds_chars(url, MAX_URL_CHARS) {
        v.push(field, format!("must be at most {MAX_URL_CHARS} characters"));
    }
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        None => v.push(field, "must start with https:// or http://"),
        Some("") => v.push(field, "must name a host after the scheme"),
        Some(_) => {}
    }
    if url.chars().any(char::is_whitespace) {
        v.push(field, "must not contain whitespace");
    }
    check_text(v, field, url, TextKind::SingleLine);
}

/// A number inside an inclusive range.
pub fn check_range<T>(v: &mut Violations, field: &str, value: T, range: &RangeInclusive<T>)
where
    T: PartialOrd + std::fmt::Display,
{
    if !range.contains(&value) {
        v.push(
            field,
            format!("must be between {} and {}", range.start(), range.end()),
        );
    }
}

/// A deadline strictly after `now` and at most [`MAX_GRACE_PERIOD_DAYS`] later.
pub fn check_grace_period(
    v: &mut Violations,
    field: &str,
    ends_at: DateTime<Utc>,
    now: DateTime<Utc>,
) {
    if ends_at <= now {
        v.push(field, "must be in the future");
        return;
    }
    let latest = now.checked_add_signed(TimeDelta::days(MAX_GRACE_PERIOD_DAYS));
    if latest.is_some_and(|latest| ends_at > latest) {
        v.push(
            field,
            format!("must be at most {MAX_GRACE_PERIOD_DAYS} days from now"),
        );
    }
}
