//! AES-256-GCM for personal values and key wrapping, HMAC-SHA256 for blind indexes.
//!
//! A sealed value is text, so it can stand where the plaintext stood in a JSON payload or a
//! snapshot: `pd1.<key version>.<base64url(nonce ‖ ciphertext ‖ tag)>`, with a random 96-bit
//! nonce per value. Its associated data binds the tenant, the subject, the key version and the
//! field name: a ciphertext moved to another person, tenant or field fails authentication.

use aes_gcm::{
    Aes256Gcm, Key, Nonce,
    aead::{Aead, KeyInit, Payload},
};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::{domain::TenantId, journal::KeyPurpose};

/// Prefix of every sealed value.
pub const SEALED_PREFIX: &str = "pd1.";
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
/// Length of every key (AES-256, HMAC-SHA256).
pub const KEY_LEN: usize = 32;

/// Why a value or a key could not be opened.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    /// Not in the sealed format.
    #[error("not a sealed value")]
    Malformed,
    /// Authentication failed: tampered, moved to another subject or field, or the wrong key.
    #[error("authentication failed (tampered, moved, or under another key)")]
    Unauthentic,
    /// The operating system's random source failed.
    #[error("no randomness: {0}")]
    Random(String),
}

/// Fills `buf` from the operating system's random source.
pub(crate) fn random(buf: &mut [u8]) -> Result<(), CryptoError> {
    getrandom::getrandom(buf).map_err(|e| CryptoError::Random(e.to_string()))
}

/// 32 secret bytes, wiped from memory when dropped.
#[derive(Clone)]
pub struct KeyBytes(Zeroizing<[u8; KEY_LEN]>);

impl KeyBytes {
    /// Fresh random bytes.
    pub fn generate() -> Result<Self, CryptoError> {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        random(bytes.as_mut())?;
        Ok(Self(bytes))
    }

    /// Takes exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        let array: [u8; KEY_LEN] = bytes.try_into().ok()?;
        Some(Self(Zeroizing::new(array)))
    }

    /// Takes these bytes.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// The bytes.
    pub fn expose(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl std::fmt::Debug for KeyBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyBytes(..)")
    }
}

/// An AES-256-GCM key: its 32 bytes, wiped when dropped.
///
/// The key schedule (about 1 KB with the GHASH key) is expanded for each call instead of kept:
/// a tenant holds one data key per person, and keeping every schedule made the keys the
/// largest part of an active tenant's memory. Expanding costs a fraction of a seal or an open
/// (BENCHMARKS.md, "Memory after passivation").
#[derive(Clone)]
pub struct GcmKey(KeyBytes);

impl GcmKey {
    /// The key of `bytes`.
    pub fn new(bytes: &KeyBytes) -> Self {
        Self(bytes.clone())
    }

    /// The expanded cipher, for one call (its schedule is wiped when it drops).
    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(self.0.expose()))
    }

    /// `nonce ‖ ciphertext ‖ tag` of `plaintext` under a fresh random nonce, drawn from the
    /// thread's CSPRNG (ChaCha, seeded and periodically reseeded from the operating system):
    /// a system call per value cost a fifth of a large tenant's snapshot sealing. Keys still
    /// come from the operating system directly ([`KeyBytes::generate`]).
    pub fn encrypt(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::Rng::fill(&mut rand::rng(), &mut nonce);
        let sealed = self
            .cipher()
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .map_err(|_| CryptoError::Unauthentic)?;
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// The plaintext of `nonce ‖ ciphertext ‖ tag`, if it authenticates under `aad`.
    pub fn decrypt(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if sealed.len() < NONCE_LEN + TAG_LEN {
            return Err(CryptoError::Malformed);
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        self.cipher()
            .decrypt(Nonce::from_slice(nonce), Payload { msg: body, aad })
            .map_err(|_| CryptoError::Unauthentic)
    }
}

impl std::fmt::Debug for GcmKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GcmKey(..)")
    }
}

