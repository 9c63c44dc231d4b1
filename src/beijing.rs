//! WeChat Pay's business day is Beijing time (UTC+8 all year, no daylight saving): one place for
//! the offset and a day's bounds. Pure.

use time::{Date, OffsetDateTime, UtcOffset};

/// UTC+8.
pub const OFFSET: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(o) => o,
    Err(_) => UtcOffset::UTC,
};

/// Parse a day written `YYYY-MM-DD`.
pub fn parse_day(s: &str) -> Option<Date> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s, &fmt).ok()
}

/// `[from, to)` Unix milliseconds of a Beijing-time day.
pub fn day_bounds(day: Date) -> (i64, i64) {
    let start = day.midnight().assume_offset(OFFSET).unix_timestamp() * 1000;
    (start, start + 86_400_000)
}

/// The Beijing-time day of a Unix-milliseconds instant.
pub fn day_of(unix_ms: i64) -> Date {
    OffsetDateTime::from_unix_timestamp(unix_ms.div_euclid(1000))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .to_offset(OFFSET)
        .date()
}

/// A Unix-milliseconds instant as Beijing time, `YYYY-MM-DD HH:MM:SS`.
pub fn time_of(unix_ms: i64) -> String {
    let t = OffsetDateTime::from_unix_timestamp(unix_ms.div_euclid(1000))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .to_offset(OFFSET);
    format!(
        "{} {:02}:{:02}:{:02}",
        t.date(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_beijing_clock_times() {
        // 2026-01-01 16:00:05 UTC is 2026-01-02 00:00:05 in Beijing.
        assert_eq!(time_of(1_767_283_205_000), "2026-01-02 00:00:05");
    }

    #[test]
    fn day_bounds_are_beijing_midnights() {
        let d = time::macros::date!(2026 - 01 - 02);
        let (from, to) = day_bounds(d);
        // 2026-01-02 00:00 +08:00 = 2026-01-01 16:00 UTC.
        assert_eq!(from, 1_767_283_200_000);
        assert_eq!(to - from, 86_400_000);
        assert_eq!(day_of(from), d);
        assert_eq!(day_of(from - 1), d.previous_day().unwrap());
    }
}
