//! Logs go to a daily file in the data directory through a non-blocking writer — never to the
//! terminal, which belongs to the cashier's screen. Payment codes are masked at their source
//! (`AuthCode`'s Display) and secrets have no printable form, so nothing here filters text.

use std::path::Path;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

/// Start file logging in `dir` (created if needed). Keep the guard alive until exit so buffered
/// lines are flushed. The level comes from `PAYCODE_LOG` (default `info`).
pub fn init(dir: &Path) -> std::io::Result<WorkerGuard> {
    std::fs::create_dir_all(dir)?;
    let appender = tracing_appender::rolling::daily(dir, "paycode.log");
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter = EnvFilter::try_from_env("PAYCODE_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    // A second init in the same process (tests) keeps the first subscriber.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .with_target(false)
        .try_init();
    Ok(guard)
}
