//! Opaque page tokens of ListOrganizations.
//!
//! A token names the last organization of the previous page (listings are ordered by id) and
//! is bound to its listing (tenant and parent filter) by a checksum, so a token that was
//! altered, or that belongs to another listing, is refused instead of silently misread.
//! Format: lower-case hex of `last id (16 bytes) ‖ SHA-256(context ‖ id)[..8]`. It is not a
//! secret and not a security boundary: authorization is checked on every request anyway.

use engine::domain::{OrganizationId, TenantId};
use sha2::{Digest, Sha256};
use uuid::Uuid;

const CHECKSUM_LEN: usize = 8;
const TOKEN_BYTES: usize = 16 + CHECKSUM_LEN;

/// Position of a ListOrganizations page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageToken {
    /// The next page starts after this organization.
    pub after: OrganizationId,
}

impl PageToken {
    /// Encodes the token for the listing of `tenant` filtered by `parent`.
    pub fn encode(&self, tenant: TenantId, parent: Option<OrganizationId>) -> String {
        let mut bytes = Vec::with_capacity(TOKEN_BYTES);
        bytes.extend_from_slice(self.after.0.as_bytes());
        bytes.extend_from_slice(&checksum(tenant, parent, self.after));
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Decodes a token of the listing of `tenant` filtered by `parent`; `None` when malformed,
    /// altered, or issued for another listing.
    pub fn decode(token: &str, tenant: TenantId, parent: Option<OrganizationId>) -> Option<Self> {
        let bytes = decode_hex(token)?;
        if bytes.len() != TOKEN_BYTES {
            return None;
        }
        let (id, sum) = bytes.split_at(16);
        let after = OrganizationId(Uuid::from_slice(id).ok()?);
        (sum == checksum(tenant, parent, after)).then_some(Self { after })
    }
}

fn checksum(
    tenant: TenantId,
    parent: Option<OrganizationId>,
    after: OrganizationId,
) -> [u8; CHECKSUM_LEN] {
    let mut hasher = Sha256::new();
    hasher.update(b"entity-engine/ListOrganizations/v1\0");
    hasher.update(tenant.0.as_bytes());
    hasher.update(parent.map_or(Uuid::nil(), |p| p.0).as_bytes());
    hasher.update(after.0.as_bytes());
    let digest = hasher.finalize();
    let mut out = [0u8; CHECKSUM_LEN];
    out.copy_from_slice(&digest[..CHECKSUM_LEN]);
    out
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

    #[test]
    fn round_trip_and_binding() {
        let tenant = TenantId::new_v7();
        let parent = Some(OrganizationId::new_v7());
        let t = PageToken {
            after: OrganizationId::new_v7(),
        };
        let s = t.encode(tenant, parent);
        assert_eq!(PageToken::decode(&s, tenant, parent), Some(t));
        assert_eq!(PageToken::decode(&s, tenant, None), None);
        assert_eq!(PageToken::decode(&s, TenantId::new_v7(), parent), None);
    }

    #[test]
    fn tampering_is_detected() {
        let tenant = TenantId::new_v7();
        let s = PageToken {
            after: OrganizationId::new_v7(),
        }
        .encode(tenant, None);
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
            assert_eq!(PageToken::decode(bad, tenant, None), None, "{bad}");
        }
    }
}
