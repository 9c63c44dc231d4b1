//! The `[scanner]` section of config.toml: framing, duplicate window, keyboard-wedge timing and
//! the optional `[scanner.serial]` / `[scanner.hid]` devices.

use crate::duration::HumanDuration;
use serde::{Deserialize, Deserializer};
use std::fmt;
use std::time::Duration;

/// Scanner settings; every field has a default so the section may be omitted (wedge only).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScannerConfig {
    /// Stripped from the start of a frame when present (a prefix programmed into the scanner).
    pub prefix: String,
    /// Extra frame terminator besides CR, LF, CRLF and Tab (a suffix programmed into the scanner).
    pub suffix: String,
    /// Strip an AIM symbology identifier (`]C0`, `]Q1`, …) from the start of a frame.
    pub strip_aim: bool,
    /// The same code scanned again within this window is reported once.
    pub duplicate_window: HumanDuration,
    /// A frame with no terminator is completed after this much silence ("0ms" = never).
    pub idle_end: HumanDuration,
    /// Keyboard wedge: keys closer together than this are a scanner burst.
    pub wedge_gap: HumanDuration,
    /// Keyboard wedge: a burst needs at least this many digits before Enter/Tab to be a scan.
    pub wedge_min_len: usize,
    /// A serial / USB virtual COM scanner.
    pub serial: Option<SerialConfig>,
    /// A USB HID scanner read through hidraw.
    pub hid: Option<HidConfig>,
}

impl Default for ScannerConfig {
    fn default() -> Self {
        Self {
            prefix: String::new(),
            suffix: String::new(),
            strip_aim: true,
            duplicate_window: HumanDuration::from_secs(2),
            idle_end: HumanDuration::from_millis(300),
            wedge_gap: HumanDuration::from_millis(50),
            wedge_min_len: 8,
            serial: None,
            hid: None,
        }
    }
}

/// `[scanner.serial]`: the port by path (or `/dev/serial/by-id/...` link) or by USB VID:PID.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SerialConfig {
    /// Device path, e.g. `/dev/scanner` or `/dev/serial/by-id/usb-...-if00`.
    pub port: Option<String>,
    /// USB `"vid:pid"` in hex; resolved to a tty on every (re)connect.
    pub usb_id: Option<UsbId>,
    /// Baud rate; ignored by CDC-ACM scanners, must match for RS-232 / USB-serial bridges.
    pub baud: u32,
    /// Data bits, 5 to 8.
    pub data_bits: u8,
    /// Parity.
    pub parity: Parity,
    /// Stop bits, 1 or 2.
    pub stop_bits: u8,
    /// First delay before reconnecting; doubles up to `reconnect_max`.
    pub reconnect_min: HumanDuration,
    /// Longest delay between reconnect attempts.
    pub reconnect_max: HumanDuration,
}

impl Default for SerialConfig {
    fn default() -> Self {
        Self {
            port: None,
            usb_id: None,
            baud: 9600,
            data_bits: 8,
            parity: Parity::None,
            stop_bits: 1,
            reconnect_min: HumanDuration::from_secs(1),
            reconnect_max: HumanDuration::from_secs(5),
        }
    }
}

/// `[scanner.hid]`: a USB HID scanner by VID:PID (and usage page).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HidConfig {
    /// USB `"vid:pid"` in hex.
    pub usb_id: Option<UsbId>,
    /// HID usage page of the interface to open (0x8C = HID-POS, 0x01 = keyboard).
    pub usage_page: Option<u16>,
    /// How to decode the reports.
    pub mode: HidMode,
    /// First delay before reconnecting; doubles up to `reconnect_max`.
    pub reconnect_min: HumanDuration,
    /// Longest delay between reconnect attempts.
    pub reconnect_max: HumanDuration,
}

impl Default for HidConfig {
    fn default() -> Self {
        Self {
            usb_id: None,
            usage_page: None,
            mode: HidMode::Auto,
            reconnect_min: HumanDuration::from_secs(1),
            reconnect_max: HumanDuration::from_secs(5),
        }
    }
}

/// Report format of a HID scanner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HidMode {
    /// HID-POS when the interface's usage page is 0x8C, boot keyboard otherwise.
    Auto,
    /// Boot-keyboard reports (a keyboard-mode scanner; its keys also reach the console).
    Keyboard,
    /// HID-POS reports (usage page 0x8C).
    Pos,
}

/// Serial parity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Parity {
    None,
    Odd,
    Even,
}

/// A USB vendor and product id, written `"1eab:8306"` in the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UsbId {
    /// Vendor id.
    pub vid: u16,
    /// Product id.
    pub pid: u16,
}

