//! `[office]`: where this till ships its journal (issue 14, docs/office.md). Absent: nothing is
//! shipped. The connection names the till's own database role; its password comes from
//! `PAYCODE_OFFICE_PASSWORD` or a mode-600 `password_file`, never from the URL.

use super::ConfigError;
use super::error::Ctx;
use super::secrets::{FILE_MAX, Password, read_text};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The environment variable that may hold the till's office password.
pub const ENV_OFFICE_PASSWORD: &str = "PAYCODE_OFFICE_PASSWORD";

/// The file shape of `[office]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawOffice {
    pub url: Option<String>,
    pub password_file: Option<PathBuf>,
    pub sslmode: Option<String>,
    pub ca_file: Option<PathBuf>,
    pub batch_rows: Option<i64>,
    pub interval: Option<String>,
}

/// How the connection to the office is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// TLS (rustls), the server's certificate checked against the roots (and `ca_file`).
    Require,
    /// Plain TCP or a Unix socket: only to this machine.
    Disable,
}

/// `[office]`, resolved.
#[derive(Debug, Clone)]
pub struct OfficeConfig {
    /// The connection (host, port, database, the till's role); never a password.
    pub pg: tokio_postgres::Config,
    /// The URL as written, for messages and `paycode config` (it holds no password).
    pub url: String,
    /// The password read from `password_file` at load; `None`: `PAYCODE_OFFICE_PASSWORD` is
    /// read when connecting.
    pub password: Option<Password>,
    /// The file it came from, for `paycode config`.
    pub password_file: Option<PathBuf>,
    pub sslmode: SslMode,
    /// An extra root (PEM) for the office's certificate.
    pub ca_file: Option<PathBuf>,
    /// Outbox rows per batch (one transaction at the office).
    pub batch_rows: usize,
    /// How long the background shipper waits when it has caught up.
    pub interval: Duration,
}

/// True when every host of the connection is this machine (loopback or a Unix socket).
pub fn is_local(pg: &tokio_postgres::Config) -> bool {
    use tokio_postgres::config::Host;
    !pg.get_hosts().is_empty()
        && pg.get_hosts().iter().all(|h| match h {
            Host::Unix(_) => true,
            Host::Tcp(name) => {
                name == "localhost"
                    || name
                        .trim_matches(['[', ']'])
                        .parse::<std::net::IpAddr>()
                        .is_ok_and(|ip| ip.is_loopback())
            }
        })
}

