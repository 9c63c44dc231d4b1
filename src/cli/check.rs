//! `paycode check`: one line per check with OK/FAIL and the fix; exit 0 when all pass.
//! Config, secret file permissions, certificate expiry, API reachability and latency, the key
//! (a signed reply verifies), and clock skew against the server's `Date` header.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use time::PrimitiveDateTime;

use crate::config::{ClientIdentity, Config, SecretSource, private_mode_problem};
use crate::wxpay::api::{OrderQueryRequest, OrderRef, ReplyError, parse_orderquery};
use crate::wxpay::client::Endpoint;

/// Largest clock difference to WeChat's servers accepted (order times and statements).
const MAX_SKEW_SECS: i64 = 60;
/// A certificate this close to expiry fails the check so it is renewed in time.
const CERT_WARN_DAYS: i64 = 30;

/// One result line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Line {
    pub ok: bool,
    pub name: &'static str,
    pub detail: String,
    /// What to do about a failure.
    pub fix: String,
}

impl Line {
    fn ok(name: &'static str, detail: impl Into<String>) -> Line {
        Line {
            ok: true,
            name,
            detail: detail.into(),
            fix: String::new(),
        }
    }

    fn fail(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Line {
        Line {
            ok: false,
            name,
            detail: detail.into(),
            fix: fix.into(),
        }
    }

    fn render(&self) -> String {
        if self.ok {
            format!("OK    {:<12} {}", self.name, self.detail)
        } else {
            format!(
                "FAIL  {:<12} {} — fix: {}",
                self.name, self.detail, self.fix
            )
        }
    }
}

/// Days from `now_unix` until the first certificate of `pem` expires (negative: expired).
pub(crate) fn cert_days_left(pem: &[u8], now_unix: i64) -> Result<i64, String> {
    let (_, block) = x509_parser::pem::parse_x509_pem(pem).map_err(|e| format!("not PEM: {e}"))?;
    der_days_left(&block.contents, now_unix)
}

/// Days from `now_unix` until the DER certificate `der` expires (negative: expired).
fn der_days_left(der: &[u8], now_unix: i64) -> Result<i64, String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| format!("not an X.509 certificate: {e}"))?;
    let not_after = cert.validity().not_after.timestamp();
    Ok((not_after - now_unix).div_euclid(86_400))
}

/// The client certificate file of `identity` and the days until it expires, PEM or `.p12`
/// (shown by `paycode check` and the TUI's diagnostics screen).
pub(crate) fn identity_days_left(
    identity: &ClientIdentity,
    now_unix: i64,
) -> (PathBuf, Result<i64, String>) {
    match identity {
        ClientIdentity::Pem { cert_file, .. } => (
            cert_file.clone(),
            std::fs::read(cert_file)
                .map_err(|e| e.to_string())
                .and_then(|pem| cert_days_left(&pem, now_unix)),
        ),
        ClientIdentity::P12 { file, password, .. } => (
            file.clone(),
            crate::wxpay::client::p12_certificate(file, password.expose())
                .map_err(|e| e.to_string())
                .and_then(|der| der_days_left(&der, now_unix)),
        ),
    }
}

/// Seconds the server's clock is ahead of ours (`Date: Sun, 06 Nov 1994 08:49:37 GMT`).
pub(crate) fn clock_skew(date_header: &str, now_unix: i64) -> Option<i64> {
    let fmt = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let t = PrimitiveDateTime::parse(date_header.trim(), &fmt).ok()?;
    Some(t.assume_utc().unix_timestamp() - now_unix)
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

/// Permission lines for the key file and the private certificate files.
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

fn certificate(cfg: &Config, now: i64) -> Line {
    let Some(identity) = &cfg.wechat.identity else {
        return Line::ok(
            "certificate",
            "no client certificate configured (simulator or loopback)",
        );
    };
    let (file, days) = identity_days_left(identity, now);
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
        lines.push(certificate(&cfg, now));
        lines.extend(remote(cfg));
    }
    for l in &lines {
        println!("{}", l.render());
    }
    ExitCode::from(if lines.iter().all(|l| l.ok) { 0 } else { 1 })
}

/// Reachability, latency, key and clock skew, from one orderquery of an order that does not
/// exist (harmless: nothing is charged or changed).
fn remote(cfg: Config) -> Vec<Line> {
    let rt = match super::runtime() {
        Ok(rt) => rt,
        Err(_) => return vec![Line::fail("api", "cannot start the async runtime", "retry")],
    };
    rt.block_on(async move {
        let till = match crate::checkout::Till::open(cfg).await {
            Ok(t) => t,
            Err(e) => return vec![Line::fail("api", e.to_string(), "see the message")],
        };
        if till.is_simulated() {
            eprintln!("SIMULATOR — no real money / 模拟器 — 不涉及真实资金");
        }
        let req = OrderQueryRequest {
            order: OrderRef::OutTradeNo("paycodecheck0".into()),
            expect_total_fee: None,
        };
        let nonce = hex::encode(rand::random::<[u8; 16]>());
        let xml = match req.to_xml(till.merchant(), &nonce) {
            Ok(x) => x,
            Err(e) => return vec![Line::fail("api", e.to_string(), "fix [merchant]")],
        };
        let raw = match till.client().post(Endpoint::OrderQuery, xml).await {
            Ok(r) => r,
            Err(e) => {
                return vec![Line::fail(
                    "api",
                    format!("unreachable: {e}"),
                    "check the network, base_url and firewall",
                )];
            }
        };
        let mut out = vec![Line::ok(
            "api",
            format!("reachable, {} ms round trip", raw.elapsed.as_millis()),
        )];
        out.push(match parse_orderquery(&raw.body, &req, till.merchant()) {
            Ok(_) => Line::ok("key", "replies verify with the configured API key"),
            Err(ReplyError::BadSignature) => Line::fail(
                "key",
                "the reply signature does not verify",
                "set the APIv2 key from the merchant platform (PAYCODE_API_KEY or api_key_file)",
            ),
            Err(ReplyError::ProtocolFail { return_msg }) => Line::fail(
                "key",
                format!("WeChat refused the request: {return_msg}"),
                "check appid, mch_id, sign_type and the API key",
            ),
            Err(e) => Line::fail("key", e.to_string(), "check base_url points at WeChat Pay"),
        });
        out.push(
            match raw
                .server_date
                .as_deref()
                .and_then(|d| clock_skew(d, now_unix()))
            {
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
            },
        );
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_days_and_clock_skew() {
        let mut params = rcgen::CertificateParams::new(vec!["x".to_string()]).unwrap();
        params.not_after = rcgen::date_time_ymd(2030, 1, 1);
        let key = rcgen::KeyPair::generate().unwrap();
        let pem = params.self_signed(&key).unwrap().pem();
        // 2029-12-22 00:00 UTC: 10 days left.
        assert_eq!(cert_days_left(pem.as_bytes(), 1_892_592_000), Ok(10));
        assert!(cert_days_left(pem.as_bytes(), 1_893_456_000 + 86_400).unwrap() < 0);
        assert!(cert_days_left(b"junk", 0).is_err());
        assert_eq!(
            clock_skew("Sun, 06 Nov 1994 08:49:37 GMT", 784_111_777),
            Some(0)
        );
        assert_eq!(
            clock_skew("Sun, 06 Nov 1994 08:49:37 GMT", 784_111_700),
            Some(77)
        );
        assert_eq!(clock_skew("yesterday", 0), None);
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