impl UsbId {
    /// Parse `"vvvv:pppp"` (hex, either case).
    pub fn parse(s: &str) -> Result<UsbId, String> {
        let bad = || {
            format!(
                "{s:?} is not a USB id: write it as \"vid:pid\" in hex, e.g. \"1eab:8306\" (see `lsusb`)"
            )
        };
        let (v, p) = s.trim().split_once(':').ok_or_else(bad)?;
        let hex = |x: &str| {
            if x.is_empty() || x.len() > 4 {
                return None;
            }
            u16::from_str_radix(x, 16).ok()
        };
        Ok(UsbId {
            vid: hex(v).ok_or_else(bad)?,
            pid: hex(p).ok_or_else(bad)?,
        })
    }
}

impl fmt::Display for UsbId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04x}:{:04x}", self.vid, self.pid)
    }
}

impl<'de> Deserialize<'de> for UsbId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        UsbId::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl ScannerConfig {
    /// Check values serde cannot; each message names the key and the fix.
    pub fn validate(&self) -> Result<(), String> {
        let mut problems = Vec::new();
        if self.wedge_gap.0.is_zero() {
            problems.push(
                "scanner.wedge_gap must be more than 0ms; the usual value is \"50ms\"".into(),
            );
        }
        // Upper bounds: a huge gap or idle time would hold every key (or end the reader) for
        // good while the screen says connected.
        for (key, value, max, usual) in [
            (
                "wedge_gap",
                self.wedge_gap.0,
                Duration::from_secs(1),
                "50ms",
            ),
            (
                "idle_end",
                self.idle_end.0,
                Duration::from_secs(10),
                "300ms",
            ),
        ] {
            if value > max {
                problems.push(format!(
                    "scanner.{key} = {} is longer than {}; the usual value is \"{usual}\"",
                    HumanDuration(value),
                    HumanDuration(max)
                ));
            }
        }
        if self.wedge_min_len == 0 {
            problems.push("scanner.wedge_min_len must be at least 1; the usual value is 8".into());
        }
        if self.suffix.chars().any(|c| c.is_ascii_digit()) {
            problems.push(format!(
                "scanner.suffix {:?} contains a digit, which would cut payment codes apart; \
                 use non-digit characters",
                self.suffix
            ));
        }
        if let Some(s) = &self.serial {
            match (&s.port, &s.usb_id) {
                (None, None) => problems.push(
                    "scanner.serial needs port = \"/dev/...\" or usb_id = \"vid:pid\"; \
                     run `paycode scanners` to see what is connected"
                        .into(),
                ),
                (Some(_), Some(_)) => problems
                    .push("scanner.serial has both port and usb_id; keep one of them".into()),
                // The reader would retry opening "" for good while the screen waits for scans.
                (Some(port), None) if port.trim().is_empty() => problems.push(
                    "scanner.serial.port is empty: write the device path, like \
                     \"/dev/ttyACM0\" or a /dev/serial/by-id/... link, or use usb_id = \
                     \"vid:pid\"; run `paycode scanners` to see what is connected / \
                     scanner.serial.port 为空:请填写设备路径(如 \"/dev/ttyACM0\" 或 \
                     /dev/serial/by-id/... 链接),或改用 usb_id = \"vid:pid\";\
                     运行 `paycode scanners` 查看已连接的扫码枪"
                        .into(),
                ),
                _ => {}
            }
            if s.baud == 0 {
                problems.push("scanner.serial.baud must be more than 0; try 9600 or 115200".into());
            }
            if !(5..=8).contains(&s.data_bits) {
                problems.push(format!(
                    "scanner.serial.data_bits = {} is not 5, 6, 7 or 8; the usual value is 8",
                    s.data_bits
                ));
            }
            if !(1..=2).contains(&s.stop_bits) {
                problems.push(format!(
                    "scanner.serial.stop_bits = {} is not 1 or 2; the usual value is 1",
                    s.stop_bits
                ));
            }
            backoff_problems(
                "scanner.serial",
                s.reconnect_min,
                s.reconnect_max,
                &mut problems,
            );
        }
        if let Some(h) = &self.hid {
            if h.usb_id.is_none() {
                problems.push(
                    "scanner.hid needs usb_id = \"vid:pid\"; run `paycode scanners` to see HID \
                     devices"
                        .into(),
                );
            }
            backoff_problems(
                "scanner.hid",
                h.reconnect_min,
                h.reconnect_max,
                &mut problems,
            );
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("\n"))
        }
    }

    /// The framing settings every decoder of this configuration uses.
    pub fn decode_settings(&self) -> super::DecodeSettings {
        super::DecodeSettings {
            prefix: self.prefix.clone(),
            suffix: self.suffix.clone(),
            strip_aim: self.strip_aim,
            duplicate_window: self.duplicate_window.0,
            idle_end: (!self.idle_end.0.is_zero()).then_some(self.idle_end.0),
        }
    }
}

