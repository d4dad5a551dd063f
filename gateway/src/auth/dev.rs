//! The embedded mode's development signing key and tokens.
//!
//! At first start the embedded node writes 32 random bytes (OS randomness, hex encoded) to
//! `<data-dir>/dev-signing.key` (mode 0600) and reuses them afterwards. It accepts HS256
//! tokens signed with that key whose issuer and audience are [`DEV_ISSUER`];
//! `entityd dev-token` mints them.

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use engine::domain::TenantId;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};

use super::jwt::{DEFAULT_PLATFORM_ADMIN_CLAIM, DEV_ISSUER, JwtConfig};

/// File name of the development key inside the data directory.
pub const DEV_KEY_FILE: &str = "dev-signing.key";
/// Bytes of a development key.
pub const DEV_KEY_BYTES: usize = 32;

/// Path of the development key of `data_dir`.
pub fn dev_key_path(data_dir: &Path) -> PathBuf {
    data_dir.join(DEV_KEY_FILE)
}

/// Reads the development key of `data_dir`, creating it first if missing; `true` when created.
pub fn load_or_create_dev_key(data_dir: &Path) -> std::io::Result<(Vec<u8>, bool)> {
    let path = dev_key_path(data_dir);
    match std::fs::read_to_string(&path) {
        Ok(text) => return decode_key(&text, &path).map(|k| (k, false)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    std::fs::create_dir_all(data_dir)?;
    let mut key = vec![0u8; DEV_KEY_BYTES];
    getrandom::getrandom(&mut key).map_err(std::io::Error::other)?;
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(&path) {
        Ok(mut file) => {
            file.write_all(hex.as_bytes())?;
            file.sync_all()?;
            Ok((key, true))
        }
        // Another process created it in between: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let text = std::fs::read_to_string(&path)?;
            decode_key(&text, &path).map(|k| (k, false))
        }
        Err(e) => Err(e),
    }
}

fn decode_key(text: &str, path: &Path) -> std::io::Result<Vec<u8>> {
    let text = text.trim();
    let bad = || {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "{} is not a development key (hex, at least {DEV_KEY_BYTES} bytes)",
                path.display()
            ),
        )
    };
    if !text.len().is_multiple_of(2) || text.len() < DEV_KEY_BYTES * 2 {
        return Err(bad());
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2).unwrap_or("zz"), 16).map_err(|_| bad()))
        .collect()
}

/// The JWT configuration accepting development tokens signed with `key`.
pub fn dev_jwt_config(key: Vec<u8>) -> JwtConfig {
    JwtConfig {
        issuer: DEV_ISSUER.to_owned(),
        audience: DEV_ISSUER.to_owned(),
        jwks: None,
        hs256_secret: Some(key),
        platform_admin_claim: DEFAULT_PLATFORM_ADMIN_CLAIM.to_owned(),
    }
}

/// Whom a development token is for.
#[derive(Clone, Debug)]
pub enum DevSubject {
    /// A platform administrator (subject `platform-admin`).
    PlatformAdmin,
    /// A user (or service) of a tenant.
    Tenant {
        /// The tenant.
        tenant: TenantId,
        /// The subject (an engine user id for users).
        sub: String,
    },
}

/// Mints a development token signed with `key`, valid for `ttl_secs`.
pub fn mint_dev_token(
    key: &[u8],
    subject: &DevSubject,
    ttl_secs: u64,
) -> jsonwebtoken::errors::Result<String> {
    let now = chrono::Utc::now().timestamp();
    let mut claims = serde_json::json!({
        "iss": DEV_ISSUER,
        "aud": DEV_ISSUER,
        "iat": now,
        "exp": now.saturating_add(i64::try_from(ttl_secs).unwrap_or(i64::MAX / 2)),
        "jti": uuid::Uuid::new_v4().to_string(),
    });
    match subject {
        DevSubject::PlatformAdmin => {
            claims["sub"] = "platform-admin".into();
            claims[DEFAULT_PLATFORM_ADMIN_CLAIM] = true.into();
        }
        DevSubject::Tenant { tenant, sub } => {
            claims["sub"] = sub.clone().into();
            claims["tenant_id"] = tenant.to_string().into();
        }
    }
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("entityd-dev".to_owned());
    encode(&header, &claims, &EncodingKey::from_secret(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let (k1, created) = load_or_create_dev_key(dir.path()).unwrap();
        assert!(created);
        assert_eq!(k1.len(), DEV_KEY_BYTES);
        let (k2, created) = load_or_create_dev_key(dir.path()).unwrap();
        assert!(!created);
        assert_eq!(k1, k2);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dev_key_path(dir.path()))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
