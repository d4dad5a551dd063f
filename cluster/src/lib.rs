//! Cluster membership, shard ownership and cross-node routing.
//!
//! Not built yet: in this release every shard is owned by the local node (see
//! `engine::runtime`). The cluster issue fills this crate with PostgreSQL leases, fencing and
//! ractor_cluster routing; `gateway` will depend on it, and it on `engine`.
