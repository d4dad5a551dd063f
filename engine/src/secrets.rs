//! Secrets we issue: invitation tokens and API keys ([`api_key`]), random, shown once, stored
//! only as SHA-256 hashes.
//!
//! Invitation tokens:
//! Format: `inv1.<user id, 32 hex>.<64 hex of random>`. The user id inside lets the engine find
//! the invitation without an index of hashes; the random part (256 bits from the OS CSPRNG,
//! through two UUIDv4) makes it unguessable.

pub mod api_key;

use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::domain::{SecretHash, UserId};

/// A freshly issued token: give `plaintext` to the caller once, store only `hash`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuedToken {
    /// The token to hand out.
    pub plaintext: String,
    /// SHA-256 of the token.
    pub hash: SecretHash,
}

/// Issues a new invitation token for a user.
pub fn issue_invitation_token(user_id: UserId) -> IssuedToken {
    let random = format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
    let plaintext = format!("inv1.{}.{random}", user_id.0.simple());
    let hash = token_hash(&plaintext);
    IssuedToken { plaintext, hash }
}

/// SHA-256 of a token.
pub fn token_hash(token: &str) -> SecretHash {
    SecretHash::from_bytes(Sha256::digest(token.as_bytes()).into())
}

/// The user a presented token names and its hash, or `None` if it is not of our format.
pub fn parse_invitation_token(token: &str) -> Option<(UserId, SecretHash)> {
    let mut parts = token.split('.');
    let (Some("inv1"), Some(user), Some(random), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let well_formed = user.len() == 32
        && random.len() == 64
        && random
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
    if !well_formed {
        return None;
    }
    let user_id = Uuid::try_parse(user).ok().map(UserId)?;
    Some((user_id, token_hash(token)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_parse_back_to_their_user_and_hash() {
        let user = UserId::new_v7();
        let token = issue_invitation_token(user);
        assert_eq!(
            parse_invitation_token(&token.plaintext),
            Some((user, token.hash))
        );
        assert_ne!(issue_invitation_token(user).plaintext, token.plaintext);
        assert_eq!(token.hash, token_hash(&token.plaintext));
    }

    #[test]
    fn rejects_foreign_tokens() {
        let good = issue_invitation_token(UserId::new_v7()).plaintext;
        for bad in [
            "",
            "inv1",
            "inv2.x.y",
            &good.to_uppercase(),
            &format!("{good}.x"),
            &good[..good.len() - 1],
        ] {
            assert_eq!(parse_invitation_token(bad), None, "{bad}");
        }
    }
}
