//! Secured search keys as credentials of SearchCustomers (issue 20).
//!
//! A browser presents a key in the `x-search-key` metadata, with no bearer credential. The
//! key is checked here, without any lookup (HMAC and expiry, [`crate::search_key`]): an
//! invalid or changed key is UNAUTHENTICATED `SEARCH_KEY_INVALID`, an expired one
//! `SEARCH_KEY_EXPIRED`. The caller is then the key: platform-wide, or of the tenant whose
//! clients it searches, holding [`Caller::search_grant`] — which the authorizer lets through
//! SearchCustomers only (PERMISSION_DENIED `SEARCH_KEY_ONLY_SEARCHES` for any other RPC).

use std::sync::Arc;

use engine::runtime::Engine;
use tonic::{Code, Status, metadata::MetadataMap};

use super::{Authenticator, Caller};
use crate::{
    search_key::{self, SearchKeyError},
    status,
};

/// The metadata key carrying a search key.
pub const SEARCH_KEY_HEADER: &str = "x-search-key";
/// The credential kind of search-key callers.
pub const CREDENTIAL_KIND: &str = "search-key";

/// Accepts search keys, and hands every other call to `inner`.
pub struct SearchKeyAuthenticator {
    inner: Arc<dyn Authenticator>,
    engine: Engine,
}

impl SearchKeyAuthenticator {
    /// Keys verified with `engine`'s master keys; other credentials go to `inner`.
    pub fn new(inner: Arc<dyn Authenticator>, engine: Engine) -> Self {
        Self { inner, engine }
    }
}

#[async_trait::async_trait]
impl Authenticator for SearchKeyAuthenticator {
    async fn authenticate(&self, metadata: &MetadataMap) -> Result<Caller, Status> {
        let Some(presented) = metadata.get(SEARCH_KEY_HEADER) else {
            return self.inner.authenticate(metadata).await;
        };
        let invalid = || {
            status::refusal(
                Code::Unauthenticated,
                "SEARCH_KEY_INVALID",
                "the search key is not valid (malformed, changed, or of another cluster)",
            )
        };
        if metadata.contains_key("authorization") {
            return Err(status::refusal(
                Code::Unauthenticated,
                "TWO_CREDENTIALS",
                "send a search key or a bearer credential, not both",
            ));
        }
        let key = presented.to_str().map_err(|_| invalid())?;
        let grant = search_key::verify(self.engine.vault().master(), key, chrono::Utc::now())
            .map_err(|e| match e {
                SearchKeyError::Invalid => invalid(),
                SearchKeyError::Expired => status::refusal(
                    Code::Unauthenticated,
                    "SEARCH_KEY_EXPIRED",
                    "the search key has expired; ask for a new one",
                ),
            })?;
        Ok(Caller {
            subject: CREDENTIAL_KIND.to_owned(),
            tenant_id: grant.scope.tenant(),
            platform_admin: false,
            credential_kind: CREDENTIAL_KIND.to_owned(),
            credential_id: None,
            on_behalf_of: None,
            api_key: None,
            verified_email: None,
            search_grant: Some(grant),
        })
    }
}
