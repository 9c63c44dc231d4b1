//! Points in time as integer milliseconds on the caller's clock; the flow never reads a clock.

use std::ops::Add;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A point in time: milliseconds since an epoch the caller chose (process start for a live sale,
/// the Unix epoch for a sale resumed from the journal). Only differences matter to the flow.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Millis(pub u64);

impl Millis {
    /// The point `d` after the epoch; sub-millisecond parts are dropped, huge values saturate.
    pub fn from_duration(d: Duration) -> Millis {
        Millis(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    /// How long after `earlier` this point is (zero when it is not later).
    pub fn since(self, earlier: Millis) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }
}

impl Add<Duration> for Millis {
    type Output = Millis;

    /// Saturating: a policy of "forever" must not wrap around to "now".
    fn add(self, d: Duration) -> Millis {
        Millis(self.0.saturating_add(Millis::from_duration(d).0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates_and_truncates() {
        assert_eq!(Millis(5) + Duration::from_micros(1_999), Millis(6));
        assert_eq!(
            Millis(u64::MAX - 1) + Duration::from_secs(5),
            Millis(u64::MAX)
        );
        assert_eq!(Millis(3).since(Millis(10)), Duration::ZERO);
        assert_eq!(Millis(10).since(Millis(3)), Duration::from_millis(7));
        assert_eq!(
            Millis::from_duration(Duration::from_secs(u64::MAX)),
            Millis(u64::MAX)
        );
    }
}
