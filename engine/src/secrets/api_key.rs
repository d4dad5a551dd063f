//! API keys as strings: issued, shown once, recognised when leaked, checked without a lookup.
//!
//! Format (87 characters): `eek_` · tenant id (22 base62) · key id (22 base62) · secret (33
//! base62 characters: 196 bits from the OS's CSPRNG) · CRC-32 of everything before it (6
//! base62). Like GitHub's tokens, the fixed prefix lets secret scanners find leaked keys and
//! the checksum lets anyone refuse a mistyped or truncated key without asking the store. The
//! tenant id routes a verification to the tenant's actor (on whichever node holds it) and the
//! key id finds the key there; the store keeps only the key's SHA-256, compared in constant
//! time.

use crate::domain::{ApiKeyId, KeySecret, SecretHash, TenantId};

use super::token_hash;

/// The prefix naming the product ("entity-engine key").
pub const PREFIX: &str = "eek_";
const ID_CHARS: usize = 22;
const SECRET_CHARS: usize = 33;
const CHECKSUM_CHARS: usize = 6;
/// Length of every key.
pub const KEY_CHARS: usize = PREFIX.len() + 2 * ID_CHARS + SECRET_CHARS + CHECKSUM_CHARS;

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A freshly issued key: hand `plaintext` to the caller once, store only `secret`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuedKey {
    /// The key.
    pub plaintext: String,
    /// Its hash and last four characters, for the domain.
    pub secret: KeySecret,
}

/// A well-formed key as presented: what it names and its hash.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PresentedKey {
    /// The tenant it belongs to.
    pub tenant: TenantId,
    /// The key's id.
    pub id: ApiKeyId,
    /// SHA-256 of the whole key.
    pub hash: SecretHash,
}

/// Why a string is not a key; decided without any lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MalformedKey {
    /// Not the length, prefix or alphabet of a key.
    #[error("not an API key (expected eek_ and {} letters and digits)", KEY_CHARS - PREFIX.len())]
    Format,
    /// The checksum does not match: mistyped or truncated.
    #[error("the API key's checksum does not match (mistyped or altered)")]
    Checksum,
}

/// Issues a new key for `id` of `tenant`.
///
/// # Errors
/// When the operating system's random source fails.
pub fn issue(tenant: TenantId, id: ApiKeyId) -> Result<IssuedKey, getrandom::Error> {
    let mut key = String::with_capacity(KEY_CHARS);
    key.push_str(PREFIX);
    push_u128(&mut key, tenant.0.as_u128());
    push_u128(&mut key, id.0.as_u128());
    push_random(&mut key, SECRET_CHARS)?;
    let checksum = crc32fast::hash(key.as_bytes());
    push_fixed(&mut key, u128::from(checksum), CHECKSUM_CHARS);
    let hint = key[KEY_CHARS - 4..].to_owned();
    Ok(IssuedKey {
        secret: KeySecret {
            hash: token_hash(&key),
            hint,
        },
        plaintext: key,
    })
}

/// `count` random base62 characters (unbiased).
///
/// # Errors
/// When the operating system's random source fails.
pub fn random_base62(count: usize) -> Result<String, getrandom::Error> {
    let mut out = String::with_capacity(count);
    push_random(&mut out, count)?;
    Ok(out)
}

fn push_random(out: &mut String, count: usize) -> Result<(), getrandom::Error> {
    let mut drawn = 0;
    let mut bytes = [0u8; 64];
    while drawn < count {
        getrandom::getrandom(&mut bytes)?;
        // 248 = 4 × 62: a byte below it maps to a character without bias.
        for b in bytes.iter().filter(|b| **b < 248).take(count - drawn) {
            out.push(char::from(ALPHABET[usize::from(*b % 62)]));
            drawn += 1;
        }
    }
    Ok(())
}

