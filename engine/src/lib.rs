//! entity-engine core.
//!
//! - [`domain`]: pure deciders and state (no I/O).
//! - [`journal`]: storage traits, the PostgreSQL and SQLite stores, group commit.
//! - [`runtime`]: the single-node actor runtime (region → shards → entity actors) behind
//!   [`runtime::Engine`], the handle the gateway calls.

pub mod domain;
mod error;
mod hex;
pub mod journal;
pub mod personal;
pub mod runtime;
pub mod secrets;
pub mod telemetry;
#[cfg(any(test, feature = "test-util"))]
pub mod testing;

pub use error::{EngineError, Result};
