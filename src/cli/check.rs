//! `paycode check`: one line per check with OK/WARN/FAIL and the fix; exit 0 when none fails.
//! Config, secret file permissions, certificate expiry, API reachability and latency, the key
//! (a signed reply verifies), and clock skew against the server's `Date` header.

use std::path::Path;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::checkout::health::probe;
use crate::config::{ClientIdentity, Config, SecretSource, private_mode_problem};
use crate::wxpay::api::ReplyError;
use crate::wxpay::call::CallError;

/// Largest clock difference to WeChat's servers accepted (order times and statements).
const MAX_SKEW_SECS: i64 = 60;
/// A certificate this close to expiry fails the check so it is renewed in time.
const CERT_WARN_DAYS: i64 = 30;

/// How a check came out: a warning is said but does not fail `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mark {
    Ok,
    Warn,
    Fail,
}

/// One result line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Line {
    pub mark: Mark,
    pub name: &'static str,
    pub detail: String,
    /// What to do about a failure or a warning.
    pub fix: String,
}

impl Line {
    fn ok(name: &'static str, detail: impl Into<String>) -> Line {
        Line {
            mark: Mark::Ok,
            name,
            detail: detail.into(),
            fix: String::new(),
        }
    }

    fn fail(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Line {
        Line {
            mark: Mark::Fail,
            name,
            detail: detail.into(),
            fix: fix.into(),
        }
    }

    fn warn(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Line {
        Line {
            mark: Mark::Warn,
            ..Line::fail(name, detail, fix)
        }
    }

    fn render(&self) -> String {
        let mark = match self.mark {
            Mark::Ok => return format!("OK    {:<12} {}", self.name, self.detail),
            Mark::Warn => "WARN",
            Mark::Fail => "FAIL",
        };
        format!(
            "{mark}  {:<12} {} — fix: {}",
            self.name, self.detail, self.fix
        )
    }
}

#[allow(clippy::disallowed_methods)] // IO edge: `check` compares against the local clock
fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0))
}

fn file_mode(path: &Path) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).ok().map(|m| m.permissions().mode())
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// The receipt printer's state (no line without `[printer]`): OK online, WARN paper nearly out
/// or no status reply (a USB lp device often sends none), FAIL offline, out of paper, cover
/// open or unreachable.
fn printer(cfg: &Config) -> Option<Line> {
    use crate::receipt::PrinterState as S;
    let p = cfg.printer.as_ref()?;
    let at = p.transport.to_string();
    Some(match crate::printer::probe(p) {
        Ok(S::Online) => Line::ok("printer", format!("{at}: online")),
        Ok(s @ S::PaperNearEnd) => {
            Line::warn("printer", format!("{at}: {s}"), "load a new roll soon")
        }
        Ok(s @ S::NoReply) => Line::warn(
            "printer",
            format!("{at}: {s}"),
            "print a test slip with `paycode receipt <out_trade_no>`; a USB lp printer often sends no status",
        ),
        Ok(s) => Line::fail(
            "printer",
            format!("{at}: {s}"),
            "receipts wait in the queue until it is fixed, then `paycode receipt --flush`",
        ),
        Err(e) => Line::fail(
            "printer",
            e.to_string(),
            "check the cable or network and [printer] in config.toml; receipts wait in the queue",
        ),
    })
}

/// Permission lines for the key file and the private certificate files.
/// The POS's pole-display port (no line without `[pos_display]`): OK when it opens, WARN when
/// not — sales still work with typed amounts, and the cashier screen keeps trying to open it.
fn pos_display(cfg: &Config) -> Option<Line> {
    let p = cfg.pos_display.as_ref()?;
    let at = format!(
        "{} at {} baud, {}",
        p.port.display(),
        p.baud,
        p.command_set.as_str()
    );
    Some(match crate::pole::port::probe(p) {
        Ok(_) => Line::ok("pos_display", format!("{at}: open / 已打开")),
        Err(ev) => Line::warn(
            "pos_display",
            format!("{at}: {ev} / {}", crate::words::Bilingual::zh(&ev)),
            "connect the POS's pole-display cable (or start the virtual COM port) and check \
             [pos_display] port; amounts can be typed meanwhile / 请接好收银机的客显线(或启动虚拟串口)\
             并检查 [pos_display] port;在此之前可手动输入金额",
        ),
    })
}

