//! Order numbers (`out_trade_no`): the device id followed by a Beijing-time millisecond stamp
//! (`yyyyMMddHHmmssSSS`) that only ever moves forward. Unique per merchant because device ids
//! differ between tills, and unique on one till because the stamp is strictly increasing and
//! seeded from the journal at start-up (so a clock that jumps back cannot repeat a number).
//! The journal's UNIQUE constraint is the last line of defence.

use time::OffsetDateTime;

/// Longest device prefix kept in an order number (17 digits follow; WeChat allows 32).
pub const DEVICE_PREFIX_MAX: usize = 15;
use crate::beijing::OFFSET as BEIJING;

/// Hands out strictly increasing order numbers for one till.
#[derive(Debug, Clone)]
pub struct OrderNumbers {
    prefix: String,
    last_ms: i64,
}

impl OrderNumbers {
    /// `device_info` is reduced to WeChat's alphabet and at most [`DEVICE_PREFIX_MAX`] chars.
    pub fn new(device_info: &str) -> Self {
        let prefix: String = device_info
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .take(DEVICE_PREFIX_MAX)
            .collect();
        Self { prefix, last_ms: 0 }
    }

    /// Never hand out a stamp at or below one already used (from the journal).
    pub fn seed_from(&mut self, used: &str) {
        if let Some(ms) = used
            .strip_prefix(self.prefix.as_str())
            .and_then(stamp_to_ms)
        {
            self.last_ms = self.last_ms.max(ms);
        }
    }

    /// The next number at Unix time `now_ms`.
    pub fn next(&mut self, now_ms: i64) -> String {
        let ms = now_ms.max(self.last_ms + 1);
        self.last_ms = ms;
        format!("{}{}", self.prefix, ms_to_stamp(ms))
    }
}

fn ms_to_stamp(ms: i64) -> String {
    let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .to_offset(BEIJING);
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}{:03}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

fn stamp_to_ms(s: &str) -> Option<i64> {
    if s.len() != 17 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |a: usize, b: usize| s[a..b].parse::<u32>().ok();
    let date = time::Date::from_calendar_date(
        n(0, 4)? as i32,
        time::Month::try_from(n(4, 6)? as u8).ok()?,
        n(6, 8)? as u8,
    )
    .ok()?;
    let tod = time::Time::from_hms_milli(
        n(8, 10)? as u8,
        n(10, 12)? as u8,
        n(12, 14)? as u8,
        n(14, 17)? as u16,
    )
    .ok()?;
    let t = time::PrimitiveDateTime::new(date, tod).assume_offset(BEIJING);
    Some((t.unix_timestamp_nanos() / 1_000_000) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-11-27 10:22:57.123 Beijing = 02:22:57.123 UTC
    const NOW: i64 = 1_795_746_177_123;

    #[test]
    fn device_plus_beijing_stamp() {
        let mut g = OrderNumbers::new("till-1");
        assert_eq!(g.next(NOW), "till-120261127102257123");
    }

    #[test]
    fn strictly_increasing_even_when_the_clock_stalls_or_jumps_back() {
        let mut g = OrderNumbers::new("T");
        let a = g.next(NOW);
        let b = g.next(NOW);
        let c = g.next(NOW - 60_000);
        assert!(a < b && b < c, "{a} {b} {c}");
    }

    #[test]
    fn seeded_from_the_journal_never_repeats() {
        let mut first = OrderNumbers::new("T");
        let used = first.next(NOW);
        let mut after_restart = OrderNumbers::new("T");
        after_restart.seed_from(&used);
        after_restart.seed_from("other-device20990101000000000");
        let next = after_restart.next(NOW - 5_000);
        assert!(next > used, "{next} <= {used}");
        assert!(next.starts_with("T2026"));
    }

    #[test]
    fn fits_wechat_rules() {
        let mut g = OrderNumbers::new("a very long device name with spaces & symbols!!");
        let no = g.next(NOW);
        assert!(no.len() <= 32, "{no}");
        assert!(
            no.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        );
        assert_eq!(stamp_to_ms(&no[no.len() - 17..]), Some(NOW));
    }
}
