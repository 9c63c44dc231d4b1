//! From the file shape to `Config`: defaults applied, values and their relations checked, paths
//! made relative to the config file's directory. Pure except for the secrets step.

use super::base_url::parse_base_url;
use super::error::Ctx;
use super::schema::{RawCheckout, RawConfig, RawMerchant, RawSimulator, RawWechat};
use super::secrets::{self, SecretEnv};
use super::{
    BaseUrl, CheckoutConfig, Config, ConfigError, JournalConfig, MerchantConfig, Rings,
    SIMULATOR_APPID, SIMULATOR_MCH_ID, SimulatorConfig, UiConfig, WechatConfig,
};
use crate::checkout::flow::Policy;
use crate::checkout::order_no::DEVICE_PREFIX_MAX;
use crate::money::MAX_ORDER;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The longest password wait accepted: WeChat revokes an unpaid code order after about 45 s.
pub(crate) const MAX_PASSWORD_TIMEOUT: Duration = Duration::from_secs(120);
/// Bounds for `[wechat] max_reply_bytes`.
pub(crate) const REPLY_BYTES: (u64, u64) = (4 * 1024, 16 * 1024 * 1024);

/// Check every section and load the secrets.
pub(crate) fn resolve(
    raw: RawConfig,
    ctx: &Ctx<'_>,
    base: &Path,
    env: &SecretEnv,
) -> Result<Config, ConfigError> {
    let at = |p: &Path| base.join(p);
    let (wechat, https) = wechat(&raw.wechat, ctx)?;
    let simulator = wechat.base_url == BaseUrl::Simulator;
    let checkout = checkout(&raw.checkout, !wechat.base_url.is_simulated(), ctx)?;
    let sim = simulator_section(&raw.simulator, ctx)?;
    let ids = merchant_ids(&raw.merchant, simulator, ctx)?;
    let spbill_create_ip = spbill_ip(raw.merchant.spbill_create_ip.as_deref(), ctx)?;
    if let Some(v) = raw.merchant.device_info.as_deref() {
        check_device_info(v, ctx)?;
    }
    check_body(&raw.merchant.body, ctx)?;
    let journal = JournalConfig {
        path: at(&non_empty_path(&raw.journal.path, "journal", "path", ctx)?),
        log_dir: at(&non_empty_path(
            &raw.journal.log_dir,
            "journal",
            "log_dir",
            ctx,
        )?),
    };

    journal_file(&journal.path, ctx)?;

    let key_file = raw.merchant.api_key_file.as_deref().map(at);
    let (api_key, api_key_source) = secrets::api_key(key_file.as_deref(), env, simulator, ctx)?;
    let (cert, key, p12) = (
        raw.wechat.cert_file.as_deref().map(at),
        raw.wechat.key_file.as_deref().map(at),
        raw.wechat.p12_file.as_deref().map(at),
    );
    let identity = secrets::identity(
        cert.as_deref(),
        key.as_deref(),
        p12.as_deref(),
        env,
        &ids.1,
        ctx,
    )?;
    if https && identity.is_none() {
        return Err(ctx.err(
            "wechat",
            "cert_file",
            "an https:// endpoint needs the merchant API certificate: WeChat refuses \
             /secapi/pay/reverse without it, and unfinished sales could not be cancelled",
            "set cert_file and key_file to apiclient_cert.pem and apiclient_key.pem (or p12_file)",
        ));
    }
    let ca_file = match raw.wechat.ca_file.as_deref().map(at) {
        None => None,
        Some(ca) => {
            let text = secrets::read_text(&ca, false, secrets::FILE_MAX)
                .map_err(|(problem, fix)| ctx.err("wechat", "ca_file", problem, &fix))?;
            if !text.contains("-----BEGIN CERTIFICATE-----") {
                return Err(ctx.err(
                    "wechat",
                    "ca_file",
                    format!("{} holds no PEM certificate", ca.display()),
                    "point it at a root CA certificate in PEM form",
                ));
            }
            // The same roots serve the backup host, so it counts as well.
            let live = !wechat.base_url.is_simulated()
                || wechat
                    .backup_url
                    .as_ref()
                    .is_some_and(|b| !BaseUrl::Url(b.clone()).is_simulated());
            if live && super::ca_file::holds_simulator_ca(&text) {
                return Err(ctx.err(
                    "wechat",
                    "ca_file",
                    format!(
                        "{} holds the paycode simulator CA, whose key lies on disk beside it: \
                         whoever reads that key could stand in for WeChat Pay on this live till \
                         / {} 含有 paycode 模拟器 CA,其私钥就在磁盘上,读到它的人可冒充微信支付",
                        ca.display(),
                        ca.display()
                    ),
                    "remove ca_file (the system roots verify WeChat Pay), or point it at the real \
                     root CA; the simulator CA is only for a base_url on this machine \
                     / 请删除 ca_file(系统根证书即可验证微信支付),或指向真实的根证书;\
                     模拟器 CA 只用于本机的 base_url",
                ));
            }
            Some(ca)
        }
    };
    let manager_pin_file = match raw.ui.manager_pin_file.as_deref().map(at) {
        None => None,
        Some(pin) => {
            secrets::read_checked(&pin, true, secrets::PIN_FILE_MAX)
                .map_err(|(problem, fix)| ctx.err("ui", "manager_pin_file", problem, &fix))?;
            Some(pin)
        }
    };

    for (key, n) in [
        ("bell_paid", raw.ui.bell_paid),
        ("bell_not_charged", raw.ui.bell_not_charged),
        ("bell_attention", raw.ui.bell_attention),
    ] {
        if n > Rings::MAX {
            return Err(ctx.err(
                "ui",
                key,
                format!("{n} rings is more than a cashier wants to hear"),
                &format!("use 0 (silent) to {}", Rings::MAX),
            ));
        }
    }
    let rings = Rings {
        paid: raw.ui.bell_paid,
        not_charged: raw.ui.bell_not_charged,
        attention: raw.ui.bell_attention,
    };

    raw.scanner.validate().map_err(|problem| {
        ctx.err(
            "scanner",
            "",
            problem,
            "see the [scanner] comments in config.toml and udev/README.md",
        )
    })?;

    let printer = raw
        .printer
        .map(|p| super::printer::resolve(p, &raw.merchant.body, base, ctx))
        .transpose()?;
    let api = raw
        .api
        .map(|a| super::api::resolve(a, base, ctx))
        .transpose()?;
    let pos_display = raw
        .pos_display
        .map(|p| super::pos_display::resolve(p, base, ctx))
        .transpose()?;
    let office = raw
        .office
        .map(|o| super::office::resolve(o, base, ctx))
        .transpose()?;

    let (appid, mch_id, sub_appid, sub_mch_id) = ids;
    // Last, so a live config's other problems are named first.
    let device_info = device_info(
        raw.merchant.device_info,
        wechat.base_url.is_simulated(),
        ctx,
    )?;
    Ok(Config {
        file: ctx.file.to_path_buf(),
        merchant: MerchantConfig {
            appid,
            mch_id,
            sub_appid,
            sub_mch_id,
            sign_type: raw.merchant.sign_type,
            api_key,
            api_key_source,
            device_info,
            body: raw.merchant.body,
            spbill_create_ip,
        },
        wechat: WechatConfig {
            ca_file,
            identity,
            ..wechat
        },
        checkout,
        journal,
        ui: UiConfig {
            language: raw.ui.language,
            bell: raw.ui.bell,
            rings,
            manager_pin_file,
        },
        scanner: raw.scanner,
        simulator: sim,
        printer,
        api,
        pos_display,
        office,
    })
}

