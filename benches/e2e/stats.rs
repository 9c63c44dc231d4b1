//! Integer statistics and printing for the e2e bench: percentiles over durations, ratios as
//! integer percent, the load average, and a seeded generator (no floats anywhere).

use std::time::Duration;

/// p50 / p90 / p99 / max of a sample (nearest rank).
#[derive(Debug, Clone, Copy)]
pub struct Dist {
    pub n: usize,
    pub p50: Duration,
    pub p90: Duration,
    pub p99: Duration,
    pub max: Duration,
}

impl Dist {
    /// The distribution of `v`; all zero when empty.
    pub fn of(mut v: Vec<Duration>) -> Dist {
        v.sort();
        let at = |p: usize| -> Duration {
            if v.is_empty() {
                Duration::ZERO
            } else {
                v[(v.len() * p).div_ceil(100).clamp(1, v.len()) - 1]
            }
        };
        Dist {
            n: v.len(),
            p50: at(50),
            p90: at(90),
            p99: at(99),
            max: v.last().copied().unwrap_or_default(),
        }
    }

    /// `p50 … p90 … p99 … max …` in milliseconds with one decimal.
    pub fn ms(&self) -> String {
        format!(
            "p50 {} ms  p90 {} ms  p99 {} ms  max {} ms  (n={})",
            ms(self.p50),
            ms(self.p90),
            ms(self.p99),
            ms(self.max),
            self.n
        )
    }

    /// The same in microseconds.
    pub fn us(&self) -> String {
        format!(
            "p50 {} us  p90 {} us  p99 {} us  max {} us  (n={})",
            self.p50.as_micros(),
            self.p90.as_micros(),
            self.p99.as_micros(),
            self.max.as_micros(),
            self.n
        )
    }
}

/// p50 / p90 / p99 / max of small counts (queries per sale).
pub fn count_dist(mut v: Vec<u32>) -> String {
    v.sort_unstable();
    let at = |p: usize| {
        if v.is_empty() {
            0
        } else {
            v[(v.len() * p).div_ceil(100).clamp(1, v.len()) - 1]
        }
    };
    let sum: u64 = v.iter().map(|&x| u64::from(x)).sum();
    let n = v.len().max(1) as u64;
    format!(
        "p50 {}  p90 {}  p99 {}  max {}  mean {}.{:02}",
        at(50),
        at(90),
        at(99),
        v.last().copied().unwrap_or(0),
        sum / n,
        sum * 100 / n % 100
    )
}

/// Milliseconds with one decimal.
pub fn ms(d: Duration) -> String {
    let us = d.as_micros();
    format!("{}.{}", us / 1000, us % 1000 / 100)
}

/// `a` as an integer percentage of `b`.
pub fn pct(a: Duration, b: Duration) -> u128 {
    a.as_nanos() * 100 / b.as_nanos().max(1)
}

/// `a` as a multiple of `b` ("×12").
pub fn times(a: Duration, b: Duration) -> String {
    let p = pct(a, b);
    format!("x{}.{:02}", p / 100, p % 100)
}

/// The first three fields of /proc/loadavg.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// SplitMix64: a seeded, reproducible stream (the bench needs no cryptographic randomness).
pub fn mix(seed: u64, i: u64) -> u64 {
    let mut z = seed
        .wrapping_add(i.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// An integer setting from the environment, or `default`.
pub fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}