fn secret_files(cfg: &Config) -> Vec<Line> {
    let mut files: Vec<&Path> = Vec::new();
    if let SecretSource::File(p) = &cfg.merchant.api_key_source {
        files.push(p);
    }
    match &cfg.wechat.identity {
        Some(ClientIdentity::Pem { key_file, .. }) => files.push(key_file),
        Some(ClientIdentity::P12 { file, .. }) => files.push(file),
        None => {}
    }
    if files.is_empty() {
        return vec![Line::ok(
            "secrets",
            "no secret files (key from the environment or the simulator)",
        )];
    }
    files
        .into_iter()
        .map(|p| match file_mode(p) {
            None => Line::fail(
                "secrets",
                format!("cannot read {}", p.display()),
                "check the path",
            ),
            Some(mode) => match private_mode_problem(p, mode) {
                Some(problem) => {
                    Line::fail("secrets", problem, format!("chmod 600 {}", p.display()))
                }
                None => Line::ok("secrets", format!("{} is private (mode 600)", p.display())),
            },
        })
        .collect()
}

use crate::config::trust::Owned;

/// Why a file paycode trusts (its config, the CA it verifies WeChat with, the key, the
/// certificates, the PIN) could be changed by someone else, or `None`: `config::trust`'s rule,
/// the one config load refuses with. Pure: `me` is the effective user, `dir` the file's directory.
fn trust_problem(path: &Path, file: Owned, dir: Option<Owned>, me: u32) -> Option<String> {
    crate::config::trust::problem(file, dir, me).map(|s| s.en(path))
}

/// One line per file paycode trusts that someone else could change (none: one OK line).
fn trusted_files(cfg: &Config) -> Vec<Line> {
    let mut files: Vec<&Path> = vec![cfg.file.as_path()];
    files.extend(cfg.wechat.ca_file.as_deref());
    if let SecretSource::File(p) = &cfg.merchant.api_key_source {
        files.push(p);
    }
    match &cfg.wechat.identity {
        Some(ClientIdentity::Pem {
            cert_file,
            key_file,
        }) => files.extend([cert_file.as_path(), key_file.as_path()]),
        Some(ClientIdentity::P12 { file, .. }) => files.push(file),
        None => {}
    }
    files.extend(cfg.ui.manager_pin_file.as_deref());
    let me = nix::unistd::geteuid().as_raw();
    let owned = crate::config::trust::owned;
    let bad: Vec<Line> = files
        .iter()
        .filter_map(|p| {
            let file = owned(p)?;
            let dir = p
                .parent()
                .map(|d| {
                    if d.as_os_str().is_empty() {
                        Path::new(".")
                    } else {
                        d
                    }
                })
                .and_then(owned);
            trust_problem(p, file, dir, me)
        })
        .map(|problem| {
            Line::fail(
                "trust",
                problem,
                "chmod go-w the file and its directory, and chown them to paycode's user (or root)",
            )
        })
        .collect();
    if bad.is_empty() {
        vec![Line::ok(
            "trust",
            format!(
                "{} file(s) paycode trusts can be changed only by its user or root",
                files.len()
            ),
        )]
    } else {
        bad
    }
}

/// The variables rustls-native-certs reads *instead of* the system's CA bundle when set.
const ROOT_VARS: [&str; 2] = ["SSL_CERT_FILE", "SSL_CERT_DIR"];

/// Debian's own bundle and directory: many images export them, and they name the list the
/// system would use anyway, so they only WARN.
const SYSTEM_ROOTS: [&str; 2] = ["/etc/ssl/certs/ca-certificates.crt", "/etc/ssl/certs"];