/// `[wechat]` without the files; also whether the base URL is https.
fn wechat(raw: &RawWechat, ctx: &Ctx<'_>) -> Result<(WechatConfig, bool), ConfigError> {
    let base_url =
        parse_base_url(&raw.base_url).map_err(|(p, f)| ctx.err("wechat", "base_url", p, &f))?;
    let backup_url = match (&raw.backup_url, &base_url) {
        (None, _) => None,
        (Some(_), BaseUrl::Simulator) => {
            return Err(ctx.err(
                "wechat",
                "backup_url",
                "a backup host makes no sense with base_url = \"simulator\"",
                "remove backup_url, or set base_url to the primary https:// host",
            ));
        }
        (Some(u), BaseUrl::Url(_)) => match parse_base_url(u) {
            Ok(BaseUrl::Url(u)) => Some(u),
            Ok(BaseUrl::Simulator) => {
                return Err(ctx.err(
                    "wechat",
                    "backup_url",
                    "backup_url cannot be \"simulator\"",
                    "use WeChat's backup host https://api2.mch.weixin.qq.com or remove it",
                ));
            }
            Err((p, f)) => return Err(ctx.err("wechat", "backup_url", p, &f)),
        },
    };
    positive(
        raw.connect_timeout,
        "wechat",
        "connect_timeout",
        "\"5s\"",
        ctx,
    )?;
    positive(raw.read_timeout, "wechat", "read_timeout", "\"10s\"", ctx)?;
    // A huge timeout would hold a sale (and the till) on one silent connection for hours.
    at_most(
        raw.connect_timeout,
        MAX_CONNECT_TIMEOUT,
        "wechat",
        "connect_timeout",
        "use 5s",
        ctx,
    )?;
    at_most(
        raw.read_timeout,
        MAX_READ_TIMEOUT,
        "wechat",
        "read_timeout",
        "use 10s",
        ctx,
    )?;
    let (lo, hi) = REPLY_BYTES;
    if !(lo..=hi).contains(&raw.max_reply_bytes) {
        return Err(ctx.err(
            "wechat",
            "max_reply_bytes",
            format!("{} is outside {lo}..={hi}", raw.max_reply_bytes),
            "leave it at the default 65536 (replies are a few KiB)",
        ));
    }
    let https = matches!(&base_url, BaseUrl::Url(u) if u.starts_with("https://"));
    let max_reply_bytes = usize::try_from(raw.max_reply_bytes).unwrap_or(usize::MAX);
    Ok((
        WechatConfig {
            base_url,
            backup_url,
            connect_timeout: raw.connect_timeout,
            read_timeout: raw.read_timeout,
            max_reply_bytes,
            ca_file: None,
            identity: None,
        },
        https,
    ))
}

