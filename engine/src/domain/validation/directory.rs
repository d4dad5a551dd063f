//! Input rules of directory records (departments, locations, contacts): field rules only; the
//! owner, the one headquarters per owner and a contact's location need the scope's state and
//! live in the decider.

use super::{
    MAX_DESCRIPTION_CHARS, MAX_PROFILE_FIELD_CHARS, UPDATE_MASK_FIELD, Violations, check_line,
    check_multiline, check_name, check_url, tenant::check_address, user::check_email,
};
use crate::domain::{
    directory::{Contact, Department, Location, Partition, PartitionGroup, RecordFields},
    error::DomainError,
};

/// Allowed phone number lengths, in characters.
pub const PHONE_CHARS: std::ops::RangeInclusive<usize> = 3..=32;
/// Longest contact type, in characters.
pub const MAX_CONTACT_TYPE_CHARS: usize = 50;
/// The mask path that changes a record's `active` flag.
pub const ACTIVE_PATH: &str = "active";

/// Validates a record's fields as they will be stored; returns them normalized (names trimmed,
/// address country defaulted to `US`, contact type lower-cased). Field names are the fields'
/// own (`name`, `address.city`, `type`).
pub fn record_fields(fields: &RecordFields) -> Result<RecordFields, DomainError> {
    let mut v = Violations::new();
    let normalized = match fields {
        RecordFields::Department(d) => RecordFields::Department(Department {
            name: check_name(&mut v, "name", &d.name),
            code: code(&mut v, &d.code),
        }),
        RecordFields::Location(l) => RecordFields::Location(Location {
            name: optional_line(&mut v, "name", &l.name),
            address: check_address(&mut v, "address", &l.address),
            headquarters: l.headquarters,
            code: code(&mut v, &l.code),
            website: website(&mut v, &l.website),
            phone: phone(&mut v, "phone", &l.phone),
            email: optional_email(&mut v, "email", &l.email),
            notes: {
                check_multiline(&mut v, "notes", &l.notes, MAX_DESCRIPTION_CHARS);
                l.notes.clone()
            },
        }),
        RecordFields::Contact(c) => RecordFields::Contact(Contact {
            contact_type: contact_type(&mut v, &c.contact_type),
            name: check_name(&mut v, "name", &c.name),
            email: optional_email(&mut v, "email", &c.email),
            phone: phone(&mut v, "phone", &c.phone),
            location_id: c.location_id,
        }),
        RecordFields::Partition(p) => RecordFields::Partition(Partition {
            name: slug_name(
                &mut v,
                "name",
                &p.name,
                "dev, qa, prod, demo or a custom name",
            ),
            group_id: p.group_id,
            description: {
                check_multiline(&mut v, "description", &p.description, MAX_DESCRIPTION_CHARS);
                p.description.clone()
            },
        }),
        RecordFields::PartitionGroup(g) => RecordFields::PartitionGroup(PartitionGroup {
            name: check_name(&mut v, "name", &g.name),
            parent_id: g.parent_id,
        }),
    };
    v.into_result(normalized)
}

/// Validates an update's mask against the record kind's paths: non-empty, every path known.
pub fn record_mask(fields: &RecordFields, mask: &[String]) -> Result<(), DomainError> {
    let mut v = Violations::new();
    if mask.is_empty() {
        v.push(UPDATE_MASK_FIELD, "names no field to change");
    }
    let known = RecordFields::paths(fields.kind());
    for path in mask {
        if path != ACTIVE_PATH && !known.contains(&path.as_str()) {
            v.push(
                UPDATE_MASK_FIELD,
                format!(
                    "unknown path {path:?}; allowed: {}, active",
                    known.join(", ")
                ),
            );
        }
    }
    v.into_result(())
}

fn optional_line(v: &mut Violations, field: &str, raw: &str) -> String {
    let s = raw.trim();
    check_line(v, field, s, MAX_PROFILE_FIELD_CHARS);
    s.to_owned()
}

fn code(v: &mut Violations, raw: &str) -> String {
    optional_line(v, "code", raw)
}

fn website(v: &mut Violations, raw: &str) -> String {
    let s = raw.trim();
    if !s.is_empty() {
        check_url(v, "website", s);
    }
    s.to_owned()
}

