//! The durable sale journal: SQLite (bundled) in WAL mode with `synchronous=FULL`.
//!
//! Write-ahead rule: a sale's intent row is committed before the first byte goes to WeChat and
//! every transition is committed before the next request. Each write is its own transaction; a
//! failed commit is returned to the caller, which must stop taking sales (no retry-as-if-fine).
//! Times are parameters (`at_ms`, Unix milliseconds) so the module never reads the clock.

mod backup;
mod checkpoint;
mod day_json;
pub mod export;
mod history;
mod outbox;
mod print_queue;
mod refunds;
mod sales;
mod schema;
mod shifts;

pub use checkpoint::EventLine;
pub use day_json::day_json;
pub use history::{DayTotals, Standing, StateTotal, refunded_of};
pub use outbox::OutboxRow;
pub use print_queue::{PrintKind, QueuedPrint};
pub use refunds::{Authority, NUMBER_TAKEN, NewRefund, Refund, RefundState, held_by};
pub use sales::{Event, NewSale, SaleRow, SaleState, Transition};
pub use shifts::ClosedShift;

use crate::words::Bilingual;
use rusqlite::Connection;
use std::path::{Path, PathBuf};

/// Why the journal could not be opened or written. Any of these stops new sales.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("cannot open the journal {path}: {source}; check the directory exists and is writable")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error(
        "the journal {path} is not durable (synchronous={found}, need FULL); the filesystem may not support it"
    )]
    NotDurable { path: PathBuf, found: i64 },
    #[error(
        "the journal {path} was written by a newer paycode (schema {found}, this build knows {known}); upgrade paycode"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error(
        "journal write failed: {0}; payments are disabled until the journal is fixed (disk full, read-only, or locked by another program such as a backup or sqlite3?)"
    )]
    Write(#[from] rusqlite::Error),
    #[error("order number {0} is already in the journal")]
    DuplicateOrder(String),
    #[error("no sale {0} in the journal")]
    NoSuchSale(String),
    #[error(
        "the shift was closed meanwhile (by another paycode on this journal); look at it again before closing"
    )]
    ShiftMoved,
}

/// An amount as SQLite stores it. Kept amounts are at most `money::MAX_ORDER`, so the checked
/// conversion never fails in practice; if it did, the write is refused rather than wrapped to a
/// negative number.
impl rusqlite::ToSql for crate::money::Fen {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        i64::try_from(self.0)
            .map(rusqlite::types::ToSqlOutput::from)
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
    }
}

/// An amount read back; a negative one (written by hand) reads as nothing.
impl rusqlite::types::FromSql for crate::money::Fen {
    fn column_result(v: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        let n = i64::column_result(v)?;
        Ok(crate::money::Fen(u64::try_from(n).unwrap_or(0)))
    }
}

impl Bilingual for JournalError {
    fn zh(&self) -> String {
        match self {
            Self::Open { path, .. } => {
                format!("无法打开账本 {}:请检查目录是否存在且可写", path.display())
            }
            Self::NotDurable { path, .. } => {
                format!(
                    "账本 {} 无法保证落盘(需要 synchronous=FULL)",
                    path.display()
                )
            }
            Self::TooNew { path, .. } => {
                format!(
                    "账本 {} 由更新版本的 paycode 写入,请升级 paycode",
                    path.display()
                )
            }
            Self::Write(_) => "账本写入失败(磁盘已满、只读,或被备份程序、sqlite3 等其他程序锁定?):在修复前暂停收款".into(),
            Self::DuplicateOrder(o) => format!("订单号 {o} 已存在于账本中"),
            Self::NoSuchSale(o) => format!("账本中没有订单 {o}"),
            Self::ShiftMoved => {
                "该班次刚刚已被交班(同一账本上的另一个 paycode):请重新查看后再交班".into()
            }
        }
    }
}

/// Retry `f` for up to 5 s while another connection holds the lock it needs.
fn retry_while_locked<T>(mut f: impl FnMut() -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    let mut waited = std::time::Duration::ZERO;
    let step = std::time::Duration::from_millis(10);
    loop {
        match f() {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if matches!(
                    e.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) && waited < std::time::Duration::from_secs(5) =>
            {
                std::thread::sleep(step);
                waited += step;
            }
            other => return other,
        }
    }
}

