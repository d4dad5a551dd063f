//! JWTs this node has verified, kept so that the next call with the same token skips the
//! verification (as Envoy's `jwt_cache_config` does).
//!
//! A client presents the same token on every call until it expires, and verifying it again
//! (header and claims decoded into maps, the validation rules built, the signature checked)
//! was most of what authentication cost a call. A token that verified is kept under its
//! SHA-256 (not the token itself: a bearer token in memory is a credential) with the caller
//! its claims make, and is accepted again without a second look only while all of this holds:
//!
//! - `exp` (with the same leeway) has not passed: checked at every use;
//! - the verification keys are the ones it was verified with: a JWKS load bumps a generation
//!   number and every token verified before it is verified again (so a key removed from the
//!   JWKS refuses its tokens after the next load, as without the cache);
//! - it was verified at most [`KEEP_AT_MOST`] ago, and it is one of the [`CAPACITY`] tokens
//!   the cache chose to keep (moka's TinyLFU: a flood of new tokens does not push out the
//!   ones in use).
//!
//! `nbf` needs no second check (once reached it stays reached), and a refused token is never
//! kept. The caller is a pure function of the claims, so a kept one is the one a verification
//! would make.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use sha2::{Digest, Sha256};

use super::Caller;

/// How many verified tokens a node keeps at most (about 300 bytes each).
pub const CAPACITY: u64 = 10_000;
/// How long a verified token is kept at most, however long it stays valid.
pub const KEEP_AT_MOST: Duration = Duration::from_secs(300);

/// The SHA-256 of a presented token, the cache's key.
pub(super) type TokenDigest = [u8; 32];

/// A verified token.
#[derive(Debug)]
pub(super) struct Verified {
    /// The caller its claims make.
    pub caller: Caller,
    /// The last second (Unix time) it is accepted: `exp` plus the leeway.
    pub not_after: u64,
    /// It was verified with a key of the JWKS (which a load may replace), not the HS256 secret.
    pub by_jwks: bool,
    /// The key generation it was verified with.
    generation: u64,
}

/// The verified tokens of one authenticator.
pub(super) struct VerifiedTokens {
    tokens: moka::sync::Cache<TokenDigest, Arc<Verified>>,
    /// Bumped whenever the verification keys change.
    generation: AtomicU64,
}

impl VerifiedTokens {
    pub fn new(capacity: u64, keep_at_most: Duration) -> Self {
        Self {
            tokens: moka::sync::Cache::builder()
                .max_capacity(capacity)
                .time_to_live(keep_at_most)
                .build(),
            generation: AtomicU64::new(0),
        }
    }

    /// The key of `token`.
    pub fn digest(token: &str) -> TokenDigest {
        Sha256::digest(token.as_bytes()).into()
    }

    /// The current key generation: read it before reading the keys a verification uses.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The verification keys changed: every token kept so far is verified again.
    pub fn keys_changed(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// The token of `digest`, if one is kept (whether it is still current is [`Self::accepts`]'s
    /// to say, after a JWKS token has had its chance to refresh the keys).
    pub fn get(&self, digest: &TokenDigest) -> Option<Arc<Verified>> {
        self.tokens.get(digest)
    }

    /// Whether `verified` may stand for a verification at `now` (Unix seconds); forgets it if not.
    pub fn accepts(&self, digest: &TokenDigest, verified: &Verified, now: u64) -> bool {
        let current = verified.generation == self.generation() && now <= verified.not_after;
        if !current {
            self.tokens.invalidate(digest);
        }
        current
    }

    /// Keeps a token that verified with the keys of `generation`.
    pub fn insert(
        &self,
        digest: TokenDigest,
        caller: Caller,
        not_after: u64,
        by_jwks: bool,
        generation: u64,
    ) {
        self.tokens.insert(
            digest,
            Arc::new(Verified {
                caller,
                not_after,
                by_jwks,
                generation,
            }),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(subject: &str) -> Caller {
        Caller {
            subject: subject.to_owned(),
            tenant_id: None,
            platform_admin: false,
            credential_kind: "jwt".to_owned(),
            credential_id: None,
            on_behalf_of: None,
            api_key: None,
            verified_email: None,
            search_grant: None,
        }
    }

    /// Keeps `token` as `subject`'s.
    fn keep(
        tokens: &VerifiedTokens,
        token: &str,
        subject: &str,
        not_after: u64,
        by_jwks: bool,
        generation: u64,
    ) {
        let digest = VerifiedTokens::digest(token);
        tokens.insert(digest, caller(subject), not_after, by_jwks, generation);
    }

    fn kept(tokens: &VerifiedTokens, token: &str, now: u64) -> Option<String> {
        let digest = VerifiedTokens::digest(token);
        let verified = tokens.get(&digest)?;
        tokens
            .accepts(&digest, &verified, now)
            .then(|| verified.caller.subject.clone())
    }

    #[test]
    fn a_token_is_accepted_until_its_last_second_and_then_forgotten() {
        let tokens = VerifiedTokens::new(CAPACITY, KEEP_AT_MOST);
        let generation = tokens.generation();
        keep(&tokens, "t", "alice", 1_000, false, generation);
        assert_eq!(kept(&tokens, "t", 1_000).as_deref(), Some("alice"));
        assert_eq!(kept(&tokens, "t", 1_001), None);
        assert_eq!(kept(&tokens, "t", 999), None, "forgotten once past");
    }

    #[test]
    fn only_the_same_token_finds_it() {
        let tokens = VerifiedTokens::new(CAPACITY, KEEP_AT_MOST);
        let generation = tokens.generation();
        keep(&tokens, "token-a", "alice", u64::MAX, false, generation);
        assert_eq!(kept(&tokens, "token-b", 0), None);
        assert_eq!(kept(&tokens, "token-a ", 0), None);
        assert_eq!(kept(&tokens, "token-a", 0).as_deref(), Some("alice"));
    }

    #[test]
    fn new_keys_make_every_kept_token_verify_again() {
        let tokens = VerifiedTokens::new(CAPACITY, KEEP_AT_MOST);
        let before = tokens.generation();
        keep(&tokens, "t", "alice", u64::MAX, true, before);
        tokens.keys_changed();
        assert_eq!(kept(&tokens, "t", 0), None);
        // A verification that read the keys before they changed keeps a stale token.
        keep(&tokens, "u", "bob", u64::MAX, true, before);
        assert_eq!(kept(&tokens, "u", 0), None);
    }

    #[test]
    fn a_token_is_kept_at_most_the_time_given() {
        let tokens = VerifiedTokens::new(CAPACITY, Duration::from_millis(50));
        let generation = tokens.generation();
        keep(&tokens, "t", "alice", u64::MAX, false, generation);
        assert!(kept(&tokens, "t", 0).is_some());
        std::thread::sleep(Duration::from_millis(120));
        assert_eq!(kept(&tokens, "t", 0), None);
    }
}
