//! Input rules of the user commands: emails, display names, invitation lifetimes, token
//! hashes and the syntax of role assignments. Existence rules (the email is free, the role and
//! the scope exist) need the scope's state and live in the decider.

use super::{MAX_NAME_CHARS, TextKind, UPDATE_MASK_FIELD, Violations, check_line, check_text};
use crate::domain::{access::Assignment, error::DomainError, user::INVITATION_DAYS};

/// Allowed email lengths, in characters (after trimming).
pub const EMAIL_CHARS: std::ops::RangeInclusive<usize> = 3..=254;

/// An email: trimmed; 3 to 254 characters; no whitespace; single-line text; exactly one
/// `@` with a non-empty local part and a domain that contains a `.` and neither starts nor
/// ends with one. Returns the trimmed form (what is stored).
pub fn check_email(v: &mut Violations, field: &str, raw: &str) -> String {
    let email = raw.trim();
    let chars = email.chars().count();
    if !EMAIL_CHARS.contains(&chars) {
        v.push(
            field,
            format!(
                "must be {} to {} characters",
                EMAIL_CHARS.start(),
                EMAIL_CHARS.end()
            ),
        );
    }
    if email.chars().any(char::is_whitespace) {
        v.push(field, "must not contain whitespace");
    }
    check_text(v, field, email, TextKind::SingleLine);
    match email.split_once('@') {
        Some((local, domain)) if !domain.contains('@') => {
            if local.is_empty() {
                v.push(field, "must have a local part before '@'");
            }
            if !domain.contains('.') || domain.starts_with('.') || domain.ends_with('.') {
                v.push(
                    field,
                    "must have a domain with a '.' that neither starts nor ends with '.'",
                );
            }
        }
        _ => v.push(field, "must contain exactly one '@'"),
    }
    email.to_owned()
}

/// A display name: trimmed, in Unicode NFC, at most [`MAX_NAME_CHARS`] characters of single-line
/// text; may be empty. Returns the normalized form.
pub fn check_display_name(v: &mut Violations, field: &str, raw: &str) -> String {
    let name = entity_text::normalize_name(raw);
    check_line(v, field, &name, MAX_NAME_CHARS);
    name
}

/// An invitation lifetime in [`INVITATION_DAYS`].
pub fn check_invitation_days(v: &mut Violations, field: &str, days: u32) {
    if !INVITATION_DAYS.contains(&days) {
        v.push(
            field,
            format!(
                "must be between {} and {} days",
                INVITATION_DAYS.start(),
                INVITATION_DAYS.end()
            ),
        );
    }
}

/// A role name as assignments name roles: `[a-z][a-z0-9-]{1,62}` (every built-in and custom
/// role name has this form; whether the role exists is a state rule).
pub fn check_role_reference(v: &mut Violations, field: &str, role: &str) {
    if !is_role_name(role) {
        v.push(field, ROLE_NAME_RULE);
    }
}

/// What a role name must look like.
pub(super) const ROLE_NAME_RULE: &str =
    "must be 2 to 63 characters of a-z, 0-9 and '-', starting with a letter";

/// Whether `name` matches `^[a-z][a-z0-9-]{1,62}$`.
pub fn is_role_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z'))
        && (2..=63).contains(&name.len())
        && bytes.all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-'))
}

/// The normalized input of InviteUser.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewInvitation {
    /// Trimmed email, as given otherwise.
    pub email: String,
    /// Trimmed display name.
    pub display_name: String,
}

/// Validates InviteUser's fields (`email`, `display_name`, `roles[i].role`,
/// `expires_in_days`; the token's hash is valid by its type).
pub fn invite_user(
    email: &str,
    display_name: &str,
    roles: &[Assignment],
    expires_in_days: u32,
) -> Result<NewInvitation, DomainError> {
    let mut v = Violations::new();
    let email = check_email(&mut v, "email", email);
    let display_name = check_display_name(&mut v, "display_name", display_name);
    for (i, a) in roles.iter().enumerate() {
        check_role_reference(&mut v, &format!("roles[{i}].role"), &a.role);
    }
    check_invitation_days(&mut v, "expires_in_days", expires_in_days);
    v.into_result(NewInvitation {
        email,
        display_name,
    })
}

/// Validates ResendInvitation's `expires_in_days` (the token's hash is valid by its type).
pub fn resend_invitation(expires_in_days: u32) -> Result<(), DomainError> {
    let mut v = Violations::new();
    check_invitation_days(&mut v, "expires_in_days", expires_in_days);
    v.into_result(())
}

/// Validates AcceptInvitation's optional display name; returns it trimmed.
pub fn accept_invitation(display_name: Option<&str>) -> Result<Option<String>, DomainError> {
    let mut v = Violations::new();
    let name = display_name.map(|n| check_display_name(&mut v, "display_name", n));
    v.into_result(name)
}

/// Validates UpdateUserProfile: the display name must be given; returns it trimmed.
pub fn update_user_profile(display_name: Option<&str>) -> Result<String, DomainError> {
    let mut v = Violations::new();
    let Some(name) = display_name else {
        v.push(UPDATE_MASK_FIELD, "names no field to change");
        return v.into_result(String::new());
    };
    let name = check_display_name(&mut v, "display_name", name);
    v.into_result(name)
}

/// Validates an AssignRole assignment's syntax (`assignment.role`).
pub fn assign_role(assignment: &Assignment) -> Result<(), DomainError> {
    let mut v = Violations::new();
    check_role_reference(&mut v, "assignment.role", &assignment.role);
    v.into_result(())
}