/// The journal, its WAL and its shared-memory index made private to their owner (mode 600)
/// where they are looser — an older paycode created them 0644, and the journal holds code
/// fingerprints, amounts and order numbers. Done before SQLite opens the file, so a WAL or
/// index it creates copies the tightened mode. Only regular files are touched (never through a
/// link); one that cannot be changed is logged and left as it is.
fn tighten(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    for ext in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(ext);
        let file = PathBuf::from(name);
        let Ok(meta) = std::fs::symlink_metadata(&file) else {
            continue;
        };
        let mode = meta.permissions().mode() & 0o777;
        if !meta.file_type().is_file() || mode & 0o077 == 0 {
            continue;
        }
        match std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode & 0o600)) {
            Ok(()) => tracing::warn!(
                file = %file.display(),
                was = format!("{mode:o}"),
                "journal file tightened to mode 600"
            ),
            Err(e) => tracing::warn!(
                file = %file.display(),
                error = %e,
                "journal file is readable by others and cannot be tightened"
            ),
        }
    }
}

/// An open journal. One per process; the runner owns it.
pub struct Journal {
    conn: Connection,
    path: PathBuf,
}

impl Journal {
    /// Open (creating if needed) the journal at `path`, check durability settings and migrate.
    pub fn open(path: &Path) -> Result<Self, JournalError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            // A missing data directory is created; failure shows up as an Open error below.
            let _ = std::fs::create_dir_all(dir);
        }
        let open_err = |source| JournalError::Open {
            path: path.to_path_buf(),
            source,
        };
        tighten(path);
        let conn = Connection::open(path).map_err(open_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(open_err)?;
        // Switching a new file to WAL needs a moment alone with it; SQLite reports a concurrent
        // first open as "locked" without consulting the busy handler, so wait it out here.
        // Only a new file needs the switch; an existing WAL journal is left alone so a reader
        // opened beside a running sale never competes for the lock.
        let mode: String = conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .map_err(open_err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            retry_while_locked(|| conn.pragma_update(None, "journal_mode", "WAL"))
                .map_err(open_err)?;
        }
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(open_err)?;
        let sync: i64 = conn
            .pragma_query_value(None, "synchronous", |r| r.get(0))
            .map_err(open_err)?;
        if sync != 2 {
            return Err(JournalError::NotDurable {
                path: path.to_path_buf(),
                found: sync,
            });
        }
        let mut j = Journal {
            conn,
            path: path.to_path_buf(),
        };
        schema::migrate(&mut j.conn, path)?;
        Ok(j)
    }

    /// Every write starts IMMEDIATE: the lock is taken up front, where the busy timeout applies,
    /// instead of on a read-to-write upgrade that SQLite fails at once when another process wrote.
    fn write_tx(&mut self) -> rusqlite::Result<rusqlite::Transaction<'_>> {
        self.conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
    }

    /// Where the journal lives (for diagnostics).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Size of the database file plus its WAL, in bytes (for diagnostics).
    pub fn size_bytes(&self) -> u64 {
        let wal = self.path.with_extension("db-wal");
        [self.path.as_path(), wal.as_path()]
            .iter()
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_durable_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/paycode.db");
        {
            let j = Journal::open(&path).unwrap();
            let mode: String = j
                .conn
                .pragma_query_value(None, "journal_mode", |r| r.get(0))
                .unwrap();
            assert_eq!(mode, "wal");
        }
        let j = Journal::open(&path).unwrap();
        assert_eq!(j.path(), path);
        assert!(j.size_bytes() > 0);
    }

    #[test]
    fn concurrent_first_opens_migrate_once() {
        for round in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("paycode.db");
            let barrier = std::sync::Arc::new(std::sync::Barrier::new(4));
            let openers: Vec<_> = (0..4)
                .map(|_| {
                    let (p, b) = (path.clone(), barrier.clone());
                    std::thread::spawn(move || {
                        b.wait();
                        Journal::open(&p).map(|_| ()).map_err(|e| e.to_string())
                    })
                })
                .collect();
            for o in openers {
                if let Err(e) = o.join().unwrap() {
                    panic!("round {round}: {e}");
                }
            }
        }
    }

    #[test]
    fn refuses_a_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.db");
        drop(Journal::open(&path).unwrap());
        let c = Connection::open(&path).unwrap();
        c.pragma_update(None, "user_version", 999).unwrap();
        drop(c);
        let err = Journal::open(&path).err().unwrap();
        assert!(
            matches!(err, JournalError::TooNew { found: 999, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("upgrade"));
    }

    #[test]
    fn unopenable_path_names_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plain-file");
        std::fs::write(&file, b"x").unwrap();
        // A path below a regular file can never be opened.
        let err = Journal::open(&file.join("j.db")).err().unwrap();
        assert!(err.to_string().contains("plain-file"), "{err}");
    }
}
