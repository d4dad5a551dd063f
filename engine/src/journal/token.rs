//! Consistency tokens: an opaque name for one committed write.

use std::{fmt, str::FromStr};

/// Names a committed write: its transaction and global position. A read that accepts a token
/// reflects at least that write. Rendered as `ct1.<transaction>.<position>`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct CommitToken {
    /// Writing transaction id.
    pub transaction_id: u64,
    /// Global position of the write's last event.
    pub position: i64,
}

/// A consistency token that is not of our format.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("malformed consistency token")]
pub struct TokenParseError;

impl fmt::Display for CommitToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ct1.{}.{}", self.transaction_id, self.position)
    }
}

impl FromStr for CommitToken {
    type Err = TokenParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.split('.');
        let (Some("ct1"), Some(tx), Some(pos), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenParseError);
        };
        let transaction_id = tx.parse().map_err(|_| TokenParseError)?;
        let position: i64 = pos.parse().map_err(|_| TokenParseError)?;
        if position < 0 {
            return Err(TokenParseError);
        }
        Ok(Self {
            transaction_id,
            position,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let t = CommitToken {
            transaction_id: 42,
            position: 7,
        };
        assert_eq!(t.to_string().parse::<CommitToken>(), Ok(t));
    }

    #[test]
    fn rejects_garbage() {
        for s in [
            "",
            "ct1",
            "ct1.1",
            "ct2.1.2",
            "ct1.a.2",
            "ct1.1.-2",
            "ct1.1.2.3",
        ] {
            assert_eq!(s.parse::<CommitToken>(), Err(TokenParseError), "{s}");
        }
    }
}
