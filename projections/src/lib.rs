//! Projection workers: gap-safe journal tails that build read models and publish to Kafka.
//!
//! Not built yet: the projections issue fills this crate. It depends on `engine` only.
