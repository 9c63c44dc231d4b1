//! config.toml: schema (serde + toml, unknown keys refused), validation with messages that name
//! the file, the key and the fix, and secrets taken from the environment or mode-600 files.
//!
//! `load` is the IO edge (reads the file and the process environment); `from_str_with_env` takes
//! the environment as a value so tests never touch process state.

mod api;
mod base_url;
mod ca_file;
mod error;
mod office;
mod pos_display;
mod printer;
mod render;
mod schema;
mod secrets;
pub(crate) mod trust;
mod validate;

pub use api::{ApiConfig, DEFAULT_LISTEN};
pub use error::ConfigError;
pub use office::{ENV_OFFICE_PASSWORD, OfficeConfig, SslMode, is_local, without_password};
pub use pos_display::PoleConfig;
pub use printer::{PrinterConfig, Transport};
pub(crate) use secrets::read_text;
pub use secrets::{PIN_FILE_MAX, Password, SecretEnv, SecretSource, private_mode_problem};

use crate::checkout::flow::Policy;
use crate::money::Fen;
use crate::scanner::ScannerConfig;
use crate::wxpay::sign::{ApiKey, SignType};
use error::Ctx;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The APIv2 key the built-in simulator and simulator-mode configs share (not a real key).
pub const SIMULATOR_DEMO_KEY: &str = "PaycodeSimulatorDemoKey-NotReal1";
/// The appid used in simulator mode when `[merchant] appid` is not set.
pub const SIMULATOR_APPID: &str = "wxpaycodesimulator";
/// The mch_id used in simulator mode when `[merchant] mch_id` is not set.
pub const SIMULATOR_MCH_ID: &str = "1000000001";
/// The simulator CA's subject (common name and organisation): how a `ca_file` holding it is told
/// apart from a real root.
pub const SIMULATOR_CA_CN: &str = "paycode WeChat Pay simulator CA";
/// See [`SIMULATOR_CA_CN`].
pub const SIMULATOR_CA_ORG: &str = "paycode simulator (not real)";

/// The resolved settings: every default applied, paths absolute to the config file's directory,
/// secrets loaded. `Debug` never shows a secret.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file these settings came from (used in messages).
    pub file: PathBuf,
    /// `[merchant]`: who is charging.
    pub merchant: MerchantConfig,
    /// `[wechat]`: where and how requests go.
    pub wechat: WechatConfig,
    /// `[checkout]`: the sale flow's timing and limits.
    pub checkout: CheckoutConfig,
    /// `[journal]`: where sales and logs are stored.
    pub journal: JournalConfig,
    /// `[ui]`: the cashier screen.
    pub ui: UiConfig,
    /// `[scanner]`: scan guns (owned by the scanner module).
    pub scanner: ScannerConfig,
    /// `[simulator]`: behaviour of the built-in simulator (used when `base_url = "simulator"`).
    pub simulator: SimulatorConfig,
    /// `[printer]`: the receipt printer, if the till has one.
    pub printer: Option<PrinterConfig>,
    /// `[api]`: the local POS API; the cashier screen serves it only when this is set.
    pub api: Option<ApiConfig>,
    /// `[pos_display]`: the POS's customer pole display port, if paycode reads totals from it.
    pub pos_display: Option<PoleConfig>,
    /// `[office]`: the head office this till ships its journal to (issue 14), if any.
    pub office: Option<OfficeConfig>,
}

impl Config {
    /// True when requests go to the built-in simulator (`[wechat] base_url = "simulator"`).
    pub fn is_simulator(&self) -> bool {
        self.wechat.base_url == BaseUrl::Simulator
    }

    /// The settings as TOML-like text for `paycode config`, with every secret hidden.
    pub fn render(&self) -> String {
        render::render(self)
    }
}

/// `[merchant]`
#[derive(Debug, Clone)]
pub struct MerchantConfig {
    /// Official account / mini-program appid bound to the merchant.
    pub appid: String,
    /// Merchant number (digits).
    pub mch_id: String,
    /// Service-provider mode: the sub-merchant's appid.
    pub sub_appid: Option<String>,
    /// Service-provider mode: the sub-merchant number (required with `sub_appid`).
    pub sub_mch_id: Option<String>,
    /// Signature algorithm for requests and replies.
    pub sign_type: SignType,
    /// The APIv2 key (masked `Debug`).
    pub api_key: ApiKey,
    /// Where the key came from, for `paycode config`.
    pub api_key_source: SecretSource,
    /// Terminal id sent as `device_info` (≤15 of `[0-9A-Za-z_-]`; order numbers carry it whole).
    pub device_info: String,
    /// Goods description sent as `body` (≤127 characters).
    pub body: String,
    /// `spbill_create_ip`; `None` means detect the outgoing address at run time.
    pub spbill_create_ip: Option<IpAddr>,
}

