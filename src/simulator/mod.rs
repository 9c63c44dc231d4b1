//! Local WeChat Pay v2 simulator: the same paths, XML, signatures and codes as the real service
//! (docs/protocol.md), scripted customers chosen by the payment code, faults on demand, a ledger.
//!
//! `ledger`, `payment`, `refund`, `bill`, `rules`, `reply` and `scenario` are the pure core
//! (time is a parameter); `server` and `tls` are the IO edge; `cli` is `paycode simulate`.
//! docs/simulator.md has the scenario table, the faults, the admin endpoints and the shared log.

mod bill;
mod cert_dir;
pub mod cli;
#[cfg(test)]
mod core_tests;
pub mod ledger;
pub mod oplog;
mod payment;
mod refund;
pub mod reply;
pub mod rules;
pub mod scenario;
pub mod server;
pub mod store;
#[cfg(test)]
mod testkit;
pub mod tls;
pub mod view;

pub use ledger::{CoreSettings, OrderStatus, Sim, SimTime};
pub use rules::{Endpoint, Merchant};
pub use scenario::{Scenario, code_for, scenario_of, scenarios};
pub use server::{RunningSim, start};
pub use tls::CertAuthority;
pub use view::{LedgerView, OrderView, RefundView, Totals};

use crate::config::{
    Language, SIMULATOR_APPID, SIMULATOR_DEMO_KEY, SIMULATOR_MCH_ID, SimulatorConfig,
};
use crate::words::{Bilingual, Words};
use crate::wxpay::sign::ApiKey;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

/// How a simulator instance runs.
#[derive(Debug, Clone)]
pub struct SimSettings {
    /// Address to bind; port 0 picks a free one.
    pub listen: SocketAddr,
    /// Serve HTTPS and require the client certificate on `/secapi/*`.
    pub tls: bool,
    /// The merchant's appid.
    pub appid: String,
    /// The merchant's mch_id.
    pub mch_id: String,
    /// The merchant's APIv2 key.
    pub key: ApiKey,
    /// Customer and timing behaviour (`[simulator]` in config.toml).
    pub behaviour: SimulatorConfig,
    /// How long a refund stays PROCESSING (simulated time).
    pub refund_delay: Duration,
    /// Simulated milliseconds per real millisecond (1 = real time; tests and demos speed up).
    pub time_scale: u32,
    /// Reuse this CA (so certificates written earlier stay valid); a fresh one if `None`.
    pub authority: Option<CertAuthority>,
    /// Share state with other processes through this log (`store.rs`); memory only if `None`.
    pub store: Option<std::path::PathBuf>,
}

impl SimSettings {
    /// Loopback, any port, plain HTTP, the given key and behaviour, the demo merchant ids.
    pub fn new(key: ApiKey, behaviour: &SimulatorConfig) -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            tls: behaviour.tls,
            appid: SIMULATOR_APPID.to_string(),
            mch_id: SIMULATOR_MCH_ID.to_string(),
            key,
            behaviour: behaviour.clone(),
            refund_delay: Duration::from_secs(5),
            time_scale: 1,
            authority: None,
            store: None,
        }
    }

    /// The demo merchant (`SIMULATOR_APPID` / `SIMULATOR_MCH_ID` / `SIMULATOR_DEMO_KEY`) with
    /// the documented default behaviour.
    pub fn demo() -> Result<Self, SimError> {
        let key = ApiKey::new(SIMULATOR_DEMO_KEY).map_err(SimError::Key)?;
        Ok(Self::new(key, &SimulatorConfig::default()))
    }

    /// The pure core's settings; `epoch_unix` is the wall time at simulated time zero.
    pub fn core(&self, epoch_unix: i64) -> CoreSettings {
        CoreSettings {
            merchant: Merchant {
                appid: self.appid.clone(),
                mch_id: self.mch_id.clone(),
                key: self.key.clone(),
            },
            no_password_limit: self.behaviour.no_password_limit,
            daily_no_password_count: self.behaviour.daily_no_password_count,
            auto_revoke_after: self.behaviour.auto_revoke_after,
            refund_delay: self.refund_delay,
            reply_delay: self.behaviour.reply_delay,
            unknown_reverse_succeeds: self.behaviour.unknown_reverse_succeeds,
            bare_refund_state: self.behaviour.bare_refund_state,
            reversed_paid_revoked: self.behaviour.reversed_paid_revoked,
            reverse_userpaying: self.behaviour.reverse_userpaying,
            epoch_unix,
        }
    }
}

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("simulator: cannot listen on {addr}: {source}; pick another port with --listen")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("simulator: certificate setup failed: {0}")]
    Tls(String),
    #[error("simulator: invalid API key: {0}")]
    Key(String),
    #[error(
        "simulator: cannot use its shared log {path}: {source}; check the data directory's permissions and free space"
    )]
    Store {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("simulator: cannot use certificate directory {path}: {source}")]
    CertDir {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    /// A certificate file or directory refused as it is (`cert_dir`): a link, another user's,
    /// writable by others; `why` starts with the verb and ends with the fix.
    #[error("simulator: {} {why}", path.display())]
    CertFile {
        path: std::path::PathBuf,
        why: Words,
    },
}

impl Bilingual for SimError {
    fn zh(&self) -> String {
        match self {
            Self::Bind { addr, source } => {
                format!("模拟器:无法监听 {addr}:{source};请用 --listen 换一个端口")
            }
            Self::Tls(e) => format!("模拟器:证书设置失败:{e}"),
            Self::Key(e) => format!("模拟器:API 密钥无效:{e}"),
            Self::Store { path, source } => format!(
                "模拟器:无法使用共享日志 {}:{source};请检查数据目录的权限与剩余空间",
                path.display()
            ),
            Self::CertDir { path, source } => {
                format!("模拟器:无法使用证书目录 {}:{source}", path.display())
            }
            Self::CertFile { path, why } => format!("模拟器:{} {}", path.display(), why.zh),
        }
    }
}

/// The line shown whenever the simulator is in use, so nobody mistakes it for real payments.
pub fn banner(lang: Language) -> String {
    match lang {
        Language::Zh => "【模拟器】微信支付模拟环境 — 不涉及真实资金。付款码第 3–6 位选择顾客场景(按 ? 查看场景表)".into(),
        Language::En => "[SIMULATOR] simulated WeChat Pay — no real money. Digits 3–6 of the payment code choose the customer scenario (press ? for the table)".into(),
    }
}

/// The scenario table as text lines (code pattern, name, what happens) in `lang`.
pub fn scenario_lines(lang: Language) -> Vec<String> {
    scenarios()
        .iter()
        .map(|s| match lang {
            Language::Zh => format!("{}  {}:{}", s.pattern(), s.name_zh, s.effect_zh),
            Language::En => format!("{}  {}: {}", s.pattern(), s.name_en, s.effect_en),
        })
        .collect()
}

impl SimSettings {
    /// The merchant and `[simulator]` behaviour of a loaded config (the key the terminal signs
    /// with, so both ends agree).
    pub fn from_config(cfg: &crate::config::Config) -> Self {
        let mut s = Self::new(cfg.merchant.api_key.clone(), &cfg.simulator);
        s.appid = cfg.merchant.appid.clone();
        s.mch_id = cfg.merchant.mch_id.clone();
        s
    }
}