fn optional_email(v: &mut Violations, field: &str, raw: &str) -> String {
    if raw.trim().is_empty() {
        return String::new();
    }
    check_email(v, field, raw)
}

/// A phone number: empty, or 3-32 characters of digits, spaces and `+ - . ( )`, with at least
/// one digit.
fn phone(v: &mut Violations, field: &str, raw: &str) -> String {
    let s = raw.trim();
    if s.is_empty() {
        return String::new();
    }
    let chars = s.chars().count();
    let allowed = s
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-' | '.' | '(' | ')'));
    if !PHONE_CHARS.contains(&chars) || !allowed || !s.chars().any(|c| c.is_ascii_digit()) {
        v.push(
            field,
            format!(
                "must be {} to {} characters of digits, spaces and + - . ( )",
                PHONE_CHARS.start(),
                PHONE_CHARS.end()
            ),
        );
    }
    s.to_owned()
}

/// A contact type: `account-owner`, `billing`, `technical` or a custom one.
fn contact_type(v: &mut Violations, raw: &str) -> String {
    slug_name(
        v,
        "type",
        raw,
        "account-owner, billing, technical or a custom type",
    )
}

/// A lower-case name of 1-50 characters of a-z, 0-9 and '-' (compared lower-cased): a contact
/// type, a partition's name.
fn slug_name(v: &mut Violations, field: &str, raw: &str, what: &str) -> String {
    let t = raw.trim().to_ascii_lowercase();
    let ok = (1..=MAX_CONTACT_TYPE_CHARS).contains(&t.len())
        && t.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !ok {
        v.push(
            field,
            format!(
                "must be {what} of 1 to {MAX_CONTACT_TYPE_CHARS} characters of a-z, 0-9 and '-'"
            ),
        );
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{FieldViolation, tenant::Address};

    fn fields_of(error: DomainError) -> Vec<String> {
        match error {
            DomainError::Invalid(violations) => violations
                .into_iter()
                .map(|FieldViolation { field, .. }| field)
                .collect(),
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn a_location_is_normalized_and_its_bad_fields_all_reported() {
        let good = record_fields(&RecordFields::Location(Location {
            name: "  Berlin office ".into(),
            address: Address {
                city: "Berlin".into(),
                ..Address::default()
            },
            phone: "+49 30 1234567".into(),
            ..Location::default()
        }))
        .expect("valid");
        let RecordFields::Location(l) = good else {
            panic!("kind changed")
        };
        assert_eq!(l.name, "Berlin office");
        assert_eq!(l.address.country, "US");

        let bad = record_fields(&RecordFields::Location(Location {
            address: Address {
                country: "germany".into(),
                ..Address::default()
            },
            website: "ftp://x".into(),
            phone: "call me".into(),
            email: "not-an-email".into(),
            ..Location::default()
        }))
        .expect_err("invalid");
        assert_eq!(
            fields_of(bad),
            ["address.country", "website", "phone", "email"]
        );
    }

    #[test]
    fn contact_types_are_slugs_and_names_required() {
        let ok = record_fields(&RecordFields::Contact(Contact {
            contact_type: " Billing ".into(),
            name: "Ada".into(),
            ..Contact::default()
        }))
        .expect("valid");
        assert!(matches!(ok, RecordFields::Contact(c) if c.contact_type == "billing"));
        let bad = record_fields(&RecordFields::Contact(Contact {
            contact_type: "night shift!".into(),
            name: " ".into(),
            ..Contact::default()
        }))
        .expect_err("invalid");
        assert_eq!(fields_of(bad), ["type", "name"]);
    }

    #[test]
    fn masks_name_known_paths() {
        let d = RecordFields::Department(Department::default());
        assert!(record_mask(&d, &["name".into(), "active".into()]).is_ok());
        assert_eq!(
            fields_of(record_mask(&d, &[]).expect_err("empty")),
            [UPDATE_MASK_FIELD]
        );
        assert_eq!(
            fields_of(record_mask(&d, &["phone".into()]).expect_err("unknown")),
            [UPDATE_MASK_FIELD]
        );
    }
}
