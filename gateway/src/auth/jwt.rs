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
//! on behalf of), `jti` (credential id; the header's `kid` when absent), and `email` when
//! `email_verified` is `true` (a person registering themself, RegisterUser).
//!
//! Every failure answers UNAUTHENTICATED with the same generic message; the reason is logged
//! at debug level only.
//!
//! A token that verified is kept (under its SHA-256) until its `exp`, the next change of keys
//! or [`KEEP_AT_MOST`], whichever comes first, so that the same token on the next call is not
//! verified again (see [`super::verified_tokens`]).
//!
//! A JWKS (file or URL) is loaded at start, cached, re-loaded every [`JWKS_REFRESH_EVERY`]
//! (checked when a token arrives), and re-loaded once when a token names an unknown `kid` (at
//! most once per [`JWKS_FORCED_REFRESH_MIN_INTERVAL`]); so replacing the file or publishing at
//! the URL rotates keys without a restart. A load that fails (unreadable, not a JWK set, an
//! empty file) is logged and keeps the cached keys; it is retried at the next interval or
//! unknown `kid`, not on every request.

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

use super::{
    Authenticator, Caller,
    verified_tokens::{CAPACITY, VerifiedTokens},
};
use crate::status;

pub use super::verified_tokens::KEEP_AT_MOST;

/// Clock leeway for `exp` and `nbf`.
pub const LEEWAY_SECS: u64 = 30;
/// A JWKS (file or URL) is re-loaded this often.
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
    /// A JWKS document on disk (read at start and re-read like a URL).
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
    /// The last load attempt, successful or not.
    loaded: Instant,
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
    refresh_every: Duration,
    http: reqwest::Client,
    verified: VerifiedTokens,
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
            Some(JwksSource::File(path)) => read_jwks_file(path).await?,
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
                loaded: Instant::now(),
                last_forced: None,
            }),
            refresh: tokio::sync::Mutex::new(()),
            refresh_every: JWKS_REFRESH_EVERY,
            http,
            verified: VerifiedTokens::new(CAPACITY, KEEP_AT_MOST),
        };
        if let Some(JwksSource::Url(url)) = &me.jwks {
            match me.fetch_url(url).await {
                Ok(set) => me.store(set),
                Err(e) => {
                    tracing::warn!(%url, error = %e, "cannot fetch the JWKS yet; will retry on demand");
                }
            }
        }
        Ok(me)
    }

    /// Re-loads the JWKS every `every` instead of [`JWKS_REFRESH_EVERY`] (tests, tuning).
    #[must_use]
    pub fn with_refresh_every(mut self, every: Duration) -> Self {
        self.refresh_every = every;
        self
    }

    /// Replaces the cached keys (every token verified with the old ones is verified again).
    fn store(&self, set: JwkSet) {
        let mut cache = self.cache.write().unwrap_or_else(|p| p.into_inner());
        cache.set = set;
        cache.loaded = Instant::now();
        self.verified.keys_changed();
    }

    /// Loads the JWKS from its source.
    async fn load(&self, source: &JwksSource) -> Result<JwkSet, JwksError> {
        match source {
            JwksSource::File(path) => read_jwks_file(path).await,
            JwksSource::Url(url) => self.fetch_url(url).await,
        }
    }

    async fn fetch_url(&self, url: &str) -> Result<JwkSet, JwksError> {
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
        Ok(set)
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

    /// Re-loads the JWKS when it is stale, or (`forced`) for an unknown `kid`, rate-limited.
    /// A failed load keeps the cached keys and waits for the next interval.
    async fn maybe_refresh(&self, forced: bool) {
        let Some(source) = &self.jwks else {
            return;
        };
        let fresh = || {
            let cache = self.cache.read().unwrap_or_else(|p| p.into_inner());
            cache.loaded.elapsed() < self.refresh_every
        };
        if !forced && fresh() {
            return;
        }
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
                cache.loaded.elapsed() >= self.refresh_every
            }
        };
        if !due {
            return;
        }
        match self.load(source).await {
            Ok(set) => {
                tracing::debug!(source = ?source, keys = set.keys.len(), "JWKS refreshed");
                self.store(set);
            }
            Err(e) => {
                tracing::warn!(source = ?source, error = %e, "JWKS refresh failed; keeping the cached keys");
                self.cache.write().unwrap_or_else(|p| p.into_inner()).loaded = Instant::now();
            }
        }
    }

    async fn verify(&self, metadata: &MetadataMap) -> Result<Caller, String> {
        let token = bearer_token(metadata)?;
        let digest = VerifiedTokens::digest(token);
        if let Some(kept) = self.verified.get(&digest) {
            if kept.by_jwks {
                self.maybe_refresh(false).await;
            }
            let now = jsonwebtoken::get_current_timestamp();
            if self.verified.accepts(&digest, &kept, now) {
                return Ok(kept.caller.clone());
            }
        }
        // Read before the keys, so that a token verified with keys replaced meanwhile is not
        // kept as current.
        let generation = self.verified.generation();
        let verified = self.verify_token(token).await?;
        if let Some(not_after) = verified.not_after {
            self.verified.insert(
                digest,
                verified.caller.clone(),
                not_after,
                verified.by_jwks,
                generation,
            );
        }
        Ok(verified.caller)
    }

    /// Verifies `token` in full.
    async fn verify_token(&self, token: &str) -> Result<TokenCaller, String> {
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
        let not_after = claims
            .get("exp")
            .and_then(Value::as_u64)
            .map(|exp| exp.saturating_add(LEEWAY_SECS));
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
        // The person's address, only when the identity provider says it verified it.
        let verified_email = match (claims.get("email"), claims.get("email_verified")) {
            (Some(Value::String(email)), Some(Value::Bool(true))) if !email.trim().is_empty() => {
                Some(email.trim().to_owned())
            }
            _ => None,
        };
        let caller = Caller {
            subject,
            tenant_id,
            platform_admin,
            credential_kind: "jwt".to_owned(),
            credential_id,
            on_behalf_of,
            api_key: None,
            verified_email,
            search_grant: None,
        };
        Ok(TokenCaller {
            caller,
            not_after,
            by_jwks: alg != Algorithm::HS256,
        })
    }
}

