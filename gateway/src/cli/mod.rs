//! The two binaries' logic; `src/bin/*.rs` only call [`entityd_main`] and [`entityctl_main`].
//!
//! Exit codes of both: 0 success, 1 failure at run time (an RPC error, an unreachable store),
//! 2 bad usage or invalid configuration.

mod entityctl;
mod entityd;
mod keys;
mod projections_admin;

pub use entityctl::main as entityctl_main;
pub use entityd::main as entityd_main;

/// Exit code of bad usage or invalid configuration.
const EXIT_USAGE: u8 = 2;
/// Exit code of a failure at run time.
const EXIT_FAILURE: u8 = 1;