/// Check `[office]`; relative paths are taken from the config file's directory (`base`).
pub(crate) fn resolve(raw: RawOffice, base: &Path, ctx: &Ctx) -> Result<OfficeConfig, ConfigError> {
    let err = |key: &str, problem: String, fix: &str| ctx.err("office", key, problem, fix);
    let Some(url) = raw.url.map(|u| u.trim().to_string()) else {
        return Err(err(
            "url",
            "[office] is set but has no url".into(),
            "write url = \"postgresql://paycode_till_<device_info>@office.example:5432/paycode\" (what `paycode office add-till` printed), or remove [office]",
        ));
    };
    let shown = crate::untrusted::shown_arg(&without_password(&url));
    if !(url.starts_with("postgresql://") || url.starts_with("postgres://")) {
        return Err(err(
            "url",
            format!("{shown:?} is not a postgresql:// URL"),
            "write url = \"postgresql://ROLE@HOST:5432/DATABASE\"",
        ));
    }
    let pg: tokio_postgres::Config = url.parse().map_err(|_| {
        err(
            "url",
            format!("{shown:?} cannot be read as a PostgreSQL URL"),
            "write url = \"postgresql://ROLE@HOST:5432/DATABASE\"",
        )
    })?;
    if pg.get_password().is_some() {
        // Not echoed: the URL holds a password.
        return Err(err(
            "url",
            "the URL holds a password, which would show in `paycode config`, logs and backups of the config".into(),
            "remove it from the URL; put it in a mode-600 file named by password_file, or in PAYCODE_OFFICE_PASSWORD",
        ));
    }
    if pg.get_hosts().is_empty() {
        return Err(err(
            "url",
            format!("{shown:?} names no host"),
            "write the office's host, like postgresql://ROLE@office.example:5432/paycode",
        ));
    }
    if pg.get_user().is_none_or(str::is_empty) {
        return Err(err(
            "url",
            format!("{shown:?} names no role"),
            "write the till's role before the host, like postgresql://paycode_till_POS01@office.example/paycode",
        ));
    }
    if pg.get_dbname().is_none_or(str::is_empty) {
        return Err(err(
            "url",
            format!("{shown:?} names no database"),
            "end the URL with the database, like .../paycode",
        ));
    }
    let local = is_local(&pg);
    let sslmode = match raw.sslmode.as_deref().map(str::trim) {
        None if local => SslMode::Disable,
        None | Some("require") => SslMode::Require,
        Some("disable") if local => SslMode::Disable,
        Some("disable") => {
            return Err(err(
                "sslmode",
                "\"disable\" sends the till's journal and password in the clear to another machine"
                    .into(),
                "remove sslmode (TLS is required off this machine); give ca_file if the office's certificate is its own",
            ));
        }
        Some(other) => {
            return Err(err(
                "sslmode",
                format!("{:?} is not a mode", crate::untrusted::shown(other, 40)),
                "write sslmode = \"require\" (or \"disable\" for an office on this machine)",
            ));
        }
    };
    let ca_file = match raw.ca_file {
        Some(p) if p.as_os_str().is_empty() => {
            return Err(err(
                "ca_file",
                "the path is empty".into(),
                "name the office's CA certificate (PEM), or remove ca_file",
            ));
        }
        Some(p) => {
            let p = base.join(p);
            read_text(&p, false, FILE_MAX)
                .map_err(|(problem, fix)| err("ca_file", problem, &fix))?;
            Some(p)
        }
        None => None,
    };
    let (password, password_file) = match raw.password_file {
        Some(p) if p.as_os_str().is_empty() => {
            return Err(err(
                "password_file",
                "the path is empty".into(),
                "name the mode-600 file `paycode office add-till` wrote, or remove password_file and set PAYCODE_OFFICE_PASSWORD",
            ));
        }
        Some(p) => {
            let p = base.join(p);
            let text = read_text(&p, true, 4096)
                .map_err(|(problem, fix)| err("password_file", problem, &fix))?;
            let pw = text.trim_end_matches(['\n', '\r']).to_string();
            if pw.is_empty() || pw.contains(['\n', '\r']) {
                return Err(err(
                    "password_file",
                    format!("{} must hold the password on one line", p.display()),
                    "write only the password `paycode office add-till` made, on one line",
                ));
            }
            (Some(Password::new(pw)), Some(p))
        }
        None => (None, None),
    };
    let batch_rows = match raw.batch_rows {
        None => 500,
        Some(n @ 1..=10_000) => n as usize,
        Some(n) => {
            return Err(err(
                "batch_rows",
                format!("{n} is out of range"),
                "write a number from 1 to 10000 (default 500)",
            ));
        }
    };
    let interval = match raw.interval.as_deref() {
        None => Duration::from_secs(5),
        Some(t) => {
            let d = crate::duration::parse(t).map_err(|why| {
                err(
                    "interval",
                    crate::untrusted::shown(&why, 200),
                    "write a duration like \"5s\" (100ms to 1h)",
                )
            })?;
            if d < Duration::from_millis(100) || d > Duration::from_secs(3600) {
                return Err(err(
                    "interval",
                    format!("{} is out of range", crate::duration::HumanDuration(d)),
                    "write a duration from 100ms to 1h (default 5s)",
                ));
            }
            d
        }
    };
    Ok(OfficeConfig {
        pg,
        url,
        password,
        password_file,
        sslmode,
        ca_file,
        batch_rows,
        interval,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_and_sockets_are_local() {
        for (url, local) in [
            ("postgresql://r@127.0.0.1/db", true),
            ("postgresql://r@localhost/db", true),
            ("postgresql://r@[::1]:5432/db", true),
            ("postgresql://r@office.example/db", false),
            ("postgresql://r@10.0.0.5/db", false),
        ] {
            let pg: tokio_postgres::Config = url.parse().unwrap();
            assert_eq!(is_local(&pg), local, "{url}");
        }
    }
}

/// `url` as it may be shown in a message: a password in it (`ROLE:PASSWORD@`, `password=…`)
/// replaced by `***`. A URL that does not parse is echoed to say what is wrong with it, and
/// must not carry its password to the screen or the journal (FAULTS row 203).
pub fn without_password(url: &str) -> String {
    let mut out = match url.split_once("://") {
        // The user part ends at the last '@' (a password may hold '/' or '@' itself).
        Some((scheme, rest)) => match rest.rfind('@') {
            Some(at) if rest[..at].contains(':') => {
                let user = rest[..at].split(':').next().unwrap_or("");
                format!("{scheme}://{user}:***{}", &rest[at..])
            }
            _ => url.to_string(),
        },
        None => url.to_string(),
    };
    let mut from = 0;
    while let Some(i) = out[from..].to_ascii_lowercase().find("password=") {
        let start = from + i + "password=".len();
        let value = &out[start..];
        let len = match value.strip_prefix('\'') {
            Some(q) => q.find('\'').map_or(value.len(), |e| e + 2),
            None => value.find([' ', '&', '\t']).unwrap_or(value.len()),
        };
        out.replace_range(start..start + len, "***");
        from = start + 3;
    }
    out
}

#[cfg(test)]
mod password_tests {
    use super::without_password;

    #[test]
    fn a_password_never_survives() {
        for (url, shown) in [
            ("postgresql://u:pw@h:5x/db", "postgresql://u:***@h:5x/db"),
            ("postgresql://u:p/w@x@h/db", "postgresql://u:***@h/db"),
            (
                "postgresql://u@h/db?password=pw&sslmode=require",
                "postgresql://u@h/db?password=***&sslmode=require",
            ),
            (
                "host=h PASSWORD='p w' port=5x",
                "host=h PASSWORD=*** port=5x",
            ),
            ("postgresql://u@h:5432/db", "postgresql://u@h:5432/db"),
        ] {
            assert_eq!(without_password(url), shown, "{url}");
        }
    }
}