/// One line per variable of [`ROOT_VARS`] that `var` finds set (even empty: the system roots are
/// replaced then too). A live till FAILs: those roots decide who may answer as WeChat Pay, and
/// the environment changes them with no change to any file `check` guards. The simulator only
/// WARNs: it is trusted through its own CA, the system roots are not used for it, but the same
/// environment would carry over to a live config. Pure: `var` reads the environment.
fn root_overrides(live: bool, var: impl Fn(&str) -> Option<std::ffi::OsString>) -> Vec<Line> {
    ROOT_VARS
        .iter()
        .filter_map(|name| {
            let value = var(name)?;
            let shown = format!("{name}={:?}", value.to_string_lossy());
            let detail = format!(
                "{shown} replaces the system CA list paycode verifies WeChat Pay with \
                 / {shown} 替换了 paycode 验证微信支付所用的系统根证书"
            );
            let fix = "unset it, or put the CA in [wechat] ca_file / 请取消该变量,或把 CA 写入 [wechat] ca_file";
            let system = SYSTEM_ROOTS.iter().any(|p| value == std::ffi::OsStr::new(p));
            Some(if live && !system {
                Line::fail("trust", detail, fix)
            } else {
                Line::warn("trust", detail, fix)
            })
        })
        .collect()
}

/// `[journal] log_dir` is a directory, or can become one: the commands go on without a log
/// file when it cannot be written (never a crash loop under the kiosk unit), so this line is
/// where a log dir naming a file, or under one, shows up.
fn log_dir(cfg: &Config) -> Line {
    let dir = &cfg.journal.log_dir;
    // The first part of the path that exists must be a directory (the rest is created).
    let existing = dir
        .ancestors()
        .find(|a| std::fs::symlink_metadata(a).is_ok());
    match existing.map(|a| (a, std::fs::metadata(a).map(|m| m.is_dir()))) {
        Some((a, Ok(false))) => Line::fail(
            "log-dir",
            format!(
                "[journal] log_dir {}: {} is not a directory, so paycode runs without a log file / {} 不是目录,paycode 将在没有日志文件的情况下运行",
                dir.display(),
                a.display(),
                a.display()
            ),
            "point [journal] log_dir at a directory, like \"data/logs\" / 请将 [journal] log_dir 指向目录,如 \"data/logs\"",
        ),
        Some((a, Err(e))) => Line::fail(
            "log-dir",
            format!(
                "[journal] log_dir {}: cannot read {}: {e}",
                dir.display(),
                a.display()
            ),
            "point [journal] log_dir at a directory paycode's user can write",
        ),
        _ => Line::ok(
            "log-dir",
            format!(
                "{} is a directory (or is created on first use)",
                dir.display()
            ),
        ),
    }
}

/// The manager PIN that unlocks refunds (the refund screen, `paycode refund`, `reverse` of a
/// paid sale): a live till without one has refunds off.
fn manager_pin(cfg: &Config) -> Line {
    let live = !cfg.wechat.base_url.is_simulated();
    let path = match (
        crate::manager::configured_pin(cfg),
        &cfg.ui.manager_pin_file,
    ) {
        (Err(why), _) => {
            return Line::fail(
                "manager-pin",
                why.get(crate::words::Language::En).to_string(),
                "put 4 to 12 digits in the file [ui] manager_pin_file names",
            );
        }
        (Ok(_), Some(path)) => path,
        (Ok(_), None) if live => {
            return Line::fail(
                "manager-pin",
                "no manager PIN: refunds are off on this till",
                "put 4 to 12 digits in a file, chmod 600 it and set [ui] manager_pin_file",
            );
        }
        (Ok(_), None) => {
            return Line::ok(
                "manager-pin",
                "not set (the simulator allows refunds without one; a live till does not)",
            );
        }
    };
    match file_mode(path).and_then(|m| private_mode_problem(path, m)) {
        Some(problem) => Line::fail(
            "manager-pin",
            problem,
            format!("chmod 600 {}", path.display()),
        ),
        None => Line::ok(
            "manager-pin",
            format!("{} holds a PIN and is private", path.display()),
        ),
    }
}

fn certificate(cfg: &Config, now: i64) -> Line {
    let Some((file, days)) = crate::checkout::health::certificate(cfg, now) else {
        return Line::ok(
            "certificate",
            "no client certificate configured (simulator or loopback)",
        );
    };
    let file = file.display();
    match days {
        Err(e) => Line::fail(
            "certificate",
            format!("{file}: {e}"),
            "download the API certificate again from the merchant platform",
        ),
        Ok(d) if d < 0 => Line::fail(
            "certificate",
            format!("{file} expired {} days ago", -d),
            "apply for a new API certificate in the merchant platform",
        ),
        Ok(d) if d < CERT_WARN_DAYS => Line::fail(
            "certificate",
            format!("{file} expires in {d} days"),
            "renew the API certificate in the merchant platform now",
        ),
        Ok(d) => Line::ok("certificate", format!("{file} valid for {d} more days")),
    }
}

