//! JWT bearer authentication.
//!
//! A request carries `authorization: Bearer <JWT>`. The token is accepted when:
//!
//! - its `alg` is one this node is configured for: RS256 / ES256 / EdDSA with a key from the
//!   JWKS (file or URL), or HS256 only when a shared secret was configured explicitly
//!   (`alg: none` and every other algorithm are refused);
//! - the key's algorithm matches the token's (`kid` selects the key; without a `kid` the JWKS
//!   must hold exactly one key of that algorithm);
//! - the signature verifies, `iss` and `aud` equal the configured ones, `exp` is present and
//!   not past, `nbf` (if present) is reached, all with a leeway of [`LEEWAY_SECS`].
//!
//! Claims read: `sub` (engine user id or service name), `tenant_id`, the platform-admin claim
//! (configurable name, default `platform_admin`, must be `true`), optional `act.sub` (acting
//! on behalf of) and `jti` (credential id; the header's `kid` when absent).
//!
//! Every failure answers UNAUTHENTICATED with the same generic message; the reason is logged
//! at debug level only.
//!
//! JWKS from a URL is fetched at start, cached, refreshed every [`JWKS_REFRESH_EVERY`], and
//! refreshed once when a token names an unknown `kid` (at most once per
//! [`JWKS_FORCED_REFRESH_MIN_INTERVAL`]).

use std::{
    path::PathBuf,
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

use engine::domain::TenantId;
use jsonwebtoken::{
    Algorithm, DecodingKey, Validation, decode, decode_header,
    jwk::{Jwk, JwkSet},
};
use serde_json::Value;
use tonic::{Code, Status, metadata::MetadataMap};

use super::{Authenticator, Caller};
use crate::status;

/// Clock leeway for `exp` and `nbf`.
pub const LEEWAY_SECS: u64 = 30;
/// A JWKS fetched from a URL is refreshed this often.
pub const JWKS_REFRESH_EVERY: Duration = Duration::from_secs(300);
/// An unknown `kid` forces a refresh at most this often.
pub const JWKS_FORCED_REFRESH_MIN_INTERVAL: Duration = Duration::from_secs(10);
/// Default name of the platform-admin claim.
pub const DEFAULT_PLATFORM_ADMIN_CLAIM: &str = "platform_admin";
/// Issuer and audience of the embedded mode's development tokens.
pub const DEV_ISSUER: &str = "entityd-dev";
/// The message of every authentication refusal.
pub const REFUSAL_MESSAGE: &str = "missing or invalid credentials";

/// Where the verification keys come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JwksSource {
    /// A JWKS document on disk (read at start).
    File(PathBuf),
    /// A JWKS document fetched over HTTP(S).
    Url(String),
}

/// Settings of the JWT authenticator.
#[derive(Clone, PartialEq, Eq)]
pub struct JwtConfig {
    /// Required `iss`.
    pub issuer: String,
    /// Required `aud`.
    pub audience: String,
    /// Asymmetric keys (RS256, ES256, EdDSA).
    pub jwks: Option<JwksSource>,
    /// HS256 shared secret; HS256 is refused without it.
    pub hs256_secret: Option<Vec<u8>>,
    /// Name of the boolean platform-admin claim.
    pub platform_admin_claim: String,
}

impl std::fmt::Debug for JwtConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtConfig")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("jwks", &self.jwks)
            .field(
                "hs256_secret",
                &self.hs256_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("platform_admin_claim", &self.platform_admin_claim)
            .finish()
    }
}

/// Why a JWKS could not be loaded.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct JwksError(String);

struct KeyCache {
    set: JwkSet,
    fetched: Instant,
    last_forced: Option<Instant>,
}

/// The JWT [`Authenticator`].
pub struct JwtAuthenticator {
    issuer: String,
    audience: String,
    admin_claim: String,
    hs256: Option<DecodingKey>,
    jwks: Option<JwksSource>,
    cache: RwLock<KeyCache>,
    refresh: tokio::sync::Mutex<()>,
    http: reqwest::Client,
}

impl std::fmt::Debug for JwtAuthenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtAuthenticator")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("jwks", &self.jwks)
            .finish_non_exhaustive()
    }
}