/// Where requests go: the base URL that the endpoint paths ([`crate::wxpay::endpoint`]) join.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BaseUrl {
    /// Start the built-in simulator on a loopback port and use it.
    Simulator,
    /// A base URL without a trailing slash, e.g. `https://api.mch.weixin.qq.com`.
    Url(String),
}

/// The merchant API certificate used for mutual TLS on `/secapi/...`.
#[derive(Debug, Clone)]
pub enum ClientIdentity {
    /// `apiclient_cert.pem` + `apiclient_key.pem`.
    Pem {
        /// Certificate chain (PEM).
        cert_file: PathBuf,
        /// Private key (PEM, mode 600).
        key_file: PathBuf,
    },
    /// `apiclient_cert.p12` (mode 600) and its password.
    P12 {
        /// The PKCS#12 file.
        file: PathBuf,
        /// Its password (masked `Debug`).
        password: Password,
        /// Where the password came from.
        password_source: SecretSource,
    },
}

/// `[wechat]`
#[derive(Debug, Clone)]
pub struct WechatConfig {
    /// Primary base URL.
    pub base_url: BaseUrl,
    /// WeChat's backup host (live mode only): the rules are `wxpay::client::failover`'s.
    pub backup_url: Option<String>,
    /// TCP + TLS connect timeout.
    pub connect_timeout: Duration,
    /// Time allowed for a reply once the request is sent.
    pub read_timeout: Duration,
    /// Replies larger than this are refused (treated as unknown outcome).
    pub max_reply_bytes: usize,
    /// Extra root CA certificates (PEM) trusted in addition to the built-in roots.
    pub ca_file: Option<PathBuf>,
    /// Client certificate for `/secapi/...`; required for https endpoints.
    pub identity: Option<ClientIdentity>,
}

/// `[checkout]`: the sale flow's timing (`flow::Policy`, docs/protocol.md §8) plus the till's own
/// guards. `Default` is the documented default; the timing defaults live in `Policy` only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutConfig {
    /// Largest amount one sale may charge.
    pub max_amount: Fen,
    /// When to query, when to reverse and how hard to retry (the keys of the same names).
    pub policy: Policy,
    /// The same code scanned again within this window is ignored (0s: off).
    pub duplicate_scan_window: Duration,
}

impl Default for CheckoutConfig {
    fn default() -> Self {
        Self {
            max_amount: Fen(1_000_000),
            policy: Policy::default(),
            duplicate_scan_window: Duration::from_secs(3),
        }
    }
}

/// `[journal]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalConfig {
    /// SQLite database of sales.
    pub path: PathBuf,
    /// Directory for log files.
    pub log_dir: PathBuf,
}

pub use crate::words::Language;

/// `[ui]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UiConfig {
    /// Screen language.
    pub language: Language,
    /// Ring the terminal bell on results.
    pub bell: bool,
    /// How many rings each kind of result gets, so they can be told apart by ear.
    pub rings: Rings,
    /// File holding the manager PIN (mode 600) that unlocks refunds; `None`: refunds need no PIN.
    pub manager_pin_file: Option<PathBuf>,
}

/// Rings of the terminal bell per kind of result (0: silent for that kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rings {
    /// Paid: hand over the goods.
    pub paid: u8,
    /// Not charged, reversed or refunded: nothing taken.
    pub not_charged: u8,
    /// Unresolved, or a pending sale found charged: someone has to act.
    pub attention: u8,
}

impl Rings {
    /// The default: one, two and three rings.
    pub const DEFAULT: Rings = Rings {
        paid: 1,
        not_charged: 2,
        attention: 3,
    };
    /// No sound at all (`bell = false`).
    pub const OFF: Rings = Rings {
        paid: 0,
        not_charged: 0,
        attention: 0,
    };
    /// The most rings a setting may ask for.
    pub const MAX: u8 = 5;
}

/// `[simulator]`: plain data for the built-in simulator. `Default` is the documented default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimulatorConfig {
    /// Serve HTTPS with a generated certificate and require the client certificate on /secapi.
    pub tls: bool,
    /// Amounts above this ask the customer for a password (USERPAYING).
    pub no_password_limit: Fen,
    /// Payments per day per customer without a password.
    pub daily_no_password_count: u32,
    /// An unpaid order is revoked by "WeChat" this long after creation.
    pub auto_revoke_after: Duration,
    /// Delay before every reply.
    pub reply_delay: Duration,
    /// A reverse of an order WeChat never saw answers SUCCESS (WeChat's global POS guide) instead
    /// of ORDERNOTEXIST; the documentation is not of one mind, so the simulator offers both.
    pub unknown_reverse_succeeds: bool,
    /// orderquery of a refunded order answers only `out_trade_no` and `trade_state=REFUND` (the
    /// payment fields are promised for SUCCESS only).
    pub bare_refund_state: bool,
    /// orderquery of a paid order that was reversed answers `REVOKED` instead of `REFUND`; the
    /// documentation has both readings, so the simulator offers both.
    pub reversed_paid_revoked: bool,
    /// A reverse while the password box is open answers `USERPAYING` (WeChat's reverse page
    /// lists it) instead of closing the order at once.
    pub reverse_userpaying: bool,
}

