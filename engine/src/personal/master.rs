//! Master keys: the key-encryption keys that wrap every data key (SPEC §6).
//!
//! A master key is 32 random bytes kept in a file as 64 hex digits. It never enters the
//! database; the store knows only its id, a keyed fingerprint of it. A node holds its current
//! master key (it wraps new data keys) and, during a rotation, the previous ones (accepted for
//! unwrapping until the rotation has re-wrapped everything).

use std::{
    io::Write,
    path::{Path, PathBuf},
    sync::{Arc, OnceLock},
};

use uuid::Uuid;

use super::cipher::{CryptoError, GcmKey, KeyBytes, hex, keyed_digest, keyed_mac, wrap_aad};
use crate::{domain::TenantId, journal::KeyPurpose};

/// Why a master key file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    /// The file cannot be read.
    #[error("cannot read the master key file {path}: {source}")]
    Unreadable {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// The file does not hold 64 hex digits.
    #[error("the master key file {path} must hold exactly 64 hex digits (32 random bytes)")]
    Malformed {
        /// File.
        path: PathBuf,
    },
    /// The file cannot be created.
    #[error("cannot create the master key file {path}: {source}")]
    Uncreatable {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// No randomness.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

/// One master key.
#[derive(Clone)]
pub struct MasterKey {
    id: String,
    cipher: GcmKey,
    /// Root of the keys [`MasterKey::derive`] hands out (never the master key itself).
    derivation: KeyBytes,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKey({})", self.id)
    }
}

impl MasterKey {
    /// The key of these bytes.
    pub fn from_bytes(bytes: &KeyBytes) -> Self {
        let id = keyed_digest(bytes, "entity-engine/master-key-id", &[])[..16].to_owned();
        let derivation = KeyBytes::from_bytes(keyed_mac(bytes, "entity-engine/derived-keys", &[]));
        Self {
            id,
            cipher: GcmKey::new(bytes),
            derivation,
        }
    }

    /// A 32-byte key for `purpose` (e.g. signing search keys), derived from this master key:
    /// the same on every node holding it, replaced when it rotates, revealing nothing of it.
    pub fn derive(&self, purpose: &str) -> KeyBytes {
        KeyBytes::from_bytes(keyed_mac(&self.derivation, purpose, &[]))
    }

    /// A fresh random key.
    pub fn generate() -> Result<Self, CryptoError> {
        Ok(Self::from_bytes(&KeyBytes::generate()?))
    }

    /// Reads a key file (64 hex digits; surrounding whitespace ignored).
    pub fn load(path: &Path) -> Result<Self, MasterKeyError> {
        let text = zeroize::Zeroizing::new(std::fs::read_to_string(path).map_err(|source| {
            MasterKeyError::Unreadable {
                path: path.to_owned(),
                source,
            }
        })?);
        let malformed = || MasterKeyError::Malformed {
            path: path.to_owned(),
        };
        let digits = text.trim();
        if digits.len() != 64 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(malformed());
        }
        let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
        for (i, pair) in digits.as_bytes().chunks(2).enumerate() {
            let pair = std::str::from_utf8(pair).map_err(|_| malformed())?;
            bytes[i] = u8::from_str_radix(pair, 16).map_err(|_| malformed())?;
        }
        let key = KeyBytes::from_slice(bytes.as_ref()).ok_or_else(malformed)?;
        Ok(Self::from_bytes(&key))
    }

    /// Writes a new random key to `path` (which must not exist), readable by its owner only.
    pub fn create_file(path: &Path) -> Result<Self, MasterKeyError> {
        let bytes = KeyBytes::generate()?;
        let uncreatable = |source| MasterKeyError::Uncreatable {
            path: path.to_owned(),
            source,
        };
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(uncreatable)?;
        let text = zeroize::Zeroizing::new(format!("{}\n", hex(bytes.expose())));
        file.write_all(text.as_bytes()).map_err(uncreatable)?;
        file.sync_all().map_err(uncreatable)?;
        Ok(Self::from_bytes(&bytes))
    }

    /// Loads `path`, creating it first if it does not exist (the embedded mode's key).
    pub fn load_or_create(path: &Path) -> Result<Self, MasterKeyError> {
        match Self::create_file(path) {
            Ok(key) => Ok(key),
            Err(MasterKeyError::Uncreatable { source, .. })
                if source.kind() == std::io::ErrorKind::AlreadyExists =>
            {
                Self::load(path)
            }
            Err(other) => Err(other),
        }
    }

    /// The key's id (a keyed fingerprint; reveals nothing about the key).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Wraps a data key for its place in the key table.
    pub fn wrap(&self, place: KeyPlace, key: &KeyBytes) -> Result<Vec<u8>, CryptoError> {
        self.cipher.encrypt(&place.aad(), key.expose())
    }

    /// Unwraps a data key wrapped by [`wrap`](Self::wrap) for the same place.
    pub fn unwrap(&self, place: KeyPlace, wrapped: &[u8]) -> Result<KeyBytes, CryptoError> {
        let plain = zeroize::Zeroizing::new(self.cipher.decrypt(&place.aad(), wrapped)?);
        KeyBytes::from_slice(&plain).ok_or(CryptoError::Malformed)
    }
}

