//! Pages and opaque page tokens.
//!
//! Every list is ordered by an immutable, unique key (slug; email and id; id; …) and a page
//! token carries the key of the last row returned, so the next page starts strictly after it
//! (keyset pagination, never OFFSET): rows inserted or deleted meanwhile never shift a page,
//! and no row that existed throughout is returned twice or skipped. A token also carries a
//! fingerprint of the query's filters and is refused with different ones.
//!
//! Format: `pt1.` followed by the hex of a small JSON document. Opaque to callers.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Page size when the caller asks for 0.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// Largest page served; larger requests are clamped.
pub const MAX_PAGE_SIZE: u32 = 500;

/// Which page to read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PageRequest {
    /// Rows per page: 0 means [`DEFAULT_PAGE_SIZE`]; clamped to [`MAX_PAGE_SIZE`].
    pub page_size: u32,
    /// The `next_page_token` of the previous page; `None` (or empty) for the first page.
    pub page_token: Option<String>,
}

impl PageRequest {
    /// The first page of `page_size` rows.
    pub fn first(page_size: u32) -> Self {
        Self {
            page_size,
            page_token: None,
        }
    }

    /// The page after the one that returned `token`.
    pub fn after(page_size: u32, token: impl Into<String>) -> Self {
        Self {
            page_size,
            page_token: Some(token.into()),
        }
    }

    /// Checks that the page token, if any, is well-formed (whether it belongs to the query is
    /// checked when the query runs): lets a caller report it with its other violations.
    ///
    /// # Errors
    /// [`Error::InvalidPageToken`].
    pub fn check_token(&self) -> Result<()> {
        match self.page_token.as_deref() {
            None | Some("") => Ok(()),
            Some(token) => decode(token).map(|_| ()),
        }
    }
}

/// One page of results.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    /// Rows, in the list's order.
    pub items: Vec<T>,
    /// Token of the next page; `None` on the last page.
    pub next_page_token: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct Token {
    /// Fingerprint of the query.
    q: String,
    /// Sort key of the last row returned.
    k: Vec<String>,
}

/// A page request resolved against one query.
#[derive(Debug)]
pub(crate) struct Cursor {
    fingerprint: String,
    /// Sort key to continue after, if not the first page.
    pub after: Option<Vec<String>>,
    /// Rows per page.
    pub size: usize,
}

impl Cursor {
    /// Resolves `page` for the query identified by `fingerprint` (its name and filters).
    pub(crate) fn new(page: &PageRequest, fingerprint: String, key_len: usize) -> Result<Self> {
        let size = match page.page_size {
            0 => DEFAULT_PAGE_SIZE,
            n => n.min(MAX_PAGE_SIZE),
        } as usize;
        let after = match page.page_token.as_deref() {
            None | Some("") => None,
            Some(token) => {
                let decoded = decode(token)?;
                if decoded.q != fingerprint {
                    return Err(Error::InvalidPageToken(
                        "the token belongs to a different query or filter".into(),
                    ));
                }
                if decoded.k.len() != key_len {
                    return Err(Error::InvalidPageToken("malformed token".into()));
                }
                Some(decoded.k)
            }
        };
        Ok(Self {
            fingerprint,
            after,
            size,
        })
    }

    /// Rows to fetch: one more than a page, to know whether another page follows.
    pub(crate) fn limit(&self) -> i64 {
        i64::try_from(self.size)
            .unwrap_or(i64::MAX)
            .saturating_add(1)
    }

    /// The page from `rows` (fetched with [`limit`](Self::limit)); `key` gives a row's sort key.
    pub(crate) fn page<T>(&self, mut rows: Vec<T>, key: impl Fn(&T) -> Vec<String>) -> Page<T> {
        let next_page_token = if rows.len() > self.size {
            rows.truncate(self.size);
            rows.last().map(|last| {
                encode(&Token {
                    q: self.fingerprint.clone(),
                    k: key(last),
                })
            })
        } else {
            None
        };
        Page {
            items: rows,
            next_page_token,
        }
    }

    /// Part `i` of the key to continue after.
    pub(crate) fn key(&self, i: usize) -> Option<&str> {
        self.after
            .as_ref()
            .and_then(|k| k.get(i))
            .map(String::as_str)
    }
}

/// A stable fingerprint of a query: FNV-1a (64 bit) of its name and filters, in hex.
pub(crate) fn fingerprint(query: &str, filters: &impl std::fmt::Debug) -> String {
    let text = format!("{query}|{filters:?}");
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}")
}

fn encode(token: &Token) -> String {
    let json = serde_json::to_vec(token).unwrap_or_default();
    let mut out = String::with_capacity(4 + json.len() * 2);
    out.push_str("pt1.");
    for byte in json {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

fn decode(token: &str) -> Result<Token> {
    let bad = || Error::InvalidPageToken("malformed token".into());
    let hex = token.strip_prefix("pt1.").ok_or_else(bad)?;
    if hex.len() % 2 != 0 || hex.len() > 8192 {
        return Err(bad());
    }
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(bad)?;
    serde_json::from_slice(&bytes).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_bind_to_their_query() {
        let fp = fingerprint("users", &("a", 1));
        let cursor = Cursor::new(&PageRequest::first(2), fp.clone(), 2).unwrap();
        let page = cursor.page(vec![1, 2, 3], |n| vec![n.to_string(), "x".into()]);
        assert_eq!(page.items, vec![1, 2]);
        let token = page.next_page_token.unwrap();
        let next = Cursor::new(&PageRequest::after(2, token.clone()), fp, 2).unwrap();
        assert_eq!(next.key(0), Some("2"));
        assert_eq!(next.key(1), Some("x"));
        let other = fingerprint("users", &("b", 1));
        assert!(matches!(
            Cursor::new(&PageRequest::after(2, token), other, 2),
            Err(Error::InvalidPageToken(_))
        ));
    }

    #[test]
    fn garbage_tokens_are_refused() {
        for bad in ["x", "pt1.zz", "pt1.7b", "pt1.7b7d"] {
            assert!(
                matches!(
                    Cursor::new(&PageRequest::after(1, bad), "f".into(), 1),
                    Err(Error::InvalidPageToken(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn page_sizes_are_clamped() {
        let c = Cursor::new(&PageRequest::first(0), "f".into(), 1).unwrap();
        assert_eq!(c.size, DEFAULT_PAGE_SIZE as usize);
        let c = Cursor::new(&PageRequest::first(100_000), "f".into(), 1).unwrap();
        assert_eq!(c.size, MAX_PAGE_SIZE as usize);
        assert_eq!(c.limit(), i64::from(MAX_PAGE_SIZE) + 1);
    }
}
