//! Input rules of API keys: name, foreign key, scopes, expiry and the secret's hash. Whether
//! the partition exists and the issuer may grant the scopes needs the scope's state and lives
//! in the decider.

use chrono::{DateTime, TimeDelta, Utc};

use super::{MAX_PROFILE_FIELD_CHARS, Violations, check_line, check_name};
use crate::domain::{
    api_key::{
        KeyExpiry, KeyScopes, KeySecret, MAX_KEY_SCOPES, MAX_KEY_TTL_SECONDS,
        MAX_ROTATION_OVERLAP_SECONDS,
    },
    error::DomainError,
};

/// A new key's input, normalized.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewApiKey {
    /// Trimmed name.
    pub name: String,
    /// Scopes, custom patterns deduplicated in their first order.
    pub scopes: KeyScopes,
    /// Trimmed foreign key.
    pub foreign_key: String,
    /// Resolved expiry.
    pub expires_at: Option<DateTime<Utc>>,
}

/// Validates a new key's fields at `now`; every bad field is reported.
pub fn create_api_key(
    name: &str,
    scopes: &KeyScopes,
    foreign_key: &str,
    expiry: KeyExpiry,
    secret: &KeySecret,
    now: DateTime<Utc>,
) -> Result<NewApiKey, DomainError> {
    let mut v = Violations::new();
    let name = check_name(&mut v, "name", name);
    let foreign_key = foreign_key.trim().to_owned();
    check_line(&mut v, "foreign_key", &foreign_key, MAX_PROFILE_FIELD_CHARS);
    let scopes = key_scopes(&mut v, scopes);
    let expires_at = key_expiry(&mut v, expiry, now);
    key_secret(&mut v, secret);
    v.into_result(NewApiKey {
        name,
        scopes,
        foreign_key,
        expires_at,
    })
}

/// Validates a rotation's overlap, the new key's expiry and secret at `now`; returns the
/// new key's expiry.
pub fn rotate_api_key(
    overlap_seconds: u64,
    expiry: KeyExpiry,
    secret: &KeySecret,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, DomainError> {
    let mut v = Violations::new();
    if overlap_seconds > MAX_ROTATION_OVERLAP_SECONDS {
        v.push(
            "overlap_seconds",
            format!("must be at most {MAX_ROTATION_OVERLAP_SECONDS} (30 days)"),
        );
    }
    let expires_at = key_expiry(&mut v, expiry, now);
    key_secret(&mut v, secret);
    v.into_result(expires_at)
}

fn key_scopes(v: &mut Violations, scopes: &KeyScopes) -> KeyScopes {
    let KeyScopes::Custom(patterns) = scopes else {
        return KeyScopes::Admin;
    };
    if patterns.is_empty() {
        v.push(
            "scopes",
            "name at least one permission, or ask for an admin key",
        );
    }
    if patterns.len() > MAX_KEY_SCOPES {
        v.push(
            "scopes",
            format!("at most {MAX_KEY_SCOPES} permissions allowed"),
        );
    }
    let mut unique = Vec::with_capacity(patterns.len());
    for p in patterns {
        if !unique.contains(p) {
            unique.push(p.clone());
        }
    }
    KeyScopes::Custom(unique)
}

fn key_expiry(v: &mut Violations, expiry: KeyExpiry, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    match expiry {
        KeyExpiry::Never => None,
        KeyExpiry::At(at) => {
            if at <= now {
                v.push("expire_time", "must be in the future");
            } else if at - now > TimeDelta::seconds(MAX_KEY_TTL_SECONDS as i64) {
                v.push("expire_time", "must be within ten years");
            }
            Some(at)
        }
        KeyExpiry::AfterSeconds(ttl) => {
            if ttl == 0 || ttl > MAX_KEY_TTL_SECONDS {
                v.push(
                    "ttl_seconds",
                    format!("must be 1 to {MAX_KEY_TTL_SECONDS} (ten years)"),
                );
                return None;
            }
            Some(now + TimeDelta::seconds(ttl as i64))
        }
    }
}

/// The hint (the hash is valid by its type).
fn key_secret(v: &mut Violations, secret: &KeySecret) {
    let hint_ok = secret.hint.len() == 4 && secret.hint.bytes().all(|b| b.is_ascii_alphanumeric());
    if !hint_ok {
        v.push("hint", "must be the key's last four characters");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{FieldViolation, SecretHash};

    fn secret() -> KeySecret {
        KeySecret {
            hash: SecretHash::from_bytes([0xab; 32]),
            hint: "x9Zq".into(),
        }
    }

    #[test]
    fn every_bad_field_is_reported_and_a_ttl_resolves_against_now() {
        let now = Utc::now();
        let ok = create_api_key(
            " ci ",
            &KeyScopes::Custom(vec![
                "user:read".parse().unwrap(),
                "user:read".parse().unwrap(),
            ]),
            "",
            KeyExpiry::AfterSeconds(60),
            &secret(),
            now,
        )
        .expect("valid");
        assert_eq!(ok.name, "ci");
        assert_eq!(
            ok.scopes,
            KeyScopes::Custom(vec!["user:read".parse().unwrap()])
        );
        assert_eq!(ok.expires_at, Some(now + TimeDelta::seconds(60)));

        let DomainError::Invalid(bad) = create_api_key(
            "",
            &KeyScopes::Custom(vec![]),
            "",
            KeyExpiry::At(now),
            &KeySecret {
                hash: SecretHash::ZERO,
                hint: "".into(),
            },
            now,
        )
        .expect_err("invalid") else {
            panic!("expected Invalid")
        };
        let fields: Vec<_> = bad
            .into_iter()
            .map(|FieldViolation { field, .. }| field)
            .collect();
        assert_eq!(fields, ["name", "scopes", "expire_time", "hint"]);
    }

    #[test]
    fn a_rotation_overlap_is_bounded() {
        let now = Utc::now();
        assert!(rotate_api_key(0, KeyExpiry::Never, &secret(), now).is_ok());
        assert!(
            rotate_api_key(
                MAX_ROTATION_OVERLAP_SECONDS + 1,
                KeyExpiry::Never,
                &secret(),
                now
            )
            .is_err()
        );
    }
}
