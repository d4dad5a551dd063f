//! Stable names (a field, a plan limit, a reason code) are `&'static str` in the domain. Read
//! back from another node, they are interned: each distinct name is allocated once, and only
//! names of the stable-name shape (1–64 characters of `A-Z a-z 0-9 _ . -`), at most
//! [`MAX_NAMES`] of them, so a peer cannot make this node allocate without bound. Anything else
//! reads as `"UNKNOWN"`.

use std::{
    collections::BTreeSet,
    sync::{Mutex, PoisonError},
};

use serde::{Deserialize, Deserializer};

/// A stable name. An alias, not `&'static str` written out, so that serde's derive does not
/// ask to borrow it from the input for `'static` (its readers are [`read`] and
/// [`read_optional`]).
pub type StableName = &'static str;

/// Distinct names interned at most (the domain uses a few dozen).
pub const MAX_NAMES: usize = 1024;

static NAMES: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());

/// `name` as a `&'static str` (see the module's rules).
pub fn intern(name: &str) -> &'static str {
    let shaped = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if !shaped {
        return "UNKNOWN";
    }
    let mut names = NAMES.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(known) = names.get(name) {
        return known;
    }
    if names.len() >= MAX_NAMES {
        return "UNKNOWN";
    }
    let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
    names.insert(leaked);
    leaked
}

/// Deserializes a stable name (`#[serde(deserialize_with = "static_name::read")]`).
pub fn read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<&'static str, D::Error> {
    let name = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
    Ok(intern(&name))
}

/// Deserializes an optional stable name.
pub fn read_optional<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<&'static str>, D::Error> {
    let name = <Option<std::borrow::Cow<'de, str>>>::deserialize(deserializer)?;
    Ok(name.map(|n| intern(&n)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_interned_once_and_only_when_shaped_like_one() {
        let a = intern("ALREADY_EXISTS_TEST");
        let b = intern(&String::from("ALREADY_EXISTS_TEST"));
        assert!(std::ptr::eq(a, b), "one allocation per distinct name");
        assert_eq!(intern(""), "UNKNOWN");
        assert_eq!(intern("has space"), "UNKNOWN");
        assert_eq!(intern("nul\0"), "UNKNOWN");
        assert_eq!(intern(&"x".repeat(65)), "UNKNOWN");
        assert_eq!(
            intern("settings.session_expiration_seconds"),
            "settings.session_expiration_seconds"
        );
    }
}
