//! Everything a sale needs, built once from the config: merchant identity, the pooled client,
//! the journal (with its one-process lock), order numbers, the flow policy, this till's device id
//! and IP, the clock, and — with `base_url = "simulator"` — the in-process simulator.

use crate::words::{Bilingual, Words};
use std::fs::File;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::flow::{Millis, Policy, PolicyError};
use super::order_no::OrderNumbers;
use crate::config::{BaseUrl, ClientIdentity, Config};
use crate::journal::{Journal, JournalError};
use crate::simulator::{RunningSim, SimError, SimSettings};
use crate::wxpay::api::{Call, Merchant};
use crate::wxpay::call::{Answered, CallError};
use crate::wxpay::client::{Client, ClientError, ClientSettings, Identity, local_ip_towards};

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
            Self::Simulator(e) => format!("模拟器无法启动:{e}"),
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
    pub(super) merchant: Merchant,
    pub(super) client: Client,
    pub(super) journal: Journal,
    pub(super) numbers: OrderNumbers,
    pub(super) policy: Policy,
    pub(super) ip: IpAddr,
    pub(super) clock: Clock,
    /// Why payments are switched off in this process (a journal write failed).
    pub(super) disabled: Option<Words>,
    sim: Option<RunningSim>,
    _lock: File,
}

impl std::fmt::Debug for Till {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Till")
            .field("device", &self.config.merchant.device_info)
            .field("journal", &self.journal.path())
            .field("simulator", &self.sim.is_some())
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
        let (sim, settings) = client_settings(&config).await?;
        let ip = match config.merchant.spbill_create_ip {
            Some(ip) => ip,
            None => local_ip_towards(&settings.base_url).unwrap_or_else(|e| {
                tracing::warn!(error = %e, "cannot detect the outgoing address; spbill_create_ip = 127.0.0.1");
                IpAddr::V4(Ipv4Addr::LOCALHOST)
            }),
        };
        let client = Client::new(settings)?;
        let c = &config.merchant;
        let merchant = Merchant {
            appid: c.appid.clone(),
            mch_id: c.mch_id.clone(),
            sub_appid: c.sub_appid.clone(),
            sub_mch_id: c.sub_mch_id.clone(),
            key: c.api_key.clone(),
            sign_type: c.sign_type,
        };
        Ok(Till {
            config,
            merchant,
            client,
            journal,
            numbers,
            policy,
            ip,
            clock: Clock::start(),
            disabled: None,
            sim,
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
        self.sim.as_ref()
    }

    /// True when payments go to a simulator (in-process, or a loopback `paycode simulate`).
    pub fn is_simulated(&self) -> bool {
        self.sim.is_some() || self.config.wechat.base_url.is_simulated()
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

    /// The WeChat Pay client (for `check` and the refund/query commands).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Send a typed request to its endpoint and verify the reply (see [`crate::wxpay::call`]).
    pub async fn call<R: Call>(&self, req: &R) -> Result<Answered<R::Answer>, CallError> {
        crate::wxpay::call::call(&self.client, &self.merchant, req).await
    }

    /// The merchant identity requests are signed with.
    pub fn merchant(&self) -> &Merchant {
        &self.merchant
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
fn lock_journal(journal: &Path) -> Result<File, TillError> {
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

/// Client settings from `[wechat]`; in simulator mode, start it first and point at it.
async fn client_settings(
    config: &Config,
) -> Result<(Option<RunningSim>, ClientSettings), TillError> {
    let w = &config.wechat;
    let (sim, mut s) = match &w.base_url {
        BaseUrl::Url(u) => (None, ClientSettings::new(u.clone())),
        BaseUrl::Simulator => {
            let mut ss = SimSettings::from_config(config);
            let data_dir = config.journal.path.parent().unwrap_or(Path::new("."));
            // Every process on this data directory shares one simulated WeChat (store.rs), so a
            // later `query`, `refund` or `recover` sees the orders an earlier `pay` made.
            ss.store = Some(data_dir.join("simulator").join("ledger.log"));
            let mut tls_files = None;
            if ss.tls {
                let dir = data_dir.join("simulator-tls");
                ss.authority = Some(crate::simulator::CertAuthority::write_dir(
                    &dir, &ss.mch_id,
                )?);
                tls_files = Some(dir);
            }
            let sim = crate::simulator::start(ss).await?;
            let mut s = ClientSettings::new(sim.base_url.clone());
            if let Some(dir) = tls_files {
                s.extra_root_ca = Some(dir.join("ca.pem"));
                s.identity = Some(Identity::PemPair {
                    cert: dir.join("apiclient_cert.pem"),
                    key: dir.join("apiclient_key.pem"),
                });
            }
            (Some(sim), s)
        }
    };
    s.backup_url = w.backup_url.clone();
    s.connect_timeout = w.connect_timeout;
    s.timeout = w.connect_timeout.saturating_add(w.read_timeout);
    s.max_reply_bytes = w.max_reply_bytes;
    if w.ca_file.is_some() {
        s.extra_root_ca = w.ca_file.clone();
    }
    s.identity = w.identity.as_ref().map(identity_of);
    Ok((sim, s))
}

/// The client's TLS identity for a configured one.
pub(super) fn identity_of(id: &ClientIdentity) -> Identity {
    match id {
        ClientIdentity::Pem {
            cert_file,
            key_file,
        } => Identity::PemPair {
            cert: cert_file.clone(),
            key: key_file.clone(),
        },
        ClientIdentity::P12 { file, password, .. } => Identity::Pkcs12 {
            path: file.clone(),
            password: password.expose().to_string(),
        },
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