/// `[checkout]` values and the relations between them.
/// Longest pause between reverse calls accepted (the flow doubles it up to 4×).
const MAX_REVERSE_BACKOFF: Duration = Duration::from_secs(10);

/// Longest wait for WeChat to settle an order never proven this sale's.
const MAX_UNPROVEN_WAIT: Duration = Duration::from_secs(5 * 60);

/// WeChat refuses (or may not yet have) a reverse sooner than this after the micropay.
const LIVE_REVERSE_FLOOR: Duration = Duration::from_secs(15);

/// `[checkout]`; `live`: the base URL is a real WeChat host, not a simulator.
fn checkout(raw: &RawCheckout, live: bool, ctx: &Ctx<'_>) -> Result<CheckoutConfig, ConfigError> {
    let c = "checkout";
    if live && raw.reverse_not_before < LIVE_REVERSE_FLOOR {
        return Err(ctx.err(
            c,
            "reverse_not_before",
            format!(
                "{} is sooner than WeChat's 15s floor for reversing a payment-code order",
                show(raw.reverse_not_before)
            ),
            "use 15s or more (shorter values are for the simulator only)",
        ));
    }
    positive(raw.query_interval, c, "query_interval", "\"5s\"", ctx)?;
    positive(raw.password_timeout, c, "password_timeout", "\"30s\"", ctx)?;
    positive(raw.reverse_backoff, c, "reverse_backoff", "\"2s\"", ctx)?;
    if raw.reverse_backoff > MAX_REVERSE_BACKOFF {
        return Err(ctx.err(
            c,
            "reverse_backoff",
            format!(
                "{} is longer than {}: the reverse loop (up to 4× this between calls) would hold the till for minutes",
                show(raw.reverse_backoff),
                show(MAX_REVERSE_BACKOFF)
            ),
            "use 1s to 5s",
        ));
    }
    if raw.password_timeout > MAX_PASSWORD_TIMEOUT {
        return Err(ctx.err(
            c,
            "password_timeout",
            format!(
                "{} is longer than {}: WeChat revokes an unpaid payment-code order after about 45s",
                show(raw.password_timeout),
                show(MAX_PASSWORD_TIMEOUT)
            ),
            "use 30s to 45s",
        ));
    }
    for (key, value) in [
        ("first_query_after", raw.first_query_after),
        ("query_interval", raw.query_interval),
        ("unknown_query_after", raw.unknown_query_after),
        ("reverse_not_before", raw.reverse_not_before),
    ] {
        let strict = key != "reverse_not_before";
        let bad = if strict {
            value >= raw.password_timeout
        } else {
            value > raw.password_timeout
        };
        if bad {
            let rel = if strict { "shorter than" } else { "at most" };
            return Err(ctx.err(
                c,
                key,
                format!(
                    "{} must be {rel} password_timeout ({}), or the sale would give up before it",
                    show(value),
                    show(raw.password_timeout)
                ),
                "lower it or raise [checkout] password_timeout",
            ));
        }
    }
    at_most(
        raw.duplicate_scan_window,
        MAX_DUPLICATE_WINDOW,
        c,
        "duplicate_scan_window",
        "use 3s",
        ctx,
    )?;
    if raw.unproven_wait > MAX_UNPROVEN_WAIT {
        return Err(ctx.err(
            c,
            "unproven_wait",
            format!(
                "{} is longer than {}: the cashier would wait that long for an order WeChat never confirmed",
                show(raw.unproven_wait),
                show(MAX_UNPROVEN_WAIT)
            ),
            "use 60s (WeChat revokes an unpaid payment-code order after about 45s)",
        ));
    }
    for (key, value) in [
        ("reverse_max_attempts", raw.reverse_max_attempts),
        ("notexist_rounds", raw.notexist_rounds),
    ] {
        if !(1..=100).contains(&value) {
            return Err(ctx.err(
                c,
                key,
                format!("{value} is outside 1..=100"),
                "use the default",
            ));
        }
    }
    if raw.max_amount > MAX_ORDER {
        return Err(ctx.err(
            c,
            "max_amount",
            format!(
                "¥{} is more than one WeChat order can carry (¥{MAX_ORDER})",
                raw.max_amount
            ),
            "set the largest sale this till should take, like \"10000.00\"",
        ));
    }
    Ok(CheckoutConfig {
        max_amount: raw.max_amount,
        policy: Policy {
            first_query_after: raw.first_query_after,
            query_interval: raw.query_interval,
            password_timeout: raw.password_timeout,
            reverse_not_before: raw.reverse_not_before,
            reverse_max_attempts: raw.reverse_max_attempts,
            reverse_backoff: raw.reverse_backoff,
            unknown_query_after: raw.unknown_query_after,
            notexist_rounds: raw.notexist_rounds,
            unproven_wait: raw.unproven_wait,
        },
        duplicate_scan_window: raw.duplicate_scan_window,
    })
}