/// What a verified token says.
struct TokenCaller {
    caller: Caller,
    /// `exp` plus the leeway, if `exp` is a whole number of seconds.
    not_after: Option<u64>,
    /// Its key came from the JWKS.
    by_jwks: bool,
}

/// The token of `authorization: Bearer <token>`.
fn bearer_token(metadata: &MetadataMap) -> Result<&str, String> {
    let value = metadata
        .get("authorization")
        .ok_or("no authorization metadata")?
        .to_str()
        .map_err(|_| "authorization metadata is not ASCII")?;
    Ok(value
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim())
        .ok_or("authorization is not a bearer token")?)
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

async fn read_jwks_file(path: &std::path::Path) -> Result<JwkSet, JwksError> {
    let text = tokio::fs::read(path)
        .await
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

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// An Ed25519 public JWK (RFC 8037's example key) named `kid`.
    fn jwks_with(kid: &str) -> String {
        format!(
            r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","alg":"EdDSA","kid":"{kid}","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}}]}}"#
        )
    }

    async fn from_file(path: &std::path::Path) -> JwtAuthenticator {
        JwtAuthenticator::new(JwtConfig {
            issuer: "i".into(),
            audience: "a".into(),
            jwks: Some(JwksSource::File(path.to_owned())),
            hs256_secret: None,
            platform_admin_claim: DEFAULT_PLATFORM_ADMIN_CLAIM.into(),
        })
        .await
        .unwrap()
    }

    fn knows(auth: &JwtAuthenticator, kid: &str) -> bool {
        auth.find_key(Some(kid), Algorithm::EdDSA).is_some()
    }

    /// Log output captured by a thread-local subscriber.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn text(&self) -> String {
            String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
        }
    }

    #[tokio::test]
    async fn an_unknown_kid_re_reads_the_file_once_per_interval() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("jwks.json");
        std::fs::write(&file, jwks_with("old")).unwrap();
        let auth = from_file(&file).await;
        assert!(knows(&auth, "old"));
        std::fs::write(&file, jwks_with("new")).unwrap();
        auth.maybe_refresh(false).await;
        assert!(!knows(&auth, "new"), "fresh cache: no re-read");
        auth.maybe_refresh(true).await;
        assert!(knows(&auth, "new") && !knows(&auth, "old"), "re-read");
        std::fs::write(&file, jwks_with("newer")).unwrap();
        auth.maybe_refresh(true).await;
        assert!(!knows(&auth, "newer"), "forced re-reads are rate-limited");
    }

    #[tokio::test]
    async fn a_stale_cache_re_reads_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("jwks.json");
        std::fs::write(&file, jwks_with("old")).unwrap();
        let auth = from_file(&file)
            .await
            .with_refresh_every(Duration::from_millis(50));
        std::fs::write(&file, jwks_with("new")).unwrap();
        tokio::time::sleep(Duration::from_millis(60)).await;
        auth.maybe_refresh(false).await;
        assert!(knows(&auth, "new") && !knows(&auth, "old"));
    }

    #[tokio::test]
    async fn a_bad_new_file_keeps_the_cached_keys_and_is_logged() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("jwks.json");
        std::fs::write(&file, jwks_with("old")).unwrap();
        let auth = from_file(&file).await.with_refresh_every(Duration::ZERO);
        for bad in ["{ not json", r#"{"keys":[]}"#] {
            std::fs::write(&file, bad).unwrap();
            auth.maybe_refresh(false).await;
            assert!(knows(&auth, "old"), "{bad}: the old keys stay");
        }
        std::fs::remove_file(&file).unwrap();
        auth.maybe_refresh(false).await;
        assert!(knows(&auth, "old"), "missing file: the old keys stay");
        let logs = captured.text();
        assert_eq!(
            logs.matches("JWKS refresh failed; keeping the cached keys")
                .count(),
            3,
            "{logs}"
        );
        assert!(logs.contains("WARN"), "{logs}");
        assert!(logs.contains("is not a JWK set"), "{logs}");
        assert!(logs.contains("holds no keys"), "{logs}");
    }

    #[tokio::test]
    async fn a_failed_load_waits_for_the_next_interval() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("jwks.json");
        std::fs::write(&file, jwks_with("old")).unwrap();
        let auth = from_file(&file)
            .await
            .with_refresh_every(Duration::from_millis(200));
        std::fs::write(&file, "garbage").unwrap();
        tokio::time::sleep(Duration::from_millis(210)).await;
        auth.maybe_refresh(false).await; // fails, counts as an attempt
        std::fs::write(&file, jwks_with("new")).unwrap();
        auth.maybe_refresh(false).await;
        assert!(!knows(&auth, "new"), "no retry on every request");
        tokio::time::sleep(Duration::from_millis(210)).await;
        auth.maybe_refresh(false).await;
        assert!(knows(&auth, "new"));
    }
}
