//! The runtime's source of time, injectable so that grace periods can be tested.

use chrono::{DateTime, SubsecRound, Utc};

/// Current time for decisions. Implementations return microsecond precision, the journal's.
pub trait Clock: Send + Sync + 'static {
    /// Now, truncated to microseconds.
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now().trunc_subsecs(6)
    }
}