fn simulator_section(raw: &RawSimulator, ctx: &Ctx<'_>) -> Result<SimulatorConfig, ConfigError> {
    positive(
        raw.auto_revoke_after,
        "simulator",
        "auto_revoke_after",
        "\"45s\"",
        ctx,
    )?;
    // Bounds like the other durations: a huge revoke time or delay would hold the simulated
    // WeChat (and a practising till) on one order or reply for hours.
    at_most(
        raw.auto_revoke_after,
        MAX_SIM_AUTO_REVOKE,
        "simulator",
        "auto_revoke_after",
        "use 45s, as WeChat does (at most 1h) / 请使用 45s,与微信一致(最长 1h)",
        ctx,
    )?;
    at_most(
        raw.reply_delay,
        MAX_READ_TIMEOUT,
        "simulator",
        "reply_delay",
        "use 0ms, or up to 60s to stage a slow WeChat (beyond [wechat] read_timeout every call \
         times out) / 请使用 0ms,或最长 60s 以模拟缓慢的微信(超过 [wechat] read_timeout 时每次请求都会超时)",
        ctx,
    )?;
    if raw.daily_no_password_count > MAX_SIM_DAILY_NO_PASSWORD {
        return Err(ctx.err(
            "simulator",
            "daily_no_password_count",
            format!(
                "{} is more than {MAX_SIM_DAILY_NO_PASSWORD} password-free payments a day / 每日免密支付次数超过 {MAX_SIM_DAILY_NO_PASSWORD}",
                raw.daily_no_password_count
            ),
            "use 10, as WeChat does (0: every payment asks for the password) / 请使用 10,与微信一致(0:每笔都需输入密码)",
        ));
    }
    if raw.no_password_limit > MAX_ORDER {
        return Err(ctx.err(
            "simulator",
            "no_password_limit",
            format!(
                "¥{} is more than one WeChat order can carry",
                raw.no_password_limit
            ),
            "use the default \"1000.00\"",
        ));
    }
    Ok(SimulatorConfig {
        tls: raw.tls,
        no_password_limit: raw.no_password_limit,
        daily_no_password_count: raw.daily_no_password_count,
        auto_revoke_after: raw.auto_revoke_after,
        reply_delay: raw.reply_delay,
        unknown_reverse_succeeds: raw.unknown_reverse_succeeds,
        bare_refund_state: raw.bare_refund_state,
        reversed_paid_revoked: raw.reversed_paid_revoked,
        reverse_userpaying: raw.reverse_userpaying,
    })
}

