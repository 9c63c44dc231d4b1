//! `paycode scanners`: list serial ports and HID devices, mark the configured one, and say
//! whether this user can open each (with the fix when not). Gathering does IO; rendering is pure.

use super::ScannerConfig;
use super::config::UsbId;
use super::status::{NodeKind, ScannerStatus};
use std::fmt::Write as _;
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// One serial port as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SerialEntry {
    /// Device node, e.g. `/dev/ttyACM0`.
    pub path: String,
    /// `/dev/serial/by-id/...` links pointing at it.
    pub by_id: Vec<String>,
    /// USB id and product string, for USB ports.
    pub usb: Option<(UsbId, Option<String>)>,
    /// Whether this user can open it.
    pub access: Result<(), ScannerStatus>,
    /// It is the configured scanner port.
    pub configured: bool,
}

/// One HID interface as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HidEntry {
    /// USB (or Bluetooth) vendor and product id.
    pub id: UsbId,
    /// Top-level usage page and usage (0x8C = HID-POS, 0x01/0x06 = keyboard).
    pub usage_page: u16,
    /// Usage within the page.
    pub usage: u16,
    /// Product string.
    pub product: Option<String>,
    /// hidraw node.
    pub path: String,
    /// Whether this user can open it.
    pub access: Result<(), ScannerStatus>,
    /// It is the configured scanner.
    pub configured: bool,
}

/// Everything `paycode scanners` prints.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    /// Serial ports found.
    pub serial: Vec<SerialEntry>,
    /// Why serial enumeration failed, if it did.
    pub serial_error: Option<String>,
    /// HID interfaces found.
    pub hid: Vec<HidEntry>,
    /// Why HID enumeration failed, if it did.
    pub hid_error: Option<String>,
}

/// Try to open `path` read-write without side effects (non-blocking, no controlling tty,
/// no termios changes), and say why not.
pub fn check_access(path: &str) -> Result<(), ScannerStatus> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map(drop)
        .map_err(|e| ScannerStatus::from_open_error(e.kind(), path, &e.to_string()))
}

fn canonical(path: &str) -> Option<std::path::PathBuf> {
    std::fs::canonicalize(path).ok()
}

/// Enumerate devices now (sysfs; needs no permissions).
pub fn gather(cfg: &ScannerConfig) -> Listing {
    let mut listing = Listing::default();
    let by_id_dir = Path::new("/dev/serial/by-id");
    let links: Vec<(String, Option<std::path::PathBuf>)> = std::fs::read_dir(by_id_dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| {
                    let p = e.path();
                    (p.display().to_string(), std::fs::canonicalize(&p).ok())
                })
                .collect()
        })
        .unwrap_or_default();
    let serial_cfg = cfg.serial.as_ref();
    let cfg_port = serial_cfg
        .and_then(|s| s.port.as_deref())
        .and_then(canonical);
    match serialport::available_ports() {
        Ok(ports) => {
            for p in ports {
                let canon = canonical(&p.port_name);
                let usb = match &p.port_type {
                    serialport::SerialPortType::UsbPort(u) => Some((
                        UsbId {
                            vid: u.vid,
                            pid: u.pid,
                        },
                        u.product.clone(),
                    )),
                    _ => None,
                };
                let configured = (cfg_port.is_some() && cfg_port == canon)
                    || serial_cfg
                        .and_then(|s| s.usb_id)
                        .is_some_and(|id| usb.as_ref().is_some_and(|(u, _)| *u == id));
                listing.serial.push(SerialEntry {
                    by_id: links
                        .iter()
                        .filter(|(_, target)| target.is_some() && *target == canon)
                        .map(|(l, _)| l.clone())
                        .collect(),
                    access: check_access(&p.port_name),
                    path: p.port_name,
                    usb,
                    configured,
                });
            }
        }
        Err(e) => listing.serial_error = Some(e.to_string()),
    }
    match hidapi::HidApi::new() {
        Ok(api) => {
            for d in api.device_list() {
                let path = d.path().to_string_lossy().into_owned();
                listing.hid.push(HidEntry {
                    id: UsbId {
                        vid: d.vendor_id(),
                        pid: d.product_id(),
                    },
                    usage_page: d.usage_page(),
                    usage: d.usage(),
                    product: d.product_string().map(str::to_string),
                    access: check_access(&path),
                    configured: cfg.hid.as_ref().is_some_and(|h| super::hid::matches(h, d)),
                    path,
                });
            }
        }
        Err(e) => listing.hid_error = Some(e.to_string()),
    }
    listing
}

fn access_text(access: &Result<(), ScannerStatus>, node: NodeKind) -> String {
    match access {
        Ok(()) => "can open: yes".into(),
        Err(ScannerStatus::PermissionDenied { .. }) => {
            format!(
                "can open: NO (permission denied) — fix: {}",
                ScannerStatus::permission_fix(node)
            )
        }
        Err(ScannerStatus::Busy { .. }) => "can open: busy (another program has it open)".into(),
        Err(ScannerStatus::NotFound { .. }) => "can open: NO (the node disappeared)".into(),
        Err(ScannerStatus::Failed { message, .. }) => format!("can open: NO ({message})"),
        Err(other) => format!("can open: NO ({other:?})"),
    }
}

