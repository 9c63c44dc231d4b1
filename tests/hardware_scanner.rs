//! Tier 4, hardware (README.md, Evidence): a real scan gun on this machine, with a person
//! scanning, unplugging and replugging it when asked. Always compiled (so it cannot rot) but
//! ignored unless built with the `hardware-tests` feature:
//!
//! ```sh
//! PAYCODE_HW_SERIAL=/dev/serial/by-id/usb-…  # or PAYCODE_HW_SERIAL_USB=1eab:8306
//! PAYCODE_HW_HID=1eab:8306 PAYCODE_HW_HID_PAGE=0x8c   # page optional
//! cargo test --features hardware-tests --test hardware_scanner -- --nocapture --test-threads 1
//! ```
//!
//! Each step waits up to two minutes for the person; a missing variable names itself.
#![allow(clippy::unwrap_used)]

use paycode::duration::HumanDuration;
use paycode::scanner::config::{HidConfig, SerialConfig, UsbId};
use paycode::scanner::{DecodeSettings, ScannerMsg, ScannerStatus, hid, serial};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

/// How long a person gets for each step.
const STEP: Duration = Duration::from_secs(120);

fn var(name: &str, example: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("set {name} to the scanner under test, e.g. {name}={example} (`paycode scanners` lists them)")
    })
}

fn ask(what: &str) {
    eprintln!("\n>>> {what} (within {} s)", STEP.as_secs());
}

/// The next status, skipping scans (a person may scan early).
fn wait_status(
    rx: &Receiver<ScannerMsg>,
    want: impl Fn(&ScannerStatus) -> bool,
    what: &str,
) -> ScannerStatus {
    loop {
        match rx.recv_timeout(STEP) {
            Ok(ScannerMsg::Status(s)) if want(&s.status) => return s.status,
            Ok(ScannerMsg::Status(s)) => eprintln!("    status: {s}"),
            Ok(ScannerMsg::Scan(_)) => eprintln!("    (a scan, ignored while waiting for {what})"),
            Err(e) => panic!("no {what} within {} s: {e}", STEP.as_secs()),
        }
    }
}

/// The next valid WeChat code; other scans are shown with their reason and waited past.
fn wait_scan(rx: &Receiver<ScannerMsg>) {
    loop {
        match rx.recv_timeout(STEP) {
            Ok(ScannerMsg::Scan(ev)) => match &ev.result {
                Ok(code) => {
                    eprintln!(
                        "    scanned {code} from {} in {:?}",
                        ev.source,
                        ev.at.duration_since(ev.started)
                    );
                    return;
                }
                Err(e) => eprintln!(
                    "    not a WeChat code: {} — scan a WeChat payment code",
                    e.reason
                ),
            },
            Ok(ScannerMsg::Status(s)) => eprintln!("    status: {s}"),
            Err(e) => panic!("no scan within {} s: {e}", STEP.as_secs()),
        }
    }
}

/// Scan, unplug, replug, scan again: the reader must follow the device through it.
fn scan_unplug_replug_scan(rx: &Receiver<ScannerMsg>) {
    wait_status(
        rx,
        |s| matches!(s, ScannerStatus::Connected { .. }),
        "connection",
    );
    ask("scan a WeChat payment code");
    wait_scan(rx);
    ask("unplug the scanner");
    wait_status(
        rx,
        |s| matches!(s, ScannerStatus::Disconnected { .. }),
        "disconnect",
    );
    ask("plug the scanner back in");
    wait_status(
        rx,
        |s| matches!(s, ScannerStatus::Connected { .. }),
        "reconnection",
    );
    ask("scan a WeChat payment code again");
    wait_scan(rx);
}

fn quick_reconnect() -> (HumanDuration, HumanDuration) {
    (HumanDuration::from_millis(200), HumanDuration::from_secs(1))
}

#[test]
#[cfg_attr(
    not(feature = "hardware-tests"),
    ignore = "needs a real scanner: --features hardware-tests"
)]
fn serial_scanner_scans_and_survives_a_replug() {
    let (reconnect_min, reconnect_max) = quick_reconnect();
    let cfg = match std::env::var("PAYCODE_HW_SERIAL_USB") {
        Ok(id) => SerialConfig {
            usb_id: Some(UsbId::parse(&id).unwrap()),
            reconnect_min,
            reconnect_max,
            ..SerialConfig::default()
        },
        Err(_) => SerialConfig {
            port: Some(var("PAYCODE_HW_SERIAL", "/dev/ttyACM0")),
            reconnect_min,
            reconnect_max,
            ..SerialConfig::default()
        },
    };
    let (tx, rx) = channel();
    let reader = serial::spawn(&cfg, DecodeSettings::default(), tx).unwrap();
    scan_unplug_replug_scan(&rx);
    drop(reader);
}

#[test]
#[cfg_attr(
    not(feature = "hardware-tests"),
    ignore = "needs a real scanner: --features hardware-tests"
)]
fn hid_scanner_scans_and_survives_a_replug() {
    let (reconnect_min, reconnect_max) = quick_reconnect();
    let usage_page = std::env::var("PAYCODE_HW_HID_PAGE").ok().map(|p| {
        u16::from_str_radix(p.trim_start_matches("0x"), 16)
            .unwrap_or_else(|_| panic!("PAYCODE_HW_HID_PAGE={p:?} is not hex, e.g. 0x8c"))
    });
    let cfg = HidConfig {
        usb_id: Some(UsbId::parse(&var("PAYCODE_HW_HID", "1eab:8306")).unwrap()),
        usage_page,
        reconnect_min,
        reconnect_max,
        ..HidConfig::default()
    };
    let (tx, rx) = channel();
    let reader = hid::spawn(&cfg, DecodeSettings::default(), tx).unwrap();
    scan_unplug_replug_scan(&rx);
    drop(reader);
}
