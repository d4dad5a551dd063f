//! Tenant → shard mapping. Stable forever: cluster placement and leases depend on it.

use crate::domain::TenantId;

/// The shard of a tenant: FNV-1a (64-bit) over the UUID's 16 bytes, modulo `shard_count`.
/// UUIDv7 ids start with a timestamp, so the hash must mix every byte.
pub fn shard_of(tenant_id: TenantId, shard_count: u32) -> u32 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let hash = tenant_id
        .0
        .as_bytes()
        .iter()
        .fold(OFFSET, |h, b| (h ^ u64::from(*b)).wrapping_mul(PRIME));
    // `shard_count` is validated non-zero by the engine; `max(1)` keeps this total anyway.
    (hash % u64::from(shard_count.max(1))) as u32
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    #[test]
    fn is_stable_across_releases() {
        // Fixed vectors: changing the function would move every tenant to another shard.
        let id = TenantId(Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001));
        assert_eq!(shard_of(id, 256), 23);
        assert_eq!(shard_of(id, 7), 4);
        assert_eq!(shard_of(TenantId(Uuid::nil()), 256), 101);
        assert_eq!(shard_of(TenantId(Uuid::nil()), 1), 0);
    }

    #[test]
    fn spreads_time_ordered_ids_evenly() {
        let shards = 16u32;
        let mut counts = vec![0u32; shards as usize];
        for _ in 0..16_000 {
            counts[shard_of(TenantId::new_v7(), shards) as usize] += 1;
        }
        // Each shard expects 1000; allow a wide margin (this is a distribution check, not timing).
        assert!(counts.iter().all(|c| (700..1300).contains(c)), "{counts:?}");
    }
}