/// Run `paycode check`.
pub fn run(config: &Path) -> ExitCode {
    let mut lines = Vec::new();
    let cfg = match crate::config::load(config) {
        Ok(c) => {
            lines.push(Line::ok("config", format!("{} is valid", c.file.display())));
            Some(c)
        }
        Err(e) => {
            lines.push(Line::fail(
                "config",
                e.to_string(),
                "edit the file as the message says",
            ));
            None
        }
    };
    if let Some(cfg) = cfg {
        let now = now_unix();
        lines.extend(secret_files(&cfg));
        lines.extend(trusted_files(&cfg));
        lines.extend(root_overrides(!cfg.wechat.base_url.is_simulated(), |v| {
            std::env::var_os(v)
        }));
        lines.push(certificate(&cfg, now));
        lines.push(manager_pin(&cfg));
        lines.push(journal(&cfg));
        lines.push(log_dir(&cfg));
        lines.extend(printer(&cfg));
        lines.extend(api(&cfg));
        lines.extend(pos_display(&cfg));
        lines.extend(remote(cfg));
    }
    for l in &lines {
        outln!("{}", l.render());
    }
    ExitCode::from(if lines.iter().any(|l| l.mark == Mark::Fail) {
        1
    } else {
        0
    })
}

/// The POS API (no line without `[api]`): its token file reads, its port is free — or taken,
/// which is right only when this till's paycode is running and serving it.
fn api(cfg: &Config) -> Option<Line> {
    let a = cfg.api.as_ref()?;
    if let Some(t) = &a.token_file
        && let Err(w) = crate::api::token::Token::read_as(t, "[api] token_file")
    {
        return Some(Line::fail(
            "api",
            w.en,
            "fix [api] token_file as the message says",
        ));
    }
    let token = if a.token_file.is_some() {
        "token required"
    } else {
        "loopback, no token"
    };
    Some(match std::net::TcpListener::bind(a.listen) {
        Ok(_) => Line::ok("api", format!("{}: free to serve ({token})", a.listen)),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => Line::warn(
            "api",
            format!("{}: in use", a.listen),
            "fine if this till's paycode is running and serving it; otherwise change [api] listen",
        ),
        Err(e) => Line::fail(
            "api",
            format!("{}: cannot listen: {e}", a.listen),
            "change [api] listen to an address of this machine",
        ),
    })
}

/// The journal opens (and is migrated), or a running paycode holds it: the cashier screen
/// takes payments then, so that is not a failure.
fn journal(cfg: &Config) -> Line {
    use crate::checkout::till::{TillError, lock_journal};
    let path = &cfg.journal.path;
    match lock_journal(path) {
        Ok(_lock) => match crate::journal::Journal::open(path) {
            Ok(_) => Line::ok("journal", format!("{} opens", path.display())),
            Err(e) => Line::fail("journal", e.to_string(), "see the message"),
        },
        Err(TillError::Locked { .. }) => Line::ok(
            "journal",
            format!(
                "{} is in use by a running paycode (the cashier screen or a command); the checks below do not need it",
                path.display()
            ),
        ),
        Err(e) => Line::fail("journal", e.to_string(), "see the message"),
    }
}

