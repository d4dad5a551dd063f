//! Input rules of the team commands (field rules only; the organization, name uniqueness and
//! the plan's team entitlement need the scope's state and live in the decider). Team names and
//! descriptions follow the organization rules.

use super::{MAX_DESCRIPTION_CHARS, Violations, check_multiline, check_name};
use crate::domain::error::DomainError;

/// The normalized input of CreateTeam.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewTeam {
    /// Trimmed name.
    pub name: String,
    /// Description (unchanged).
    pub description: String,
}

/// Validates CreateTeam's fields (`name`, `description`); returns the trimmed name.
pub fn create_team(name: &str, description: &str) -> Result<NewTeam, DomainError> {
    let mut v = Violations::new();
    let name = check_name(&mut v, "name", name);
    check_multiline(&mut v, "description", description, MAX_DESCRIPTION_CHARS);
    v.into_result(NewTeam {
        name,
        description: description.to_owned(),
    })
}

/// Validates UpdateTeam's fields; returns them normalized (name trimmed). At least one field
/// must be set (`update_mask` otherwise).
pub fn update_team(
    name: Option<&str>,
    description: Option<&str>,
) -> Result<(Option<String>, Option<String>), DomainError> {
    super::update_organization(name, description)
}
