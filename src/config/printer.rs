//! `[printer]`: the receipt printer (absent: no printer). Exactly one connection — a USB
//! printer-class device, a serial port or raw TCP (port 9100) — and the slip's format.

use super::ConfigError;
use super::error::Ctx;
use crate::receipt::{Encoding, Format, SlipLanguage, Width};
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

/// The file shape of `[printer]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawPrinter {
    pub device: Option<PathBuf>,
    pub serial: Option<PathBuf>,
    pub baud: Option<u32>,
    pub tcp: Option<String>,
    pub width: u32,
    pub encoding: String,
    pub cut: bool,
    pub drawer_kick: bool,
    pub language: String,
    pub print_on_payment: bool,
    #[serde(deserialize_with = "super::schema::duration")]
    pub timeout: Duration,
    pub store_name: Option<String>,
}

impl Default for RawPrinter {
    fn default() -> Self {
        Self {
            device: None,
            serial: None,
            baud: None,
            tcp: None,
            width: 58,
            encoding: "gb18030".into(),
            cut: true,
            drawer_kick: false,
            language: "both".into(),
            print_on_payment: true,
            timeout: DEFAULT_TIMEOUT,
            store_name: None,
        }
    }
}

/// How paycode reaches the printer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// A USB printer-class character device (`/dev/usb/lp0`), written as a file.
    Device(PathBuf),
    /// A serial port and its speed.
    Serial { path: PathBuf, baud: u32 },
    /// Raw TCP, `host:port` (port 9100 on most network printers).
    Tcp(String),
}

impl std::fmt::Display for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Device(p) => write!(f, "device {}", p.display()),
            Self::Serial { path, baud } => write!(f, "serial {} at {baud} baud", path.display()),
            Self::Tcp(a) => write!(f, "tcp {a}"),
        }
    }
}

/// `[printer]`, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrinterConfig {
    pub transport: Transport,
    /// Connecting, each write and each status reply wait at most this long.
    pub timeout: Duration,
    /// Width, encoding, language, cut and drawer kick.
    pub format: Format,
    /// Print a slip when a sale or refund ends (the queue keeps it if the printer is away).
    pub print_on_payment: bool,
    /// The name on top of every slip (`store_name`, else `[merchant] body`).
    pub store_name: String,
}

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);
/// A longer wait would hold `pay` (after its result) and the queue on a silent printer.
const MAX_TIMEOUT: Duration = Duration::from_secs(30);
const BAUDS: [u32; 6] = [9600, 19200, 38400, 57600, 115_200, 4800];

/// Check `[printer]`; `body` is `[merchant] body`, the store name's fallback.
pub(crate) fn resolve(
    raw: RawPrinter,
    body: &str,
    base: &std::path::Path,
    ctx: &Ctx<'_>,
) -> Result<PrinterConfig, ConfigError> {
    let p = "printer";
    let set: Vec<&str> = [
        ("device", raw.device.is_some()),
        ("serial", raw.serial.is_some()),
        ("tcp", raw.tcp.is_some()),
    ]
    .into_iter()
    .filter_map(|(k, on)| on.then_some(k))
    .collect();
    let fix_one = "set exactly one of device = \"/dev/usb/lp0\", serial = \"/dev/ttyUSB0\" or tcp = \"192.168.1.50:9100\", or remove [printer]";
    if set.len() != 1 {
        let (key, problem) = match set.get(1) {
            None => ("device", "no printer connection is given".to_string()),
            Some(second) => (*second, format!("{} are all set", set.join(", "))),
        };
        return Err(ctx.err(p, key, problem, fix_one));
    }
    if raw.baud.is_some() && raw.serial.is_none() {
        return Err(ctx.err(
            p,
            "baud",
            "baud is only for a serial printer",
            "remove baud, or use serial = \"/dev/ttyUSB0\"",
        ));
    }
    let empty = |key: &str| {
        ctx.err(
            p,
            key,
            "the path is empty",
            "give the printer's device path, like \"/dev/usb/lp0\"",
        )
    };
    let transport = if let Some(d) = raw.device {
        if d.as_os_str().is_empty() {
            return Err(empty("device"));
        }
        Transport::Device(base.join(d))
    } else if let Some(s) = raw.serial {
        if s.as_os_str().is_empty() {
            return Err(empty("serial"));
        }
        let baud = raw.baud.unwrap_or(9600);
        if !BAUDS.contains(&baud) {
            return Err(ctx.err(
                p,
                "baud",
                format!("{baud} is not a serial printer speed"),
                "use the speed on the printer's self-test slip: 9600, 19200, 38400, 57600 or 115200",
            ));
        }
        Transport::Serial {
            path: base.join(s),
            baud,
        }
    } else {
        let t = raw.tcp.unwrap_or_default();
        tcp_address(&t).map_err(|problem| {
            ctx.err(
                p,
                "tcp",
                problem,
                "write host:port, like \"192.168.1.50:9100\" (raw printing is port 9100)",
            )
        })?;
        Transport::Tcp(t)
    };
    let width = match raw.width {
        58 => Width::Mm58,
        80 => Width::Mm80,
        w => {
            return Err(ctx.err(
                p,
                "width",
                format!("{w} mm is not a receipt paper width"),
                "use 58 (32 columns) or 80 (48 columns)",
            ));
        }
    };
    let encoding = match raw.encoding.as_str() {
        "gb18030" => Encoding::Gb18030,
        "ascii" => Encoding::Ascii,
        e => {
            return Err(ctx.err(
                p,
                "encoding",
                format!("{e:?} is not an encoding paycode prints"),
                "use \"gb18030\" (Chinese printers) or \"ascii\" (Chinese then prints as ?)",
            ));
        }
    };
    let language = match raw.language.as_str() {
        "zh" => SlipLanguage::Zh,
        "en" => SlipLanguage::En,
        "both" => SlipLanguage::Both,
        l => {
            return Err(ctx.err(
                p,
                "language",
                format!("{l:?} is not a slip language"),
                "use \"zh\", \"en\" or \"both\"",
            ));
        }
    };
    if raw.timeout.is_zero() || raw.timeout > MAX_TIMEOUT {
        return Err(ctx.err(
            p,
            "timeout",
            format!(
                "{} is outside 1ms..=30s",
                crate::duration::HumanDuration(raw.timeout)
            ),
            "use 3s: a printer answers at once or not at all",
        ));
    }
    let store_name = match raw.store_name {
        None => body.to_string(),
        Some(n) => {
            let count = n.chars().count();
            if count == 0
                || count > 48
                || n.chars().any(char::is_control)
                || crate::untrusted::has_direction_mark(&n)
            {
                return Err(ctx.err(
                    p,
                    "store_name",
                    format!("{count} characters, a control character or a direction mark"),
                    "write 1 to 48 characters on one line, like \"街角小店 Corner Shop\"",
                ));
            }
            n
        }
    };
    Ok(PrinterConfig {
        transport,
        timeout: raw.timeout,
        format: Format {
            width,
            encoding,
            language,
            cut: raw.cut,
            drawer_kick: raw.drawer_kick,
        },
        print_on_payment: raw.print_on_payment,
        store_name,
    })
}

/// `host:port` with a port above 0.
fn tcp_address(t: &str) -> Result<(), String> {
    let Some((host, port)) = t.rsplit_once(':') else {
        return Err(format!("{t:?} has no port"));
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("{t:?} has no host"));
    }
    match port.parse::<u16>() {
        Ok(p) if p > 0 => Ok(()),
        _ => Err(format!("{port:?} is not a port")),
    }
}