impl JwtAuthenticator {
    /// Builds the authenticator; a JWKS file must load, a JWKS URL is fetched once (a failure
    /// is logged and retried on demand).
    pub async fn new(config: JwtConfig) -> Result<Self, JwksError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| JwksError(format!("cannot build the HTTP client: {e}")))?;
        let set = match &config.jwks {
            Some(JwksSource::File(path)) => read_jwks_file(path)?,
            _ => JwkSet { keys: Vec::new() },
        };
        let me = Self {
            issuer: config.issuer,
            audience: config.audience,
            admin_claim: config.platform_admin_claim,
            hs256: config.hs256_secret.as_deref().map(DecodingKey::from_secret),
            jwks: config.jwks,
            cache: RwLock::new(KeyCache {
                set,
                fetched: Instant::now(),
                last_forced: None,
            }),
            refresh: tokio::sync::Mutex::new(()),
            http,
        };
        if let Some(JwksSource::Url(url)) = &me.jwks
            && let Err(e) = me.fetch_url(url).await
        {
            tracing::warn!(%url, error = %e, "cannot fetch the JWKS yet; will retry on demand");
        }
        Ok(me)
    }

    async fn fetch_url(&self, url: &str) -> Result<(), JwksError> {
        let response = self
            .http
            .get(url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| JwksError(format!("fetching JWKS {url}: {e}")))?;
        let body = response
            .bytes()
            .await
            .map_err(|e| JwksError(format!("reading JWKS {url}: {e}")))?;
        let set: JwkSet = serde_json::from_slice(&body)
            .map_err(|e| JwksError(format!("JWKS {url} is not a JWK set: {e}")))?;
        tracing::debug!(%url, keys = set.keys.len(), "JWKS refreshed");
        let mut cache = self.cache.write().unwrap_or_else(|p| p.into_inner());
        cache.set = set;
        cache.fetched = Instant::now();
        Ok(())
    }

    fn find_key(&self, kid: Option<&str>, alg: Algorithm) -> Option<Jwk> {
        let cache = self.cache.read().unwrap_or_else(|p| p.into_inner());
        match kid {
            Some(kid) => cache.set.find(kid).cloned(),
            None => {
                let mut fitting = cache.set.keys.iter().filter(|k| key_fits(k, alg));
                match (fitting.next(), fitting.next()) {
                    (Some(only), None) => Some(only.clone()),
                    _ => None,
                }
            }
        }
    }

    /// Refreshes a URL JWKS when it is stale, or (`forced`) for an unknown `kid`, rate-limited.
    async fn maybe_refresh(&self, forced: bool) {
        let Some(JwksSource::Url(url)) = &self.jwks else {
            return;
        };
        let _guard = self.refresh.lock().await;
        let due = {
            let mut cache = self.cache.write().unwrap_or_else(|p| p.into_inner());
            if forced {
                let allowed = cache
                    .last_forced
                    .is_none_or(|t| t.elapsed() >= JWKS_FORCED_REFRESH_MIN_INTERVAL);
                if allowed {
                    cache.last_forced = Some(Instant::now());
                }
                allowed
            } else {
                cache.fetched.elapsed() >= JWKS_REFRESH_EVERY
            }
        };
        if due && let Err(e) = self.fetch_url(url).await {
            tracing::warn!(%url, error = %e, "JWKS refresh failed; keeping the cached keys");
        }
    }

    async fn verify(&self, metadata: &MetadataMap) -> Result<Caller, String> {
        let value = metadata
            .get("authorization")
            .ok_or("no authorization metadata")?
            .to_str()
            .map_err(|_| "authorization metadata is not ASCII")?;
        let token = value
            .split_once(' ')
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, t)| t.trim())
            .ok_or("authorization is not a bearer token")?;
        let header = decode_header(token).map_err(|e| format!("bad JWT header: {e}"))?;
        let alg = header.alg;
        let key = match alg {
            Algorithm::HS256 => self
                .hs256
                .clone()
                .ok_or("HS256 token but no HS256 secret is configured")?,
            Algorithm::RS256 | Algorithm::ES256 | Algorithm::EdDSA => {
                if self.jwks.is_none() {
                    return Err(format!("{alg:?} token but no JWKS is configured"));
                }
                self.maybe_refresh(false).await;
                let kid = header.kid.as_deref();
                let jwk = match self.find_key(kid, alg) {
                    Some(jwk) => jwk,
                    None => {
                        self.maybe_refresh(true).await;
                        self.find_key(kid, alg)
                            .ok_or_else(|| format!("no key for kid {kid:?} and {alg:?}"))?
                    }
                };
                if !key_fits(&jwk, alg) {
                    return Err(format!("key {kid:?} does not fit {alg:?}"));
                }
                DecodingKey::from_jwk(&jwk).map_err(|e| format!("unusable JWK {kid:?}: {e}"))?
            }
            other => return Err(format!("algorithm {other:?} is not accepted")),
        };
        if key.family() != alg.family() {
            return Err(format!("key family does not fit {alg:?}"));
        }
        let mut validation = Validation::new(alg);
        validation.leeway = LEEWAY_SECS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = true;
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        let data = decode::<serde_json::Map<String, Value>>(token, &key, &validation)
            .map_err(|e| format!("token rejected: {e}"))?;
        let claims = data.claims;
        let subject = claims
            .get("sub")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or("sub is not a non-empty string")?
            .to_owned();
        let tenant_id = match claims.get("tenant_id") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(
                s.parse::<TenantId>()
                    .map_err(|_| "tenant_id is not a UUID")?,
            ),
            Some(_) => return Err("tenant_id is not a string".to_owned()),
        };
        let platform_admin = claims.get(&self.admin_claim) == Some(&Value::Bool(true));
        let on_behalf_of = claims
            .get("act")
            .and_then(|a| a.get("sub"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let credential_id = claims
            .get("jti")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or(data.header.kid);
        Ok(Caller {
            subject,
            tenant_id,
            platform_admin,
            credential_kind: "jwt".to_owned(),
            credential_id,
            on_behalf_of,
        })
    }
}