/// Associated data of a personal value.
fn value_aad(tenant: TenantId, subject: Uuid, version: i32, field: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(64 + field.len());
    aad.extend_from_slice(b"entity-engine/personal-value/v1\0");
    aad.extend_from_slice(tenant.0.as_bytes());
    aad.extend_from_slice(subject.as_bytes());
    aad.extend_from_slice(&version.to_be_bytes());
    aad.extend_from_slice(field.as_bytes());
    aad
}

/// Associated data of a wrapped key.
pub(crate) fn wrap_aad(
    tenant: TenantId,
    subject: Uuid,
    purpose: KeyPurpose,
    version: i32,
) -> Vec<u8> {
    let mut aad = Vec::with_capacity(64);
    aad.extend_from_slice(b"entity-engine/wrapped-key/v1\0");
    aad.extend_from_slice(tenant.0.as_bytes());
    aad.extend_from_slice(subject.as_bytes());
    aad.extend_from_slice(purpose.as_str().as_bytes());
    aad.push(0);
    aad.extend_from_slice(&version.to_be_bytes());
    aad
}

/// Where a personal value belongs: the associated data it is sealed under.
#[derive(Clone, Copy, Debug)]
pub struct ValuePlace<'a> {
    /// Tenant.
    pub tenant: TenantId,
    /// The person.
    pub subject: Uuid,
    /// Field name (e.g. `email`).
    pub field: &'a str,
}

/// Seals `plaintext` under a subject's data key (`version` names the key).
pub fn seal(
    key: &GcmKey,
    version: i32,
    place: ValuePlace<'_>,
    plaintext: &str,
) -> Result<String, CryptoError> {
    let aad = value_aad(place.tenant, place.subject, version, place.field);
    let sealed = key.encrypt(&aad, plaintext.as_bytes())?;
    Ok(format!(
        "{SEALED_PREFIX}{version}.{}",
        URL_SAFE_NO_PAD.encode(sealed)
    ))
}

/// The key version a sealed value names.
pub fn sealed_version(sealed: &str) -> Result<i32, CryptoError> {
    Ok(split(sealed)?.0)
}

fn split(sealed: &str) -> Result<(i32, &str), CryptoError> {
    let rest = sealed
        .strip_prefix(SEALED_PREFIX)
        .ok_or(CryptoError::Malformed)?;
    let (version, body) = rest.split_once('.').ok_or(CryptoError::Malformed)?;
    let version = version.parse::<i32>().map_err(|_| CryptoError::Malformed)?;
    if version < 1 {
        return Err(CryptoError::Malformed);
    }
    Ok((version, body))
}

/// Opens a value sealed by [`seal`] for the same place under the same key.
pub fn open(key: &GcmKey, place: ValuePlace<'_>, sealed: &str) -> Result<String, CryptoError> {
    let (version, body) = split(sealed)?;
    let bytes = URL_SAFE_NO_PAD
        .decode(body)
        .map_err(|_| CryptoError::Malformed)?;
    let aad = value_aad(place.tenant, place.subject, version, place.field);
    let plain = key.decrypt(&aad, &bytes)?;
    String::from_utf8(plain).map_err(|_| CryptoError::Malformed)
}

/// Keyed fingerprint (HMAC-SHA256, hex) of `parts`, each length-prefixed: a blind index or a
/// request fingerprint. Without the key it reveals nothing, and cannot be dictionary-searched.
pub fn keyed_digest(key: &KeyBytes, domain: &str, parts: &[&[u8]]) -> String {
    hex(&keyed_mac(key, domain, parts))
}