/// Reads a presented key: its format and checksum first (no lookup), then what it names.
///
/// # Errors
/// [`MalformedKey`] for anything that is not an unaltered key.
pub fn parse(key: &str) -> Result<PresentedKey, MalformedKey> {
    let bytes = key.as_bytes();
    if bytes.len() != KEY_CHARS
        || !key.starts_with(PREFIX)
        || !bytes[PREFIX.len()..].iter().all(u8::is_ascii_alphanumeric)
    {
        return Err(MalformedKey::Format);
    }
    let (body, checksum) = key.split_at(KEY_CHARS - CHECKSUM_CHARS);
    if decode(checksum) != Some(u128::from(crc32fast::hash(body.as_bytes()))) {
        return Err(MalformedKey::Checksum);
    }
    let ids = &body[PREFIX.len()..];
    let tenant = decode(&ids[..ID_CHARS]).ok_or(MalformedKey::Format)?;
    let id = decode(&ids[ID_CHARS..2 * ID_CHARS]).ok_or(MalformedKey::Format)?;
    Ok(PresentedKey {
        tenant: TenantId(uuid::Uuid::from_u128(tenant)),
        id: ApiKeyId(uuid::Uuid::from_u128(id)),
        hash: token_hash(key),
    })
}

/// How a key is shown once it is no longer known: the prefix and its last four characters.
pub fn masked(hint: &str) -> String {
    format!("{PREFIX}…{hint}")
}

fn push_u128(out: &mut String, value: u128) {
    push_fixed(out, value, ID_CHARS);
}

/// `value` in base62, most significant digit first, left-padded to `width` digits.
fn push_fixed(out: &mut String, mut value: u128, width: usize) {
    let mut digits = [b'0'; ID_CHARS];
    for d in digits[..width].iter_mut().rev() {
        *d = ALPHABET[(value % 62) as usize];
        value /= 62;
    }
    out.extend(digits[..width].iter().map(|b| char::from(*b)));
}

/// A base62 number (no overflow: `None` past `u128::MAX`).
fn decode(digits: &str) -> Option<u128> {
    digits.bytes().try_fold(0u128, |acc, b| {
        let d = match b {
            b'0'..=b'9' => b - b'0',
            b'A'..=b'Z' => b - b'A' + 10,
            b'a'..=b'z' => b - b'a' + 36,
            _ => return None,
        };
        acc.checked_mul(62)?.checked_add(u128::from(d))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_issued_key_parses_back_to_its_tenant_id_and_hash() {
        let tenant = TenantId::new_v7();
        let id = ApiKeyId::new_v7();
        let key = issue(tenant, id).expect("random");
        assert_eq!(key.plaintext.len(), KEY_CHARS);
        assert!(key.plaintext.starts_with("eek_"));
        assert_eq!(key.secret.hint, key.plaintext[KEY_CHARS - 4..]);
        let parsed = parse(&key.plaintext).expect("well-formed");
        assert_eq!(parsed.tenant, tenant);
        assert_eq!(parsed.id, id);
        assert_eq!(parsed.hash, key.secret.hash);
        assert_ne!(issue(tenant, id).expect("random").plaintext, key.plaintext);
    }

    #[test]
    fn every_single_character_typo_is_caught_by_the_checksum_or_the_format() {
        let key = issue(TenantId::new_v7(), ApiKeyId::new_v7())
            .expect("random")
            .plaintext;
        for i in PREFIX.len()..KEY_CHARS {
            let mut typo = key.clone().into_bytes();
            typo[i] = if typo[i] == b'a' { b'b' } else { b'a' };
            let typo = String::from_utf8(typo).expect("ascii");
            assert!(parse(&typo).is_err(), "typo at {i} accepted");
        }
        for bad in [
            "",
            "eek_",
            &key[..KEY_CHARS - 1],
            &key.replace("eek_", "ghp_"),
        ] {
            assert_eq!(parse(bad), Err(MalformedKey::Format), "{bad}");
        }
        // A transposition of two different characters changes the CRC.
        let mut swapped = key.into_bytes();
        if swapped[10] != swapped[11] {
            swapped.swap(10, 11);
            let s = String::from_utf8(swapped).expect("ascii");
            assert!(parse(&s).is_err(), "transposition accepted");
        }
    }

    #[test]
    fn base62_round_trips_the_extremes() {
        for v in [0, 1, 61, 62, u128::MAX] {
            let mut s = String::new();
            push_u128(&mut s, v);
            assert_eq!(s.len(), ID_CHARS);
            assert_eq!(decode(&s), Some(v));
        }
        assert_eq!(decode("zzzzzzzzzzzzzzzzzzzzzz"), None);
    }
}
