//! `paycode backup FILE [--json]`: a consistent copy of the journal, safe while the cashier
//! screen or a sale runs (it reads one snapshot and never takes the till's lock).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::json;

use super::{load, output};
use crate::journal::Journal;
use crate::words::{Bilingual, Words};

/// `paycode backup` arguments.
#[derive(clap::Args, Debug)]
pub struct BackupArgs {
    /// Where to write the copy; must not exist yet (e.g. /media/usb/paycode-2026-12-02.db).
    pub file: PathBuf,
    /// One JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Run `paycode backup`.
pub fn run(config: &Path, args: &BackupArgs) -> ExitCode {
    let cfg = match load(config, args.json) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let to = &args.file;
    // A dangling symlink counts: VACUUM INTO would create the file it points at.
    // The path is an argument: echoed without escapes, a code in it masked.
    let shown = crate::untrusted::shown(&to.to_string_lossy(), 400);
    if to.exists() || to.symlink_metadata().is_ok() {
        return output::rejected(
            args.json,
            &Words::new(
                format!(
                    "{shown} exists: a backup never overwrites a file; name a new one, e.g. with today's date"
                ),
                format!("{shown} 已存在:备份不会覆盖文件;请换一个新文件名,例如加上今天的日期"),
            ),
            None,
        );
    }
    let journal = match Journal::open(&cfg.journal.path) {
        Ok(j) => j,
        Err(e) => return output::rejected(args.json, &e.words(), None),
    };
    if let Err(e) = journal.backup_to(to) {
        // SQLite's own reason, not the journal's "payments are disabled": the till is fine.
        let why = match &e {
            crate::journal::JournalError::Write(inner) => inner.to_string(),
            other => other.to_string(),
        };
        let why = crate::untrusted::shown(&why, 400);
        return output::rejected(
            args.json,
            &Words::new(
                format!(
                    "cannot write the backup {shown}: {why}; check the directory exists and is writable (the journal is untouched)"
                ),
                format!("无法写入备份 {shown}:{why};请确认目录存在且可写(账本未受影响)"),
            ),
            None,
        );
    }
    private(to);
    let sales = Journal::open(to)
        .and_then(|b| b.sales_between(i64::MIN, i64::MAX))
        .map_or(0, |s| s.len());
    if args.json {
        outln!(
            "{}",
            json!({"status": "done", "file": to.display().to_string(), "sales": sales})
        );
    } else {
        outln!(
            "backed up {sales} sales to {} / 已备份 {sales} 笔交易",
            to.display()
        );
    }
    ExitCode::SUCCESS
}

/// The copy holds masked codes and the sales of the store: readable by its owner only.
fn private(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
    #[cfg(not(unix))]
    let _ = path;
}