/// The HMAC-SHA256 of `domain` and `parts` (each length-prefixed) under `key`: the bytes of
/// [`keyed_digest`], also a key derived from `key` for `domain`.
#[allow(clippy::expect_used, reason = "HMAC accepts keys of any length")]
pub fn keyed_mac(key: &KeyBytes, domain: &str, parts: &[&[u8]]) -> [u8; KEY_LEN] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.expose())
        .expect("HMAC accepts keys of any length");
    mac.update(domain.as_bytes());
    mac.update(&[0]);
    for part in parts {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    crate::hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_holds_its_bytes_not_an_expanded_schedule() {
        // A tenant holds one data key per person: an expanded AES-GCM schedule is ~1 KB.
        assert_eq!(std::mem::size_of::<GcmKey>(), KEY_LEN);
    }

    fn key() -> GcmKey {
        GcmKey::new(&KeyBytes::generate().unwrap())
    }

    fn place(subject: u128, field: &str) -> ValuePlace<'_> {
        ValuePlace {
            tenant: TenantId(Uuid::from_u128(1)),
            subject: Uuid::from_u128(subject),
            field,
        }
    }

    #[test]
    fn round_trip_with_fresh_nonces() {
        let k = key();
        let a = seal(&k, 1, place(2, "email"), "ada@example.com").unwrap();
        let b = seal(&k, 1, place(2, "email"), "ada@example.com").unwrap();
        assert_ne!(a, b, "each seal draws a new nonce");
        let body = a.rsplit('.').next().unwrap();
        let raw = URL_SAFE_NO_PAD.decode(body).unwrap();
        let plaintext = b"ada@example.com";
        assert_eq!(raw.len(), NONCE_LEN + plaintext.len() + TAG_LEN);
        assert!(
            !raw.windows(plaintext.len()).any(|w| w == plaintext),
            "the sealed bytes do not hold the plaintext"
        );
        assert_eq!(open(&k, place(2, "email"), &a).unwrap(), "ada@example.com");
        assert_eq!(sealed_version(&a), Ok(1));
    }

    #[test]
    fn moved_or_flipped_values_are_refused() {
        let k = key();
        let sealed = seal(&k, 1, place(2, "email"), "ada@example.com").unwrap();
        assert_eq!(
            open(&k, place(3, "email"), &sealed),
            Err(CryptoError::Unauthentic)
        );
        assert_eq!(
            open(&k, place(2, "display_name"), &sealed),
            Err(CryptoError::Unauthentic)
        );
        let other_tenant = ValuePlace {
            tenant: TenantId(Uuid::from_u128(9)),
            ..place(2, "email")
        };
        assert_eq!(
            open(&k, other_tenant, &sealed),
            Err(CryptoError::Unauthentic)
        );
        assert_eq!(
            open(&key(), place(2, "email"), &sealed),
            Err(CryptoError::Unauthentic)
        );
        // Every single-bit flip of the body is caught.
        let (head, body) = sealed.rsplit_once('.').unwrap();
        let bytes = URL_SAFE_NO_PAD.decode(body).unwrap();
        for bit in 0..bytes.len() * 8 {
            let mut flipped = bytes.clone();
            flipped[bit / 8] ^= 1 << (bit % 8);
            let text = format!("{head}.{}", URL_SAFE_NO_PAD.encode(flipped));
            assert_eq!(
                open(&k, place(2, "email"), &text),
                Err(CryptoError::Unauthentic)
            );
        }
        // A changed version changes the associated data.
        let bumped = sealed.replacen("pd1.1.", "pd1.2.", 1);
        assert_eq!(
            open(&k, place(2, "email"), &bumped),
            Err(CryptoError::Unauthentic)
        );
        for junk in [
            "",
            "ada@example.com",
            "pd1.",
            "pd1.x.AAAA",
            "pd1.0.AAAA",
            "pd1.1.!!",
        ] {
            assert_eq!(
                open(&k, place(2, "email"), junk),
                Err(CryptoError::Malformed),
                "{junk}"
            );
        }
    }

    #[test]
    fn keyed_digests_depend_on_key_and_framing() {
        let k = KeyBytes::generate().unwrap();
        let a = keyed_digest(&k, "email", &[b"ada@example.com"]);
        assert_eq!(a, keyed_digest(&k, "email", &[b"ada@example.com"]));
        assert_eq!(a.len(), 64);
        assert_ne!(
            a,
            keyed_digest(
                &KeyBytes::generate().unwrap(),
                "email",
                &[b"ada@example.com"]
            )
        );
        assert_ne!(a, keyed_digest(&k, "other", &[b"ada@example.com"]));
        assert_ne!(
            keyed_digest(&k, "d", &[b"ab", b"c"]),
            keyed_digest(&k, "d", &[b"a", b"bc"])
        );
    }
}
