//! Data-partition API keys as credentials of this API (SPEC §5.1, §5.5).
//!
//! A call presents a key as `authorization: ApiKey <key>` or `x-api-key: <key>`. The key's
//! format and checksum are checked first, without any lookup (a mistyped key is
//! UNAUTHENTICATED `API_KEY_MALFORMED`). Then the tenant's actor verifies it, on whichever node
//! holds the tenant (revoked, expired, tenant, client or partition not active:
//! UNAUTHENTICATED `API_KEY_<why>`). The caller is the key: its tenant is the key's, and every
//! permission check goes to the tenant's actor as a requirement naming the key, which verifies
//! the key again in the same visit — so a key revoked an instant before a command stops it.
//! Events written by such a caller record credential kind `api-key` and the key's id.

use std::sync::Arc;

use engine::{
    domain::{ApiKey, ApiKeyId, KeyRefusal, SecretHash},
    runtime::{Engine, Subject},
    secrets::api_key::{self, PresentedKey},
};
use tonic::{Code, Status, metadata::MetadataMap};

use super::{Authenticator, Caller};
use crate::status;

/// The metadata key carrying a key on its own.
pub const API_KEY_HEADER: &str = "x-api-key";
/// The `authorization` scheme of a key.
pub const API_KEY_SCHEME: &str = "ApiKey";
/// The credential kind of key callers in the audit trail.
pub const CREDENTIAL_KIND: &str = "api-key";

/// What a caller presented as an API key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyCredential {
    /// The key's id.
    pub id: ApiKeyId,
    /// SHA-256 of the presented key.
    pub hash: SecretHash,
}

impl KeyCredential {
    /// The subject of a permission requirement for this key.
    pub fn subject(&self) -> Subject {
        Subject::ApiKey {
            id: self.id,
            hash: self.hash,
        }
    }
}

/// How many verifications at once may load a tenant that is not in memory (see
/// [`ApiKeyAuthenticator`]).
pub const COLD_VERIFICATIONS: usize = 8;

/// Accepts API keys, and hands every other call to `inner`.
///
/// A key is checked before anyone is authenticated, and anyone can write a well-formed key
/// naming any tenant (the checksum is public). A key of a tenant in memory is verified at once;
/// one that would make the node load its tenant (a journal read, an actor) waits for one of
/// [`COLD_VERIFICATIONS`] permits or is UNAVAILABLE (retry), so made-up keys cannot turn into
/// unbounded store reads that slow everyone's calls: a legitimate tenant is loaded once and
/// stays in memory while it is used.
pub struct ApiKeyAuthenticator {
    inner: Arc<dyn Authenticator>,
    engine: Engine,
    cold: tokio::sync::Semaphore,
}

impl ApiKeyAuthenticator {
    /// Keys verified against `engine`; other credentials go to `inner`.
    pub fn new(inner: Arc<dyn Authenticator>, engine: Engine) -> Self {
        Self {
            inner,
            engine,
            cold: tokio::sync::Semaphore::new(COLD_VERIFICATIONS),
        }
    }

    /// The key's verdict from its tenant's actor (on the node that holds the tenant).
    async fn verify(&self, key: &PresentedKey) -> Result<Result<ApiKey, KeyRefusal>, Status> {
        let engine_error = |e| status::from_engine_error(e, "");
        if let Some(verdict) = self
            .engine
            .verify_api_key_if_live(key.clone())
            .await
            .map_err(engine_error)?
        {
            return Ok(verdict);
        }
        let _permit = self.cold.try_acquire().map_err(|_| {
            status::unavailable(
                "too many API keys of tenants not in memory are being verified; retry",
            )
        })?;
        self.engine
            .verify_api_key(key.clone())
            .await
            .map_err(engine_error)
    }
}

#[async_trait::async_trait]
impl Authenticator for ApiKeyAuthenticator {
    async fn authenticate(&self, metadata: &MetadataMap) -> Result<Caller, Status> {
        let Some(presented) = presented_key(metadata)? else {
            return self.inner.authenticate(metadata).await;
        };
        let key = api_key::parse(presented).map_err(|e| {
            status::refusal(Code::Unauthenticated, "API_KEY_MALFORMED", e.to_string())
        })?;
        self.verify(&key).await?.map_err(status::key_refused)?;
        Ok(caller_of(key))
    }
}

/// The caller a key stands for.
fn caller_of(key: PresentedKey) -> Caller {
    Caller {
        subject: format!("{CREDENTIAL_KIND}:{}", key.id),
        tenant_id: Some(key.tenant),
        platform_admin: false,
        credential_kind: CREDENTIAL_KIND.to_owned(),
        credential_id: Some(key.id.to_string()),
        on_behalf_of: None,
        api_key: Some(KeyCredential {
            id: key.id,
            hash: key.hash,
        }),
        verified_email: None,
        search_grant: None,
    }
}

/// The key a call presents, if any: `x-api-key`, or `authorization: ApiKey …`. Two
/// credentials at once (a key and a bearer token, or two keys) are refused: which one would
/// count is not for the server to guess.
fn presented_key(metadata: &MetadataMap) -> Result<Option<&str>, Status> {
    let ambiguous = || {
        status::refusal(
            Code::Unauthenticated,
            "AMBIGUOUS_CREDENTIALS",
            "send one credential: an API key or a bearer token, once",
        )
    };
    let headers: Vec<_> = metadata.get_all(API_KEY_HEADER).iter().collect();
    let authorizations: Vec<_> = metadata.get_all("authorization").iter().collect();
    let from_authorization = match authorizations.as_slice() {
        [] => None,
        [one] => one
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix(API_KEY_SCHEME))
            .and_then(|rest| rest.strip_prefix(' '))
            .map(str::trim),
        _ => return Err(ambiguous()),
    };
    match (headers.as_slice(), from_authorization) {
        ([], key) => Ok(key),
        ([one], None) if authorizations.is_empty() => {
            one.to_str().map(|v| Some(v.trim())).map_err(|_| {
                status::refusal(
                    Code::Unauthenticated,
                    "API_KEY_MALFORMED",
                    "x-api-key is not an API key",
                )
            })
        }
        _ => Err(ambiguous()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(pairs: &[(&'static str, &str)]) -> MetadataMap {
        let mut m = MetadataMap::new();
        for (k, v) in pairs {
            m.append(*k, v.parse().unwrap());
        }
        m
    }

    #[test]
    fn a_key_comes_in_either_header_and_only_once() {
        assert_eq!(presented_key(&metadata(&[])).unwrap(), None);
        assert_eq!(
            presented_key(&metadata(&[("authorization", "Bearer x")])).unwrap(),
            None
        );
        assert_eq!(
            presented_key(&metadata(&[("authorization", "ApiKey eek_1")])).unwrap(),
            Some("eek_1")
        );
        assert_eq!(
            presented_key(&metadata(&[("x-api-key", "eek_2")])).unwrap(),
            Some("eek_2")
        );
        for two in [
            metadata(&[("x-api-key", "eek_2"), ("authorization", "Bearer x")]),
            metadata(&[("x-api-key", "eek_2"), ("x-api-key", "eek_3")]),
            metadata(&[("authorization", "ApiKey a"), ("authorization", "ApiKey b")]),
        ] {
            assert_eq!(
                presented_key(&two).unwrap_err().code(),
                Code::Unauthenticated
            );
        }
    }
}