/// Reachability, latency, key and clock skew, from one orderquery of an order that does not
/// exist (harmless: nothing is charged or changed).
fn remote(cfg: Config) -> Vec<Line> {
    let rt = match super::runtime() {
        Ok(rt) => rt,
        Err(_) => return vec![Line::fail("api", "cannot start the async runtime", "retry")],
    };
    rt.block_on(async move {
        // The link alone: no journal, so this works while the cashier screen holds it.
        let link = match crate::checkout::link::Link::open(&cfg).await {
            Ok(l) => l,
            Err(e) => return vec![Line::fail("api", e.to_string(), "see the message")],
        };
        if cfg.wechat.base_url.is_simulated() {
            errln!("SIMULATOR — no real money / 模拟器 — 不涉及真实资金");
        }
        let health = probe(&link, &cfg, now_unix()).await;
        let elapsed = match health.api {
            Ok(d) => d,
            Err(CallError::Request(e)) => {
                return vec![Line::fail("api", e.to_string(), "fix [merchant]")];
            }
            Err(CallError::Transport(e)) => {
                return vec![Line::fail(
                    "api",
                    format!("unreachable: {e}"),
                    "check the network, base_url and firewall",
                )];
            }
        };
        let mut out = vec![Line::ok(
            "api",
            format!("reachable, {} ms round trip", elapsed.as_millis()),
        )];
        out.push(match health.key {
            Some(Ok(())) => Line::ok("key", "replies verify with the configured API key"),
            Some(Err(ReplyError::BadSignature)) => Line::fail(
                "key",
                "the reply signature does not verify",
                "set the APIv2 key from the merchant platform (PAYCODE_API_KEY or api_key_file)",
            ),
            Some(Err(ReplyError::ProtocolFail { return_msg })) => Line::fail(
                "key",
                format!("WeChat refused the request: {return_msg}"),
                "check appid, mch_id, sign_type and the API key",
            ),
            Some(Err(e)) => Line::fail("key", e.to_string(), "check base_url points at WeChat Pay"),
            None => Line::fail("key", "no reply to verify", "check base_url"),
        });
        out.push(match health.clock_skew_secs {
            None => Line::fail(
                "clock",
                "the server sent no usable Date header",
                "check base_url",
            ),
            Some(s) if s.abs() > MAX_SKEW_SECS => Line::fail(
                "clock",
                format!("this machine is {} s off the server", -s),
                "enable time sync (timedatectl set-ntp true)",
            ),
            Some(s) => Line::ok("clock", format!("within {} s of the server", s.abs())),
        });
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trusted_file_others_can_change_is_named() {
        let p = Path::new("/etc/paycode/ca.pem");
        let me = 1000;
        let ok = Owned {
            mode: 0o100644,
            uid: me,
        };
        let dir = Owned {
            mode: 0o40755,
            uid: 0,
        };
        assert_eq!(trust_problem(p, ok, Some(dir), me), None);
        assert_eq!(
            trust_problem(p, Owned { uid: 0, ..ok }, Some(dir), me),
            None,
            "root's"
        );
        let w = trust_problem(
            p,
            Owned {
                mode: 0o100666,
                uid: me,
            },
            Some(dir),
            me,
        )
        .unwrap();
        assert!(w.contains("written by group or others (mode 666)"), "{w}");
        let o = trust_problem(p, Owned { uid: 1001, ..ok }, Some(dir), me).unwrap();
        assert!(o.contains("another user (uid 1001)"), "{o}");
        let d = trust_problem(
            p,
            ok,
            Some(Owned {
                mode: 0o40777,
                uid: 0,
            }),
            me,
        )
        .unwrap();
        assert!(d.contains("directory anyone can write"), "{d}");
        // /tmp-like (sticky) is not a swap risk for a file its owner holds.
        assert_eq!(
            trust_problem(
                p,
                ok,
                Some(Owned {
                    mode: 0o41777,
                    uid: 0
                }),
                me
            ),
            None
        );
    }

    #[test]
    fn an_environment_replacing_the_roots_fails_live_and_warns_for_the_simulator() {
        let env = |v: &str| (v == "SSL_CERT_DIR").then(|| "/srv/certs".into());
        let live = root_overrides(true, env);
        assert_eq!(live.len(), 1);
        assert_eq!(live[0].mark, Mark::Fail);
        assert!(
            live[0].detail.starts_with("SSL_CERT_DIR=\"/srv/certs\""),
            "{live:?}"
        );
        assert_eq!(root_overrides(false, env)[0].mark, Mark::Warn);
        assert!(root_overrides(true, |_| None).is_empty());
        let debian = |v: &str| (v == "SSL_CERT_FILE").then(|| SYSTEM_ROOTS[0].into());
        assert_eq!(root_overrides(true, debian)[0].mark, Mark::Warn);
        assert!(
            Line::warn("trust", "x", "y")
                .render()
                .starts_with("WARN  trust        x — fix: y")
        );
    }

    #[test]
    fn lines_render_with_the_fix() {
        assert!(
            Line::fail("clock", "off", "sync")
                .render()
                .contains("FAIL  clock        off — fix: sync")
        );
        assert!(Line::ok("api", "up").render().starts_with("OK    api"));
    }
}
