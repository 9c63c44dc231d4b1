//! USB HID reader thread (hidapi, pure-Rust hidraw backend): find the device by VID:PID (and
//! usage page) after refreshing the device list, open it, decode boot-keyboard or HID-POS
//! reports, and reconnect with backoff when it goes away.
//!
//! A keyboard-mode scanner read here still types into the console as well (hidraw is not
//! exclusive); see udev/README.md for which mode the installer should choose.
#![allow(clippy::disallowed_methods)] // IO edge: the HID reader thread stamps reports with the clock.

use super::config::{HidConfig, HidMode};
use super::hid_report::{BootKeyboard, HidPos, PosLayout};
use super::reader::{Backoff, Outbox, READ_TIMEOUT, ReaderHandle, StopSignal, supervise};
use super::status::{NodeKind, ScannerStatus};
use super::{DecodeSettings, Decoder, ScannerMsg, Source};
use hidapi::{DeviceInfo, HidApi, HidDevice, HidError};
use std::ffi::CString;
use std::io;
use std::sync::mpsc::Sender;
use std::time::Instant;

/// HID usage page of HID-POS bar code scanners.
pub const USAGE_PAGE_POS: u16 = 0x8c;

/// Start the HID reader for `cfg`; scans and status changes go to `tx`.
pub fn spawn(
    cfg: &HidConfig,
    decode: DecodeSettings,
    tx: Sender<ScannerMsg>,
) -> io::Result<ReaderHandle> {
    let cfg = cfg.clone();
    ReaderHandle::spawn("scanner-hid", move |stop| run(&cfg, decode, tx, &stop))
}

/// What the configuration asks for, for messages.
pub fn wanted(cfg: &HidConfig) -> String {
    let id = cfg
        .usb_id
        .map_or_else(|| "no usb_id configured".into(), |id| id.to_string());
    match cfg.usage_page {
        Some(p) => format!("USB HID {id} usage page 0x{p:02x}"),
        None => format!("USB HID {id}"),
    }
}

/// Whether a listed device is the configured one.
pub fn matches(cfg: &HidConfig, d: &DeviceInfo) -> bool {
    cfg.usb_id
        .is_some_and(|id| d.vendor_id() == id.vid && d.product_id() == id.pid)
        && cfg.usage_page.is_none_or(|p| d.usage_page() == p)
}

/// The source a device's reports are decoded as.
pub fn source_for(mode: HidMode, usage_page: u16) -> Source {
    match mode {
        HidMode::Pos => Source::HidPos,
        HidMode::Keyboard => Source::HidKeyboard,
        HidMode::Auto if usage_page == USAGE_PAGE_POS => Source::HidPos,
        HidMode::Auto => Source::HidKeyboard,
    }
}

/// Map a hidapi error from opening `path` to a status.
pub fn open_error_status(e: &HidError, path: &str) -> ScannerStatus {
    match e {
        HidError::IoError { error } => {
            ScannerStatus::from_open_error(error.kind(), path, &error.to_string())
        }
        other => ScannerStatus::from_open_error(io::ErrorKind::Other, path, &other.to_string()),
    }
}

fn find(api: &mut HidApi, cfg: &HidConfig) -> Result<(String, Source), ScannerStatus> {
    api.refresh_devices().map_err(|e| ScannerStatus::Failed {
        path: "/sys/class/hidraw".into(),
        message: e.to_string(),
    })?;
    api.device_list()
        .find(|d| matches(cfg, d))
        .map(|d| {
            (
                d.path().to_string_lossy().into_owned(),
                source_for(cfg.mode, d.usage_page()),
            )
        })
        .ok_or_else(|| ScannerStatus::NotFound {
            wanted: wanted(cfg),
        })
}

fn open(api: &HidApi, path: &str) -> Result<HidDevice, ScannerStatus> {
    let c = CString::new(path).map_err(|_| ScannerStatus::Failed {
        path: path.into(),
        message: "path contains a NUL byte".into(),
    })?;
    api.open_path(&c).map_err(|e| open_error_status(&e, path))
}

fn run(cfg: &HidConfig, decode: DecodeSettings, tx: Sender<ScannerMsg>, stop: &StopSignal) {
    let initial = source_for(cfg.mode, cfg.usage_page.unwrap_or(0));
    let mut out = Outbox::new(tx, initial, NodeKind::Hidraw);
    let mut api: Option<HidApi> = None;
    supervise(
        &mut out,
        Backoff::new(cfg.reconnect_min.0, cfg.reconnect_max.0),
        stop,
        |out| {
            let a = match api.as_mut() {
                Some(a) => a,
                None => api.insert(HidApi::new().map_err(|e| ScannerStatus::Failed {
                    path: "hidapi".into(),
                    message: e.to_string(),
                })?),
            };
            let (path, source) = find(a, cfg)?;
            let dev = open(a, &path)?;
            // Statuses from now on name the kind of device found.
            out.set_source(source);
            Ok((path, (source, dev)))
        },
        // A fresh report decoder per connection: nothing half-read survives an unplug.
        |(source, dev), out| {
            read_until_gone(&dev, &mut Reports::new(source, decode.clone()), out, stop)
        },
    );
}

/// Report decoding for one connection: report decoder + shared frame decoder.
struct Reports {
    kind: ReportKind,
    decoder: Decoder,
}