impl Default for SimulatorConfig {
    fn default() -> Self {
        Self {
            tls: false,
            no_password_limit: Fen(100_000),
            daily_no_password_count: 10,
            auto_revoke_after: Duration::from_secs(45),
            reply_delay: Duration::ZERO,
            unknown_reverse_succeeds: false,
            bare_refund_state: false,
            reversed_paid_revoked: false,
            reverse_userpaying: false,
        }
    }
}

/// Read and resolve a config file, with secrets from the process environment.
/// Relative paths inside it resolve against the file's directory.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let file = absolute(path);
    let whole = |problem: String| {
        Ctx {
            file: &file,
            text: "",
        }
        .whole(
            problem,
            "check the path given with --config or PAYCODE_CONFIG (default ./config.toml) / 请检查 --config 或 PAYCODE_CONFIG 指定的路径(默认 ./config.toml)",
        )
    };
    // A FIFO or a device would block or never end: the type and size are checked first.
    let bytes = secrets::read_regular(&file, secrets::FILE_MAX).map_err(|e| {
        whole(match e {
            secrets::ReadProblem::Io(e) => format!("cannot read the config file: {e}"),
            secrets::ReadProblem::NotRegular(en, zh) => format!(
                "the config file is {en}, not a regular file / 配置文件是{zh},不是普通文件"
            ),
            secrets::ReadProblem::TooLarge(n) => format!(
                "the config file is larger than {} bytes ({n} bytes or more): not a paycode config / 配置文件超过 {} 字节,不是 paycode 的配置文件",
                secrets::FILE_MAX,
                secrets::FILE_MAX
            ),
        })
    })?;
    let text = String::from_utf8(bytes).map_err(|_| {
        whole("cannot read the config file: it is not valid UTF-8 text / 配置文件不是有效的 UTF-8 文本".into())
    })?;
    if let Some(problem) = shared_config(&file) {
        return Err(Ctx {
            file: &file,
            text: "",
        }
        .whole(
            problem,
            &format!(
                "chmod go-w {0} and chown it to paycode's user (or root) / 请执行 chmod go-w {0},并让它属于 paycode 的用户(或 root)",
                file.display()
            ),
        ));
    }
    from_str_with_env(&text, &file, &SecretEnv::from_process())
}

/// Why someone else could change the config file (it names where payments go and which CA is
/// trusted), or `None`: writable by group or others, or owned by another user than paycode's
/// or root. Its directory is `paycode check`'s to judge (row 89).
fn shared_config(file: &Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(file).ok()?;
    let me = nix::unistd::geteuid().as_raw();
    if m.uid() != me && m.uid() != 0 {
        return Some(format!(
            "the config file is owned by another user (uid {}), who could change where payments go / 配置文件属于其他用户(uid {}),对方可改变付款去向",
            m.uid(),
            m.uid()
        ));
    }
    if m.mode() & 0o022 != 0 {
        return Some(format!(
            "the config file can be written by group or others (mode {:o}): whoever can change it decides where payments go and which CA is trusted / 配置文件可被同组或其他用户修改(权限 {:o}):能改它的人就能决定付款去向和信任的 CA",
            m.mode() & 0o777,
            m.mode() & 0o777
        ));
    }
    None
}

/// Resolve config text as if it were `base_dir/config.toml`, with secrets from the process
/// environment.
pub fn from_str(text: &str, base_dir: &Path) -> Result<Config, ConfigError> {
    from_str_with_env(
        text,
        &base_dir.join("config.toml"),
        &SecretEnv::from_process(),
    )
}

/// Resolve config text named `file` (for messages; its directory is the base for relative
/// paths), with the secret environment given as a value.
pub fn from_str_with_env(text: &str, file: &Path, env: &SecretEnv) -> Result<Config, ConfigError> {
    let ctx = Ctx { file, text };
    // Parse twice: the first pass tells syntax errors apart from schema errors.
    toml::from_str::<toml::Table>(text).map_err(|e| ctx.toml_error(&e, true))?;
    let raw: schema::RawConfig = toml::from_str(text).map_err(|e| ctx.toml_error(&e, false))?;
    let base = file.parent().unwrap_or(Path::new(""));
    validate::resolve(raw, &ctx, base, env)
}

/// `path` made absolute against the current directory (left as is if that cannot be read).
fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        return path.to_path_buf();
    }
    std::env::current_dir().map_or_else(|_| path.to_path_buf(), |d| d.join(path))
}
