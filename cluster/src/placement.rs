//! Rendezvous (highest random weight) placement: each shard goes to the live node with the
//! highest hash of (node, shard). Every node computes the same answer from the same member
//! list, with no coordinator, and when a node joins or leaves only the shards it wins or held
//! move (about 1/n of them).

/// The node that should own `shard` among `nodes` (`None` when there is no node).
pub fn owner_of<'a>(shard: u32, nodes: &[&'a str]) -> Option<&'a str> {
    nodes
        .iter()
        .copied()
        .max_by_key(|node| (weight(node, shard), *node))
}

/// The node that should hold the singleton `key` (a role such as `projections`) among `nodes`.
pub fn owner_of_key<'a>(key: &str, nodes: &[&'a str]) -> Option<&'a str> {
    let shard = weight(key, u32::MAX) as u32;
    owner_of(shard, nodes)
}

/// A well-mixed 64-bit weight of (node, shard): FNV-1a, then a SplitMix64 finaliser.
fn weight(node: &str, shard: u32) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in node.bytes().chain(shard.to_be_bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash = (hash ^ (hash >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    hash = (hash ^ (hash >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    hash ^ (hash >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(nodes: &[&str], shards: u32) -> Vec<usize> {
        nodes
            .iter()
            .map(|n| {
                (0..shards)
                    .filter(|s| owner_of(*s, nodes) == Some(*n))
                    .count()
            })
            .collect()
    }

    #[test]
    fn shards_spread_evenly() {
        for nodes in [
            vec!["node-1", "node-2", "node-3"],
            vec!["a", "b", "c", "d"],
            vec![
                "10.0.0.1:7000",
                "10.0.0.2:7000",
                "10.0.0.3:7000",
                "10.0.0.4:7000",
                "x",
            ],
        ] {
            let counts = counts(&nodes, 256);
            let even = 256.0 / nodes.len() as f64;
            for c in &counts {
                assert!(
                    (*c as f64 - even).abs() <= even * 0.2,
                    "{nodes:?}: {counts:?}"
                );
            }
        }
        assert_eq!(owner_of(3, &[]), None);
    }

    #[test]
    fn a_joining_node_takes_only_what_it_wins() {
        let before = ["node-1", "node-2", "node-3"];
        let after = ["node-1", "node-2", "node-3", "node-4"];
        let mut moved = 0;
        for shard in 0..256 {
            let (old, new) = (owner_of(shard, &before), owner_of(shard, &after));
            if old != new {
                assert_eq!(new, Some("node-4"), "shard {shard} moved between old nodes");
                moved += 1;
            }
        }
        assert!((40..=90).contains(&moved), "{moved}");
    }

    #[test]
    fn the_answer_ignores_the_order_of_the_list() {
        for shard in 0..64 {
            assert_eq!(
                owner_of(shard, &["a", "b", "c"]),
                owner_of(shard, &["c", "a", "b"])
            );
        }
    }
}