/// Whether a JWK may verify tokens of `alg` (its declared algorithm, if any, and its type).
fn key_fits(jwk: &Jwk, alg: Algorithm) -> bool {
    use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, KeyAlgorithm};
    let declared_ok = match jwk.common.key_algorithm {
        None => true,
        Some(declared) => matches!(
            (declared, alg),
            (KeyAlgorithm::RS256, Algorithm::RS256)
                | (KeyAlgorithm::ES256, Algorithm::ES256)
                | (KeyAlgorithm::EdDSA, Algorithm::EdDSA)
        ),
    };
    let type_ok = match (&jwk.algorithm, alg) {
        (AlgorithmParameters::RSA(_), Algorithm::RS256) => true,
        (AlgorithmParameters::EllipticCurve(p), Algorithm::ES256) => p.curve == EllipticCurve::P256,
        (AlgorithmParameters::OctetKeyPair(p), Algorithm::EdDSA) => {
            p.curve == EllipticCurve::Ed25519
        }
        _ => false,
    };
    declared_ok && type_ok
}

fn read_jwks_file(path: &std::path::Path) -> Result<JwkSet, JwksError> {
    let text = std::fs::read(path)
        .map_err(|e| JwksError(format!("cannot read JWKS file {}: {e}", path.display())))?;
    let set: JwkSet = serde_json::from_slice(&text).map_err(|e| {
        JwksError(format!(
            "JWKS file {} is not a JWK set: {e}",
            path.display()
        ))
    })?;
    if set.keys.is_empty() {
        return Err(JwksError(format!(
            "JWKS file {} holds no keys",
            path.display()
        )));
    }
    Ok(set)
}

#[async_trait::async_trait]
impl Authenticator for JwtAuthenticator {
    async fn authenticate(&self, metadata: &MetadataMap) -> Result<Caller, Status> {
        self.verify(metadata).await.map_err(|reason| {
            tracing::debug!(%reason, "JWT refused");
            status::refusal(Code::Unauthenticated, "UNAUTHENTICATED", REFUSAL_MESSAGE)
        })
    }
}

/// Shared handle, so a server and its owner can both hold the authenticator.
pub type SharedJwt = Arc<JwtAuthenticator>;
