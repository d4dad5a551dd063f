//! What a decision may know of the outside world, handed in by the runtime.

use chrono::{DateTime, Utc};

/// Inputs a decider needs from outside: everything non-deterministic comes in here.
#[derive(Clone, Debug)]
pub struct Context {
    /// The current time (injected so that grace periods and expiries are testable).
    pub now: DateTime<Utc>,
}

impl Context {
    /// A context at `now`.
    pub fn at(now: DateTime<Utc>) -> Self {
        Self { now }
    }
}