/// Which row of the key table a wrapped key belongs to (bound into its associated data, so a
/// wrapped key copied to another row does not unwrap).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyPlace {
    /// Tenant.
    pub tenant: TenantId,
    /// Subject.
    pub subject: Uuid,
    /// Purpose.
    pub purpose: KeyPurpose,
    /// Version.
    pub version: i32,
}

impl KeyPlace {
    fn aad(&self) -> Vec<u8> {
        wrap_aad(self.tenant, self.subject, self.purpose, self.version)
    }
}

/// The master keys a node holds: the current one and, during a rotation, previous ones.
#[derive(Clone, Debug)]
pub struct MasterKeys {
    current: MasterKey,
    previous: Vec<MasterKey>,
}

impl MasterKeys {
    /// Only `current`.
    pub fn new(current: MasterKey) -> Self {
        Self {
            current,
            previous: Vec::new(),
        }
    }

    /// Also accepts `previous` for unwrapping (during a rotation).
    pub fn with_previous(mut self, previous: MasterKey) -> Self {
        if previous.id != self.current.id {
            self.previous.push(previous);
        }
        self
    }

    /// A random key shared by everything in this process that asks for it: for tests and
    /// benchmarks. What it protects is unreadable once the process exits.
    #[allow(
        clippy::expect_used,
        reason = "a machine without randomness cannot run anything safely"
    )]
    pub fn ephemeral() -> Arc<MasterKeys> {
        static KEYS: OnceLock<Arc<MasterKeys>> = OnceLock::new();
        KEYS.get_or_init(|| {
            let key = MasterKey::generate().expect("the OS random source works");
            Arc::new(MasterKeys::new(key))
        })
        .clone()
    }

    /// The key that wraps new data keys.
    pub fn current(&self) -> &MasterKey {
        &self.current
    }

    /// Every key held, current first.
    pub fn all(&self) -> impl Iterator<Item = &MasterKey> {
        std::iter::once(&self.current).chain(&self.previous)
    }

    /// The held key of this id.
    pub fn by_id(&self, id: &str) -> Option<&MasterKey> {
        self.all().find(|k| k.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_round_trip_and_are_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let created = MasterKey::create_file(&path).unwrap();
        let loaded = MasterKey::load(&path).unwrap();
        assert_eq!(created.id(), loaded.id());
        assert_eq!(created.id().len(), 16);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(
            MasterKey::create_file(&path).is_err(),
            "never overwrites a key"
        );
        assert_eq!(MasterKey::load_or_create(&path).unwrap().id(), created.id());
        std::fs::write(&path, "abc").unwrap();
        assert!(matches!(
            MasterKey::load(&path),
            Err(MasterKeyError::Malformed { .. })
        ));
        assert!(matches!(
            MasterKey::load(&dir.path().join("absent")),
            Err(MasterKeyError::Unreadable { .. })
        ));
    }

    #[test]
    fn wrapped_keys_open_only_in_their_place_under_their_master() {
        let master = MasterKey::generate().unwrap();
        let place = KeyPlace {
            tenant: TenantId(Uuid::from_u128(1)),
            subject: Uuid::from_u128(2),
            purpose: KeyPurpose::Data,
            version: 1,
        };
        let key = KeyBytes::generate().unwrap();
        let wrapped = master.wrap(place, &key).unwrap();
        assert_eq!(
            master.unwrap(place, &wrapped).unwrap().expose(),
            key.expose()
        );
        let elsewhere = KeyPlace {
            subject: Uuid::from_u128(3),
            ..place
        };
        assert!(master.unwrap(elsewhere, &wrapped).is_err());
        assert!(
            MasterKey::generate()
                .unwrap()
                .unwrap(place, &wrapped)
                .is_err()
        );
        let keys = MasterKeys::new(MasterKey::generate().unwrap()).with_previous(master.clone());
        assert!(keys.by_id(master.id()).is_some());
        assert_eq!(keys.all().count(), 2);
    }
}
