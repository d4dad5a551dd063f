//! Input rules of the custom-role commands (field rules only; name uniqueness and built-in
//! names need the scope's state and live in the decider).

use std::collections::BTreeSet;

use super::{
    MAX_DESCRIPTION_CHARS, UPDATE_MASK_FIELD, Violations, check_multiline,
    user::{ROLE_NAME_RULE, is_role_name},
};
use crate::domain::{access::PermissionPattern, error::DomainError};

/// Allowed number of permission patterns of a custom role.
pub const ROLE_PERMISSIONS: std::ops::RangeInclusive<usize> = 1..=100;

/// A custom role name: `^[a-z][a-z0-9-]{1,62}$`.
pub fn check_role_name(v: &mut Violations, field: &str, name: &str) {
    if !is_role_name(name) {
        v.push(field, ROLE_NAME_RULE);
    }
}

/// A permission list: 1 to 100 patterns (already well-formed by type), no duplicates (the
/// later copy is reported as `field[i]`).
pub fn check_permissions(v: &mut Violations, field: &str, permissions: &[PermissionPattern]) {
    if !ROLE_PERMISSIONS.contains(&permissions.len()) {
        v.push(
            field,
            format!(
                "must list {} to {} permissions",
                ROLE_PERMISSIONS.start(),
                ROLE_PERMISSIONS.end()
            ),
        );
    }
    let mut seen = BTreeSet::new();
    for (i, p) in permissions.iter().enumerate() {
        if !seen.insert(p) {
            v.push(format!("{field}[{i}]"), format!("duplicate permission {p}"));
        }
    }
}

/// Validates DefineRole's fields (`name`, `description`, `permissions`).
pub fn define_role(
    name: &str,
    description: &str,
    permissions: &[PermissionPattern],
) -> Result<(), DomainError> {
    let mut v = Violations::new();
    check_role_name(&mut v, "name", name);
    check_multiline(&mut v, "description", description, MAX_DESCRIPTION_CHARS);
    check_permissions(&mut v, "permissions", permissions);
    v.into_result(())
}

/// Validates UpdateRole's fields; at least one must be set (`update_mask` otherwise).
pub fn update_role(
    description: Option<&str>,
    permissions: Option<&[PermissionPattern]>,
) -> Result<(), DomainError> {
    let mut v = Violations::new();
    if description.is_none() && permissions.is_none() {
        v.push(UPDATE_MASK_FIELD, "names no field to change");
    }
    if let Some(d) = description {
        check_multiline(&mut v, "description", d, MAX_DESCRIPTION_CHARS);
    }
    if let Some(p) = permissions {
        check_permissions(&mut v, "permissions", p);
    }
    v.into_result(())
}
