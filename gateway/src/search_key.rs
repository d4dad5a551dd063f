//! Secured search keys (issue 20; Algolia's "secured API keys" pattern): a key carries its
//! search scope, its filters and its expiry, signed by the cluster, so a browser can call
//! SearchCustomers with it and nothing else, within those restrictions.
//!
//! Format: `esk1.<master key id>.<payload>.<mac>`, where `payload` is the grant as JSON and
//! `mac` its HMAC-SHA256 (both base64url, unpadded) under a key derived from the master key of
//! personal data ([`engine::personal::MasterKey::derive`]): every node holding the master key
//! verifies every key; rotating the master key ends the old keys once the previous master key
//! is dropped. Nothing is stored: a key is valid until its `valid_until` (at most 24 hours).
//! Any change to any byte fails the MAC (or the format) and the key is refused.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, TimeDelta, Utc};
use engine::personal::{MasterKey, MasterKeys, cipher::keyed_mac};
use projections::{SearchFilter, SearchScope};
use serde::{Deserialize, Serialize};

/// The first part of every key.
const PREFIX: &str = "esk1";
/// What the derived signing key is for.
const PURPOSE: &str = "entity-engine/search-keys/v1";
/// Longest key accepted (a key's filters are bounded; so is what is parsed).
pub const MAX_KEY_CHARS: usize = 4096;
/// Lifetime of a key when the request names none.
pub const DEFAULT_VALIDITY: TimeDelta = TimeDelta::hours(1);
/// Longest lifetime of a key.
pub const MAX_VALIDITY: TimeDelta = TimeDelta::hours(24);

/// What a search key allows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchGrant {
    /// Its scope.
    pub scope: SearchScope,
    /// Its restrictions (a request narrows them further).
    pub filter: SearchFilter,
    /// When it stops working.
    pub valid_until: DateTime<Utc>,
}

/// Why a key was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SearchKeyError {
    /// Not a key of this format, signed by a master key this node does not hold, or changed.
    #[error("not a valid search key")]
    Invalid,
    /// Past its `valid_until`.
    #[error("the search key has expired")]
    Expired,
}

/// The MAC of a key's payload under `master`.
fn mac(master: &MasterKey, payload: &str) -> [u8; 32] {
    keyed_mac(
        &master.derive(PURPOSE),
        PREFIX,
        &[master.id().as_bytes(), payload.as_bytes()],
    )
}

/// The key of `grant`, signed by the current master key.
///
/// # Errors
/// When the grant does not encode (it always does).
pub fn issue(masters: &MasterKeys, grant: &SearchGrant) -> Result<String, serde_json::Error> {
    let master = masters.current();
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(grant)?);
    let mac = URL_SAFE_NO_PAD.encode(mac(master, &payload));
    Ok(format!("{PREFIX}.{}.{payload}.{mac}", master.id()))
}

/// The grant of `key` if it is authentic and valid at `now`.
///
/// # Errors
/// [`SearchKeyError::Invalid`] for anything but an intact key of a master key held here;
/// [`SearchKeyError::Expired`] past its `valid_until`.
pub fn verify(
    masters: &MasterKeys,
    key: &str,
    now: DateTime<Utc>,
) -> Result<SearchGrant, SearchKeyError> {
    if key.len() > MAX_KEY_CHARS {
        return Err(SearchKeyError::Invalid);
    }
    let mut parts = key.split('.');
    let (Some(PREFIX), Some(kid), Some(payload), Some(sent), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(SearchKeyError::Invalid);
    };
    let master = masters.by_id(kid).ok_or(SearchKeyError::Invalid)?;
    let sent = URL_SAFE_NO_PAD
        .decode(sent)
        .map_err(|_| SearchKeyError::Invalid)?;
    let expected = mac(master, payload);
    // Constant time: every byte is compared whatever the first difference.
    let differs = sent.len() != expected.len()
        || sent
            .iter()
            .zip(expected.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            != 0;
    if differs {
        return Err(SearchKeyError::Invalid);
    }
    let grant: SearchGrant = URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|json| serde_json::from_slice(&json).ok())
        .ok_or(SearchKeyError::Invalid)?;
    if grant.valid_until <= now {
        return Err(SearchKeyError::Expired);
    }
    Ok(grant)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use engine::domain::TenantId;

    use super::*;

    fn grant(valid_for: TimeDelta) -> SearchGrant {
        SearchGrant {
            scope: SearchScope::OwnClients(TenantId(uuid::Uuid::now_v7())),
            filter: SearchFilter {
                statuses: ["active".to_owned()].into(),
                ..SearchFilter::default()
            },
            valid_until: Utc::now() + valid_for,
        }
    }

    #[test]
    fn a_key_verifies_to_its_grant_until_it_expires() {
        let masters = MasterKeys::ephemeral();
        let g = grant(TimeDelta::minutes(5));
        let key = issue(&masters, &g).unwrap();
        assert_eq!(verify(&masters, &key, Utc::now()), Ok(g.clone()));
        assert_eq!(
            verify(&masters, &key, g.valid_until),
            Err(SearchKeyError::Expired)
        );
    }

    #[test]
    fn a_key_with_any_byte_changed_is_refused() {
        let masters = MasterKeys::ephemeral();
        let key = issue(&masters, &grant(TimeDelta::minutes(5))).unwrap();
        let bytes = key.as_bytes();
        for i in 0..bytes.len() {
            for replacement in [b'A', b'z', b'.', b'-'] {
                if bytes[i] == replacement {
                    continue;
                }
                let mut changed = bytes.to_vec();
                changed[i] = replacement;
                let changed = String::from_utf8(changed).unwrap();
                assert!(
                    verify(&masters, &changed, Utc::now()).is_err(),
                    "byte {i} changed to {} still verifies",
                    replacement as char
                );
            }
        }
    }

    #[test]
    fn another_clusters_key_is_refused_and_a_rotated_master_still_verifies() {
        let ours = Arc::new(MasterKeys::new(MasterKey::generate().unwrap()));
        let theirs = MasterKeys::new(MasterKey::generate().unwrap());
        let key = issue(&theirs, &grant(TimeDelta::minutes(5))).unwrap();
        assert_eq!(
            verify(&ours, &key, Utc::now()),
            Err(SearchKeyError::Invalid)
        );
        let old = issue(&ours, &grant(TimeDelta::minutes(5))).unwrap();
        let rotated = Arc::new(
            MasterKeys::new(MasterKey::generate().unwrap()).with_previous(ours.current().clone()),
        );
        assert!(verify(&rotated, &old, Utc::now()).is_ok());
    }
}