enum ReportKind {
    Keyboard(BootKeyboard),
    Pos(HidPos),
}

impl Reports {
    fn new(source: Source, decode: DecodeSettings) -> Self {
        let kind = if source == Source::HidPos {
            ReportKind::Pos(HidPos::new(PosLayout::STANDARD))
        } else {
            ReportKind::Keyboard(BootKeyboard::new(false))
        };
        Self {
            kind,
            decoder: Decoder::new(decode, source),
        }
    }

    fn report(&mut self, r: &[u8], now: Instant) -> Vec<super::ScanEvent> {
        match &mut self.kind {
            ReportKind::Keyboard(k) => {
                // 9 bytes = a numbered report: the id comes first.
                let r = if r.len() == 9 { &r[1..] } else { r };
                let mut bytes = Vec::new();
                k.report(r, &mut bytes);
                self.decoder.push(&bytes, now)
            }
            ReportKind::Pos(p) => p
                .report(r)
                .and_then(|frame| self.decoder.frame(&frame, now, now))
                .into_iter()
                .collect(),
        }
    }
}

fn read_until_gone(
    dev: &HidDevice,
    reports: &mut Reports,
    out: &mut Outbox,
    stop: &StopSignal,
) -> Option<String> {
    // hidraw returns one report per read and drops what does not fit: 64/65-byte reports.
    let mut buf = [0u8; 256];
    let timeout_ms = i32::try_from(READ_TIMEOUT.as_millis()).unwrap_or(200);
    loop {
        if stop.stopped() {
            return None;
        }
        let sent = match dev.read_timeout(&mut buf, timeout_ms) {
            Ok(0) => out.scans(reports.decoder.poll(Instant::now()).into_iter().collect()),
            Ok(n) => out.scans(reports.report(&buf[..n], Instant::now())),
            Err(e) => return Some(e.to_string()),
        };
        if !sent {
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scanner::config::UsbId;

    #[test]
    fn mode_selection() {
        assert_eq!(source_for(HidMode::Auto, 0x8c), Source::HidPos);
        assert_eq!(source_for(HidMode::Auto, 0x01), Source::HidKeyboard);
        assert_eq!(source_for(HidMode::Pos, 0x01), Source::HidPos);
        assert_eq!(source_for(HidMode::Keyboard, 0x8c), Source::HidKeyboard);
    }

    #[test]
    fn open_errors_map_with_the_hidraw_fix() {
        let e = HidError::IoError {
            error: io::Error::from(io::ErrorKind::PermissionDenied),
        };
        assert_eq!(
            open_error_status(&e, "/dev/hidraw0"),
            ScannerStatus::PermissionDenied {
                path: "/dev/hidraw0".into()
            }
        );
        assert!(ScannerStatus::permission_fix(NodeKind::Hidraw).contains("udev"));
        let e = HidError::HidApiError {
            message: "boom".into(),
        };
        assert!(matches!(
            open_error_status(&e, "/dev/hidraw0"),
            ScannerStatus::Failed { .. }
        ));
    }

    #[test]
    fn keyboard_reports_through_the_shared_decoder() {
        let mut r = Reports::new(Source::HidKeyboard, DecodeSettings::default());
        let t = Instant::now();
        let mut evs = Vec::new();
        for c in "134567890123456789".bytes() {
            let u = if c == b'0' { 0x27 } else { 0x1e + (c - b'1') };
            evs.extend(r.report(&[0, 0, u, 0, 0, 0, 0, 0], t));
            // Numbered 9-byte key-up report.
            evs.extend(r.report(&[1, 0, 0, 0, 0, 0, 0, 0, 0], t));
        }
        evs.extend(r.report(&[0, 0, 0x28, 0, 0, 0, 0, 0], t));
        assert_eq!(evs.len(), 1);
        assert_eq!(evs[0].source, Source::HidKeyboard);
        assert_eq!(
            evs[0].result.as_ref().unwrap().reveal(),
            "134567890123456789"
        );
    }

    #[test]
    fn pos_reports_through_the_shared_decoder() {
        let mut r = Reports::new(Source::HidPos, DecodeSettings::default());
        let mut rep = [0u8; 64];
        rep[0] = 2;
        rep[1] = 21;
        rep[2..23].copy_from_slice(b"]Q1134567890123456789");
        let evs = r.report(&rep, Instant::now());
        assert_eq!(evs.len(), 1);
        assert_eq!(evs[0].source, Source::HidPos);
        assert_eq!(
            evs[0].result.as_ref().unwrap().reveal(),
            "134567890123456789"
        );
    }

    #[test]
    fn reader_reports_not_found_without_devices() {
        // This machine has no hidraw devices; the reader must say so and keep running.
        let cfg = HidConfig {
            usb_id: Some(UsbId {
                vid: 0xfffe,
                pid: 0xfffd,
            }),
            ..HidConfig::default()
        };
        let (tx, rx) = std::sync::mpsc::channel();
        let h = spawn(&cfg, DecodeSettings::default(), tx).unwrap();
        let msg = rx.recv_timeout(std::time::Duration::from_secs(30)).unwrap();
        h.stop();
        match msg {
            ScannerMsg::Status(ev) => assert_eq!(
                ev.status,
                ScannerStatus::NotFound {
                    wanted: "USB HID fffe:fffd".into()
                }
            ),
            other => panic!("{other:?}"),
        }
    }
}
