//! Input rules of the organization commands (field rules only; tree and uniqueness rules
//! need the scope's state and live in the decider).

use super::{MAX_DESCRIPTION_CHARS, UPDATE_MASK_FIELD, Violations, check_multiline, check_name};
use crate::domain::{error::DomainError, ids::OrganizationId};

/// The normalized input of CreateOrganization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewOrganization {
    /// Trimmed name.
    pub name: String,
    /// Description (unchanged).
    pub description: String,
}

/// Validates CreateOrganization's fields; returns the trimmed name and the description.
/// A parent equal to the new id is refused on `parent_id`.
pub fn create_organization(
    id: OrganizationId,
    name: &str,
    description: &str,
    parent_id: Option<OrganizationId>,
) -> Result<NewOrganization, DomainError> {
    let mut v = Violations::new();
    let name = check_name(&mut v, "name", name);
    check_multiline(&mut v, "description", description, MAX_DESCRIPTION_CHARS);
    if parent_id == Some(id) {
        v.push("parent_id", "an organization cannot be its own parent");
    }
    v.into_result(NewOrganization {
        name,
        description: description.to_owned(),
    })
}

/// Validates UpdateOrganization's fields; returns them normalized (name trimmed).
/// At least one field must be set.
pub fn update_organization(
    name: Option<&str>,
    description: Option<&str>,
) -> Result<(Option<String>, Option<String>), DomainError> {
    let mut v = Violations::new();
    if name.is_none() && description.is_none() {
        v.push(UPDATE_MASK_FIELD, "names no field to change");
    }
    let name = name.map(|n| check_name(&mut v, "name", n));
    if let Some(d) = description {
        check_multiline(&mut v, "description", d, MAX_DESCRIPTION_CHARS);
    }
    v.into_result((name, description.map(str::to_owned)))
}
