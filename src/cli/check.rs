//! `paycode check`: filled in below.
use std::path::Path;
use std::process::ExitCode;

/// Run `paycode check`.
pub fn run(config: &Path) -> ExitCode {
    let _ = config;
    ExitCode::from(1)
}
