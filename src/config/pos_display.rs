//! `[pos_display]`: the serial port (or pty) on which a legacy POS drives its customer pole
//! display, for paycode to take the total from (absent: amounts are typed). docs/pole-display.md.

use super::ConfigError;
use super::error::Ctx;
use crate::pole::decode::CommandSet;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The file shape of `[pos_display]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawPosDisplay {
    pub port: Option<PathBuf>,
    pub baud: u32,
    pub command_set: String,
}

impl Default for RawPosDisplay {
    fn default() -> Self {
        Self {
            port: None,
            baud: 9600,
            command_set: "auto".into(),
        }
    }
}

/// `[pos_display]`, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoleConfig {
    /// The serial port or pty the POS writes to, absolute.
    pub port: PathBuf,
    /// Its speed, the POS's pole-display setting (8 data bits, no parity, 1 stop bit).
    pub baud: u32,
    /// What the POS sends.
    pub command_set: CommandSet,
}

/// The speeds pole displays and the POS programs driving them offer.
const BAUDS: [u32; 6] = [2400, 4800, 9600, 19200, 38400, 115_200];

/// Check `[pos_display]`; a relative port is taken from the config file's directory.
pub(crate) fn resolve(
    raw: RawPosDisplay,
    base: &Path,
    ctx: &Ctx<'_>,
) -> Result<PoleConfig, ConfigError> {
    let s = "pos_display";
    let port = match raw.port {
        Some(p) if !p.as_os_str().is_empty() => base.join(p),
        given => {
            let problem = if given.is_some() {
                "the port is empty / 端口为空"
            } else {
                "no port is given / 没有设置端口"
            };
            return Err(ctx.err(
                s,
                "port",
                problem,
                "set port = \"/dev/ttyUSB1\" (the serial port the POS writes its pole display to, \
                 or the pty of a virtual COM port), or remove [pos_display] / 请设置 port = \
                 \"/dev/ttyUSB1\"(收银机输出客显的串口,或虚拟串口的 pty),或删除 [pos_display]",
            ));
        }
    };
    if !BAUDS.contains(&raw.baud) {
        return Err(ctx.err(
            s,
            "baud",
            format!(
                "{} is not a pole-display speed / {} 不是客显的波特率",
                raw.baud, raw.baud
            ),
            "use the speed set in the POS for its customer display: 9600 (most), 2400, 4800, \
             19200, 38400 or 115200 / 请使用收银软件里客显设置的波特率:9600(最常见)、2400、\
             4800、19200、38400 或 115200",
        ));
    }
    let Some(command_set) = CommandSet::parse(&raw.command_set) else {
        return Err(ctx.err(
            s,
            "command_set",
            format!(
                "{:?} is not a command set paycode reads / paycode 不认识命令集 {:?}",
                raw.command_set, raw.command_set
            ),
            "use \"auto\" (default: CD5220 and ESC/POS), \"cd5220\", \"escpos\" or \"lines\" \
             (plain text lines) / 请使用 \"auto\"(默认:CD5220 与 ESC/POS)、\"cd5220\"、\
             \"escpos\" 或 \"lines\"(纯文本行)",
        ));
    };
    Ok(PoleConfig {
        port,
        baud: raw.baud,
        command_set,
    })
}

#[cfg(test)]
mod tests {
    use crate::config::{SecretEnv, from_str_with_env};
    use crate::pole::decode::CommandSet;
    use std::path::Path;

    fn load(section: &str) -> Result<crate::config::Config, crate::config::ConfigError> {
        let text = format!("[pos_display]\n{section}\n");
        from_str_with_env(
            &text,
            Path::new("/etc/paycode/config.toml"),
            &SecretEnv::default(),
        )
    }

    #[test]
    fn defaults_and_a_relative_port() {
        let c = load("port = \"/dev/ttyUSB1\"").unwrap();
        let p = c.pos_display.unwrap();
        assert_eq!(
            (p.port.to_str().unwrap(), p.baud, p.command_set),
            ("/dev/ttyUSB1", 9600, CommandSet::Auto)
        );
        let c = load("port = \"pole\"\nbaud = 19200\ncommand_set = \"cd5220\"").unwrap();
        let p = c.pos_display.clone().unwrap();
        assert_eq!(p.port.to_str().unwrap(), "/etc/paycode/pole");
        assert_eq!((p.baud, p.command_set), (19200, CommandSet::Cd5220));
        assert!(
            c.render()
                .contains("[pos_display]\nport = \"/etc/paycode/pole\"")
        );
        assert!(load("").is_err());
        assert!(
            from_str_with_env("", Path::new("/c.toml"), &SecretEnv::default())
                .unwrap()
                .pos_display
                .is_none()
        );
    }

    #[test]
    fn every_refusal_names_the_key_and_the_fix_in_both_languages() {
        let cases = [
            ("", "[pos_display] port", "没有设置端口"),
            ("port = \"\"", "[pos_display] port", "端口为空"),
            (
                "port = \"/dev/ttyUSB1\"\nbaud = 9601",
                "[pos_display] baud",
                "波特率",
            ),
            (
                "port = \"/dev/ttyUSB1\"\nbaud = 0",
                "[pos_display] baud",
                "9600",
            ),
            (
                "port = \"/dev/ttyUSB1\"\ncommand_set = \"epson\"",
                "[pos_display] command_set",
                "命令集",
            ),
        ];
        for (section, key, zh) in cases {
            let e = load(section).unwrap_err();
            assert_eq!(e.key, key, "{section}");
            let text = e.to_string();
            assert!(text.contains(zh), "{section}: {text}");
            assert!(text.contains("请"), "{section}: {text}");
            assert!(e.position.is_some(), "{section}: {text}");
        }
        let e = load("port = \"/dev/ttyUSB1\"\nspeed = 9600").unwrap_err();
        assert_eq!(e.key, "[pos_display] speed");
        assert!(e.fix.contains("baud"), "{e}");
        let e = load("port = \"/dev/ttyUSB1\"\nbaud = \"fast\"").unwrap_err();
        assert_eq!(e.key, "[pos_display] baud");
    }
}
