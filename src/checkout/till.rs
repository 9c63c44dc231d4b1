//! Everything a sale needs, built once from the config: the connection to WeChat ([`Link`]:
//! identity, client, IP, the in-process simulator), the journal (with its one-process lock),
//! order numbers, the flow policy and the clock.

use crate::words::{Bilingual, Words};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::flow::{Millis, Policy, PolicyError};
use super::link::Link;
use super::order_no::OrderNumbers;
use crate::config::Config;
use crate::journal::{Journal, JournalError};
use crate::simulator::{RunningSim, SimError};
use crate::wxpay::api::{Call, Merchant};
use crate::wxpay::call::{Answered, CallError};
use crate::wxpay::client::{Client, ClientError};

/// Why a till could not be set up. Nothing was sent; each message names the fix.
#[derive(Debug, thiserror::Error)]
pub enum TillError {
    #[error(
        "another paycode process is using the journal {} (lock file {}); close it first — only one may take payments at a time",
        .journal.display(), .lock.display()
    )]
    Locked { journal: PathBuf, lock: PathBuf },
    #[error("cannot create the journal lock file {}: {source}; check the data directory is writable", .lock.display())]
    LockFile {
        lock: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Journal(#[from] JournalError),
    #[error("WeChat Pay client: {0}")]
    Client(#[from] ClientError),
    #[error("{0}")]
    Simulator(#[from] SimError),
    #[error("[checkout] {0}")]
    Policy(#[from] PolicyError),
}

impl Bilingual for TillError {
    fn zh(&self) -> String {
        match self {
            Self::Locked { journal, .. } => format!(
                "另一个 paycode 进程正在使用账本 {}:请先关闭它(同一时间只能有一个进程收款)",
                journal.display()
            ),
            Self::LockFile { lock, .. } => {
                format!(
                    "无法创建账本锁文件 {}:请检查数据目录是否可写",
                    lock.display()
                )
            }
            Self::Journal(e) => e.zh(),
            Self::Client(e) => e.zh(),
            Self::Simulator(e) => format!("模拟器无法启动:{}", e.zh()),
            Self::Policy(e) => e.zh(),
        }
    }
}

/// Wall-clock milliseconds read once, advanced by a monotonic clock: a wall-clock jump during
/// a sale cannot shorten or stretch its waiting times.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    base_unix_ms: u64,
    start: Instant,
}

impl Clock {
    /// Anchored at the current wall time.
    #[allow(clippy::disallowed_methods)] // the till's one clock; every core gets its readings
    pub fn start() -> Clock {
        let base = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| Millis::from_duration(d).0);
        Clock {
            base_unix_ms: base,
            start: Instant::now(),
        }
    }

    /// Now, as Unix milliseconds (the flow's and the journal's time base).
    pub fn now(&self) -> Millis {
        Millis(self.base_unix_ms) + self.start.elapsed()
    }

    /// Now, as the journal's signed Unix milliseconds.
    pub fn unix_ms(&self) -> i64 {
        i64::try_from(self.now().0).unwrap_or(i64::MAX)
    }
}

/// One till: build it with [`Till::open`], then `run_sale`, `recover`, `pending`.
pub struct Till {
    pub(super) config: Config,
    pub(super) link: Link,
    pub(super) journal: Journal,
    pub(super) numbers: OrderNumbers,
    pub(super) policy: Policy,
    pub(super) clock: Clock,
    /// Why payments are switched off in this process (a journal write failed).
    pub(super) disabled: Option<Words>,
    _lock: File,
}

impl std::fmt::Debug for Till {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Till")
            .field("device", &self.config.merchant.device_info)
            .field("journal", &self.journal.path())
            .field("simulator", &self.link.simulator().is_some())
            .field("disabled", &self.disabled)
            .finish_non_exhaustive()
    }
}

impl Till {
    /// Lock and open the journal, build the client, seed order numbers from the journal and
    /// (simulator mode) start the in-process simulator. Sends nothing to WeChat.
    pub async fn open(config: Config) -> Result<Till, TillError> {
        let policy = config.checkout.policy.clone();
        policy.check()?;
        let journal_path = config.journal.path.clone();
        let lock = lock_journal(&journal_path)?;
        let journal = Journal::open(&journal_path)?;
        let device = config.merchant.device_info.clone();
        let mut numbers = OrderNumbers::new(&device);
        if let Some(last) = journal.newest_order_no(&device)? {
            numbers.seed_from(&last);
        }
        let link = Link::open(&config).await?;
        Ok(Till {
            config,
            link,
            journal,
            numbers,
            policy,
            clock: Clock::start(),
            disabled: None,
            _lock: lock,
        })
    }

    /// The settings this till runs with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The journal (read access for history, pending list and diagnostics).
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// The in-process simulator, when `base_url = "simulator"`.
    pub fn simulator(&self) -> Option<&RunningSim> {
        self.link.simulator()
    }

    /// True when payments go to a simulator (in-process, or a loopback `paycode simulate`).
    pub fn is_simulated(&self) -> bool {
        // `base_url = "simulator"` (the in-process one) is simulated too.
        self.config.wechat.base_url.is_simulated()
    }

    /// Why payments are disabled in this process, if they are.
    pub fn payments_disabled(&self) -> Option<&Words> {
        self.disabled.as_ref()
    }

    /// The flow timing in force.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The flow summary last stored with `out_trade_no` (`None`: none, or unreadable — a sale
    /// without one resumes conservatively).
    pub(super) fn summary(
        &self,
        out_trade_no: &str,
    ) -> Result<Option<super::flow::Summary>, JournalError> {
        Ok(self
            .journal
            .flow(out_trade_no)?
            .and_then(|j| serde_json::from_str(&j).ok()))
    }

    /// The clock sales run on.
    pub fn clock(&self) -> Clock {
        self.clock
    }

    /// The connection to WeChat.
    pub fn link(&self) -> &Link {
        &self.link
    }

    /// The WeChat Pay client (for `check` and the refund/query commands).
    pub fn client(&self) -> &Client {
        self.link.client()
    }

    /// Send a typed request to its endpoint and verify the reply (see [`crate::wxpay::call`]).
    pub async fn call<R: Call>(&self, req: &R) -> Result<Answered<R::Answer>, CallError> {
        self.link.call(req).await
    }

    /// The merchant identity requests are signed with.
    pub fn merchant(&self) -> &Merchant {
        self.link.merchant()
    }

    /// Stop taking payments in this process after a journal write failed.
    pub(super) fn disable(&mut self, e: &JournalError) {
        tracing::error!(error = %e, "journal write failed: payments disabled");
        self.disabled = Some(Words::new(
            format!("payments disabled: {e}"),
            format!("已暂停收款:{}", e.zh()),
        ));
    }
}

/// An exclusive lock on `<journal>.lock`, held for the till's life; the OS drops it when the
/// process dies (also on kill -9), so a crash never leaves a stale lock.
pub(crate) fn lock_journal(journal: &Path) -> Result<File, TillError> {
    let mut name = journal.as_os_str().to_owned();
    name.push(".lock");
    let lock = PathBuf::from(name);
    if let Some(dir) = lock.parent().filter(|d| !d.as_os_str().is_empty()) {
        let _ = std::fs::create_dir_all(dir);
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock)
        .map_err(|source| TillError::LockFile {
            lock: lock.clone(),
            source,
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(TillError::Locked {
            journal: journal.to_path_buf(),
            lock,
        }),
        Err(std::fs::TryLockError::Error(source)) => Err(TillError::LockFile { lock, source }),
    }
}

/// How long until `at`, from `now` (zero when past).
pub(super) fn until(at: Millis, now: Millis) -> Duration {
    at.since(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_lock_is_exclusive_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let j = dir.path().join("paycode.db");
        let first = lock_journal(&j).unwrap();
        let err = lock_journal(&j).unwrap_err();
        assert!(err.to_string().contains("another paycode"), "{err}");
        assert!(err.zh().contains("另一个"));
        drop(first);
        lock_journal(&j).unwrap();
    }

    #[test]
    fn clock_moves_forward_from_wall_time() {
        let c = Clock::start();
        let a = c.now();
        assert!(a.0 > 1_600_000_000_000);
        assert!(c.now() >= a);
        assert_eq!(until(Millis(5), Millis(9)), Duration::ZERO);
    }
}
