//! The file shape of config.toml: serde structs that mirror its sections one to one.
//! Every table refuses unknown keys; every key has the default documented in config.toml.

use super::{CheckoutConfig, Language, SimulatorConfig};
use crate::money::Fen;
use crate::scanner::ScannerConfig;
use crate::wxpay::sign::SignType;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// The whole file; every section may be omitted.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawConfig {
    pub merchant: RawMerchant,
    pub wechat: RawWechat,
    pub checkout: RawCheckout,
    pub journal: RawJournal,
    pub ui: RawUi,
    pub scanner: ScannerConfig,
    pub simulator: RawSimulator,
    pub printer: Option<super::printer::RawPrinter>,
    pub api: Option<super::api::RawApi>,
    pub pos_display: Option<super::pos_display::RawPosDisplay>,
    pub office: Option<super::office::RawOffice>,
}

/// `[merchant]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawMerchant {
    pub appid: Option<String>,
    pub mch_id: Option<String>,
    pub sub_appid: Option<String>,
    pub sub_mch_id: Option<String>,
    pub sign_type: SignType,
    pub api_key_file: Option<PathBuf>,
    /// `None`: not in the file (the simulator's default; live mode refuses it).
    pub device_info: Option<String>,
    pub body: String,
    pub spbill_create_ip: Option<String>,
}

impl Default for RawMerchant {
    fn default() -> Self {
        Self {
            appid: None,
            mch_id: None,
            sub_appid: None,
            sub_mch_id: None,
            sign_type: SignType::Md5,
            api_key_file: None,
            device_info: None,
            body: "Store-Goods".into(),
            spbill_create_ip: None,
        }
    }
}

/// `[wechat]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawWechat {
    pub base_url: String,
    pub backup_url: Option<String>,
    #[serde(deserialize_with = "duration")]
    pub connect_timeout: Duration,
    #[serde(deserialize_with = "duration")]
    pub read_timeout: Duration,
    pub max_reply_bytes: u64,
    pub ca_file: Option<PathBuf>,
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    pub p12_file: Option<PathBuf>,
}

impl Default for RawWechat {
    fn default() -> Self {
        Self {
            base_url: "simulator".into(),
            backup_url: None,
            connect_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(10),
            max_reply_bytes: 65_536,
            ca_file: None,
            cert_file: None,
            key_file: None,
            p12_file: None,
        }
    }
}

/// `[checkout]`; defaults come from `CheckoutConfig::default()`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawCheckout {
    #[serde(deserialize_with = "yuan")]
    pub max_amount: Fen,
    #[serde(deserialize_with = "duration")]
    pub first_query_after: Duration,
    #[serde(deserialize_with = "duration")]
    pub query_interval: Duration,
    #[serde(deserialize_with = "duration")]
    pub password_timeout: Duration,
    #[serde(deserialize_with = "duration")]
    pub reverse_not_before: Duration,
    pub reverse_max_attempts: u32,
    #[serde(deserialize_with = "duration")]
    pub reverse_backoff: Duration,
    #[serde(deserialize_with = "duration")]
    pub unknown_query_after: Duration,
    pub notexist_rounds: u32,
    #[serde(deserialize_with = "duration")]
    pub unproven_wait: Duration,
    #[serde(deserialize_with = "duration")]
    pub duplicate_scan_window: Duration,
}

impl Default for RawCheckout {
    fn default() -> Self {
        let d = CheckoutConfig::default();
        let p = d.policy;
        Self {
            max_amount: d.max_amount,
            first_query_after: p.first_query_after,
            query_interval: p.query_interval,
            password_timeout: p.password_timeout,
            reverse_not_before: p.reverse_not_before,
            reverse_max_attempts: p.reverse_max_attempts,
            reverse_backoff: p.reverse_backoff,
            unknown_query_after: p.unknown_query_after,
            notexist_rounds: p.notexist_rounds,
            unproven_wait: p.unproven_wait,
            duplicate_scan_window: d.duplicate_scan_window,
        }
    }
}

/// `[journal]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawJournal {
    pub path: PathBuf,
    pub log_dir: PathBuf,
}

impl Default for RawJournal {
    fn default() -> Self {
        Self {
            path: "data/paycode.db".into(),
            log_dir: "data/logs".into(),
        }
    }
}

/// `[ui]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawUi {
    pub language: Language,
    pub bell: bool,
    pub bell_paid: u8,
    pub bell_not_charged: u8,
    pub bell_attention: u8,
    pub manager_pin_file: Option<PathBuf>,
}

impl Default for RawUi {
    fn default() -> Self {
        Self {
            language: Language::Zh,
            bell: true,
            bell_paid: super::Rings::DEFAULT.paid,
            bell_not_charged: super::Rings::DEFAULT.not_charged,
            bell_attention: super::Rings::DEFAULT.attention,
            manager_pin_file: None,
        }
    }
}

/// `[simulator]`; defaults come from `SimulatorConfig::default()`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawSimulator {
    pub tls: bool,
    #[serde(deserialize_with = "yuan")]
    pub no_password_limit: Fen,
    pub daily_no_password_count: u32,
    #[serde(deserialize_with = "duration")]
    pub auto_revoke_after: Duration,
    #[serde(deserialize_with = "duration")]
    pub reply_delay: Duration,
    pub unknown_reverse_succeeds: bool,
    pub bare_refund_state: bool,
    pub reversed_paid_revoked: bool,
    pub reverse_userpaying: bool,
}

impl Default for RawSimulator {
    fn default() -> Self {
        let d = SimulatorConfig::default();
        Self {
            tls: d.tls,
            no_password_limit: d.no_password_limit,
            daily_no_password_count: d.daily_no_password_count,
            auto_revoke_after: d.auto_revoke_after,
            reply_delay: d.reply_delay,
            unknown_reverse_succeeds: d.unknown_reverse_succeeds,
            bare_refund_state: d.bare_refund_state,
            reversed_paid_revoked: d.reversed_paid_revoked,
            reverse_userpaying: d.reverse_userpaying,
        }
    }
}

/// A quoted duration in `HumanDuration` syntax (`"5s"`, `"300ms"`); a bare number is refused with the expected form.
pub(crate) fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = Duration;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a quoted duration such as \"5s\" or \"300ms\"")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
            crate::duration::parse(v).map_err(E::custom)
        }
    }
    d.deserialize_str(V)
}

/// A quoted yuan amount (`"1000.00"`), parsed to fen without floats; bare numbers are refused.
fn yuan<'de, D: Deserializer<'de>>(d: D) -> Result<Fen, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = Fen;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a quoted amount in yuan such as \"1000.00\"")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Fen, E> {
            Fen::parse(v, Fen(u64::MAX))
                .map_err(|e| E::custom(format!("{v:?} is not an amount in yuan: {e}")))
        }
    }
    d.deserialize_str(V)
}
