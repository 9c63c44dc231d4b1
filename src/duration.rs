//! Human durations in config files: `"300ms"`, `"5s"`, `"2m"`, `"1h"`, `"7d"`.

use serde::{Deserialize, Deserializer};
use std::fmt;
use std::time::Duration;

/// A `Duration` that deserializes from and displays as a short human string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct HumanDuration(pub Duration);

/// Parse `"<integer><unit>"` with unit `ms`, `s`, `m`, `h` or `d`.
pub fn parse(input: &str) -> Result<Duration, String> {
    let s = input.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let hint = "write it like \"300ms\", \"5s\", \"2m\" or \"1h\"";
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{input:?} is not a duration: {hint}"))?;
    let d = match unit {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n.saturating_mul(60)),
        "h" => Duration::from_secs(n.saturating_mul(3600)),
        "d" => Duration::from_secs(n.saturating_mul(86_400)),
        "" => return Err(format!("{input:?} has no unit: {hint}")),
        _ => return Err(format!("{input:?} has an unknown unit {unit:?}: {hint}")),
    };
    Ok(d)
}

impl HumanDuration {
    pub const fn from_millis(ms: u64) -> Self {
        Self(Duration::from_millis(ms))
    }
    pub const fn from_secs(s: u64) -> Self {
        Self(Duration::from_secs(s))
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse(&s)
            .map(HumanDuration)
            .map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        if !ms.is_multiple_of(1000) {
            write!(f, "{ms}ms")
        } else if !ms.is_multiple_of(60_000) || ms == 0 {
            write!(f, "{}s", ms / 1000)
        } else {
            write!(f, "{}m", ms / 60_000)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units() {
        assert_eq!(parse("300ms"), Ok(Duration::from_millis(300)));
        assert_eq!(parse(" 5s "), Ok(Duration::from_secs(5)));
        assert_eq!(parse("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse("7d"), Ok(Duration::from_secs(7 * 86_400)));
    }

    #[test]
    fn refuses_with_a_hint() {
        for bad in ["5", "5 s", "1.5s", "-1s", "s", "5sec", ""] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains("\"5s\""), "{bad:?}: {e}");
        }
    }

    #[test]
    fn displays_short() {
        assert_eq!(HumanDuration::from_millis(300).to_string(), "300ms");
        assert_eq!(HumanDuration::from_secs(5).to_string(), "5s");
        assert_eq!(HumanDuration::from_secs(120).to_string(), "2m");
    }
}