/// Render the listing (pure).
pub fn render(l: &Listing, cfg: &ScannerConfig) -> String {
    let mut s = String::new();
    let mark = |c: bool| if c { "* " } else { "  " };
    let _ = writeln!(s, "Serial ports (USB COM / CDC-ACM, USB-serial, RS-232):");
    if let Some(e) = &l.serial_error {
        let _ = writeln!(s, "  could not list serial ports: {e}");
    } else if l.serial.is_empty() {
        let _ = writeln!(
            s,
            "  none found (a scanner in \"USB COM\"/CDC mode appears as /dev/ttyACM0)"
        );
    }
    for e in &l.serial {
        let _ = write!(s, "{}{}", mark(e.configured), e.path);
        if let Some((id, product)) = &e.usb {
            let _ = write!(s, "  USB {id}");
            if let Some(p) = product {
                let _ = write!(s, "  {p:?}");
            }
        }
        let _ = writeln!(s);
        for link in &e.by_id {
            let _ = writeln!(s, "      by-id: {link}");
        }
        let _ = writeln!(s, "      {}", access_text(&e.access, NodeKind::Tty));
    }
    let _ = writeln!(s, "HID devices (hidraw: HID-POS scanners, keyboards):");
    if let Some(e) = &l.hid_error {
        let _ = writeln!(s, "  could not list HID devices: {e}");
    } else if l.hid.is_empty() {
        let _ = writeln!(s, "  none found (no /dev/hidraw* devices)");
    }
    for e in &l.hid {
        let kind = match (e.usage_page, e.usage) {
            (0x8c, _) => "HID-POS scanner",
            (0x01, 0x06) => "keyboard (a keyboard-mode scanner types into the console too)",
            _ => "other",
        };
        let _ = writeln!(
            s,
            "{}{}  usage page 0x{:02x} usage 0x{:02x} ({kind})  {:?}  {}",
            mark(e.configured),
            e.id,
            e.usage_page,
            e.usage,
            e.product.as_deref().unwrap_or("?"),
            e.path
        );
        let _ = writeln!(s, "      {}", access_text(&e.access, NodeKind::Hidraw));
    }
    let _ = writeln!(s, "Configured ([scanner] in the config file):");
    let _ = writeln!(
        s,
        "  keyboard wedge: always on (burst gap {}, at least {} digits)",
        cfg.wedge_gap, cfg.wedge_min_len
    );
    match &cfg.serial {
        Some(c) => {
            let present = l.serial.iter().any(|e| e.configured);
            let _ = writeln!(
                s,
                "  serial: {} at {} baud — {}",
                super::serial::wanted(c),
                c.baud,
                if present {
                    "present (marked *)"
                } else {
                    "NOT PRESENT: plug it in, or check the path / usb_id against the list above"
                }
            );
        }
        None => {
            let _ = writeln!(s, "  serial: none");
        }
    }
    match &cfg.hid {
        Some(c) => {
            let present = l.hid.iter().any(|e| e.configured);
            let _ = writeln!(
                s,
                "  hid: {} — {}",
                super::hid::wanted(c),
                if present {
                    "present (marked *)"
                } else {
                    "NOT PRESENT: plug it in, or check usb_id / usage_page against the list above"
                }
            );
        }
        None => {
            let _ = writeln!(s, "  hid: none");
        }
    }
    s
}

/// Gather and print; used by `paycode scanners`.
pub fn run(cfg: &ScannerConfig, out: &mut impl io::Write) -> io::Result<()> {
    out.write_all(render(&gather(cfg), cfg).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_entries_marks_and_fixes() {
        let cfg: ScannerConfig =
            toml::from_str("[serial]\nusb_id = \"1eab:8306\"\n[hid]\nusb_id = \"0c2e:0b61\"")
                .unwrap();
        let l = Listing {
            serial: vec![SerialEntry {
                path: "/dev/ttyACM0".into(),
                by_id: vec!["/dev/serial/by-id/usb-Newland_HR22-if00".into()],
                usb: Some((
                    UsbId {
                        vid: 0x1eab,
                        pid: 0x8306,
                    },
                    Some("HR22".into()),
                )),
                access: Err(ScannerStatus::PermissionDenied {
                    path: "/dev/ttyACM0".into(),
                }),
                configured: true,
            }],
            serial_error: None,
            hid: vec![],
            hid_error: None,
        };
        let s = render(&l, &cfg);
        assert!(s.contains("* /dev/ttyACM0  USB 1eab:8306  \"HR22\""), "{s}");
        assert!(
            s.contains("by-id: /dev/serial/by-id/usb-Newland_HR22-if00"),
            "{s}"
        );
        assert!(
            s.contains("permission denied") && s.contains("dialout"),
            "{s}"
        );
        assert!(
            s.contains("serial: USB serial 1eab:8306 at 9600 baud — present"),
            "{s}"
        );
        assert!(
            s.contains("HID devices") && s.contains("none found (no /dev/hidraw*"),
            "{s}"
        );
        assert!(s.contains("hid: USB HID 0c2e:0b61 — NOT PRESENT"), "{s}");
    }

    #[test]
    fn this_machine_lists_without_failing() {
        // No USB here: there may be a ttyS port but never a configured USB scanner.
        let cfg: ScannerConfig = toml::from_str("[serial]\nusb_id = \"fffe:fffd\"").unwrap();
        let l = gather(&cfg);
        assert!(l.serial.iter().all(|e| !e.configured));
        assert!(render(&l, &cfg).contains("NOT PRESENT"));
    }

    #[test]
    fn access_check_reports_missing_nodes() {
        assert_eq!(
            check_access("/dev/does-not-exist-scanner"),
            Err(ScannerStatus::NotFound {
                wanted: "/dev/does-not-exist-scanner".into()
            })
        );
    }
}
