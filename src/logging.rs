//! Logs go to a daily file in the data directory through a non-blocking writer — never to the
//! terminal, which belongs to the cashier's screen. Payment codes are masked at their source
//! (`AuthCode`'s Display) and secrets have no printable form, so nothing here filters text.
//!
//! The file is named by the Beijing-time day (`paycode-2026-12-02.log`), as the journal's days,
//! history and WeChat's statements are, and each line is stamped in Beijing time: the log of a
//! sale at 07:30 Beijing is the same day's file as the sale, not the UTC day before.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use time::Date;
use time::format_description::well_known::Rfc3339;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;

/// Start file logging in `dir` (created if needed). Keep the guard alive until exit so buffered
/// lines are flushed. The level comes from `PAYCODE_LOG` (default `info`).
pub fn init(dir: &Path) -> io::Result<WorkerGuard> {
    std::fs::create_dir_all(dir)?;
    let file = DailyFile::open(dir.to_path_buf(), now_ms)?;
    let (writer, guard) = tracing_appender::non_blocking(file);
    let filter = EnvFilter::try_from_env("PAYCODE_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    // A second init in the same process (tests) keeps the first subscriber.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_timer(BeijingTime)
        .with_ansi(false)
        .with_target(false)
        .try_init();
    Ok(guard)
}

/// The log file of a Beijing-time day.
pub fn file_name(day: Date) -> String {
    format!("paycode-{day}.log")
}

#[allow(clippy::disallowed_methods)] // IO edge: the wall clock of the log's stamps.
fn now_ms() -> i64 {
    i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000)
        .unwrap_or(i64::MAX)
}

/// Appends to the current Beijing day's file, moving to the next day's on the first line after
/// midnight.
pub struct DailyFile {
    dir: PathBuf,
    now: fn() -> i64,
    day: Date,
    file: File,
}

impl DailyFile {
    /// Open (append) today's file in `dir`; `now` is the clock in Unix milliseconds.
    pub fn open(dir: PathBuf, now: fn() -> i64) -> io::Result<Self> {
        let day = crate::beijing::day_of(now());
        let file = append(&dir, day)?;
        Ok(Self {
            dir,
            now,
            day,
            file,
        })
    }
}

fn append(dir: &Path, day: Date) -> io::Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(file_name(day)))
}

impl Write for DailyFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let day = crate::beijing::day_of((self.now)());
        if day != self.day {
            // A failed switch keeps writing to the old day's file rather than losing lines.
            if let Ok(f) = append(&self.dir, day) {
                self.file = f;
                self.day = day;
            }
        }
        self.file.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// Stamps each line in Beijing time (RFC 3339 with `+08:00`).
struct BeijingTime;

impl FormatTime for BeijingTime {
    fn format_time(&self, w: &mut Writer<'_>) -> std::fmt::Result {
        let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(now_ms()) * 1_000_000)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
            .to_offset(crate::beijing::OFFSET);
        let text = at.format(&Rfc3339).map_err(|_| std::fmt::Error)?;
        w.write_str(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicI64, Ordering};

    /// 2026-12-01 23:59:59 UTC = 2026-12-02 07:59:59 Beijing.
    static CLOCK: AtomicI64 = AtomicI64::new(1_796_169_599_000);

    fn clock() -> i64 {
        CLOCK.load(Ordering::SeqCst)
    }

    #[test]
    fn the_file_is_the_beijing_day_and_moves_at_beijing_midnight() {
        let dir = tempfile::tempdir().unwrap();
        let mut f = DailyFile::open(dir.path().to_path_buf(), clock).unwrap();
        f.write_all(b"morning\n").unwrap();
        // 2026-12-02 15:59:59 UTC = 23:59:59 Beijing: still the same file.
        CLOCK.store(1_796_227_199_000, Ordering::SeqCst);
        f.write_all(b"late\n").unwrap();
        // One second later it is the 3rd in Beijing (still the 2nd in UTC).
        CLOCK.store(1_796_227_200_000, Ordering::SeqCst);
        f.write_all(b"next day\n").unwrap();
        f.flush().unwrap();
        let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
        assert_eq!(read("paycode-2026-12-02.log"), "morning\nlate\n");
        assert_eq!(read("paycode-2026-12-03.log"), "next day\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }
}