type Ids = (String, String, Option<String>, Option<String>);

/// appid, mch_id and the service-provider pair; demo ids in simulator mode.
fn merchant_ids(raw: &RawMerchant, simulator: bool, ctx: &Ctx<'_>) -> Result<Ids, ConfigError> {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let digit = |c: char| c.is_ascii_digit();
    let check = |key: &str, v: &str, ok: &dyn Fn(char) -> bool, what: &str| {
        if v.is_empty() || v.chars().count() > 32 || !v.chars().all(ok) {
            Err(ctx.err(
                "merchant",
                key,
                format!("{v:?} is not {what}"),
                "copy it from the merchant platform",
            ))
        } else {
            Ok(v.to_string())
        }
    };
    let required = |key: &str, v: &Option<String>, demo: &str| match (v, simulator) {
        (Some(v), _) => Ok(v.clone()),
        (None, true) => Ok(demo.to_string()),
        (None, false) => Err(ctx.err(
            "merchant",
            key,
            format!("{key} is missing; it is required unless base_url = \"simulator\""),
            "copy it from the merchant platform (pay.weixin.qq.com)",
        )),
    };
    let appid = required("appid", &raw.appid, SIMULATOR_APPID)?;
    let appid = check(
        "appid",
        &appid,
        &word,
        "an appid (up to 32 letters and digits, like wx…)",
    )?;
    let mch_id = required("mch_id", &raw.mch_id, SIMULATOR_MCH_ID)?;
    let mch_id = check("mch_id", &mch_id, &digit, "a merchant number (digits only)")?;
    let sub_appid = raw
        .sub_appid
        .as_deref()
        .map(|v| {
            check(
                "sub_appid",
                v,
                &word,
                "an appid (up to 32 letters and digits)",
            )
        })
        .transpose()?;
    let sub_mch_id = raw
        .sub_mch_id
        .as_deref()
        .map(|v| check("sub_mch_id", v, &digit, "a merchant number (digits only)"))
        .transpose()?;
    if sub_appid.is_some() && sub_mch_id.is_none() {
        return Err(ctx.err(
            "merchant",
            "sub_appid",
            "sub_appid is set without sub_mch_id",
            "set sub_mch_id (service-provider mode) or remove sub_appid",
        ));
    }
    Ok((appid, mch_id, sub_appid, sub_mch_id))
}

/// The till's id: required in live mode (two tills left at the default would share it, and so
/// their order numbers); the simulator's default is `till-1`.
fn device_info(v: Option<String>, simulated: bool, ctx: &Ctx<'_>) -> Result<String, ConfigError> {
    match v {
        Some(v) => Ok(v),
        None if simulated => Ok("till-1".into()),
        None => Err(ctx.err(
            "merchant",
            "device_info",
            "is missing: with a real WeChat host every till needs its own id".to_string(),
            "set device_info = \"till-1\" (a different one on every till, at most 15 characters)",
        )),
    }
}

/// `device_info`: 1 to 15 of `[0-9A-Za-z_-]` (sent on every request, filters the statement).
/// Order numbers carry it whole before a 17-digit stamp (WeChat allows 32), so two tills with
/// different ids can never share a number; a longer id would be cut and could collide.
fn check_device_info(v: &str, ctx: &Ctx<'_>) -> Result<(), ConfigError> {
    let fix = "use up to 15 letters, digits, '_' or '-', different on every till, like \"till-1\" (order numbers carry it whole)";
    if let Some((i, c)) = v
        .chars()
        .enumerate()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
    {
        let problem = format!("{v:?} has the character {c:?} at position {}", i + 1);
        return Err(ctx.err("merchant", "device_info", problem, fix));
    }
    let n = v.chars().count();
    if n == 0 || n > DEVICE_PREFIX_MAX {
        return Err(ctx.err("merchant", "device_info", format!("{n} characters"), fix));
    }
    Ok(())
}

/// `body`: 1 to 127 characters, no control characters (shown on the customer's receipt).
fn check_body(v: &str, ctx: &Ctx<'_>) -> Result<(), ConfigError> {
    let n = v.chars().count();
    if crate::untrusted::has_direction_mark(v) {
        return Err(ctx.err(
            "merchant",
            "body",
            "a Unicode direction mark (U+200E/U+200F, U+202A–U+202E, U+2066–U+2069): the \
             customer's bill would read differently from what paycode sent",
            "retype the text without direction marks, like \"Brand-Store-Goods\"",
        ));
    }
    if n == 0 || n > 127 || v.chars().any(char::is_control) {
        return Err(ctx.err(
            "merchant",
            "body",
            format!("{n} characters or a control character"),
            "write 1 to 127 characters on one line, like \"Brand-Store-Goods\"",
        ));
    }
    Ok(())
}

