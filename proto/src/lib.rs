//! The public gRPC contract of entity-engine: package `entity.v1`.
//!
//! Generated at build time from `proto/entity/v1/*.proto` with a vendored `protoc`.
//! [`FILE_DESCRIPTOR_SET`] feeds gRPC server reflection.

#![allow(missing_docs, clippy::all, clippy::pedantic)]

/// Messages and services of `entity.v1`.
pub mod v1 {
    tonic::include_proto!("entity.v1");
}

/// Encoded `FileDescriptorSet` of every `entity.v1` file, for server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("entity_v1_descriptor");
