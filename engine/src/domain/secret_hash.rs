//! [`SecretHash`]: the SHA-256 of a secret the engine issued (an invitation token, an API key),
//! the only form in which it keeps one.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};
use subtle::ConstantTimeEq;

/// The SHA-256 of an issued secret: 32 bytes, so a value of one is valid by construction.
///
/// It is written as 64 lower-case hex digits wherever it is serialized (events, snapshots,
/// request fingerprints), the form it had as a string, so stored data reads the same; a stored
/// value of any other form is refused when read. [`SecretHash::ZERO`] is written as the empty
/// text, as a cleared hash was, so that request fingerprints stay what they were.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SecretHash([u8; 32]);

/// [`NIBBLE`]'s mark of a byte that is not a lower-case hex digit.
const NOT_HEX: u8 = 0x10;

/// Each byte's value as a lower-case hex digit, or [`NOT_HEX`].
const NIBBLE: [u8; 256] = {
    let mut table = [NOT_HEX; 256];
    let mut byte = 0;
    while byte < 256 {
        if let Some(value) = crate::hex::digit(byte as u8) {
            table[byte] = value;
        }
        byte += 1;
    }
    table
};

impl SecretHash {
    /// All zeros, serialized as the empty text: stands for a hash that must not count (a
    /// retried command's fingerprint leaves the fresh secret's hash out with it). No secret is
    /// expected to hash to it.
    pub const ZERO: Self = Self([0; 32]);

    /// The hash of these digest bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The digest bytes (not its text: that is [`Display`](fmt::Display)).
    pub const fn digest(&self) -> &[u8; 32] {
        &self.0
    }

    /// Parses exactly 64 lower-case hex digits.
    pub fn parse(hex: &str) -> Option<Self> {
        let hex: &[u8; 64] = hex.as_bytes().try_into().ok()?;
        let mut bytes = [0; 32];
        // Without a branch per digit: recovery parses one for every invited user.
        let mut invalid = 0;
        for (byte, pair) in bytes.iter_mut().zip(hex.chunks_exact(2)) {
            let (high, low) = (NIBBLE[usize::from(pair[0])], NIBBLE[usize::from(pair[1])]);
            invalid |= high | low;
            *byte = high << 4 | low;
        }
        (invalid & NOT_HEX == 0).then_some(Self(bytes))
    }

    /// Whether `other` is the same hash, compared in constant time (a presented secret's hash
    /// against the stored one).
    pub fn matches(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }

    /// The 64 hex digits, without allocating.
    fn hex(&self) -> [u8; 64] {
        let mut out = [0; 64];
        crate::hex::encode_into(&self.0, &mut out);
        out
    }
}

impl fmt::Display for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hex = self.hex();
        // Hex digits are ASCII.
        f.write_str(std::str::from_utf8(&hex).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretHash({self})")
    }
}

impl Serialize for SecretHash {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if *self == Self::ZERO {
            return serializer.serialize_str("");
        }
        let hex = self.hex();
        let text = std::str::from_utf8(&hex).map_err(serde::ser::Error::custom)?;
        serializer.serialize_str(text)
    }
}

impl<'de> Deserialize<'de> for SecretHash {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = SecretHash;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("64 lower-case hex digits")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<SecretHash, E> {
                if text.is_empty() {
                    return Ok(SecretHash::ZERO);
                }
                SecretHash::parse(text)
                    .ok_or_else(|| E::invalid_value(de::Unexpected::Str(text), &self))
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "00ff10a9b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d";

    #[test]
    fn parses_and_prints_lower_case_hex() {
        let hash = SecretHash::parse(HASH).unwrap();
        assert_eq!(hash.digest()[..3], [0x00, 0xff, 0x10]);
        assert_eq!(hash.to_string(), HASH);
        assert_eq!(format!("{hash:?}"), format!("SecretHash({HASH})"));
    }

    #[test]
    fn refuses_anything_else() {
        for bad in [
            "",
            &HASH[..63],
            &format!("{HASH}0"),
            &HASH.to_uppercase(),
            &HASH.replacen('0', "g", 1),
            &HASH.replacen("00", "é", 1),
        ] {
            assert_eq!(SecretHash::parse(bad), None, "{bad}");
        }
    }

    /// The bytes of the string it used to be, in both formats the engine stores.
    #[test]
    fn serializes_as_the_string_it_was() {
        let hash = SecretHash::parse(HASH).unwrap();
        assert_eq!(
            serde_json::to_string(&hash).unwrap(),
            serde_json::to_string(HASH).unwrap()
        );
        let config = bincode::config::standard();
        let as_string = bincode::serde::encode_to_vec(HASH, config).unwrap();
        assert_eq!(
            bincode::serde::encode_to_vec(hash, config).unwrap(),
            as_string
        );
        let (back, _): (SecretHash, usize) =
            bincode::serde::decode_from_slice(&as_string, config).unwrap();
        assert_eq!(back, hash);
        assert!(serde_json::from_str::<SecretHash>("\"ab\"").is_err());
    }

    /// A request fingerprint blanks a fresh secret's hash; it used to clear the string.
    #[test]
    fn zero_is_the_empty_text() {
        assert_eq!(serde_json::to_string(&SecretHash::ZERO).unwrap(), "\"\"");
        assert_eq!(
            serde_json::from_str::<SecretHash>("\"\"").unwrap(),
            SecretHash::ZERO
        );
        assert_eq!(SecretHash::parse(""), None);
    }

    #[test]
    fn matches_only_itself() {
        let hash = SecretHash::parse(HASH).unwrap();
        assert!(hash.matches(&hash));
        assert!(!hash.matches(&SecretHash::ZERO));
    }
}