/// `spbill_create_ip`: absent or `"auto"` (detect later), else one IPv4/IPv6 address.
fn spbill_ip(v: Option<&str>, ctx: &Ctx<'_>) -> Result<Option<IpAddr>, ConfigError> {
    match v {
        None | Some("auto") => Ok(None),
        Some(s) => match s.parse::<IpAddr>() {
            Ok(ip) if !ip.is_unspecified() => Ok(Some(ip)),
            _ => Err(ctx.err(
                "merchant",
                "spbill_create_ip",
                format!("{s:?} is not a usable IP address"),
                "write the till's IPv4 or IPv6 address, or \"auto\"",
            )),
        },
    }
}

/// `[journal] path` names a regular file or nothing yet (SQLite creates it). A device, a FIFO,
/// a socket or a directory would fail at the first write with "disk I/O error" (the lock file
/// beside it created first, in /dev for `/dev/null`), so it is refused here. (Reads metadata.)
fn journal_file(path: &Path, ctx: &Ctx<'_>) -> Result<(), ConfigError> {
    use std::os::unix::fs::FileTypeExt;
    let Ok(meta) = std::fs::metadata(path) else {
        return Ok(());
    };
    let t = meta.file_type();
    let (en, zh) = if t.is_file() {
        return Ok(());
    } else if t.is_dir() {
        ("a directory", "目录")
    } else if t.is_fifo() {
        ("a FIFO (named pipe)", "命名管道(FIFO)")
    } else if t.is_char_device() || t.is_block_device() {
        ("a device", "设备文件")
    } else if t.is_socket() {
        ("a socket", "套接字")
    } else {
        ("not a regular file", "非普通文件")
    };
    let p = path.display();
    Err(ctx.err(
        "journal",
        "path",
        format!("{p} is {en}, not a file the journal can live in / {p} 是{zh},不能作为账本文件"),
        "point path at a file in the till's data directory, like \"data/paycode.db\" (created on \
         first use) / 请将 path 指向数据目录中的文件,如 \"data/paycode.db\"(首次使用时创建)",
    ))
}

fn non_empty_path(
    p: &Path,
    section: &str,
    key: &str,
    ctx: &Ctx<'_>,
) -> Result<PathBuf, ConfigError> {
    if p.as_os_str().is_empty() {
        return Err(ctx.err(
            section,
            key,
            "the path is empty",
            "give a file path or remove the key",
        ));
    }
    Ok(p.to_path_buf())
}

/// Longest `[simulator] auto_revoke_after` (WeChat's own is about 45 s).
const MAX_SIM_AUTO_REVOKE: Duration = Duration::from_secs(3600);

/// Most `[simulator] daily_no_password_count` (WeChat's own is 10).
const MAX_SIM_DAILY_NO_PASSWORD: u32 = 1000;

/// Longest connect and read timeouts accepted.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
const MAX_READ_TIMEOUT: Duration = Duration::from_secs(60);

/// Longest window in which a second scan of one code is refused.
const MAX_DUPLICATE_WINDOW: Duration = Duration::from_secs(3600);

/// `d` at most `max`, or the key, the value and `fix`.
fn at_most(
    d: Duration,
    max: Duration,
    section: &str,
    key: &str,
    fix: &str,
    ctx: &Ctx<'_>,
) -> Result<(), ConfigError> {
    if d > max {
        return Err(ctx.err(
            section,
            key,
            format!(
                "{} is longer than the {} paycode accepts",
                show(d),
                show(max)
            ),
            fix,
        ));
    }
    Ok(())
}

fn positive(
    d: Duration,
    section: &str,
    key: &str,
    example: &str,
    ctx: &Ctx<'_>,
) -> Result<(), ConfigError> {
    if d.is_zero() {
        return Err(ctx.err(
            section,
            key,
            "0 is not allowed here",
            &format!("set a duration above zero, like {example}"),
        ));
    }
    Ok(())
}

fn show(d: Duration) -> crate::duration::HumanDuration {
    crate::duration::HumanDuration(d)
}
