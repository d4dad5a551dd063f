//! Bearer tokens: given as-is (`--token` / `ENTITYCTL_TOKEN`), or minted as an HS256
//! platform-admin token from the server's shared secret (development and testing only).

use std::{path::Path, time::SystemTime};

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};

use crate::LoadError;

/// Lifetime of a minted token: longer than any run.
const MINTED_TTL_SECS: u64 = 24 * 3600;

/// Mints a platform-admin HS256 token with the secret in `secret_file` (trimmed of ASCII
/// whitespace, as `entityd` reads it).
pub fn mint_platform_admin(
    secret_file: &Path,
    issuer: &str,
    audience: &str,
) -> Result<String, LoadError> {
    let secret = std::fs::read(secret_file)
        .map_err(|e| LoadError::Config(format!("cannot read {}: {e}", secret_file.display())))?;
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_err(|e| LoadError::Config(format!("clock before 1970: {e}")))?
        .as_secs();
    let claims = serde_json::json!({
        "iss": issuer,
        "aud": audience,
        "sub": "entity-load",
        "iat": now,
        "exp": now + MINTED_TTL_SECS,
        "platform_admin": true,
    });
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.trim_ascii()),
    )
    .map_err(|e| LoadError::Config(format!("cannot mint a token: {e}")))
}
