//! Paging of the List RPCs: listings are ordered by id, and a page token names the last id of
//! the previous page.
//!
//! A token is bound to its listing ([`Listing`]: the RPC, the tenant and every filter) by a
//! checksum, so a token that was altered, or that belongs to another listing, is refused
//! instead of silently misread. Format: lower-case hex of
//! `last id (16 bytes) ‖ SHA-256(listing ‖ id)[..8]`. It is not a secret and not a security
//! boundary: authorization is checked on every request anyway.

use engine::domain::TenantId;
use sha2::{Digest, Sha256};
use uuid::Uuid;

const CHECKSUM_LEN: usize = 8;
const TOKEN_BYTES: usize = 16 + CHECKSUM_LEN;

/// Page size when the request gives none.
pub const DEFAULT_PAGE_SIZE: usize = 50;
/// Largest page; bigger requests are served this many.
pub const MAX_PAGE_SIZE: usize = 500;

/// One listing: the RPC, its tenant and its filters. Page tokens are valid only for the
/// listing that issued them.
#[derive(Clone, Debug)]
pub struct Listing {
    context: Vec<u8>,
}

impl Listing {
    /// The listing of `rpc` (e.g. `ListUsers`) in `tenant`; add its filters with the builders.
    pub fn new(rpc: &str, tenant: TenantId) -> Self {
        let mut listing = Self {
            context: b"entity-engine/paging/v1\0".to_vec(),
        };
        listing.push(rpc.as_bytes());
        listing.context.extend_from_slice(tenant.0.as_bytes());
        listing
    }

    /// Adds an optional id filter.
    pub fn id(mut self, id: Option<Uuid>) -> Self {
        self.context.push(u8::from(id.is_some()));
        self.context
            .extend_from_slice(id.unwrap_or_else(Uuid::nil).as_bytes());
        self
    }

    /// Adds a text filter (empty = none).
    pub fn text(mut self, text: &str) -> Self {
        self.push(text.as_bytes());
        self
    }

    /// Adds a numeric filter (an enum value).
    pub fn number(mut self, n: i64) -> Self {
        self.context.extend_from_slice(&n.to_be_bytes());
        self
    }

    /// The token of the page after `after`.
    pub fn encode(&self, after: Uuid) -> String {
        let mut bytes = Vec::with_capacity(TOKEN_BYTES);
        bytes.extend_from_slice(after.as_bytes());
        bytes.extend_from_slice(&self.checksum(after));
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The id a token of this listing names; `None` when malformed, altered, or issued for
    /// another listing.
    pub fn decode(&self, token: &str) -> Option<Uuid> {
        let bytes = decode_hex(token)?;
        if bytes.len() != TOKEN_BYTES {
            return None;
        }
        let (id, sum) = bytes.split_at(16);
        let after = Uuid::from_slice(id).ok()?;
        (sum == self.checksum(after)).then_some(after)
    }

    /// Length-prefixed, so that adjacent text filters cannot run into each other.
    fn push(&mut self, bytes: &[u8]) {
        self.context
            .extend_from_slice(&(bytes.len() as u64).to_be_bytes());
        self.context.extend_from_slice(bytes);
    }

    fn checksum(&self, after: Uuid) -> [u8; CHECKSUM_LEN] {
        let mut hasher = Sha256::new();
        hasher.update(&self.context);
        hasher.update(after.as_bytes());
        let digest = hasher.finalize();
        let mut out = [0u8; CHECKSUM_LEN];
        out.copy_from_slice(&digest[..CHECKSUM_LEN]);
        out
    }
}

/// A decoded page request: which listing, how many, from where.
#[derive(Clone, Debug)]
pub struct PageRequest {
    /// The listing (for the next page's token).
    pub listing: Listing,
    /// Page size (1..=[`MAX_PAGE_SIZE`]).
    pub page_size: usize,
    /// Return items with ids greater than this one.
    pub after: Option<Uuid>,
}

impl PageRequest {
    /// Whether an item with this id belongs after the requested position.
    pub fn is_after(&self, id: Uuid) -> bool {
        self.after.is_none_or(|after| id > after)
    }

    /// Cuts the first page out of `items` (already filtered to [`Self::is_after`] and ordered
    /// by id, e.g. straight from a `BTreeMap`); returns it and the next page's token ("" when
    /// this is the last page). Reads at most one item more than the page.
    pub fn cut<T>(
        &self,
        items: impl Iterator<Item = T>,
        id: impl Fn(&T) -> Uuid,
    ) -> (Vec<T>, String) {
        let mut page: Vec<T> = items.take(self.page_size.saturating_add(1)).collect();
        if page.len() <= self.page_size {
            return (page, String::new());
        }
        page.truncate(self.page_size);
        let next = page
            .last()
            .map(|last| self.listing.encode(id(last)))
            .unwrap_or_default();
        (page, next)
    }
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| {
            s.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(tenant: TenantId, parent: Option<Uuid>) -> Listing {
        Listing::new("ListOrganizations", tenant).id(parent)
    }

    #[test]
    fn round_trip_and_binding() {
        let tenant = TenantId::new_v7();
        let parent = Some(Uuid::now_v7());
        let after = Uuid::now_v7();
        let s = listing(tenant, parent).encode(after);
        assert_eq!(listing(tenant, parent).decode(&s), Some(after));
        assert_eq!(listing(tenant, None).decode(&s), None);
        assert_eq!(listing(TenantId::new_v7(), parent).decode(&s), None);
        assert_eq!(
            Listing::new("ListTeams", tenant).id(parent).decode(&s),
            None
        );
    }

    #[test]
    fn text_filters_are_delimited() {
        let tenant = TenantId::new_v7();
        let after = Uuid::now_v7();
        let ab = Listing::new("ListUsers", tenant).text("ab").text("");
        let a_b = Listing::new("ListUsers", tenant).text("a").text("b");
        assert_eq!(a_b.decode(&ab.encode(after)), None);
    }

    #[test]
    fn tampering_is_detected() {
        let tenant = TenantId::new_v7();
        let s = listing(tenant, None).encode(Uuid::now_v7());
        let mut flipped = s.clone().into_bytes();
        flipped[3] = if flipped[3] == b'0' { b'1' } else { b'0' };
        let flipped = String::from_utf8(flipped).unwrap();
        for bad in [
            flipped.as_str(),
            "",
            "zz",
            &s[..s.len() - 2],
            "é",
            &format!("{s}00"),
        ] {
            assert_eq!(listing(tenant, None).decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn cut_pages() {
        let tenant = TenantId::new_v7();
        let ids: Vec<Uuid> = (0..5).map(|_| Uuid::now_v7()).collect();
        let request = PageRequest {
            listing: listing(tenant, None),
            page_size: 2,
            after: None,
        };
        let (page, next) = request.cut(ids.iter().copied(), |id| *id);
        assert_eq!(page, ids[..2]);
        assert_eq!(request.listing.decode(&next), Some(ids[1]));
        let request = PageRequest {
            after: Some(ids[2]),
            ..request
        };
        let rest = ids.iter().copied().filter(|id| request.is_after(*id));
        let (page, next) = request.cut(rest, |id| *id);
        assert_eq!(page, ids[3..]);
        assert_eq!(next, "", "the last page has no next token");
    }
}