fn backoff_problems(key: &str, min: HumanDuration, max: HumanDuration, problems: &mut Vec<String>) {
    if min.0 < Duration::from_millis(10) || max < min {
        problems.push(format!(
            "{key}: reconnect_min ({min}) must be at least 10ms and not above reconnect_max \
             ({max}); the usual values are \"1s\" and \"5s\""
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_section_is_wedge_only_with_defaults() {
        let c: ScannerConfig = toml::from_str("").unwrap();
        assert_eq!(c, ScannerConfig::default());
        assert!(c.serial.is_none() && c.hid.is_none());
        assert_eq!(c.wedge_gap.0, Duration::from_millis(50));
        c.validate().unwrap();
    }

    #[test]
    fn full_section_parses() {
        let c: ScannerConfig = toml::from_str(
            r##"
            prefix = "#"
            suffix = "$"
            duplicate_window = "3s"
            wedge_gap = "80ms"
            [serial]
            usb_id = "1EAB:8306"
            baud = 115200
            parity = "even"
            stop_bits = 2
            [hid]
            usb_id = "0c2e:0b61"
            usage_page = 0x8c
            mode = "pos"
            "##,
        )
        .unwrap();
        let s = c.serial.as_ref().unwrap();
        assert_eq!(
            s.usb_id,
            Some(UsbId {
                vid: 0x1eab,
                pid: 0x8306
            })
        );
        assert_eq!(
            (s.baud, s.parity, s.stop_bits, s.data_bits),
            (115200, Parity::Even, 2, 8)
        );
        let h = c.hid.as_ref().unwrap();
        assert_eq!((h.usage_page, h.mode), (Some(0x8c), HidMode::Pos));
        assert_eq!(c.duplicate_window.0, Duration::from_secs(3));
        c.validate().unwrap();
    }

    #[test]
    fn unknown_keys_and_bad_ids_are_refused_with_the_fix() {
        let e = toml::from_str::<ScannerConfig>("baudrate = 9600").unwrap_err();
        assert!(e.to_string().contains("baudrate"), "{e}");
        let e = toml::from_str::<ScannerConfig>("[serial]\nusb_id = \"1eab-8306\"").unwrap_err();
        assert!(e.to_string().contains("\"vid:pid\""), "{e}");
        assert!(UsbId::parse("12345:1").is_err());
        assert_eq!(UsbId::parse("05e0:1200").unwrap().to_string(), "05e0:1200");
    }

    #[test]
    fn validation_names_the_key() {
        let cases = [
            ("[serial]\nbaud = 9600", "scanner.serial needs port"),
            (
                "[serial]\nport = \"/dev/x\"\nusb_id = \"1:2\"",
                "both port and usb_id",
            ),
            (
                "[serial]\nport = \"/dev/x\"\ndata_bits = 9",
                "scanner.serial.data_bits",
            ),
            (
                "[serial]\nport = \"/dev/x\"\nstop_bits = 3",
                "scanner.serial.stop_bits",
            ),
            (
                "[serial]\nport = \"/dev/x\"\nreconnect_min = \"9s\"",
                "reconnect_min",
            ),
            ("[hid]\nmode = \"keyboard\"", "scanner.hid needs usb_id"),
            ("wedge_gap = \"0ms\"", "scanner.wedge_gap"),
            (
                "wedge_gap = \"10m\"",
                "scanner.wedge_gap = 10m is longer than 1s",
            ),
            (
                "idle_end = \"1h\"",
                "scanner.idle_end = 60m is longer than 10s",
            ),
            ("suffix = \"9\"", "scanner.suffix"),
        ];
        for (toml_text, want) in cases {
            let c: ScannerConfig = toml::from_str(toml_text).unwrap();
            let e = c.validate().unwrap_err();
            assert!(e.contains(want), "{toml_text:?}: {e}");
        }
    }

    #[test]
    fn idle_end_zero_disables_it() {
        let c: ScannerConfig = toml::from_str("idle_end = \"0ms\"").unwrap();
        assert_eq!(c.decode_settings().idle_end, None);
        assert_eq!(
            ScannerConfig::default().decode_settings().idle_end,
            Some(Duration::from_millis(300))
        );
    }
}
